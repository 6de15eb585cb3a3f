/*
 * Delta files in the client engine (client.h, docs/delta.md).  The sink's
 * bytes come here first: the file's first bytes decide between an image
 * (written by the flash writer as they arrive) and a delta file (its header
 * checked, the running image hashed, the patch applied into the update slot
 * by the applier, delta.c).
 *
 * A delta download never continues at an offset: patch offsets are not image
 * offsets, and the applier's state is not saved.  After a failed part, a
 * lost connection or a reboot it starts again from the file's first byte.
 *
 * An applier error is held until the downloader has judged the part it came
 * from: bytes garbled in transit may well look like a corrupt patch, and
 * that part then fails its CRC and the file is fetched again; only an error
 * in a part that checked out ends the update.
 */
#include <string.h>

#include "client_internal.h"
#include "m2mfota/crc32.h"
#include "m2mfota/err.h"

static int write_image(struct mfota_client *c, uint64_t offset, const uint8_t *data, size_t len)
{
    return mfota_flash_writer_write(&c->writer_, (uint32_t)offset, data, len);
}

#if MFOTA_DELTA

/* The download starts again from the file's first byte (a delta download,
 * or one still undecided, has nothing worth keeping). */
static int restarts_from_zero(const struct mfota_client *c)
{
    return c->delta_.kind == MFOTA_DELTA_KIND_DELTA ||
           (c->delta_.kind == MFOTA_DELTA_KIND_UNKNOWN && c->writer_.committed.offset == 0u);
}

static int source_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    struct mfota_client *c = (struct mfota_client *)ctx;
    const struct mfota_flash *f = c->cfg_.delta_source;
    return mfota_client_hal_(c, f->read(f->ctx, off, buf, len));
}

/* The source is the running image: the engine never writes it.  A call here
 * would be a bug in the applier; it is refused without reaching the port. */
static int source_program(void *ctx, uint32_t off, const void *data, size_t len)
{
    (void)ctx;
    (void)off;
    (void)data;
    (void)len;
    return MFOTA_ERR_STATE;
}

static int source_erase(void *ctx, uint32_t off)
{
    (void)ctx;
    (void)off;
    return MFOTA_ERR_STATE;
}

void mfota_client_delta_init_(struct mfota_client *c)
{
    struct mfota_flash *s = &c->delta_.source_hal;
    if (c->cfg_.delta_source != NULL) {
        *s = *c->cfg_.delta_source;
        s->read = source_read;
        s->program = source_program;
        s->erase = source_erase;
        s->ctx = c;
    }
    mfota_client_delta_reset_(c);
}

void mfota_client_delta_reset_(struct mfota_client *c)
{
    struct mfota_client_delta *d = &c->delta_;
    d->kind = MFOTA_DELTA_KIND_UNKNOWN;
    d->pending_err = 0;
    d->file_size = 0;
    d->file_pos = 0;
    d->file_crc = 0;
    mfota_sha256_init(&d->file_sha);
    mfota_delta_reader_init(&d->rd);
}

/* The header is in d->hdr: check what it asks for, then begin the applier
 * (which hashes the source before anything is written). */
