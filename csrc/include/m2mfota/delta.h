/*
 * Streaming applier of detools "sequential" patches (delta updates).
 *
 * A delta update downloads a patch instead of the image.  The patch is a
 * detools sequential patch (compression `none` or `heatshrink`) made on a
 * host by `m2mfota delta OLD NEW` or by detools itself.  The device applies
 * it while it arrives: patch bytes go in through mfota_delta_feed() in any
 * split, image bytes come out through the flash writer into the update slot,
 * and the source (the image the patch was made against, normally the
 * running image in the primary slot) is read through its flash HAL.  The
 * source is only ever read.
 *
 * The format, as this applier reads it:
 *   byte 0       bit 7 zero, bits 6..4 patch type (0 = sequential),
 *                bits 3..0 compression (0 none, 4 heatshrink; others refused)
 *   size         the image ("to") size, a detools size (below), uncompressed
 *   then, through the decompressor:
 *   size         data-format patch size: 0 (the arm-cortex-m4/aarch64/xtensa
 *                data formats are refused)
 *   repeated until the image is complete:
 *     size n, n bytes   "diff": image byte = patch byte + source byte (mod 256),
 *                       the source position advancing with the image
 *     size m, m bytes   "extra": copied to the image as they are
 *     size a            adjustment: the source position moves by a (signed)
 * A detools size is little-endian base-128: the first byte holds a
 * continuation bit (0x80), a sign bit (0x40) and 6 value bits, each further
 * byte a continuation bit and 7 value bits.  heatshrink data starts with one
 * byte: window size exponent - 4 (high nibble), lookahead exponent - 3 (low).
 *
 * Source check.  A sequential patch carries the image size but nothing
 * about the source.  The caller therefore passes the source's size and
 * SHA-256 (the campaign knows which image the patch was made against);
 * mfota_delta_begin() hashes that many bytes of the source slot and refuses
 * a mismatch with MFOTA_ERR_DELTA_SOURCE before anything is written.  A
 * patch that reads outside the source is MFOTA_ERR_DELTA_CORRUPT.
 *
 * Power cuts.  The applier keeps no state worth saving: after a cut the
 * caller starts again with mfota_delta_begin() and the patch from its first
 * byte.  The update slot is rewritten from offset 0 (the flash writer erases
 * each sector before it programs it), the source slot is never written, so
 * a restart always rebuilds the same image.  Re-download is at most the
 * patch.  Give the flash writer no journal (or ignore its resume record):
 * a resume offset inside the image means nothing to a patch stream.
 *
 * Delta files.  What a campaign uploads is a delta file: an 84-byte header
 * ("MFDP", version 1, flags 0, header size, source size and SHA-256, target
 * size and SHA-256, CRC-32 of the first 80 bytes; docs/delta.md) followed by
 * the patch.  The header carries what the applier needs to check its source
 * and its result; mfota_delta_reader_feed() tells a delta file from an image
 * by the file's first bytes, in any split.
 *
 * RAM: everything lives in the caller's struct mfota_delta, at most
 *   (1 << MFOTA_DELTA_WINDOW_SZ2_MAX) + 2 * MFOTA_DELTA_BUF + 96 bytes
 * (288 + 2 * 64 + 96 = 480 bytes with the defaults, plus the caller's flash
 * writer); the stack use is a SHA-256 context in mfota_delta_begin().
 */
#ifndef MFOTA_DELTA_H
#define MFOTA_DELTA_H

#include <stddef.h>
#include <stdint.h>

#include "m2mfota/config.h"
#include "m2mfota/flash.h"
#include "m2mfota/flash_writer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* detools compression numbers (the low nibble of the first patch byte). */
#define MFOTA_DELTA_COMPRESSION_NONE 0
#define MFOTA_DELTA_COMPRESSION_HEATSHRINK 4

/* The RAM bound of struct mfota_delta documented above (tests check it). */
#define MFOTA_DELTA_RAM_BOUND ((1u << MFOTA_DELTA_WINDOW_SZ2_MAX) + 2u * MFOTA_DELTA_BUF + 96u)

