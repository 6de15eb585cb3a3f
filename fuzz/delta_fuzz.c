/* libFuzzer harness: the delta applier on arbitrary patch bytes, fed in
 * splits chosen by the input's first byte, against a fixed 2 KiB source.
 * The source must never be written, the update slot only as NOR allows,
 * every refusal must be one of the applier's or the writer's errors, and a
 * patch that completes must finish cleanly.  The same bytes in the same
 * splits also go through the delta file reader (mfota_delta_reader_feed):
 * it must decide consistently, hold only a prefix of the input, and never
 * claim more bytes than it was given. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "m2mfota/delta.h"
#include "m2mfota/err.h"

#define SECTOR 1024u
#define SRC_SIZE 2048u
#define SLOT_SIZE (8u * SECTOR)

static uint8_t src_mem[SRC_SIZE];
static uint8_t slot_mem[SLOT_SIZE];

static int src_rd(void *ctx, uint32_t off, void *buf, size_t len)
{
    (void)ctx;
    if (off + len > SRC_SIZE) {
        abort();
    }
    memcpy(buf, src_mem + off, len);
    return 0;
}

static int src_prog(void *ctx, uint32_t off, const void *data, size_t len)
{
    (void)ctx, (void)off, (void)data, (void)len;
    abort(); /* the source slot is never written */
}

static int src_er(void *ctx, uint32_t off)
{
    (void)ctx, (void)off;
    abort();
}

static int slot_rd(void *ctx, uint32_t off, void *buf, size_t len)
{
    (void)ctx;
    if (off + len > SLOT_SIZE) {
        abort();
    }
    memcpy(buf, slot_mem + off, len);
    return 0;
}

static int slot_prog(void *ctx, uint32_t off, const void *data, size_t len)
{
    size_t i;
    (void)ctx;
    if (off + len > SLOT_SIZE || off % 8u != 0 || len % 8u != 0) {
        abort();
    }
    for (i = 0; i < len; i++) {
        if (slot_mem[off + i] != 0xFFu) {
            abort();
        }
        slot_mem[off + i] = ((const uint8_t *)data)[i];
    }
    return 0;
}

static int slot_er(void *ctx, uint32_t off)
{
    (void)ctx;
    if (off % SECTOR != 0 || off >= SLOT_SIZE) {
        abort();
    }
    memset(slot_mem + off, 0xFF, SECTOR);
    return 0;
}

/* The delta file reader on `data`, fed `split` bytes at a time. */
static void check_reader(const uint8_t *data, size_t size, size_t split)
{
    static struct mfota_delta_reader r;
    struct mfota_delta_header h;
    size_t pos, step, used;
    int rc = MFOTA_NEED_MORE;
    mfota_delta_reader_init(&r);
    for (pos = 0; pos < size && rc == MFOTA_NEED_MORE; pos += step) {
        step = size - pos < split ? size - pos : split;
        rc = mfota_delta_reader_feed(&r, data + pos, step, &used, &h);
        if (used > step || r.len > MFOTA_DELTA_FILE_HEADER_SIZE ||
            memcmp(r.buf, data, r.len) != 0) {
            abort();
        }
        if (rc == MFOTA_DONE && r.kind == MFOTA_DELTA_KIND_DELTA &&
            (pos + used != MFOTA_DELTA_FILE_HEADER_SIZE ||
             mfota_delta_header_parse(data, size, &h) != MFOTA_OK)) {
            abort();
        }
        if (rc == MFOTA_DONE && r.kind == MFOTA_DELTA_KIND_IMAGE &&
            (used != 0 || r.len >= 4u || memcmp(data, "MFDP", r.len + 1u) == 0)) {
            abort(); /* an image differs from the magic right after the held bytes */
        }
        if (rc != MFOTA_NEED_MORE && rc != MFOTA_DONE && rc != MFOTA_ERR_DELTA_HEADER) {
            abort();
        }
    }
    if (rc == MFOTA_NEED_MORE) {
        rc = mfota_delta_reader_end(&r);
        if (rc != MFOTA_DONE && rc != MFOTA_ERR_DELTA_HEADER) {
            abort();
        }
    }
}

static int expected_error(int rc)
{
    return (rc <= MFOTA_ERR_DELTA_HEADER && rc >= MFOTA_ERR_DELTA_TRUNCATED);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct mfota_flash src = {src_rd, src_prog, src_er, NULL, 8, SECTOR, 0xFF,
                                           0, SRC_SIZE};
    static const struct mfota_flash slot = {slot_rd, slot_prog, slot_er, NULL, 8, SECTOR, 0xFF,
                                            0, SLOT_SIZE};
    static struct mfota_delta d;
    static struct mfota_flash_writer w;
    size_t pos, step, split;
    uint32_t i;
    int rc = MFOTA_NEED_MORE;

    if (size == 0) {
        return 0;
    }
    /* The same source as tests/test_delta_fuzz.py uses for the seeds. */
    for (i = 0; i < SRC_SIZE; i++) {
        src_mem[i] = (uint8_t)(i * 31u + (i >> 5));
    }
    memset(slot_mem, 0xFF, sizeof slot_mem);
    split = (size_t)data[0] + 1u; /* 1..256 bytes per feed */
    data++;
    size--;
    check_reader(data, size, split);
    if (mfota_flash_writer_init(&w, &slot, NULL) != MFOTA_OK ||
        mfota_delta_begin(&d, &src, SRC_SIZE, NULL, &w) != MFOTA_OK) {
        abort();
    }
    for (pos = 0; pos < size; pos += step) {
        step = size - pos < split ? size - pos : split;
        rc = mfota_delta_feed(&d, data + pos, step);
        if (rc < 0) {
            break;
        }
        if (d.to_pos > d.to_size) {
            abort();
        }
    }
    if (rc < 0) {
        if (!expected_error(rc)) {
            abort();
        }
        if (mfota_delta_feed(&d, data, size) != rc) {
            abort(); /* a failed applier stays failed */
        }
        return 0;
    }
    rc = mfota_delta_finish(&d);
    if (rc == MFOTA_OK) {
        if (d.to_pos != d.to_size || w.committed.offset != d.to_size) {
            abort();
        }
    } else if (rc != MFOTA_ERR_DELTA_TRUNCATED) {
        abort();
    }
    return 0;
}
