/*
 * Download journal: what survives a reboot or a power cut mid-download.
 *
 * One record says which download is in progress (hash of the URL, hash of
 * the validator, total size, the expected crc32/sha256 when the downlink gave
 * them) and how far it got: the offset verified and written, the CRC-32 and
 * SHA-256 state of the image up to that offset, and the requests used.
 *
 * Storage is either
 *  - a flash region of (at least) two erase sectors, used as a log: records
 *    are appended in the current sector; when it is full the other sector is
 *    erased and the log continues there.  A cut in the middle of a record or
 *    of the erase leaves every earlier record intact, and the loader takes the
 *    valid record with the highest sequence number (A/B);
 *  - or a key-value store of the port, which is trusted to replace a value
 *    atomically (the record's CRC still guards against garbage).
 *
 * Serialized layout (little-endian, MFOTA_JOURNAL_RECORD_SIZE bytes, padded
 * with the erased value to the program size):
 *    0 magic "MFJ1"   4 seq          8 flags       12 total_size
 *   16 offset        20 crc32       24 requests   28 expect_crc32
 *   32 url_hash[32]  64 validator_hash[32]        96 expect_sha256[32]
 *  128 sha.state[8] (8 x u32)      160 sha.length (u64)  168 sha.buffer[64]
 *  232 CRC-32 of bytes 0..231
 */
#ifndef MFOTA_JOURNAL_H
#define MFOTA_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "m2mfota/flash.h"
#include "m2mfota/sha256.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MFOTA_JOURNAL_RECORD_SIZE 236u

/* Record flags. */
#define MFOTA_JOURNAL_HAS_VALIDATOR 0x01u /* validator_hash is set */
#define MFOTA_JOURNAL_HAS_CRC32 0x02u     /* expect_crc32 came with the downlink */
#define MFOTA_JOURNAL_HAS_SHA256 0x04u    /* expect_sha256 came with the downlink */
#define MFOTA_JOURNAL_COMPLETE 0x08u      /* every byte is written and verified */
#define MFOTA_JOURNAL_DELTA 0x10u         /* a delta file: offsets are file offsets, never resumed */

struct mfota_journal_record {
    uint32_t seq;        /* set by mfota_journal_write() */
    uint32_t flags;      /* MFOTA_JOURNAL_* */
    uint32_t total_size; /* image size in bytes */
    uint32_t offset;     /* bytes [0, offset) are verified and in flash */
    uint32_t crc32;      /* CRC-32 of bytes [0, offset) */
    uint32_t requests;   /* requests (parts, retries included) used so far */
    uint32_t expect_crc32;
    uint8_t url_hash[32];
    uint8_t validator_hash[32]; /* SHA-256 of the ETag or Last-Modified value */
    uint8_t expect_sha256[32];
    struct mfota_sha256 sha; /* SHA-256 state over bytes [0, offset) */
};

/* A port's key-value store: `get` copies the stored value (at most `cap`
 * bytes) and returns its length, 0 when there is none, or a negative error;
 * `set` replaces the value atomically and returns 0 or a negative error. */
struct mfota_kv {
    int (*get)(void *ctx, void *buf, size_t cap);
    int (*set)(void *ctx, const void *buf, size_t len);
    void *ctx;
};

struct mfota_journal {
    const struct mfota_flash *flash; /* two-sector region, or NULL */
    const struct mfota_kv *kv;       /* or a key-value store */
    struct mfota_journal_record rec; /* the record in force */
    uint32_t interval_sectors;       /* writer journals once per this many sectors */
    uint32_t stride;                 /* bytes per record slot in flash */
    uint32_t next_pos;               /* region offset of the next record slot */
    uint8_t have_rec;                /* rec was loaded or written */
    uint8_t need_erase;              /* next_pos starts a sector that must be erased */
    struct mfota_flash_stats stats;
};

/* Set up a journal on a flash region of at least two sectors (the first two
 * are used).  Nothing is read yet.  MFOTA_ERR_JOURNAL_REGION when a sector
 * cannot hold a record; MFOTA_ERR_FLASH_GEOMETRY for a bad HAL. */
int mfota_journal_init_flash(struct mfota_journal *j, const struct mfota_flash *region);

/* Set up a journal on a key-value store. */
int mfota_journal_init_kv(struct mfota_journal *j, const struct mfota_kv *kv);

/* Find the newest valid record and copy it to `out` (may be NULL) and to
 * j->rec.  MFOTA_ERR_JOURNAL_EMPTY when there is none; HAL errors pass. */
int mfota_journal_load(struct mfota_journal *j, struct mfota_journal_record *out);

/* Append `rec` as the newest record: rec->seq becomes the previous seq + 1
 * and j->rec a copy of it.  Counts one journal write in j->stats. */
int mfota_journal_write(struct mfota_journal *j, struct mfota_journal_record *rec);

/* Fill `rec` for a download from scratch: identity from the URL, validator
 * (NULL when the server sent none) and total size; offset 0; fresh CRC and
 * SHA-256 state.  The caller may then set expect_crc32/expect_sha256 and
 * their flags. */
void mfota_journal_record_init(struct mfota_journal_record *rec, const char *url, size_t url_len,
                               const char *validator, size_t validator_len, uint32_t total_size);

/* Start or resume the download `want` describes (built with
 * mfota_journal_record_init()).  When the newest record matches it (same URL
 * hash, total size and validator) its progress is copied into `want` and
 * j->rec, and *resumed = 1.  Otherwise *resumed = 0, `want` is kept as is,
 * and -- when an older record of another download exists -- written at once,
 * before the caller touches the slot, so a later cut cannot resume the old
 * download over the new bytes.  `want` may be &j->rec (a caller that keeps
 * no record of its own); it is then the record that gets updated. */
int mfota_journal_begin(struct mfota_journal *j, struct mfota_journal_record *want, int *resumed);

/* Start the download in force over from offset 0 (same identity): for when
 * the slot can no longer be trusted, e.g. a torn bootloader trailer in a
 * sector the image shares.  MFOTA_ERR_STATE when no download is in force. */
int mfota_journal_restart(struct mfota_journal *j);

#ifdef __cplusplus
}
#endif

#endif /* MFOTA_JOURNAL_H */
