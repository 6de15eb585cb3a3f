/*
 * detools sequential patch applier: header, heatshrink decoder, patch parser.
 * The format is described in delta.h.  Each patch byte goes through two
 * small state machines: the decompressor (identity for `none`, heatshrink
 * otherwise) and the parser of the decompressed stream, which turns diff
 * and extra bytes into image bytes.
 */
#include "m2mfota/delta.h"

#include <string.h>

#include "m2mfota/crc32.h"
#include "m2mfota/err.h"
#include "m2mfota/sha256.h"

/* Header / decompressor states (hstate). */
enum { H_TYPE, H_SIZE, H_HS_PARAMS, H_BODY, H_DONE };

/* Parser states for the decompressed stream (state). */
enum { S_DF_SIZE, S_DIFF_SIZE, S_DIFF, S_EXTRA_SIZE, S_EXTRA, S_ADJUST, S_DONE };

/* What the heatshrink bits being collected mean (hs_sym). */
enum { HS_TAG, HS_LITERAL, HS_INDEX, HS_COUNT };

#define PATCH_TYPE_SEQUENTIAL 0u

static int hal_err(int rc)
{
    /* A port may return any nonzero value; keep its negative code. */
    return rc < 0 ? rc : MFOTA_ERR_HAL;
}

/* Every error the applier returns goes through here, so that it is sticky:
 * later calls return the first error, never a later symptom of it (a port
 * that retries would otherwise see its -EIO turn into "corrupt patch").
 * feed() funnels the errors of the state machines below; the places that
 * read flash record theirs at once as well, wherever they are called from. */
static int fail(struct mfota_delta *d, int rc)
{
    d->failed = 1;
    d->err = rc;
    return rc;
}

/* Read `n` source bytes at `off` (of the source region). */
static int read_source(struct mfota_delta *d, const struct mfota_flash *source, uint32_t off,
                       uint32_t n)
{
    int rc = source->read(source->ctx, source->slot_offset + off, d->src_buf, n);
    return rc != 0 ? fail(d, hal_err(rc)) : MFOTA_OK;
}

/* One byte of a detools size.  1: complete (magnitude in vint, sign in
 * vsign), 0: more bytes follow, -1: over 31 bits of magnitude. */
static int size_byte(struct mfota_delta *d, uint8_t b)
{
    uint32_t bits;
    if (d->vshift == 0) {
        d->vsign = (uint8_t)((b & 0x40u) != 0);
        d->vint = b & 0x3fu;
        d->vshift = 6;
    } else {
        if (d->vshift > 30) {
            return -1;
        }
        bits = b & 0x7fu;
        /* Sizes and offsets fit an int32: refuse anything wider rather
         * than wrap it into a plausible value. */
        if (d->vshift + 7 > 31 && (bits >> (31 - d->vshift)) != 0) {
            return -1;
        }
        d->vint |= bits << d->vshift;
        d->vshift = (uint8_t)(d->vshift + 7);
    }
    if (b & 0x80u) {
        return 0;
    }
    d->vshift = 0;
    return 1;
}

static int flush_out(struct mfota_delta *d)
{
    int rc;
    if (d->out_len == 0) {
        return MFOTA_OK;
    }
    rc = mfota_flash_writer_write(d->out, d->to_pos - d->out_len, d->out_buf, d->out_len);
    d->out_len = 0;
    return rc < 0 ? rc : MFOTA_OK;
}

static int emit(struct mfota_delta *d, uint8_t b)
{
    d->out_buf[d->out_len++] = b;
    d->to_pos++;
    if (d->out_len == MFOTA_DELTA_BUF) {
        return flush_out(d);
    }
    return MFOTA_OK;
}

/* The source byte at from_pos, through a small cache: diff chunks read the
 * source forwards, so one HAL read serves MFOTA_DELTA_BUF bytes. */
