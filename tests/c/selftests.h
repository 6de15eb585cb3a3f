/* The list of C self-test suites, shared by the host test (ctest, main_host.c)
 * and the on-target runner (embedded_port/mps2-an386/runner.c).
 *
 * Adding a suite (for example a flash writer on a RAM-backed NOR model):
 *   1. write tests/c/selftest_<name>.c defining `int mfota_selftest_<name>(void)`
 *      that returns its failure count (use SELFTEST_CHECK from selftest.h and
 *      print one "ok <what>" / "FAIL <what>" line per feature it covers);
 *   2. add `X(<name>)` to MFOTA_SELFTEST_SUITES below.
 * Both builds glob tests/c/selftest_*.c, so nothing else changes.  Suites run
 * on a Cortex-M4 with 4 MiB of RAM and no OS: C99, no malloc, no files,
 * bounded stack (big buffers static), printf only for the result lines. */
#ifndef MFOTA_SELFTESTS_H
#define MFOTA_SELFTESTS_H

#include <stddef.h>

#include "selftest.h"

#define MFOTA_SELFTEST_SUITES(X) X(checksums) X(flash) X(senml) X(download) X(client) X(delta)

struct mfota_selftest_suite {
    const char *name;
    int (*run)(void); /* returns the number of failed checks */
};

#define MFOTA_SELFTEST_DECLARE_(name) int mfota_selftest_##name(void);
MFOTA_SELFTEST_SUITES(MFOTA_SELFTEST_DECLARE_)
#undef MFOTA_SELFTEST_DECLARE_

/* Every suite of MFOTA_SELFTEST_SUITES, in order. */
extern const struct mfota_selftest_suite mfota_selftest_suites[];
extern const size_t mfota_selftest_suite_count;

/* Run every suite, print "suite <name>: ok|FAIL (<n> failure(s))" after each,
 * return the total failure count. */
int mfota_selftest_run_all(void);

#endif
