/* Apply time of the delta applier on the emulated Cortex-M4 (QEMU
 * mps2-an386, run with -icount shift=0 so virtual time follows instructions).
 *
 * bench/bench_delta.py generates delta_mcu_data.h (the source image, the
 * patch, the new image's SHA-256) and builds this file with the core at -Os.
 * The source is read from code memory through a flash HAL, the image goes to
 * a RAM slot through the flash writer (read-back on), the patch is fed in
 * 512-byte pieces.  SysTick (processor clock) measures; a calibration loop
 * of a known instruction count converts ticks to instructions.  Prints
 *   ok ticks=<apply> calib_ticks=<calib> calib_insns=<n> image=<bytes>
 * and exits 0, or "FAIL ..." and exits 1. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delta_mcu_data.h"
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

static uint8_t slot[SLOT_SIZE];

static int rd_src(void *ctx, uint32_t off, void *buf, size_t len)
{
    (void)ctx;
    if (off + len > DELTA_OLD_SIZE) { /* beyond the image: erased */
        memset(buf, 0xFF, len);
        return 0;
    }
    memcpy(buf, delta_old + off, len);
    return 0;
}

static int rd_slot(void *ctx, uint32_t off, void *buf, size_t len)
{
    (void)ctx;
    memcpy(buf, slot + off, len);
    return 0;
}

static int prog(void *ctx, uint32_t off, const void *data, size_t len)
{
    (void)ctx;
    memcpy(slot + off, data, len);
    return 0;
}

static int er(void *ctx, uint32_t off)
{
    (void)ctx;
    memset(slot + off, 0xFF, SECTOR);
    return 0;
}

static int no_prog(void *ctx, uint32_t off, const void *data, size_t len)
{
    (void)ctx, (void)off, (void)data, (void)len;
    return MFOTA_ERR_HAL;
}

static int no_er(void *ctx, uint32_t off)
{
    (void)ctx, (void)off;
    return MFOTA_ERR_HAL;
}

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
    static const struct mfota_flash src = {rd_src, no_prog, no_er, NULL, 8, SECTOR, 0xFF, 0,
                                           SRC_SLOT};
    static const struct mfota_flash dst = {rd_slot, prog, er, NULL, 8, SECTOR, 0xFF, 0,
                                           SLOT_SIZE};
    static struct mfota_flash_writer w;
    static struct mfota_delta d;
    struct mfota_sha256 sha;
    uint8_t digest[32];
    uint32_t t0, calib, apply, off, n;
    int rc = MFOTA_NEED_MORE;

    initialise_monitor_handles();
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
    if (rc != MFOTA_OK || memcmp(digest, delta_new_sha256, 32) != 0) {
        printf("FAIL wrong image (%s)\n", mfota_err_name(rc));
        return 1;
    }
    printf("ok ticks=%lu calib_ticks=%lu calib_insns=%lu image=%lu\n", (unsigned long)apply,
           (unsigned long)calib, (unsigned long)(2u * CALIB_LOOPS),
           (unsigned long)DELTA_NEW_SIZE);
    return 0;
}
