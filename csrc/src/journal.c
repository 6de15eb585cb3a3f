#include "m2mfota/journal.h"

#include <stddef.h>
#include <string.h>

#include "m2mfota/crc32.h"
#include "m2mfota/err.h"

#define REC_SIZE MFOTA_JOURNAL_RECORD_SIZE
#define REC_BUF (MFOTA_JOURNAL_RECORD_SIZE + MFOTA_FLASH_PROGRAM_MAX)

static const uint8_t rec_magic[4] = {'M', 'F', 'J', '1'};

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

/* The serialized layout (journal.h) in spans of the record: runs of uint32_t
 * fields, stored little-endian, and runs of bytes, copied.  Encoding and
 * decoding walk the same table, so the two cannot disagree. */
#define R_(field) ((uint16_t)offsetof(struct mfota_journal_record, field))
static const struct {
    uint16_t rec;   /* offset in struct mfota_journal_record */
    uint8_t at;     /* offset in the serialized record */
    uint8_t words;  /* uint32_t fields, or 0: `bytes` bytes */
    uint8_t bytes;
} spans[] = {
    {R_(seq), 4, 7, 0},            /* seq .. expect_crc32 */
    {R_(url_hash), 32, 0, 96},     /* url_hash, validator_hash, expect_sha256 */
    {R_(sha.state), 128, 8, 0},
    {R_(sha.buffer), 168, 0, 64},
};
#undef R_

/* The fields the spans name lie where they say, without padding between. */
typedef char journal_layout_check_[
    (offsetof(struct mfota_journal_record, expect_crc32) ==
         offsetof(struct mfota_journal_record, seq) + 24u &&
     offsetof(struct mfota_journal_record, expect_sha256) ==
         offsetof(struct mfota_journal_record, url_hash) + 64u) ? 1 : -1];

/* Record -> bytes when `to_bytes`, else bytes -> record (without the magic,
 * the SHA-256 length and the CRC, which the callers handle), from span
 * `first` on (SPAN_SHA: only the SHA-256 state). */
#define SPAN_SHA 2u
static void convert(struct mfota_journal_record *r, uint8_t *b, int to_bytes, unsigned first)
{
    unsigned i, k;
    for (i = first; i < sizeof spans / sizeof spans[0]; i++) {
        uint8_t *f = (uint8_t *)r + spans[i].rec, *s = b + spans[i].at;
        if (spans[i].words == 0u) {
            memcpy(to_bytes ? s : f, to_bytes ? f : s, spans[i].bytes);
        }
        for (k = 0; k < spans[i].words; k++, f += 4, s += 4) {
            uint32_t v;
            if (to_bytes) {
                memcpy(&v, f, 4);
                put32(s, v);
            } else {
                v = get32(s);
                memcpy(f, &v, 4);
            }
        }
    }
}

static void encode(const struct mfota_journal_record *r, uint8_t *b)
{
    memcpy(b, rec_magic, 4);
    /* convert() only reads the record when writing bytes. */
    convert((struct mfota_journal_record *)(uintptr_t)r, b, 1, 0);
    put32(b + 160, (uint32_t)r->sha.length);
    put32(b + 164, (uint32_t)(r->sha.length >> 32));
    put32(b + 232, mfota_crc32(0, b, 232));
}

/* 1 when `b` holds a record whose magic and CRC check out and whose progress
 * does not contradict itself (offset <= total size, SHA-256 length ==
 * offset): checked on the bytes, so a scan needs no decoded copy. */
static int valid(const uint8_t *b)
{
    return memcmp(b, rec_magic, 4) == 0 && get32(b + 232) == mfota_crc32(0, b, 232) &&
           get32(b + 16) <= get32(b + 12) && get32(b + 160) == get32(b + 16) &&
           get32(b + 164) == 0u;
}

/* A record that valid() accepted. */
static void decode(uint8_t *b, struct mfota_journal_record *r)
{
    convert(r, b, 0, 0);
    r->sha.length = get32(b + 160);
}

static void journal_reset(struct mfota_journal *j)
{
    memset(j, 0, sizeof *j);
    j->interval_sectors = MFOTA_JOURNAL_INTERVAL_SECTORS;
}

int mfota_journal_init_flash(struct mfota_journal *j, const struct mfota_flash *region)
{
    int rc;
    if (j == NULL) {
        return MFOTA_ERR_INVAL;
    }
    journal_reset(j);
    rc = mfota_flash_check(region);
    if (rc != MFOTA_OK) {
        return rc;
    }
    j->stride = (REC_SIZE + region->program_size - 1u) / region->program_size * region->program_size;
    if (region->slot_size / region->sector_size < 2u || j->stride > region->sector_size) {
        return MFOTA_ERR_JOURNAL_REGION;
    }
    j->flash = region;
    j->need_erase = 1;
    return MFOTA_OK;
}

