/*
 * libFuzzer's runtime refers to LLVMFuzzerTestOneInput even when the driver is handed a
 * callback. A weak definition satisfies the reference and never runs: sem-fuzz passes
 * its own callback to LLVMFuzzerRunDriver.
 */
#include "CFuzzDriver.h"

__attribute__((weak)) int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    (void)data;
    (void)size;
    return 0;
}
