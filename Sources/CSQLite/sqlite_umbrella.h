#ifndef SEM_SQLITE_UMBRELLA_H
#define SEM_SQLITE_UMBRELLA_H
#include <sqlite3.h>
#endif
