/* Host entry point of the C self-tests (run by ctest). */
#include <stdio.h>

#include "selftest.h"

int main(void)
{
    int failures = mfota_selftest_checksums();
    failures += mfota_selftest_flash();
    printf("%s: %d failure(s)\n", failures ? "FAILED" : "PASSED", failures);
    return failures ? 1 : 0;
}
