/* How long mfota_delta_begin() hashes its source on the emulated Cortex-M4
 * (QEMU mps2-an386, run with -icount shift=0 so virtual time follows
 * instructions), and how long it runs between two calls of the source's
 * read HAL: the figures a port needs to size its watchdog (docs/delta.md).
 *
 * The source is SOURCE_SIZE bytes of RAM read with memcpy, as a port reads
 * memory-mapped flash (no wait states: a real chip's flash adds to this).
 * bench/bench_delta.py (mcu_source_hash) builds it with the core at -Os,
 * SOURCE_SIZE given on the command line.  SysTick (processor clock, 24 bits)
 * measures; the time is summed at every read call, so it never wraps
 * between two samples.  A loop of known length converts ticks to
 * instructions.  Prints
 *   ok size=<bytes> reads=<n> ticks=<hash> max_gap_ticks=<between reads>
 *      calib_ticks=<calib> calib_insns=<n>
 * and exits 0; "FAIL ..." and 1 when begin() does not accept the right
 * hash or does not refuse a wrong one. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "m2mfota/delta.h"
#include "m2mfota/err.h"
#include "m2mfota/sha256.h"

#ifndef SOURCE_SIZE
#define SOURCE_SIZE 0x21000u /* the QEMU board's primary slot, the largest source */
#endif

extern void initialise_monitor_handles(void);

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define SECTOR 4096u
#define CALIB_LOOPS 1000000u

static uint8_t source[SOURCE_SIZE];
static uint32_t last, total, max_gap, reads;

/* Ticks since the previous sample, added to `total`; the longest stretch
 * the applier ran without calling the port is `max_gap`. */
static void sample(void)
{
    uint32_t now = SYST_CVR;
    uint32_t gap = (last - now) & 0xFFFFFFu; /* SysTick counts down */
    last = now;
    total += gap;
    if (gap > max_gap) {
        max_gap = gap;
    }
}

static int source_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    sample();
    (void)ctx;
    reads++;
    memcpy(buf, source + off, len);
    return 0;
}

static int no_program(void *ctx, uint32_t off, const void *data, size_t len)
{
    (void)ctx;
    (void)off;
    (void)data;
    (void)len;
    return MFOTA_ERR_STATE;
}

static int no_erase(void *ctx, uint32_t off)
{
    (void)ctx;
    (void)off;
    return MFOTA_ERR_STATE;
}

/* Two instructions per iteration (subs, bne). */
static void calib_loop(uint32_t n)
{
    __asm__ volatile("1: subs %0, %0, #1\n bne 1b\n" : "+r"(n) : : "cc");
}

int main(void)
{
    /* The slot is never written: begin() only hashes. */
    static struct mfota_flash src = {.read = source_read, .program = no_program,
                                     .erase = no_erase, .program_size = 8u,
                                     .sector_size = SECTOR, .erased_value = 0xFFu,
                                     .slot_size = SOURCE_SIZE};
    static struct mfota_flash dst = {.read = source_read, .program = no_program,
                                     .erase = no_erase, .program_size = 8u,
                                     .sector_size = SECTOR, .erased_value = 0xFFu,
                                     .slot_size = SECTOR};
    static struct mfota_flash_writer w;
    static struct mfota_delta d;
    struct mfota_sha256 sha;
    uint8_t digest[32];
    uint32_t i, x = 2463534242u, calib, hash, gap, n;
    int rc;

    initialise_monitor_handles();
    for (i = 0; i < SOURCE_SIZE; i++) { /* xorshift32: no run the hash could shortcut */
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        source[i] = (uint8_t)x;
    }
    mfota_sha256_init(&sha);
    mfota_sha256_update(&sha, source, SOURCE_SIZE);
    mfota_sha256_final(&sha, digest);
    if (mfota_flash_writer_init(&w, &dst, NULL) != MFOTA_OK) {
        printf("FAIL writer\n");
        return 1;
    }
    SYST_RVR = 0xFFFFFFu;
    SYST_CVR = 0;
    SYST_CSR = 5u; /* enable, processor clock, no interrupt */

    last = SYST_CVR;
    calib_loop(CALIB_LOOPS);
    sample();
    calib = total;

    total = max_gap = 0;
    last = SYST_CVR;
    rc = mfota_delta_begin(&d, &src, SOURCE_SIZE, digest, &w);
    sample();
    hash = total;
    gap = max_gap;
    n = reads;
    if (rc != MFOTA_OK) {
        printf("FAIL begin %s\n", mfota_err_name(rc));
        return 1;
    }
    digest[7] ^= 1u;
    rc = mfota_delta_begin(&d, &src, SOURCE_SIZE, digest, &w);
    if (rc != MFOTA_ERR_DELTA_SOURCE) {
        printf("FAIL wrong hash accepted: %s\n", mfota_err_name(rc));
        return 1;
    }
    printf("ok size=%lu reads=%lu ticks=%lu max_gap_ticks=%lu calib_ticks=%lu "
           "calib_insns=%lu\n",
           (unsigned long)SOURCE_SIZE, (unsigned long)n, (unsigned long)hash,
           (unsigned long)gap, (unsigned long)calib, (unsigned long)(2u * CALIB_LOOPS));
    return 0;
}