struct mfota_delta {
    const struct mfota_flash *source; /* the image the patch was made against */
    struct mfota_flash_writer *out;   /* the update slot, begun by the applier */
    uint32_t source_size;  /* bytes of the source the patch may read */
    uint32_t to_size;      /* image size from the header */
    uint32_t to_pos;       /* image bytes produced */
    uint32_t chunk_left;   /* bytes left in the current diff/extra chunk */
    int64_t from_pos;      /* source position (signed: adjustments may pass 0) */
    uint32_t patch_pos;    /* patch bytes consumed */
    uint32_t vint;         /* size being decoded */
    int err;               /* the error that failed the applier */
    uint8_t vshift;        /* bits of vint read so far */
    uint8_t vsign;
    uint8_t state;         /* what the next decompressed byte is */
    uint8_t hstate;        /* header / decompressor state */
    uint8_t compression;   /* MFOTA_DELTA_COMPRESSION_* */
    uint8_t failed;        /* an error was returned: only begin() helps */
    uint8_t want_size;     /* 1: to_size holds the size the patch must announce */
    /* heatshrink decoder */
    uint8_t hs_window_sz2;
    uint8_t hs_lookahead_sz2;
    uint8_t hs_need;       /* bits still to read into hs_acc */
    uint8_t hs_sym;        /* what hs_acc holds: tag, literal, index, count */
    uint16_t hs_acc;
    uint16_t hs_index;
    uint16_t hs_head;      /* window position of the next output byte */
    /* source cache: bytes [src_off, src_off + src_len) of the source */
    uint32_t src_off;
    uint32_t src_len;
    uint32_t out_len;      /* image bytes waiting in out_buf */
    uint8_t src_buf[MFOTA_DELTA_BUF];
    uint8_t out_buf[MFOTA_DELTA_BUF];
    uint8_t window[1u << MFOTA_DELTA_WINDOW_SZ2_MAX];
};

/* ---- delta files ------------------------------------------------------- */

#define MFOTA_DELTA_FILE_VERSION 1u
#define MFOTA_DELTA_FILE_HEADER_SIZE 84u

/* What a delta file's header says (integers little-endian in the file). */
struct mfota_delta_header {
    uint32_t source_size;  /* bytes of the running image the patch was made against */
    uint32_t target_size;  /* bytes of the image the patch rebuilds */
    uint16_t header_size;  /* the patch starts at this file offset */
    uint8_t source_sha256[32];
    uint8_t target_sha256[32];
};

/* What a file's first bytes make it (struct mfota_delta_reader.kind). */
#define MFOTA_DELTA_KIND_UNKNOWN 0u /* not enough bytes yet */
#define MFOTA_DELTA_KIND_IMAGE 1u   /* no "MFDP" magic: a full image */
#define MFOTA_DELTA_KIND_DELTA 2u   /* a delta file with a valid header */

/* Streamed reader of a file's first bytes (caller-allocated, 88 bytes). */
struct mfota_delta_reader {
    uint8_t buf[MFOTA_DELTA_FILE_HEADER_SIZE]; /* the file's first bytes, held */
    uint8_t len;                               /* bytes held in buf */
    uint8_t kind;                              /* MFOTA_DELTA_KIND_* */
};

/* Parse a complete delta file header (`len` >= MFOTA_DELTA_FILE_HEADER_SIZE
 * bytes from the file's start) into `out`.  MFOTA_ERR_DELTA_HEADER when the
 * magic, version, flags, header size or CRC-32 is wrong, or `len` is short;
 * MFOTA_ERR_INVAL for NULL.  Does not look at the patch behind it. */
int mfota_delta_header_parse(const uint8_t *buf, size_t len, struct mfota_delta_header *out);

/* Start reading a file from its first byte. */
void mfota_delta_reader_init(struct mfota_delta_reader *r);

/* Feed the file's next `len` bytes, in any split.  Returns MFOTA_NEED_MORE
 * while undecided (all bytes taken and held in r->buf), or MFOTA_DONE once
 * r->kind is known:
 *  - MFOTA_DELTA_KIND_IMAGE: *used = 0; the file is an image whose first
 *    r->len bytes are in r->buf (pass them on, then all of `data`);
 *  - MFOTA_DELTA_KIND_DELTA: the header is parsed into `out` and *used bytes
 *    of `data` completed it; data + *used is the patch's first byte.
 * MFOTA_ERR_DELTA_HEADER when the file starts with "MFDP" but its header is
 * bad: such a file is never an image.  Once decided, further calls return
 * MFOTA_DONE with *used = 0. */
