/* Apply time of the C delta applier on the host, without Python in the way.
 *
 *   mfota_bench_delta OLD PATCH NEW [ROUNDS]
 *
 * Source and update slot are the test suite's RAM NOR flash
 * (tests/c/fake_hal.h: program ANDs, erase to 0xFF; 4 KiB sectors, 8-byte
 * programs), read-back verification on, as on a device; the source must
 * see no program or erase.
 * The patch is fed in 512-byte pieces, like download parts arriving; the
 * result is compared with NEW.  Prints one line:
 *   ok image=<bytes> patch=<bytes> us=<best of ROUNDS> ram=<sizeof ctx>
 */
#define _POSIX_C_SOURCE 199309L /* clock_gettime under -std=c99 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake_hal.h"
#include "m2mfota/delta.h"
#include "m2mfota/err.h"
#include "m2mfota/flash_writer.h"
#include "m2mfota/sha256.h"

#define SECTOR 4096u

static uint8_t *load(const char *path, uint32_t *size)
{
    FILE *f = fopen(path, "rb");
    long n;
    uint8_t *buf;
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
        fprintf(stderr, "%s: cannot read\n", path);
        exit(2);
    }
    buf = malloc((size_t)n + 1u);
    if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "%s: cannot read\n", path);
        exit(2);
    }
    fclose(f);
    *size = (uint32_t)n;
    return buf;
}

static uint32_t round_up(uint32_t n)
{
    return n == 0 ? SECTOR : (n + SECTOR - 1u) / SECTOR * SECTOR;
}

int main(int argc, char **argv)
{
    uint32_t old_size, patch_size, new_size, off, n;
    uint8_t *old, *patch, *new_img, *src_mem, *slot_mem, digest[32];
    uint32_t src_size, slot_size;
    struct fake_nor src_nor, slot_nor;
    struct mfota_flash src, slot;
    struct mfota_flash_writer w;
    struct mfota_delta d;
    struct mfota_sha256 sha;
    struct timespec t0, t1;
    double best = 1e30, us;
    int rounds, r, rc = MFOTA_NEED_MORE;

    if (argc < 4) {
        fprintf(stderr, "usage: %s OLD PATCH NEW [ROUNDS]\n", argv[0]);
        return 2;
    }
    old = load(argv[1], &old_size);
    patch = load(argv[2], &patch_size);
    new_img = load(argv[3], &new_size);
    rounds = argc > 4 ? atoi(argv[4]) : 5;
    src_size = round_up(old_size);
    slot_size = round_up(new_size);
    src_mem = malloc(src_size);
    slot_mem = malloc(slot_size);
    if (src_mem == NULL || slot_mem == NULL) {
        return 2;
    }
    fake_nor_init(&src_nor, src_mem, src_size, SECTOR, 8u);
    memcpy(src_mem, old, old_size); /* factory-programmed running image */
    fake_nor_hal(&src_nor, &src, 0, src_size);
    fake_nor_init(&slot_nor, slot_mem, slot_size, SECTOR, 8u);
    fake_nor_hal(&slot_nor, &slot, 0, slot_size);
    mfota_sha256_init(&sha);
    mfota_sha256_update(&sha, old, old_size);
    mfota_sha256_final(&sha, digest);
    for (r = 0; r < rounds; r++) {
        memset(slot_mem, 0, slot_size); /* the writer must erase it */
        slot_nor.violations = 0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (mfota_flash_writer_init(&w, &slot, NULL) != MFOTA_OK ||
            mfota_delta_begin(&d, &src, old_size, digest, &w) != MFOTA_OK) {
            fprintf(stderr, "begin failed\n");
            return 1;
        }
        for (off = 0; off < patch_size; off += n) {
            n = patch_size - off < 512u ? patch_size - off : 512u;
            rc = mfota_delta_feed(&d, patch + off, n);
            if (rc < 0) {
                fprintf(stderr, "feed: %s\n", mfota_err_name(rc));
                return 1;
            }
        }
        rc = mfota_delta_finish(&d);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (rc != MFOTA_OK || memcmp(slot_mem, new_img, new_size) != 0 ||
            slot_nor.violations != 0u) {
            fprintf(stderr, "wrong result: %s\n", mfota_err_name(rc));
            return 1;
        }
        us = (double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3;
        if (us < best) {
            best = us;
        }
    }
    if (src_nor.programs != 0u || src_nor.erases != 0u) {
        fprintf(stderr, "the source was written\n");
        return 1;
    }
    printf("ok image=%lu patch=%lu us=%.0f ram=%lu\n", (unsigned long)new_size,
           (unsigned long)patch_size, best, (unsigned long)sizeof d);
    free(old);
    free(patch);
    free(new_img);
    free(src_mem);
    free(slot_mem);
    return 0;
}
