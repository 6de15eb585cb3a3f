/* The suite table built from MFOTA_SELFTEST_SUITES (see selftests.h). */
#include "selftests.h"

#include <stdio.h>

#define MFOTA_SELFTEST_ENTRY_(name) {#name, mfota_selftest_##name},
const struct mfota_selftest_suite mfota_selftest_suites[] = {
    MFOTA_SELFTEST_SUITES(MFOTA_SELFTEST_ENTRY_)};
#undef MFOTA_SELFTEST_ENTRY_

const size_t mfota_selftest_suite_count = sizeof mfota_selftest_suites / sizeof mfota_selftest_suites[0];

int mfota_selftest_run_all(void)
{
    int failures = 0;
    size_t i;
    for (i = 0; i < mfota_selftest_suite_count; i++) {
        int f = mfota_selftest_suites[i].run();
        printf("suite %s: %s (%d failure(s))\n", mfota_selftest_suites[i].name, f ? "FAIL" : "ok", f);
        failures += f;
    }
    return failures;
}