int mfota_journal_init_kv(struct mfota_journal *j, const struct mfota_kv *kv)
{
    if (j == NULL || kv == NULL || kv->get == NULL || kv->set == NULL) {
        return MFOTA_ERR_INVAL;
    }
    journal_reset(j);
    j->kv = kv;
    return MFOTA_OK;
}

/* Serial-number order, so the sequence may wrap after 2^32 writes. */
static int seq_newer(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) > 0;
}

static int is_erased(const uint8_t *b, size_t n, uint8_t erased)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (b[i] != erased) {
            return 0;
        }
    }
    return 1;
}

/* Find the newest valid record and leave its bytes in buf (REC_BUF bytes;
 * j->rec is left alone: it may hold the record a caller compares with); set
 * have_rec and where the next record goes. */
static int load_flash(struct mfota_journal *j, uint8_t *buf)
{
    const struct mfota_flash *f = j->flash;
    uint32_t slots = f->sector_size / j->stride, sec, slot, best_pos = 0, best_seq = 0;
    uint32_t last_used[2] = {0, 0}; /* 1 + index of the last non-erased slot */
    uint32_t best_sector = 0;
    int rc;

    j->have_rec = 0;
    for (sec = 0; sec < 2; sec++) {
        for (slot = 0; slot < slots; slot++) {
            uint32_t pos = sec * f->sector_size + slot * j->stride;
            /* The whole slot, padding included: a slot is reused only when
             * every byte of it can still be programmed. */
            rc = f->read(f->ctx, f->slot_offset + pos, buf, j->stride);
            if (rc < 0) {
                return rc;
            }
            if (is_erased(buf, j->stride, f->erased_value)) {
                continue;
            }
            last_used[sec] = slot + 1u;
            if (valid(buf) && (!j->have_rec || seq_newer(get32(buf + 4), best_seq))) {
                best_seq = get32(buf + 4);
                best_pos = pos;
                j->have_rec = 1;
                best_sector = sec;
            }
        }
    }
    if (!j->have_rec) {
        j->next_pos = 0;
        j->need_erase = 1;
        return MFOTA_ERR_JOURNAL_EMPTY;
    }
    /* Append after the last slot anything was written to (a torn record
     * included: its bytes are not erased, so it cannot be programmed again). */
    if (last_used[best_sector] < slots) {
        j->next_pos = best_sector * f->sector_size + last_used[best_sector] * j->stride;
        j->need_erase = 0;
    } else {
        j->next_pos = (1u - best_sector) * f->sector_size;
        j->need_erase = 1;
    }
    /* Read once more rather than keep a decoded copy of every candidate. */
    rc = f->read(f->ctx, f->slot_offset + best_pos, buf, REC_SIZE);
    if (rc < 0) {
        return rc;
    }
    return valid(buf) ? MFOTA_OK : MFOTA_ERR_JOURNAL_EMPTY; /* changed under us? */
}

static int load_kv(struct mfota_journal *j, uint8_t *buf)
{
    int n = j->kv->get(j->kv->ctx, buf, REC_SIZE);
    j->have_rec = 0;
    if (n < 0) {
        return n;
    }
    if (n == (int)REC_SIZE && valid(buf)) {
        j->have_rec = 1;
        return MFOTA_OK;
    }
    return MFOTA_ERR_JOURNAL_EMPTY;
}

/* The newest valid record's bytes into buf (REC_BUF bytes): one buffer, in
 * the caller's frame, for either store. */
static int load_raw(struct mfota_journal *j, uint8_t *buf)
{
    return j->flash != NULL ? load_flash(j, buf) : load_kv(j, buf);
}

int mfota_journal_load(struct mfota_journal *j, struct mfota_journal_record *out)
{
    uint8_t buf[REC_BUF];
    int rc;
    if (j == NULL || (j->flash == NULL && j->kv == NULL)) {
        return MFOTA_ERR_INVAL;
    }
    rc = load_raw(j, buf);
    if (rc == MFOTA_OK) {
        decode(buf, &j->rec);
        if (out != NULL) {
            *out = j->rec;
        }
    }
    return rc;
}

static int write_flash(struct mfota_journal *j, const uint8_t *buf)
{
    const struct mfota_flash *f = j->flash;
    uint32_t sec;
    int rc;
    if (j->need_erase) {
        rc = f->erase(f->ctx, f->slot_offset + j->next_pos);
        if (rc < 0) {
            return rc;
        }
        j->stats.erases++;
        j->need_erase = 0;
    }
    rc = f->program(f->ctx, f->slot_offset + j->next_pos, buf, j->stride);
    /* Whatever happened, this slot is no longer erased: never reuse it. */
    sec = j->next_pos / f->sector_size;
    j->next_pos += j->stride;
    if (j->next_pos - sec * f->sector_size + j->stride > f->sector_size) {
        j->next_pos = (1u - sec) * f->sector_size;
        j->need_erase = 1;
    }
    if (rc < 0) {
        return rc;
    }
    j->stats.programs++;
    j->stats.bytes_programmed += j->stride;
    return MFOTA_OK;
}

