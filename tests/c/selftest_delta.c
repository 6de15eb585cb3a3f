/* The delta applier on detools patches (tests/c/delta_vectors.h), in several
 * feed splits, on RAM flash: the same code and the same checks on the host
 * and on the emulated Cortex-M4.  The image is checked by its SHA-256, the
 * source's hash check and a truncation by their errors. */
#include <string.h>

#include "delta_vectors.h"
#include "m2mfota/delta.h"
#include "m2mfota/err.h"
#include "m2mfota/sha256.h"
#include "selftest.h"

#define SECTOR 1024u
#define SRC_SLOT (2u * SECTOR)
#define DST_SLOT (4u * SECTOR)

static uint8_t src_mem[SRC_SLOT];
static uint8_t dst_mem[DST_SLOT];
static int src_writes;

static int rd(void *ctx, uint32_t off, void *buf, size_t len)
{
    memcpy(buf, (const uint8_t *)ctx + off, len);
    return 0;
}

static int prog(void *ctx, uint32_t off, const void *data, size_t len)
{
    uint8_t *mem = (uint8_t *)ctx;
    size_t i;
    if (mem == src_mem) {
        src_writes++;
        return MFOTA_ERR_HAL;
    }
    for (i = 0; i < len; i++) {
        mem[off + i] &= ((const uint8_t *)data)[i]; /* NOR: only clears bits */
    }
    return 0;
}

static int er(void *ctx, uint32_t off)
{
    uint8_t *mem = (uint8_t *)ctx;
    if (mem == src_mem) {
        src_writes++;
        return MFOTA_ERR_HAL;
    }
    memset(mem + off, 0xFF, SECTOR);
    return 0;
}

static const struct mfota_flash src_flash = {rd, prog, er, src_mem, 8, SECTOR, 0xFF, 0, SRC_SLOT};
static const struct mfota_flash dst_flash = {rd, prog, er, dst_mem, 8, SECTOR, 0xFF, 0, DST_SLOT};

static struct mfota_flash_writer writer;
static struct mfota_delta applier;

static void reset(void)
{
    uint32_t i;
    for (i = 0; i < SRC_SLOT; i++) {
        src_mem[i] = i < DELTA_SOURCE_SIZE ? DELTA_SOURCE_BYTE(i) : 0xFF;
    }
    memset(dst_mem, 0, sizeof dst_mem); /* not erased: the writer must erase */
    src_writes = 0;
}

/* Apply `patch` in pieces of `split` bytes; the final status. */
static int apply(const uint8_t *patch, size_t len, size_t split, const uint8_t *sha)
{
    size_t off, n;
    int rc;
    if (mfota_flash_writer_init(&writer, &dst_flash, NULL) != MFOTA_OK) {
        return MFOTA_ERR_STATE;
    }
    rc = mfota_delta_begin(&applier, &src_flash, DELTA_SOURCE_SIZE, sha, &writer);
    if (rc < 0) {
        return rc;
    }
    for (off = 0; off < len; off += n) {
        n = len - off < split ? len - off : split;
        rc = mfota_delta_feed(&applier, patch + off, n);
        if (rc < 0) {
            return rc;
        }
    }
    return mfota_delta_finish(&applier);
}

static int image_ok(void)
{
    struct mfota_sha256 sha;
    uint8_t digest[MFOTA_SHA256_DIGEST_SIZE];
    mfota_sha256_init(&sha);
    mfota_sha256_update(&sha, dst_mem, DELTA_NEW_SIZE);
    mfota_sha256_final(&sha, digest);
    return memcmp(digest, delta_new_sha256, sizeof digest) == 0;
}

static int check_patch(const char *name, const uint8_t *patch, size_t len)
{
    static const size_t splits[] = {1, 7, 64, 100000};
    int failures = 0, before;
    size_t i;
    before = failures;
    for (i = 0; i < sizeof splits / sizeof splits[0]; i++) {
        reset();
        SELFTEST_CHECK(failures, apply(patch, len, splits[i], delta_source_sha256) == MFOTA_OK,
                       "patch applies");
        SELFTEST_CHECK(failures, image_ok(), "image SHA-256");
        SELFTEST_CHECK(failures, applier.to_size == DELTA_NEW_SIZE, "image size");
        SELFTEST_CHECK(failures, src_writes == 0, "source never written");
    }
    /* Truncated by one byte. */
    reset();
    SELFTEST_CHECK(failures, apply(patch, len - 1, 64, delta_source_sha256) ==
                   MFOTA_ERR_DELTA_TRUNCATED, "truncated patch");
    printf("%s delta/%s\n", failures == before ? "ok" : "FAIL", name);
    return failures;
}

int mfota_selftest_delta(void)
{
    int failures = 0;
    failures += check_patch("heatshrink", delta_patch_heatshrink, sizeof delta_patch_heatshrink);
    failures += check_patch("none", delta_patch_none, sizeof delta_patch_none);

    /* Another source: refused before the update slot is touched. */
    reset();
    src_mem[DELTA_SOURCE_SIZE / 2] ^= 1u;
    SELFTEST_CHECK(failures,
                   apply(delta_patch_heatshrink, sizeof delta_patch_heatshrink, 64,
                         delta_source_sha256) == MFOTA_ERR_DELTA_SOURCE,
                   "wrong source refused");
    SELFTEST_CHECK(failures, dst_mem[0] == 0 && dst_mem[DST_SLOT - 1] == 0,
                   "slot untouched after a refusal");
    SELFTEST_CHECK(failures, sizeof applier <= MFOTA_DELTA_RAM_BOUND, "RAM bound");
    printf("%s delta/refusals\n", failures == 0 ? "ok" : "FAIL");
    return failures;
}
