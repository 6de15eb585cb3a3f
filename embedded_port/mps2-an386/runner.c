/* On-target test runner for QEMU's mps2-an386 (Cortex-M4): runs every suite
 * of tests/c/selftests.h, prints through semihosting and ends the emulator
 * with exit status 0 (all passed) or 1 (a check failed).  Faults end it with
 * status 2 (startup.S).
 *
 * Two build-time hooks prove the runner can fail, so tests/test_embedded.py
 * cannot pass vacuously:
 *   MFOTA_SELFTEST_INJECT_FAILURE=1  adds a suite with one wrong CRC-32 vector;
 *   MFOTA_RUNNER_INJECT_FAULT=1      branches to an ARM-state address, which a
 *                                    Cortex-M turns into a HardFault. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "m2mfota/crc32.h"
#include "selftests.h"

#ifndef MFOTA_SELFTEST_INJECT_FAILURE
#define MFOTA_SELFTEST_INJECT_FAILURE 0
#endif
#ifndef MFOTA_RUNNER_INJECT_FAULT
#define MFOTA_RUNNER_INJECT_FAULT 0
#endif

/* newlib's semihosting: opens the debugger console as stdin/stdout/stderr.
 * startup.S does not use rdimon's crt0 (which would call it), so without this
 * call printf would print nothing. */
extern void initialise_monitor_handles(void);

/* From mps2-an386.ld. */
extern char __stack_limit__[], __stack_top__[];

/* The stack must be the linker script's (top of the 4 MiB RAM), not one a
 * debugger handed out: suites size their buffers for it. */
static int check_stack(void)
{
    int failures = 0;
    volatile char probe = 0;
    uintptr_t sp = (uintptr_t)&probe;
    SELFTEST_CHECK(failures, sp >= (uintptr_t)__stack_limit__ && sp < (uintptr_t)__stack_top__,
                   "stack inside the linker script's stack region");
    printf("%s board/stack\n", failures ? "FAIL" : "ok");
    return failures;
}

#if MFOTA_SELFTEST_INJECT_FAILURE
static int injected_failure(void)
{
    int failures = 0;
    /* The real value is 0xCBF43926: this check must fail. */
    SELFTEST_CHECK(failures, mfota_crc32(0, "123456789", 9) == 0xCBF43927u, "injected wrong vector");
    printf("%s injected\n", failures ? "FAIL" : "ok");
    return failures;
}
#endif

#if MFOTA_RUNNER_INJECT_FAULT
static void inject_fault(void)
{
    /* Bit 0 clear asks for ARM state, which M-profile cores lack: INVSTATE
     * UsageFault, escalated to HardFault as UsageFault is not enabled. */
    void (*volatile arm_state)(void) = (void (*)(void))(uintptr_t)0x00000100u;
    arm_state();
}
#endif

int main(void)
{
    int failures;

    initialise_monitor_handles();
    printf("m2mfota on-target self-test (mps2-an386, Cortex-M4), %u suite(s)\n",
           (unsigned)mfota_selftest_suite_count);
#if MFOTA_RUNNER_INJECT_FAULT
    inject_fault();
#endif
    failures = check_stack();
    failures += mfota_selftest_run_all();
#if MFOTA_SELFTEST_INJECT_FAILURE
    failures += injected_failure();
#endif
    printf("%s: %d failure(s)\n", failures ? "FAILED" : "PASSED", failures);
    exit(failures ? 1 : 0);
}
