/* Apply time of the delta applier on the emulated Cortex-M4 (QEMU
 * mps2-an386, run with -icount shift=0 so virtual time follows instructions).
 *
 * bench/bench_delta.py generates delta_mcu_data.h (the source image, the
 * patch, the new image's SHA-256) and builds this file with the core at -Os.
 * Source and slot are the test suite's RAM NOR flash (tests/c/fake_hal.h),
 * the source copied in from code memory first; the image goes to the slot
 * through the flash writer (read-back on), the patch is fed in 512-byte
 * pieces; the source must see no program or erase.  SysTick (processor clock) measures; a calibration loop
 * of a known instruction count converts ticks to instructions.  Prints
 *   ok ticks=<apply> calib_ticks=<calib> calib_insns=<n> image=<bytes>
 * and exits 0, or "FAIL ..." and exits 1. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delta_mcu_data.h"
#include "fake_hal.h"
#include "m2mfota/delta.h"
#include "m2mfota/err.h"
#include "m2mfota/sha256.h"

extern void initialise_monitor_handles(void);

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define SECTOR 4096u
#define SLOT_SIZE (((DELTA_NEW_SIZE + SECTOR - 1u) / SECTOR + 1u) * SECTOR)
#define SRC_SLOT (((DELTA_OLD_SIZE + SECTOR - 1u) / SECTOR + 1u) * SECTOR)
#define CALIB_LOOPS 1000000u

static uint8_t slot[SLOT_SIZE], src_mem[SRC_SLOT];
static struct fake_nor slot_nor, src_nor;

static uint32_t ticks_since(uint32_t start)
{
    return (start - SYST_CVR) & 0xFFFFFFu; /* SysTick counts down, 24 bits */
}

/* Two instructions per iteration (subs, bne). */
static void calib_loop(uint32_t n)
{
    __asm__ volatile("1: subs %0, %0, #1\n bne 1b\n" : "+r"(n) : : "cc");
}

int main(void)
{
    static struct mfota_flash src, dst;
    static struct mfota_flash_writer w;
    static struct mfota_delta d;
    struct mfota_sha256 sha;
    uint8_t digest[32];
    uint32_t t0, calib, apply, off, n;
    int rc = MFOTA_NEED_MORE;

    initialise_monitor_handles();
    fake_nor_init(&src_nor, src_mem, sizeof src_mem, SECTOR, 8u);
    memcpy(src_mem, delta_old, DELTA_OLD_SIZE);
    fake_nor_hal(&src_nor, &src, 0, SRC_SLOT);
    fake_nor_init(&slot_nor, slot, sizeof slot, SECTOR, 8u);
    fake_nor_hal(&slot_nor, &dst, 0, SLOT_SIZE);
    SYST_RVR = 0xFFFFFFu;
    SYST_CVR = 0;
    SYST_CSR = 5u; /* enable, processor clock, no interrupt */

    t0 = SYST_CVR;
    calib_loop(CALIB_LOOPS);
    calib = ticks_since(t0);

    t0 = SYST_CVR;
    (void)SYST_CSR; /* clear COUNTFLAG */
    if (mfota_flash_writer_init(&w, &dst, NULL) != MFOTA_OK ||
        mfota_delta_begin(&d, &src, DELTA_OLD_SIZE, delta_old_sha256, &w) != MFOTA_OK) {
        printf("FAIL begin\n");
        return 1;
    }
    for (off = 0; off < DELTA_PATCH_SIZE; off += n) {
        n = DELTA_PATCH_SIZE - off < 512u ? DELTA_PATCH_SIZE - off : 512u;
        rc = mfota_delta_feed(&d, delta_patch + off, n);
        if (rc < 0) {
            printf("FAIL feed %s\n", mfota_err_name(rc));
            return 1;
        }
    }
    rc = mfota_delta_finish(&d);
    apply = ticks_since(t0);
    if (SYST_CSR & (1u << 16)) {
        printf("FAIL SysTick wrapped: measure a smaller pair\n");
        return 1;
    }
    mfota_sha256_init(&sha);
    mfota_sha256_update(&sha, slot, DELTA_NEW_SIZE);
    mfota_sha256_final(&sha, digest);
    if (rc != MFOTA_OK || memcmp(digest, delta_new_sha256, 32) != 0 || src_nor.programs != 0u ||
        src_nor.erases != 0u || slot_nor.violations != 0u) {
        printf("FAIL wrong image (%s)\n", mfota_err_name(rc));
        return 1;
    }
    printf("ok ticks=%lu calib_ticks=%lu calib_insns=%lu image=%lu\n", (unsigned long)apply,
           (unsigned long)calib, (unsigned long)(2u * CALIB_LOOPS),
           (unsigned long)DELTA_NEW_SIZE);
    return 0;
}
