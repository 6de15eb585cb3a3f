#include "m2mfota/flash_writer.h"

#include <string.h>

#include "m2mfota/crc32.h"
#include "m2mfota/err.h"

static uint32_t sector_floor(const struct mfota_flash *f, uint32_t off)
{
    return off - off % f->sector_size;
}

static void snapshot_start(struct mfota_flash_snapshot *s)
{
    s->offset = 0;
    s->crc32 = 0;
    mfota_sha256_init(&s->sha);
}

int mfota_flash_writer_init(struct mfota_flash_writer *w, const struct mfota_flash *flash,
                            struct mfota_journal *journal)
{
    int rc;
    if (w == NULL) {
        return MFOTA_ERR_INVAL;
    }
    memset(w, 0, sizeof *w);
    rc = mfota_flash_check(flash);
    if (rc != MFOTA_OK) {
        return rc;
    }
    w->flash = flash;
    w->journal = journal;
    w->verify = 1;
    return MFOTA_OK;
}

int mfota_flash_writer_begin(struct mfota_flash_writer *w, uint32_t size,
                             const struct mfota_journal_record *resume)
{
    const struct mfota_flash *f;
    if (w == NULL || w->flash == NULL) {
        return MFOTA_ERR_INVAL;
    }
    f = w->flash;
    if (size > f->slot_size) {
        return MFOTA_ERR_FLASH_BOUNDS;
    }
    snapshot_start(&w->run);
    if (resume != NULL && resume->offset != 0u) {
        if (resume->total_size != size || resume->offset > size || resume->sha.length != resume->offset ||
            (resume->offset % f->sector_size != 0u && resume->offset != size)) {
            return MFOTA_ERR_INVAL;
        }
        w->run.offset = resume->offset;
        w->run.crc32 = resume->crc32;
        w->run.sha = resume->sha;
    }
    w->size = size;
    w->committed = w->boundary = w->mark = w->run;
    w->flushed = w->run.offset;
    /* A resumed sector boundary is erased again before use: whatever a cut
     * left behind it is never programmed over. */
    w->erased_end = w->run.offset;
    w->buf_len = 0;
    w->failed = 0;
    w->parts_unverified = 0;
    w->begun = 1;
    return MFOTA_OK;
}

static int ensure_erased(struct mfota_flash_writer *w, uint32_t off)
{
    const struct mfota_flash *f = w->flash;
    int rc;
    if (off < w->erased_end) {
        return MFOTA_OK;
    }
    off = sector_floor(f, off);
    rc = f->erase(f->ctx, f->slot_offset + off);
    if (rc < 0) {
        return rc;
    }
    w->stats.erases++;
    w->erased_end = off + f->sector_size;
    return MFOTA_OK;
}

static int read_back(const struct mfota_flash *f, uint32_t off, const uint8_t *want, size_t len)
{
    uint8_t chunk[MFOTA_FLASH_READ_CHUNK];
    while (len > 0) {
        size_t n = len < sizeof chunk ? len : sizeof chunk;
        int rc = f->read(f->ctx, f->slot_offset + off, chunk, n);
        if (rc < 0) {
            return rc;
        }
        if (want != NULL ? memcmp(chunk, want, n) != 0 : 0) {
            return MFOTA_ERR_FLASH_VERIFY;
        }
        if (want == NULL) {
            size_t i;
            for (i = 0; i < n; i++) {
                if (chunk[i] != f->erased_value) {
                    return MFOTA_ERR_FLASH_NOT_ERASED;
                }
            }
        } else {
            want += n;
        }
        off += (uint32_t)n;
        len -= n;
    }
    return MFOTA_OK;
}