int mfota_delta_reader_feed(struct mfota_delta_reader *r, const void *data, size_t len,
                            size_t *used, struct mfota_delta_header *out);

/* The file ended while the reader was undecided: MFOTA_DONE with kind IMAGE
 * (a file of 1..3 bytes, or none, that is a prefix of the magic) or
 * MFOTA_ERR_DELTA_HEADER (a delta file cut inside its header). */
int mfota_delta_reader_end(struct mfota_delta_reader *r);

/* Start applying a patch.  `source` is the slot holding the image the patch
 * was made against (read only); `source_size` its size in bytes (<= its
 * slot_size); `source_sha256` the SHA-256 of those bytes, or NULL to skip
 * the check (tests, trusted callers).  `out` is a flash writer initialised
 * by the caller on the update slot (no journal, see the file comment); the
 * applier calls mfota_flash_writer_begin() on it once the header gives the
 * image size.  All three must outlive the applier.
 * The hash runs here, in one call: about 70 Cortex-M4 instructions per
 * source byte, the source HAL's read called every MFOTA_DELTA_BUF bytes (a
 * port may feed its watchdog there; docs/delta.md has the figures).
 * Errors: MFOTA_ERR_INVAL (NULL, source_size beyond the slot),
 * MFOTA_ERR_FLASH_GEOMETRY, MFOTA_ERR_DELTA_SOURCE (hash mismatch), or the
 * source HAL's own value (MFOTA_ERR_HAL for a positive one).  After an
 * error (`d` not NULL) the applier is failed with it: feed() and finish()
 * return it, and nothing of a patch begun earlier on `d` goes on. */
int mfota_delta_begin(struct mfota_delta *d, const struct mfota_flash *source,
                      uint32_t source_size, const uint8_t *source_sha256,
                      struct mfota_flash_writer *out);

/* After mfota_delta_begin(), before the first byte: the patch's own image
 * size must be `to_size` (a delta file's target size), else feeding its
 * header fails with MFOTA_ERR_DELTA_HEADER. */
void mfota_delta_expect_size(struct mfota_delta *d, uint32_t to_size);

/* Consume `len` patch bytes (any split, including 0).  Returns
 * MFOTA_NEED_MORE while the image is incomplete, MFOTA_DONE once the last
 * image byte is in flash (the writer's part is committed and flushed), or an
 * error, after which the applier is `failed` until mfota_delta_begin():
 * MFOTA_ERR_DELTA_HEADER (not a sequential patch, bad image size),
 * MFOTA_ERR_DELTA_COMPRESSION (lzma, bz2, crle, zstd, lz4...),
 * MFOTA_ERR_DELTA_WINDOW (heatshrink window over MFOTA_DELTA_WINDOW_SZ2_MAX
 * or lookahead not below the window), MFOTA_ERR_DELTA_DATA_FORMAT,
 * MFOTA_ERR_DELTA_CORRUPT (bad size, source read outside the source, bytes
 * after the end), MFOTA_ERR_DELTA_OVERRUN (chunks past the image size, or
 * an image larger than the update slot), or a flash writer / HAL error
 * (the source HAL's own value).  MFOTA_ERR_STATE when `d` was never begun
 * (a zeroed struct), MFOTA_ERR_INVAL for NULL `data` with `len` > 0: both
 * fail the applier as well. */
int mfota_delta_feed(struct mfota_delta *d, const void *data, size_t len);

/* Call when the patch has ended: MFOTA_OK when the image is complete,
 * MFOTA_ERR_DELTA_TRUNCATED when the patch stopped before it, the error
 * that failed the applier, or MFOTA_ERR_STATE when `d` was never begun. */
int mfota_delta_finish(struct mfota_delta *d);

#ifdef __cplusplus
}
#endif

#endif /* MFOTA_DELTA_H */