static int start_delta(struct mfota_client *c)
{
    struct mfota_client_delta *d = &c->delta_;
    int rc;
    if (c->cfg_.delta_source == NULL) {
        return MFOTA_ERR_DELTA_UNSUPPORTED;
    }
    if (d->hdr.target_size > c->cfg_.slot->slot_size) {
        return MFOTA_ERR_FLASH_BOUNDS; /* not enough flash, as for an image */
    }
    if (d->hdr.source_size > d->source_hal.slot_size) {
        return MFOTA_ERR_DELTA_SOURCE; /* the running image cannot be that large */
    }
    rc = mfota_delta_begin(&d->ap, &d->source_hal, d->hdr.source_size, d->hdr.source_sha256,
                           &c->writer_);
    if (rc == MFOTA_ERR_FLASH_GEOMETRY) {
        /* A delta_source the applier cannot read: no delta file can be
         * applied, and fetching this one again (a transient error) would
         * only repeat the refusal until the retries ran out. */
        return MFOTA_ERR_DELTA_UNSUPPORTED;
    }
    if (rc < 0) {
        return rc;
    }
    mfota_delta_expect_size(&d->ap, d->hdr.target_size);
    if ((c->cfg_.journal_flash != NULL || c->cfg_.journal_kv != NULL) &&
        (c->journal_.rec.flags & MFOTA_JOURNAL_DELTA) == 0u) {
        /* Before the first patch byte reaches the slot: after a cut the
         * engine must know this download's offsets are not image offsets. */
        struct mfota_journal_record r = c->journal_.rec;
        r.flags = (r.flags | MFOTA_JOURNAL_DELTA) & ~MFOTA_JOURNAL_COMPLETE;
        r.offset = 0;
        r.crc32 = 0;
        mfota_sha256_init(&r.sha);
        rc = mfota_journal_write(&c->journal_, &r);
        if (rc < 0) {
            return rc;
        }
    }
    /* The applier commits the image as one part at its end: no progress
     * record may describe it (begin_image() gives the writer its journal
     * back for the next image). */
    c->writer_.journal = NULL;
    d->file_size = (uint32_t)c->total;
    d->kind = MFOTA_DELTA_KIND_DELTA;
    return MFOTA_OK;
}

/* Hold an error of the delta path until the part is judged; HAL errors end
 * the cycle at once. */
static int hold(struct mfota_client *c, int rc)
{
    if (c->hal_err_ || rc == MFOTA_ERR_HAL) {
        return rc;
    }
    if (c->delta_.pending_err == 0) {
        c->delta_.pending_err = rc;
    }
    return MFOTA_OK;
}

int mfota_client_file_data_(struct mfota_client *c, uint64_t offset, const uint8_t *data,
                            size_t len)
{
    struct mfota_client_delta *d = &c->delta_;
    size_t used = 0;
    int rc;
    if (d->kind == MFOTA_DELTA_KIND_UNKNOWN && offset != 0u && d->rd.len == 0u) {
        d->kind = MFOTA_DELTA_KIND_IMAGE; /* an image resumed from the journal */
    }
    if (d->kind == MFOTA_DELTA_KIND_IMAGE) {
        return write_image(c, offset, data, len);
    }
    if (d->pending_err != 0) {
        return MFOTA_OK; /* the part is void or fatal already: wait for its verdict */
    }
    d->file_crc = mfota_crc32(d->file_crc, data, len);
    mfota_sha256_update(&d->file_sha, data, len);
    d->file_pos += (uint32_t)len;
    if (d->kind == MFOTA_DELTA_KIND_UNKNOWN) {
        rc = mfota_delta_reader_feed(&d->rd, data, len, &used, &d->hdr);
        if (rc == MFOTA_NEED_MORE) {
            return MFOTA_OK;
        }
        if (rc < 0) {
            return hold(c, rc);
        }
        if (d->rd.kind == MFOTA_DELTA_KIND_IMAGE) {
            d->kind = MFOTA_DELTA_KIND_IMAGE;
            c->journal_.rec.flags &= ~MFOTA_JOURNAL_DELTA;
            rc = write_image(c, 0, d->rd.buf, d->rd.len);
            return rc < 0 ? rc : write_image(c, d->rd.len, data, len);
        }
        rc = start_delta(c);
        if (rc < 0) {
            return hold(c, rc);
        }
        data += used;
        len -= used;
    }
    rc = mfota_delta_feed(&d->ap, data, len);
    return rc < 0 ? hold(c, rc) : MFOTA_OK;
}

int mfota_client_delta_part_done_(struct mfota_client *c, uint64_t offset, uint64_t len)
{
    struct mfota_client_delta *d = &c->delta_;
    int rc;
    if (d->kind == MFOTA_DELTA_KIND_IMAGE) {
        return 0;
    }
    if (d->pending_err != 0) {
        return d->pending_err; /* the part checked out: the patch itself is at fault */
    }
    if (d->kind == MFOTA_DELTA_KIND_UNKNOWN) {
        if (offset + len < c->total) {
            /* Only a part shorter than the header; parts are whole sectors. */
            return MFOTA_ERR_STATE;
        }
        rc = mfota_delta_reader_end(&d->rd); /* a file of 0..3 bytes */
        if (rc < 0) {
            return rc;
        }
        d->kind = MFOTA_DELTA_KIND_IMAGE;
        rc = write_image(c, 0, d->rd.buf, d->rd.len);
        return rc < 0 ? rc : 0;
    }
    c->done = (uint32_t)(offset + len); /* within the file's 32-bit total */
    return 1;
}