/* Program `len` bytes (whole blocks, inside one sector) at slot offset `off`. */
static int program(struct mfota_flash_writer *w, uint32_t off, const uint8_t *data, size_t len)
{
    const struct mfota_flash *f = w->flash;
    int rc = ensure_erased(w, off);
    if (rc < 0) {
        return rc;
    }
#if MFOTA_FLASH_CHECK_ERASED
    rc = read_back(f, off, NULL, len);
    if (rc < 0) {
        return rc;
    }
#endif
    rc = f->program(f->ctx, f->slot_offset + off, data, len);
    if (rc < 0) {
        return rc;
    }
    w->stats.programs++;
    w->stats.bytes_programmed += (uint32_t)len;
    if (w->verify) {
        rc = read_back(f, off, data, len);
        if (rc < 0) {
            return rc;
        }
    }
    w->flushed = off + (uint32_t)len;
    return MFOTA_OK;
}

/* Fold `len` bytes into the running CRC/SHA, snapshotting at each sector
 * boundary the stream lands on. */
static void account(struct mfota_flash_writer *w, const uint8_t *p, size_t len)
{
    uint32_t ss = w->flash->sector_size;
    while (len > 0) {
        uint32_t room = ss - w->run.offset % ss;
        size_t n = len < room ? len : room;
        w->run.crc32 = mfota_crc32(w->run.crc32, p, n);
        mfota_sha256_update(&w->run.sha, p, n);
        w->run.offset += (uint32_t)n;
        p += n;
        len -= n;
        if (w->run.offset % ss == 0u) {
            w->boundary = w->run;
        }
    }
}

static int stream(struct mfota_flash_writer *w, const uint8_t *p, size_t len)
{
    const struct mfota_flash *f = w->flash;
    uint32_t ps = f->program_size;
    int rc;
    if (w->buf_len > 0) {
        size_t n = ps - w->buf_len;
        if (n > len) {
            n = len;
        }
        memcpy(w->buf + w->buf_len, p, n);
        w->buf_len += (uint32_t)n;
        p += n;
        len -= n;
        if (w->buf_len < ps) {
            return MFOTA_OK;
        }
        rc = program(w, w->flushed, w->buf, ps);
        if (rc < 0) {
            return rc;
        }
        w->buf_len = 0;
    }
    /* Whole blocks straight from the caller's buffer, one call per sector. */
    while (len >= ps) {
        uint32_t room = f->sector_size - w->flushed % f->sector_size;
        size_t n = len - len % ps;
        if (n > room) {
            n = room;
        }
        rc = program(w, w->flushed, p, n);
        if (rc < 0) {
            return rc;
        }
        p += n;
        len -= n;
    }
    memcpy(w->buf, p, len);
    w->buf_len = (uint32_t)len;
    return MFOTA_OK;
}

int mfota_flash_writer_write(struct mfota_flash_writer *w, uint32_t offset, const void *data,
                             size_t len)
{
    int rc;
    if (w == NULL || (data == NULL && len > 0)) {
        return MFOTA_ERR_INVAL;
    }
    if (!w->begun || w->failed) {
        return MFOTA_ERR_STATE;
    }
    if (offset > w->size || len > (size_t)(w->size - offset)) {
        return MFOTA_ERR_FLASH_BOUNDS;
    }
    if (offset != w->run.offset) {
        return MFOTA_ERR_FLASH_ORDER;
    }
    account(w, (const uint8_t *)data, len);
    rc = stream(w, (const uint8_t *)data, len);
    if (rc < 0) {
        w->failed = 1;
    }
    return rc;
}

int mfota_flash_writer_flush(struct mfota_flash_writer *w)
{
    const struct mfota_flash *f;
    uint8_t block[MFOTA_FLASH_PROGRAM_MAX];
    int rc;
    if (w == NULL) {
        return MFOTA_ERR_INVAL;
    }
    if (!w->begun || w->failed) {
        return MFOTA_ERR_STATE;
    }
    if (w->buf_len == 0) {
        return MFOTA_OK;
    }
    if (w->run.offset != w->size) {
        return MFOTA_ERR_STATE;
    }
    f = w->flash;
    memcpy(block, w->buf, w->buf_len);
    memset(block + w->buf_len, f->erased_value, f->program_size - w->buf_len);
    rc = program(w, w->flushed, block, f->program_size);
    if (rc < 0) {
        w->failed = 1;
        return rc;
    }
    w->buf_len = 0;
    return MFOTA_OK;
}

