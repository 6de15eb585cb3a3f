/*
 * Streaming flash writer for the update slot.
 *
 * The downloader hands over body bytes at increasing offsets as they arrive
 * (mfota_flash_writer_write), then says whether the part they belong to
 * checked out (mfota_flash_writer_part_commit) or not
 * (mfota_flash_writer_part_abort).  The writer
 *  - keeps at most one program block in RAM (never a part),
 *  - erases each sector right before the first byte is programmed into it,
 *    so it never programs a byte that is not erased,
 *  - refuses writes outside the slot or the image without writing anything,
 *  - reads each programmed block back and compares it (when `verify`),
 *  - keeps the CRC-32 and SHA-256 of the image so far, and snapshots of both
 *    at the last committed byte and at the last sector boundary, so that
 *  - a failed part is recovered by re-erasing exactly the sectors it touched
 *    and re-fetching from the first byte of the first of them, and
 *  - the journal (optional) is written once per `interval_sectors` sectors of
 *    committed progress, always at a sector boundary, plus once at the end.
 *    Resuming at a sector boundary means the sector there is simply erased
 *    again before use, whatever a cut left in it.
 */
#ifndef MFOTA_FLASH_WRITER_H
#define MFOTA_FLASH_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "m2mfota/flash.h"
#include "m2mfota/journal.h"
#include "m2mfota/sha256.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Image state at one offset. */
struct mfota_flash_snapshot {
    uint32_t offset;
    uint32_t crc32;          /* CRC-32 of bytes [0, offset) */
    struct mfota_sha256 sha; /* SHA-256 state over bytes [0, offset) */
};

struct mfota_flash_writer {
    const struct mfota_flash *flash;
    struct mfota_journal *journal; /* NULL: no journal */
    uint32_t size;       /* image size, <= slot_size */
    uint32_t flushed;    /* bytes [0, flushed) are programmed; block-aligned */
    uint32_t erased_end; /* sectors below this were erased by this writer */
    struct mfota_flash_snapshot run;      /* at the next byte write() expects */
    struct mfota_flash_snapshot committed;/* at the end of the last committed part */
    struct mfota_flash_snapshot boundary; /* at the last sector boundary write() passed */
    struct mfota_flash_snapshot mark;     /* at the last sector boundary <= committed */
    uint32_t parts_unverified; /* parts committed without a CRC */
    uint32_t buf_len;          /* bytes [flushed, flushed + buf_len) wait in buf */
    uint8_t verify;            /* 1 (default): read back every program */
    uint8_t failed;            /* a HAL call failed: only part_abort or begin help */
    uint8_t begun;
    uint8_t buf[MFOTA_FLASH_PROGRAM_MAX];
    struct mfota_flash_stats stats;
};

/* Bind a writer to the update slot `flash` and an optional `journal`
 * (initialised by the caller; both must outlive the writer).
 * MFOTA_ERR_FLASH_GEOMETRY for an unusable HAL. */
int mfota_flash_writer_init(struct mfota_flash_writer *w, const struct mfota_flash *flash,
                            struct mfota_journal *journal);

/* Start writing an image of `size` bytes.  With `resume` (a record from
 * mfota_journal_begin() that resumed) continue at resume->offset with its
 * CRC-32/SHA-256 state; that offset must be a sector boundary or the image
 * end.  MFOTA_ERR_FLASH_BOUNDS when the image does not fit the slot;
 * MFOTA_ERR_INVAL for an inconsistent record.  Nothing is written here. */
int mfota_flash_writer_begin(struct mfota_flash_writer *w, uint32_t size,
                             const struct mfota_journal_record *resume);

/* Accept `len` bytes of the image at `offset`, which must be run.offset
 * (MFOTA_ERR_FLASH_ORDER otherwise).  MFOTA_ERR_FLASH_BOUNDS, with nothing
 * written, when the bytes would pass the image size.  Whole program blocks
 * go to flash now, the rest waits in RAM.  On a HAL or read-back error the
 * writer is `failed` until mfota_flash_writer_part_abort(). */
int mfota_flash_writer_write(struct mfota_flash_writer *w, uint32_t offset, const void *data,
                             size_t len);

/* Mark the part [offset, offset + len) verified: it must end at run.offset
 * and start at committed.offset.  `crc` is the part's CRC-32 from the
 * server's Digest, or NULL when there was none (the part is then accepted
 * on the writer's own CRC and counted in parts_unverified).  A CRC that does
 * not match the bytes written returns MFOTA_ERR_FLASH_PART_CRC and changes
 * nothing: abort the part.  At the image end the last block is flushed.  May
 * write the journal (see the file comment). */
int mfota_flash_writer_part_commit(struct mfota_flash_writer *w, uint32_t offset, uint32_t len,
                                   const uint32_t *crc);

/* Give up the part that starts at `first_offset` (== committed.offset).
 * When none of its bytes reached flash, only RAM is rolled back and
 * *refetch = first_offset.  Otherwise the sectors from the one holding
 * first_offset up to the last one touched are erased again and *refetch is
 * the first byte of that first sector: bytes of earlier parts in that
 * sector are lost too, which is why parts should start on sector
 * boundaries: with parts planned in whole sectors (range_plan's `align`) and
 * the journal's sector-aligned resume offsets, *refetch is always
 * first_offset, as the downloader's part_failed() contract assumes; an
 * engine that plans otherwise restarts the download at *refetch.  Clears
 * `failed`. */
int mfota_flash_writer_part_abort(struct mfota_flash_writer *w, uint32_t first_offset,
                                  uint32_t *refetch);

/* Program a partial last block, padded with the erased value.  Only at the
 * image end (part_commit does it then); elsewhere MFOTA_ERR_STATE, because
 * the rest of that block could not be programmed later. */
int mfota_flash_writer_flush(struct mfota_flash_writer *w);

#ifdef __cplusplus
}
#endif

#endif /* MFOTA_FLASH_WRITER_H */
