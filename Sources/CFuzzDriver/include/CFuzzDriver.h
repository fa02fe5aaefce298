/*
 * CFuzzDriver - the one libFuzzer entry point sem-fuzz calls.
 *
 * SwiftPM gives an executable its own main, so libFuzzer's main never runs; sem-fuzz calls
 * the driver itself. The declaration costs nothing in a normal build: the Swift side
 * refers to it only when compiled with -D SEM_FUZZ, which goes together with
 * -sanitize=fuzzer (scripts/fuzz), and only then is libFuzzer linked.
 */
#ifndef SEM_CFUZZDRIVER_H
#define SEM_CFUZZDRIVER_H

#include <stddef.h>
#include <stdint.h>

typedef int (*sem_fuzz_callback)(const uint8_t *data, size_t size);

/* libFuzzer's driver: parses its own flags from argv, then calls back once per input. */
int LLVMFuzzerRunDriver(int *argc, char ***argv, sem_fuzz_callback callback);

#endif