static int journal_progress(struct mfota_flash_writer *w, int complete)
{
    struct mfota_journal *j = w->journal;
    struct mfota_journal_record r;
    const struct mfota_flash_snapshot *s = complete ? &w->committed : &w->mark;
    uint32_t step;
    if (j == NULL) {
        return MFOTA_OK;
    }
    step = (j->interval_sectors ? j->interval_sectors : 1u) * w->flash->sector_size;
    if (!complete && (s->offset <= j->rec.offset || s->offset - j->rec.offset < step)) {
        return MFOTA_OK;
    }
    r = j->rec;
    r.offset = s->offset;
    r.crc32 = s->crc32;
    r.sha = s->sha;
    r.total_size = w->size;
    if (complete) {
        r.flags |= MFOTA_JOURNAL_COMPLETE;
    }
    return mfota_journal_write(j, &r);
}

int mfota_flash_writer_part_commit(struct mfota_flash_writer *w, uint32_t offset, uint32_t len,
                                   const uint32_t *crc)
{
    int rc;
    if (w == NULL) {
        return MFOTA_ERR_INVAL;
    }
    if (!w->begun || w->failed) {
        return MFOTA_ERR_STATE;
    }
    if (offset != w->committed.offset || len != w->run.offset - offset) {
        return MFOTA_ERR_FLASH_ORDER;
    }
    if (crc != NULL) {
        if (mfota_crc32_combine(w->committed.crc32, *crc, len) != w->run.crc32) {
            return MFOTA_ERR_FLASH_PART_CRC;
        }
    } else if (len > 0) {
        w->parts_unverified++;
    }
    w->committed = w->run;
    if (w->boundary.offset > w->mark.offset) {
        w->mark = w->boundary;
    }
    if (w->committed.offset == w->size) {
        rc = mfota_flash_writer_flush(w);
        if (rc < 0) {
            return rc;
        }
        return journal_progress(w, 1);
    }
    return journal_progress(w, 0);
}

int mfota_flash_writer_part_abort(struct mfota_flash_writer *w, uint32_t first_offset,
                                  uint32_t *refetch)
{
    const struct mfota_flash *f;
    uint32_t block_start, s;
    int rc;
    if (w == NULL || refetch == NULL) {
        return MFOTA_ERR_INVAL;
    }
    if (!w->begun) {
        return MFOTA_ERR_STATE;
    }
    if (first_offset != w->committed.offset) {
        return MFOTA_ERR_FLASH_ORDER;
    }
    f = w->flash;
    block_start = first_offset - first_offset % f->program_size;
    if (!w->failed && w->flushed <= block_start) {
        /* Nothing of the failed part is in flash: forget its bytes in RAM. */
        w->buf_len = first_offset - w->flushed;
        w->run = w->committed;
        w->boundary = w->mark;
        *refetch = first_offset;
        return MFOTA_OK;
    }
    /* Its bytes are in flash and cannot be unprogrammed: erase every sector
     * it touched, from the one holding its first byte.  erased_end stays, so
     * these sectors are not erased once more when the bytes come again. */
    for (s = w->mark.offset; s < w->erased_end; s += f->sector_size) {
        rc = f->erase(f->ctx, f->slot_offset + s);
        if (rc < 0) {
            w->failed = 1;
            return rc;
        }
        w->stats.erases++;
    }
    if (w->erased_end < w->mark.offset) {
        w->erased_end = w->mark.offset;
    }
    w->run = w->committed = w->boundary = w->mark;
    w->flushed = w->mark.offset;
    w->buf_len = 0;
    w->failed = 0;
    *refetch = w->mark.offset;
    return MFOTA_OK;
}