static int source_byte(struct mfota_delta *d, uint8_t *b)
{
    uint32_t pos, n;
    int rc;
    if (d->from_pos < 0 || d->from_pos >= (int64_t)d->source_size) {
        return MFOTA_ERR_DELTA_CORRUPT;
    }
    pos = (uint32_t)d->from_pos;
    if (pos < d->src_off || pos - d->src_off >= d->src_len) {
        n = d->source_size - pos;
        if (n > MFOTA_DELTA_BUF) {
            n = MFOTA_DELTA_BUF;
        }
        d->src_len = 0; /* a failed read leaves no stale cache behind */
        rc = read_source(d, d->source, pos, n);
        if (rc < 0) {
            return rc;
        }
        d->src_off = pos;
        d->src_len = n;
    }
    *b = d->src_buf[pos - d->src_off];
    d->from_pos++;
    return MFOTA_OK;
}

/* A chunk size (diff or extra) just decoded: check it against the image. */
static int chunk_size(struct mfota_delta *d, uint8_t data_state, uint8_t next_state)
{
    if (d->vsign && d->vint != 0) {
        return MFOTA_ERR_DELTA_CORRUPT;
    }
    if (d->vint > d->to_size - d->to_pos) {
        return MFOTA_ERR_DELTA_OVERRUN;
    }
    d->chunk_left = d->vint;
    d->state = d->vint != 0 ? data_state : next_state;
    return MFOTA_OK;
}

static int complete(struct mfota_delta *d)
{
    int rc = flush_out(d);
    if (rc < 0) {
        return rc;
    }
    rc = mfota_flash_writer_part_commit(d->out, 0, d->to_size, NULL);
    if (rc < 0) {
        return rc;
    }
    d->state = S_DONE;
    d->hstate = H_DONE;
    return MFOTA_OK;
}

/* One byte of the decompressed stream. */
static int body_byte(struct mfota_delta *d, uint8_t b)
{
    uint8_t src;
    int rc;
    switch (d->state) {
    case S_DF_SIZE:
        rc = size_byte(d, b);
        if (rc <= 0) {
            return rc < 0 ? MFOTA_ERR_DELTA_CORRUPT : MFOTA_OK;
        }
        if (d->vint != 0) {
            return d->vsign ? MFOTA_ERR_DELTA_CORRUPT : MFOTA_ERR_DELTA_DATA_FORMAT;
        }
        d->state = S_DIFF_SIZE;
        return MFOTA_OK;
    case S_DIFF_SIZE:
        rc = size_byte(d, b);
        if (rc <= 0) {
            return rc < 0 ? MFOTA_ERR_DELTA_CORRUPT : MFOTA_OK;
        }
        return chunk_size(d, S_DIFF, S_EXTRA_SIZE);
    case S_DIFF:
        rc = source_byte(d, &src);
        if (rc < 0) {
            return rc;
        }
        if (--d->chunk_left == 0) {
            d->state = S_EXTRA_SIZE;
        }
        return emit(d, (uint8_t)(b + src));
    case S_EXTRA_SIZE:
        rc = size_byte(d, b);
        if (rc <= 0) {
            return rc < 0 ? MFOTA_ERR_DELTA_CORRUPT : MFOTA_OK;
        }
        return chunk_size(d, S_EXTRA, S_ADJUST);
    case S_EXTRA:
        if (--d->chunk_left == 0) {
            d->state = S_ADJUST;
        }
        return emit(d, b);
    case S_ADJUST:
        rc = size_byte(d, b);
        if (rc <= 0) {
            return rc < 0 ? MFOTA_ERR_DELTA_CORRUPT : MFOTA_OK;
        }
        /* Out-of-range positions are caught when the source is read: a
         * patch may park the position anywhere if it never reads there. */
        d->from_pos += d->vsign ? -(int64_t)d->vint : (int64_t)d->vint;
        if (d->to_pos == d->to_size) {
            return complete(d);
        }
        d->state = S_DIFF_SIZE;
        return MFOTA_OK;
    default:
        /* Anything after the last adjustment: detools' "end of patch not
         * found". */
        return MFOTA_ERR_DELTA_CORRUPT;
    }
}

