/* A tiny self-test harness shared by the host test (ctest) and the on-target
 * runner on the emulated Cortex-M4.  Each suite returns its failure count. */
#ifndef MFOTA_SELFTEST_H
#define MFOTA_SELFTEST_H

#include <stdio.h>

#define SELFTEST_CHECK(failures, cond, what)                                                       \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, what);                                  \
            (failures)++;                                                                          \
        }                                                                                          \
    } while (0)

/* CRC-32 (every compiled kernel, streaming, combine) and SHA-256 vectors. */
int mfota_selftest_checksums(void);

#endif
