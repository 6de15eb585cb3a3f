/* Host entry point of the C self-tests (run by ctest). */
#include <stdio.h>

#include "selftests.h"

int main(void)
{
    int failures = mfota_selftest_run_all();
    printf("%s: %d failure(s)\n", failures ? "FAILED" : "PASSED", failures);
    return failures ? 1 : 0;
}