static int hs_out(struct mfota_delta *d, uint8_t c)
{
    uint16_t mask = (uint16_t)((1u << d->hs_window_sz2) - 1u);
    d->window[d->hs_head & mask] = c;
    d->hs_head++;
    return body_byte(d, c);
}

/* One compressed byte through the heatshrink decoder, MSB first.  A symbol
 * is a tag bit, then either 8 literal bits (tag 1) or a back-reference
 * (tag 0): window_sz2 bits of distance - 1 and lookahead_sz2 bits of
 * count - 1, copied from the last 1 << window_sz2 output bytes (zeros
 * before the first, as heatshrink's own decoder starts). */
static int hs_byte(struct mfota_delta *d, uint8_t b)
{
    unsigned bit;
    uint16_t mask = (uint16_t)((1u << d->hs_window_sz2) - 1u);
    uint32_t count, k;
    int rc;
    for (bit = 8; bit-- > 0;) {
        if (d->state == S_DONE) {
            /* The rest of the last byte is padding. */
            return MFOTA_OK;
        }
        d->hs_acc = (uint16_t)(((unsigned)d->hs_acc << 1) | (((unsigned)b >> bit) & 1u));
        if (--d->hs_need != 0) {
            continue;
        }
        switch (d->hs_sym) {
        case HS_TAG:
            if (d->hs_acc & 1u) {
                d->hs_sym = HS_LITERAL;
                d->hs_need = 8;
            } else {
                d->hs_sym = HS_INDEX;
                d->hs_need = d->hs_window_sz2;
            }
            break;
        case HS_LITERAL:
            rc = hs_out(d, (uint8_t)d->hs_acc);
            if (rc < 0) {
                return rc;
            }
            d->hs_sym = HS_TAG;
            d->hs_need = 1;
            break;
        case HS_INDEX:
            d->hs_index = (uint16_t)(d->hs_acc + 1u);
            d->hs_sym = HS_COUNT;
            d->hs_need = d->hs_lookahead_sz2;
            break;
        default: /* HS_COUNT */
            count = (uint32_t)d->hs_acc + 1u;
            for (k = 0; k < count; k++) {
                if (d->state == S_DONE) {
                    return MFOTA_ERR_DELTA_CORRUPT; /* output after the end */
                }
                rc = hs_out(d, d->window[(uint16_t)(d->hs_head - d->hs_index) & mask]);
                if (rc < 0) {
                    return rc;
                }
            }
            d->hs_sym = HS_TAG;
            d->hs_need = 1;
            break;
        }
        d->hs_acc = 0;
    }
    return MFOTA_OK;
}

static int header_byte(struct mfota_delta *d, uint8_t b)
{
    int rc;
    uint8_t w, l;
    switch (d->hstate) {
    case H_TYPE:
        if ((b & 0x80u) != 0 || ((b >> 4) & 7u) != PATCH_TYPE_SEQUENTIAL) {
            return MFOTA_ERR_DELTA_HEADER;
        }
        d->compression = (uint8_t)(b & 0x0fu);
        if (d->compression != MFOTA_DELTA_COMPRESSION_NONE &&
            d->compression != MFOTA_DELTA_COMPRESSION_HEATSHRINK) {
            return MFOTA_ERR_DELTA_COMPRESSION;
        }
        d->hstate = H_SIZE;
        return MFOTA_OK;
    case H_SIZE:
        rc = size_byte(d, b);
        if (rc < 0 || (rc > 0 && d->vsign && d->vint != 0)) {
            return MFOTA_ERR_DELTA_HEADER;
        }
        if (rc == 0) {
            return MFOTA_OK;
        }
        if (d->want_size && d->vint != d->to_size) {
            return MFOTA_ERR_DELTA_HEADER; /* the patch is not the one the header describes */
        }
        d->to_size = d->vint;
        if (d->to_size > d->out->flash->slot_size) {
            return MFOTA_ERR_DELTA_OVERRUN;
        }
        rc = mfota_flash_writer_begin(d->out, d->to_size, NULL);
        if (rc < 0) {
            return rc;
        }
        if (d->to_size == 0) {
            /* detools writes nothing after the header of an empty image. */
            return complete(d);
        }
        d->hstate = d->compression == MFOTA_DELTA_COMPRESSION_HEATSHRINK ? H_HS_PARAMS : H_BODY;
        return MFOTA_OK;
    default: /* H_HS_PARAMS */
        w = (uint8_t)((b >> 4) + 4u);
        l = (uint8_t)((b & 0x0fu) + 3u);
        /* heatshrink itself requires lookahead < window. */
        if (w > MFOTA_DELTA_WINDOW_SZ2_MAX || l >= w) {
            return MFOTA_ERR_DELTA_WINDOW;
        }
        d->hs_window_sz2 = w;
        d->hs_lookahead_sz2 = l;
        d->hs_sym = HS_TAG;
        d->hs_need = 1;
        d->hs_acc = 0;
        d->hs_head = 0;
        memset(d->window, 0, sizeof d->window);
        d->hstate = H_BODY;
        return MFOTA_OK;
    }
}

