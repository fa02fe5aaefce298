#ifndef SEM_PKCS11_UMBRELLA_H
#define SEM_PKCS11_UMBRELLA_H
/* The PKCS#11 (Cryptoki 2.40) types, constants and function-list layout, from the
 * header p11-kit ships (Debian package libp11-kit-dev). Only the declarations are
 * used: nothing is linked. SEMCrypto loads the token's module itself with dlopen and
 * calls it through the CK_FUNCTION_LIST the module hands out (PKCS#11 §5.4). */
#include <p11-kit-1/p11-kit/pkcs11.h>
#endif