int mfota_journal_write(struct mfota_journal *j, struct mfota_journal_record *rec)
{
    uint8_t buf[REC_BUF];
    int rc;
    if (j == NULL || rec == NULL || (j->flash == NULL && j->kv == NULL)) {
        return MFOTA_ERR_INVAL;
    }
    rec->seq = j->have_rec ? j->rec.seq + 1u : 1u;
    encode(rec, buf);
    if (j->flash != NULL) {
        memset(buf + REC_SIZE, j->flash->erased_value, j->stride - REC_SIZE);
        rc = write_flash(j, buf);
    } else {
        rc = j->kv->set(j->kv->ctx, buf, REC_SIZE);
    }
    if (rc < 0) {
        return rc;
    }
    j->rec = *rec;
    j->have_rec = 1;
    j->stats.journal_writes++;
    return MFOTA_OK;
}

void mfota_journal_record_init(struct mfota_journal_record *rec, const char *url, size_t url_len,
                               const char *validator, size_t validator_len, uint32_t total_size)
{
    memset(rec, 0, sizeof *rec);
    mfota_sha256(url, url_len, rec->url_hash);
    if (validator != NULL) {
        mfota_sha256(validator, validator_len, rec->validator_hash);
        rec->flags |= MFOTA_JOURNAL_HAS_VALIDATOR;
    }
    rec->total_size = total_size;
    mfota_sha256_init(&rec->sha);
}

/* Whether the stored record `b` (bytes) is of the download `r` describes:
 * same URL hash, total size and validator (or none on both sides). */
static int same_download(const uint8_t *b, const struct mfota_journal_record *r)
{
    uint32_t vb = get32(b + 8) & MFOTA_JOURNAL_HAS_VALIDATOR;
    uint32_t vr = r->flags & MFOTA_JOURNAL_HAS_VALIDATOR;
    return memcmp(b + 32, r->url_hash, 32) == 0 && get32(b + 12) == r->total_size && vb == vr &&
           (!vr || memcmp(b + 64, r->validator_hash, 32) == 0);
}

int mfota_journal_begin(struct mfota_journal *j, struct mfota_journal_record *want, int *resumed)
{
    uint8_t buf[REC_BUF]; /* the newest stored record, compared as bytes */
    struct mfota_journal_record *rec;
    int rc;
    if (j == NULL || want == NULL || resumed == NULL || (j->flash == NULL && j->kv == NULL)) {
        return MFOTA_ERR_INVAL;
    }
    *resumed = 0;
    /* The wanted download becomes the record in force; `want` may be j->rec
     * itself (the client engine keeps no other copy). */
    rec = &j->rec;
    if (want != rec) {
        *rec = *want;
    }
    rc = load_raw(j, buf);
    if (rc == MFOTA_ERR_JOURNAL_EMPTY) {
        /* Nothing could be resumed by mistake: the first progress record is
         * the first write. */
        return MFOTA_OK;
    }
    if (rc < 0) {
        return rc;
    }
    rec->seq = get32(buf + 4); /* the next write continues the sequence */
    if (same_download(buf, rec)) {
        /* Its progress; the identity is the same, the expectations are the
         * new command's. */
        rec->offset = get32(buf + 16);
        rec->crc32 = get32(buf + 20);
        rec->requests = get32(buf + 24);
        convert(rec, buf, 0, SPAN_SHA);
        rec->sha.length = get32(buf + 160);
        /* COMPLETE and DELTA describe the stored progress: the caller must
         * see a delta download (whose offsets are not image offsets). */
        rec->flags = (rec->flags & ~(MFOTA_JOURNAL_COMPLETE | MFOTA_JOURNAL_DELTA)) |
                     (get32(buf + 8) & (MFOTA_JOURNAL_COMPLETE | MFOTA_JOURNAL_DELTA));
        *resumed = 1;
    } else {
        rec->offset = 0;
        rec->crc32 = 0;
        rec->requests = 0;
        rec->flags &= ~MFOTA_JOURNAL_COMPLETE;
        mfota_sha256_init(&rec->sha);
        rc = mfota_journal_write(j, rec);
    }
    if (want != rec) {
        *want = *rec;
    }
    return rc;
}

int mfota_journal_restart(struct mfota_journal *j)
{
    struct mfota_journal_record r;
    if (j == NULL || (j->flash == NULL && j->kv == NULL)) {
        return MFOTA_ERR_INVAL;
    }
    if (j->rec.total_size == 0u && !j->have_rec) {
        return MFOTA_ERR_STATE;
    }
    r = j->rec;
    r.offset = 0;
    r.crc32 = 0;
    r.flags &= ~MFOTA_JOURNAL_COMPLETE;
    mfota_sha256_init(&r.sha);
    return mfota_journal_write(j, &r);
}