int mfota_delta_begin(struct mfota_delta *d, const struct mfota_flash *source,
                      uint32_t source_size, const uint8_t *source_sha256,
                      struct mfota_flash_writer *out)
{
    struct mfota_sha256 sha;
    uint8_t digest[MFOTA_SHA256_DIGEST_SIZE];
    uint32_t off, n;
    int rc;
    if (d == NULL) {
        return MFOTA_ERR_INVAL;
    }
    /* Whatever happens below, nothing of an earlier patch survives: a
     * refused begin() must not leave the previous applier usable. */
    memset(d, 0, sizeof *d);
    if (source == NULL || out == NULL || out->flash == NULL) {
        return fail(d, MFOTA_ERR_INVAL);
    }
    rc = mfota_flash_check(source);
    if (rc < 0) {
        return fail(d, rc);
    }
    if (source_size > source->slot_size) {
        return fail(d, MFOTA_ERR_INVAL);
    }
    if (source_sha256 != NULL) {
        /* Hash the source before anything is written: a patch made against
         * another image must leave the update slot untouched. */
        mfota_sha256_init(&sha);
        for (off = 0; off < source_size; off += n) {
            n = source_size - off;
            if (n > MFOTA_DELTA_BUF) {
                n = MFOTA_DELTA_BUF;
            }
            rc = read_source(d, source, off, n);
            if (rc < 0) {
                return rc;
            }
            mfota_sha256_update(&sha, d->src_buf, n);
        }
        mfota_sha256_final(&sha, digest);
        if (memcmp(digest, source_sha256, sizeof digest) != 0) {
            return fail(d, MFOTA_ERR_DELTA_SOURCE);
        }
    }
    d->source = source;
    d->out = out;
    d->source_size = source_size;
    d->hstate = H_TYPE;
    d->state = S_DF_SIZE;
    return MFOTA_OK;
}

void mfota_delta_expect_size(struct mfota_delta *d, uint32_t to_size)
{
    if (d != NULL) {
        d->to_size = to_size;
        d->want_size = 1;
    }
}

int mfota_delta_feed(struct mfota_delta *d, const void *data, size_t len)
{
    const uint8_t *p = (const uint8_t *)data;
    size_t i;
    int rc;
    if (d == NULL) {
        return MFOTA_ERR_INVAL;
    }
    if (d->failed) {
        return d->err;
    }
    if (d->source == NULL || d->out == NULL) {
        return fail(d, MFOTA_ERR_STATE); /* never begun (a zeroed struct) */
    }
    if (data == NULL && len > 0) {
        return fail(d, MFOTA_ERR_INVAL);
    }
    for (i = 0; i < len; i++) {
        if (d->hstate == H_DONE) {
            return fail(d, MFOTA_ERR_DELTA_CORRUPT); /* bytes after the end */
        }
        if (d->hstate != H_BODY) {
            rc = header_byte(d, p[i]);
        } else if (d->compression == MFOTA_DELTA_COMPRESSION_HEATSHRINK) {
            rc = hs_byte(d, p[i]);
        } else {
            rc = body_byte(d, p[i]);
        }
        if (rc < 0) {
            return fail(d, rc);
        }
        d->patch_pos++;
    }
    return d->hstate == H_DONE ? MFOTA_DONE : MFOTA_NEED_MORE;
}