int mfota_client_delta_verify_(struct mfota_client *c, struct mfota_image_report *rep)
{
    struct mfota_client_delta *d = &c->delta_;
    struct mfota_image_expect target;
    struct mfota_sha256 sha = d->file_sha;
    uint8_t digest[MFOTA_SHA256_DIGEST_SIZE];
    const struct mfota_image_expect *e = &c->expect_;
    int rc = mfota_delta_finish(&d->ap);
    if (rc < 0) {
        return rc;
    }
    /* The downlink's size, crc32 and sha256 describe the file it names. */
    if ((e->flags & MFOTA_EXPECT_SIZE) && e->size != d->file_pos) {
        return MFOTA_ERR_IMAGE_SIZE;
    }
    if ((e->flags & MFOTA_EXPECT_CRC32) && e->crc32 != d->file_crc) {
        return MFOTA_ERR_IMAGE_CRC;
    }
    mfota_sha256_final(&sha, digest);
    if ((e->flags & MFOTA_EXPECT_SHA256) && memcmp(e->sha256, digest, sizeof digest) != 0) {
        return MFOTA_ERR_IMAGE_SHA256;
    }
    /* The rebuilt image, read back from the slot, is the header's target. */
    memset(&target, 0, sizeof target);
    target.flags = MFOTA_EXPECT_SIZE | MFOTA_EXPECT_SHA256;
    target.size = d->hdr.target_size;
    memcpy(target.sha256, d->hdr.target_sha256, sizeof target.sha256);
    rc = mfota_image_verify_writer(&c->writer_, &target, rep);
    if (rc == MFOTA_ERR_IMAGE_SIZE || rc == MFOTA_ERR_IMAGE_SHA256) {
        return MFOTA_ERR_DELTA_TARGET;
    }
    return rc;
}

int mfota_client_delta_part_failed_(struct mfota_client *c, uint64_t offset)
{
    if (!restarts_from_zero(c)) {
        return 0;
    }
    mfota_client_delta_reset_(c);
    c->done = 0;
    if (offset == 0u) {
        return 1; /* the downloader fetches the same part again */
    }
    c->stats.restarts++;
    c->restart_at_ = 0;
    return MFOTA_ERR_CLIENT_RESTART;
}

int mfota_client_delta_resume_(struct mfota_client *c)
{
    if (!c->writer_begun_ || !restarts_from_zero(c)) {
        return 0;
    }
    if (c->delta_.kind == MFOTA_DELTA_KIND_DELTA) {
        c->stats.restarts++;
    }
    mfota_client_delta_reset_(c);
    c->done = 0;
    return 1;
}

#else /* !MFOTA_DELTA: recognise a delta file only to refuse it */

/* Every byte goes to the flash writer as it arrives; only the count of the
 * file's leading bytes that match "MFDP" is kept.  The writer holds up to a
 * program block in RAM before it programs it, so with blocks of 4 bytes or
 * more (or the magic in one chunk) a delta file is refused before any of its
 * bytes reach the slot; the update ends either way.  Bytes at offsets 0..3 may come again (a
 * part fetched anew): a match at p extends the count only from p, a
 * mismatch at p cuts it to p, so the count stays right whatever is refetched. */
static const uint8_t magic[4] = {'M', 'F', 'D', 'P'};

int mfota_client_file_data_(struct mfota_client *c, uint64_t offset, const uint8_t *data,
                            size_t len)
{
    uint8_t *m = &c->delta_.matched;
    size_t i;
    for (i = 0; i < len && offset + i < sizeof magic; i++) {
        uint8_t p = (uint8_t)(offset + i);
        if (data[i] != magic[p]) {
            *m = *m > p ? p : *m;
        } else if (*m == p) {
            *m = (uint8_t)(p + 1u);
        }
    }
    if (*m == sizeof magic) {
        return MFOTA_ERR_DELTA_UNSUPPORTED; /* this build cannot apply it */
    }
    return write_image(c, offset, data, len);
}

#endif /* MFOTA_DELTA */