int mfota_delta_finish(struct mfota_delta *d)
{
    if (d == NULL) {
        return MFOTA_ERR_INVAL;
    }
    if (d->failed) {
        return d->err;
    }
    if (d->source == NULL || d->out == NULL) {
        return fail(d, MFOTA_ERR_STATE);
    }
    if (d->hstate != H_DONE) {
        return fail(d, MFOTA_ERR_DELTA_TRUNCATED);
    }
    return MFOTA_OK;
}

/* ---- delta files ------------------------------------------------------- */

static const uint8_t magic[4] = {'M', 'F', 'D', 'P'};

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

int mfota_delta_header_parse(const uint8_t *buf, size_t len, struct mfota_delta_header *out)
{
    if (buf == NULL || out == NULL) {
        return MFOTA_ERR_INVAL;
    }
    if (len < MFOTA_DELTA_FILE_HEADER_SIZE || memcmp(buf, magic, sizeof magic) != 0) {
        return MFOTA_ERR_DELTA_HEADER;
    }
    /* Version, flags and size are checked before the CRC only to name the
     * fault; the CRC guards them all the same. */
    if (buf[4] != MFOTA_DELTA_FILE_VERSION || buf[5] != 0u ||
        ((uint32_t)buf[6] | ((uint32_t)buf[7] << 8)) != MFOTA_DELTA_FILE_HEADER_SIZE ||
        mfota_crc32(0, buf, 80) != le32(buf + 80)) {
        return MFOTA_ERR_DELTA_HEADER;
    }
    out->header_size = (uint16_t)MFOTA_DELTA_FILE_HEADER_SIZE;
    out->source_size = le32(buf + 8);
    memcpy(out->source_sha256, buf + 12, 32);
    out->target_size = le32(buf + 44);
    memcpy(out->target_sha256, buf + 48, 32);
    return MFOTA_OK;
}

void mfota_delta_reader_init(struct mfota_delta_reader *r)
{
    memset(r, 0, sizeof *r);
}

int mfota_delta_reader_feed(struct mfota_delta_reader *r, const void *data, size_t len,
                            size_t *used, struct mfota_delta_header *out)
{
    const uint8_t *p = (const uint8_t *)data;
    size_t n = 0;
    int rc;
    if (r == NULL || used == NULL || out == NULL || (data == NULL && len > 0)) {
        return MFOTA_ERR_INVAL;
    }
    *used = 0;
    if (r->kind != MFOTA_DELTA_KIND_UNKNOWN) {
        return MFOTA_DONE;
    }
    /* The magic decides, byte by byte: an image is known at its first byte
     * that differs, and only the bytes matched so far were held. */
    while (r->len < sizeof magic && n < len) {
        if (p[n] != magic[r->len]) {
            r->kind = MFOTA_DELTA_KIND_IMAGE;
            return MFOTA_DONE;
        }
        r->buf[r->len++] = p[n++];
    }
    while (r->len < MFOTA_DELTA_FILE_HEADER_SIZE && n < len) {
        r->buf[r->len++] = p[n++];
    }
    *used = n;
    if (r->len < MFOTA_DELTA_FILE_HEADER_SIZE) {
        return MFOTA_NEED_MORE;
    }
    rc = mfota_delta_header_parse(r->buf, r->len, out);
    if (rc < 0) {
        return rc;
    }
    r->kind = MFOTA_DELTA_KIND_DELTA;
    return MFOTA_DONE;
}

int mfota_delta_reader_end(struct mfota_delta_reader *r)
{
    if (r == NULL) {
        return MFOTA_ERR_INVAL;
    }
    if (r->kind == MFOTA_DELTA_KIND_UNKNOWN) {
        if (r->len >= sizeof magic) {
            return MFOTA_ERR_DELTA_HEADER;
        }
        r->kind = MFOTA_DELTA_KIND_IMAGE;
    }
    return MFOTA_DONE;
}
