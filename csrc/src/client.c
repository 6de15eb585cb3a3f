/*
 * The client engine's state machine: downlink -> download into the flash
 * writer -> verification -> bootloader -> final uplink.  The uplink itself
 * is in client_uplink.c.
 */
#include <stddef.h>
#include <string.h>

#include "client_internal.h"
#include "m2mfota/err.h"
#include "m2mfota/mcuboot.h"

/* ---- phases ---------------------------------------------------------------- */

#define B(p) (1u << MFOTA_PHASE_##p)
/* A downlink with a FOTA command starts an update (begin_command): the
 * download, straight to VERIFY when the journal holds the whole image, or
 * the final uplink of a refused command (DONE when even that cannot be
 * written). */
#define COMMAND (B(DOWNLOAD) | B(VERIFY) | B(FINAL_UPLINK) | B(DONE))

/* The two open-download phases, named: end_download() relies on both
 * leading to DL_RESUME, which the checks below prove at compile time (it
 * has no error path to report a refusal through). */
#define FROM_DOWNLOAD (B(PROGRESS) | B(DL_RESUME))
#define FROM_PROGRESS (B(DOWNLOAD) | B(DL_RESUME))
typedef char download_closes_to_resume_[(FROM_DOWNLOAD & B(DL_RESUME)) ? 1 : -1];
typedef char progress_closes_to_resume_[(FROM_PROGRESS & B(DL_RESUME)) ? 1 : -1];

/* next[from]: the phases `from` may change to.  FAILED (a HAL failure) is
 * reachable from everywhere, IDLE (an abort) from everywhere but FAILED;
 * neither is listed.  FAILED leads nowhere: a HAL failed, the port is not
 * to be trusted, only mfota_client_init() leaves it.  docs/client.md draws
 * the same table. */
static const uint16_t next[MFOTA_PHASE_COUNT_] = {
    /* IDLE */ B(START_UPLINK) | COMMAND,
    /* START_UPLINK */ B(START_WAIT) | COMMAND,
    /* START_WAIT */ B(START_UPLINK) | COMMAND,
    /* DOWNLOAD */ FROM_DOWNLOAD,
    /* PROGRESS */ FROM_PROGRESS,
    /* DL_WAIT */ B(DL_RESUME) | COMMAND,
    /* DL_RESUME */ B(DL_WAIT) | B(DL_RESTART) | COMMAND,
    /* DL_RESTART */ B(DL_WAIT) | COMMAND,
    /* VERIFY */ COMMAND,
    /* FINAL_UPLINK */ B(FINAL_WAIT) | B(DONE),
    /* FINAL_WAIT */ B(FINAL_UPLINK) | COMMAND,
    /* DONE */ B(START_UPLINK) | COMMAND,
    /* FAILED */ 0u,
};

static const char *const phase_names[MFOTA_PHASE_COUNT_] = {
    "idle",     "start_uplink", "start_wait", "download", "progress", "download_wait",
    "download_resume", "download_restart", "verify", "final_uplink", "final_wait", "done",
    "failed",
};

const char *mfota_phase_name(int phase)
{
    return phase >= 0 && phase < MFOTA_PHASE_COUNT_ ? phase_names[phase] : "unknown";
}

int mfota_phase_transition_allowed(int from, int to)
{
    if (from < 0 || from >= MFOTA_PHASE_COUNT_ || to < 0 || to >= MFOTA_PHASE_COUNT_) {
        return 0;
    }
    return to == MFOTA_PHASE_FAILED || (to == MFOTA_PHASE_IDLE && from != MFOTA_PHASE_FAILED) ||
           (next[from] & (1u << to)) != 0u;
}

int mfota_client_go_(struct mfota_client *c, int to)
{
    if (!mfota_phase_transition_allowed(c->phase_, to)) {
        return MFOTA_ERR_CLIENT_PHASE; /* a bug in the engine: the step loop fails the cycle */
    }
    c->phase_ = (uint8_t)to;
    return MFOTA_OK;
}

int mfota_client_phase(const struct mfota_client *c)
{
    return c->phase_;
}

/* The one answer to "is an update running?": a downlink for the same file
 * then carries on with it, one for another file replaces it. */
static int update_running(const struct mfota_client *c)
{
    switch (c->phase_) {
    case MFOTA_PHASE_DOWNLOAD:
    case MFOTA_PHASE_PROGRESS:
    case MFOTA_PHASE_DL_WAIT:
    case MFOTA_PHASE_DL_RESUME:
    case MFOTA_PHASE_DL_RESTART:
    case MFOTA_PHASE_VERIFY:
        return 1;
    default:
        return 0;
    }
}

/* The downloader holds a connection and counters (paused during PROGRESS). */
static int download_open(const struct mfota_client *c)
{
    return c->phase_ == MFOTA_PHASE_DOWNLOAD || c->phase_ == MFOTA_PHASE_PROGRESS;
}

static int has_journal(const struct mfota_client *c)
{
    return c->cfg_.journal_flash != NULL || c->cfg_.journal_kv != NULL;
}

/* ---- helpers ------------------------------------------------------------- */

static void emit(struct mfota_client *c, int kind, int error, const char *reason)
{
    struct mfota_client_event ev;
    if (c->cfg_.on_event == NULL) {
        return;
    }
    ev.kind = kind;
    ev.state = c->state;
    ev.result = c->result;
    ev.error = error;
    ev.reason = reason;
    ev.done = c->done;
    ev.total = c->total;
    c->cfg_.on_event(c->cfg_.event_ctx, &ev);
}

static void set_state(struct mfota_client *c, int state)
{
    if (c->state != state) {
        c->state = state;
        emit(c, MFOTA_CLIENT_EV_STATE, 0, NULL);
    }
}

/* The cycle is over: DONE, and the event that says so. */
static int cycle_done(struct mfota_client *c, int error, const char *reason)
{
    int rc = mfota_client_go_(c, MFOTA_PHASE_DONE);
    emit(c, MFOTA_CLIENT_EV_DONE, error, reason);
    return rc;
}

/* A HAL failure (a power cut in a test) ends everything: nothing the engine
 * holds in RAM may be written out after it.  Every negative return of a port
 * callback arrives here as MFOTA_ERR_HAL (client_hal.c). */
static int is_hal_error(int rc)
{
    return rc == MFOTA_ERR_HAL;
}

static void add_stats(struct mfota_client_stats *acc, const struct mfota_dl_stats *s)
{
    acc->requests += s->requests;
    acc->connections += s->connections;
    acc->retries += s->retries;
    acc->restarts += s->restarts;
    acc->unverified_parts += s->unverified_parts;
    acc->bytes += s->body_bytes;
}

/* Close the running download and keep its counters: DL_RESUME, from which
 * the caller moves on.  Nothing to do when no download is open. */
static void end_download(struct mfota_client *c)
{
    if (!download_open(c)) {
        return;
    }
    add_stats(&c->stats, &c->dl_.stats);
    c->requests_used_ = c->dl_.plan.requests;
    mfota_dl_abort(&c->dl_);
    /* cannot be refused: FROM_DOWNLOAD / FROM_PROGRESS, checked above */
    (void)mfota_client_go_(c, MFOTA_PHASE_DL_RESUME);
}

/* fota.reason for an error: a table rather than a switch (a third of the
 * code on Cortex-M4).  Each entry is (-err << 5 | n), n numbering a reason
 * in `reasons` (NUL-separated); an error not listed falls into a range
 * (a URL or a downlink the parser refused) or is "connection" (n 0). */
#define REASON_(err, n) (uint16_t)(((unsigned)-(err) << 5) | (n))
static const char reasons[] =
    "connection\0token\0not_found\0budget\0busy\0timeout\0no_flash\0file_changed\0"
    "size_mismatch\0crc_mismatch\0sha256_mismatch\0readback\0image_no_header\0image_header\0"
    "image_tlv\0image_no_hash\0image_hash\0image_signature\0image_no_signature\0wrong_device\0"
    "delta_unsupported\0bad_url\0bad_token\0bad_downlink"
#if MFOTA_DELTA
    "\0delta_source\0delta_header\0delta_target\0delta_format\0delta_corrupt"
#endif
    ;
static const uint16_t reason_of[] = {
    REASON_(MFOTA_ERR_DL_UNAUTHORIZED, 1), REASON_(MFOTA_ERR_DL_FORBIDDEN, 1),
    REASON_(MFOTA_ERR_DL_NOT_FOUND, 2), REASON_(MFOTA_ERR_DL_BUDGET, 3),
    REASON_(MFOTA_ERR_DL_BUSY, 4), REASON_(MFOTA_ERR_DL_TIMEOUT, 5),
    REASON_(MFOTA_ERR_DL_DEADLINE, 5), REASON_(MFOTA_ERR_DL_TOO_LARGE, 6),
    REASON_(MFOTA_ERR_DL_TOTAL_CHANGED, 7), REASON_(MFOTA_ERR_CLIENT_SIZE, 8),
    REASON_(MFOTA_ERR_IMAGE_SIZE, 8), REASON_(MFOTA_ERR_IMAGE_CRC, 9),
    REASON_(MFOTA_ERR_IMAGE_SHA256, 10), REASON_(MFOTA_ERR_IMAGE_READBACK, 11),
    REASON_(MFOTA_ERR_MCUBOOT_MAGIC, 12), REASON_(MFOTA_ERR_MCUBOOT_HEADER, 13),
    REASON_(MFOTA_ERR_MCUBOOT_TLV, 14), REASON_(MFOTA_ERR_MCUBOOT_NO_HASH, 15),
    REASON_(MFOTA_ERR_MCUBOOT_HASH, 16), REASON_(MFOTA_ERR_MCUBOOT_SIG, 17),
    REASON_(MFOTA_ERR_MCUBOOT_NO_SIG, 18), REASON_(MFOTA_ERR_THINGS_WRONG_DEVICE, 19),
    REASON_(MFOTA_ERR_DELTA_UNSUPPORTED, 20), REASON_(MFOTA_ERR_THINGS_NO_URL, 21),
    REASON_(MFOTA_ERR_THINGS_BAD_URL, 21), REASON_(MFOTA_ERR_THINGS_NO_TOKEN, 22),
    REASON_(MFOTA_ERR_THINGS_BAD_TOKEN, 22), REASON_(MFOTA_ERR_THINGS_TOKEN_TOO_LONG, 22),
#if MFOTA_DELTA /* without it no other delta error can occur */
    REASON_(MFOTA_ERR_DELTA_SOURCE, 24), REASON_(MFOTA_ERR_DELTA_HEADER, 25),
    REASON_(MFOTA_ERR_DELTA_TARGET, 26), REASON_(MFOTA_ERR_DELTA_COMPRESSION, 27),
    REASON_(MFOTA_ERR_DELTA_WINDOW, 27), REASON_(MFOTA_ERR_DELTA_DATA_FORMAT, 27),
    REASON_(MFOTA_ERR_DELTA_CORRUPT, 28), REASON_(MFOTA_ERR_DELTA_OVERRUN, 28),
    REASON_(MFOTA_ERR_DELTA_TRUNCATED, 28),
#endif
};

static const char *reason_for(int err)
{
    const char *s = reasons;
    unsigned n = 0;
    size_t i;
    for (i = 0; i < sizeof reason_of / sizeof reason_of[0]; i++) {
        if ((unsigned)(reason_of[i] >> 5) == (unsigned)-err) {
            n = reason_of[i] & 31u;
            break;
        }
    }
    if (n == 0u && err <= MFOTA_ERR_URL_SCHEME && err >= MFOTA_ERR_URL_TOO_LONG) {
        n = 21; /* bad_url */
    } else if (n == 0u && err <= MFOTA_ERR_SENML_SYNTAX && err >= MFOTA_ERR_THINGS_DUPLICATE) {
        n = 23; /* bad_downlink */
    }
    while (n-- > 0u) {
        s += strlen(s) + 1u;
    }
    return s;
}

/* fota.result for a downlink the parser refused. */
static int downlink_result(int err)
{
    if (err == MFOTA_ERR_DL_TOO_LARGE) {
        return MFOTA_RESULT_NO_FLASH; /* a size of 4 GiB or more: no slot holds it */
    }
    if ((err <= MFOTA_ERR_URL_SCHEME && err >= MFOTA_ERR_URL_TOO_LONG) ||
        err == MFOTA_ERR_THINGS_NO_URL || err == MFOTA_ERR_THINGS_BAD_URL ||
        err == MFOTA_ERR_THINGS_NO_TOKEN || err == MFOTA_ERR_THINGS_BAD_TOKEN ||
        err == MFOTA_ERR_THINGS_TOKEN_TOO_LONG) {
        return MFOTA_RESULT_INVALID_URI;
    }
    return MFOTA_RESULT_UNSUPPORTED_PROTOCOL;
}

/* End the update with `result`: back to idle, and say so in the final
 * uplink.  `reason` NULL: the one reason_for() gives `err`. */
static int fail(struct mfota_client *c, int result, const char *reason, int err)
{
    int rc;
    if (reason == NULL) {
        reason = reason_for(err);
    }
    end_download(c);
    c->result = result;
    c->reason = reason;
    c->error = err;
    emit(c, MFOTA_CLIENT_EV_ERROR, err, reason);
    set_state(c, MFOTA_STATE_IDLE);
    mfota_backoff_reset(&c->backoff_);
    rc = mfota_client_uplink_begin_(c, MFOTA_STATE_IDLE, -1, result, reason);
    /* DONE when it cannot even be said: the cycle is over */
    return mfota_client_go_(c, rc == MFOTA_OK ? MFOTA_PHASE_FINAL_UPLINK : MFOTA_PHASE_DONE);
}

/* ---- the sink: downloader -> flash writer ----------------------------------- */

static int hal_check(struct mfota_client *c, int rc)
{
    if (is_hal_error(rc)) {
        c->hal_err_ = rc;
    }
    return rc;
}

/* Bind journal and writer to an image of `size` bytes, resuming when the
 * journal holds this download.  `fresh`: the file changed, never resume. */
static int begin_image(struct mfota_client *c, uint64_t size, int fresh)
{
    struct mfota_journal_record *rec = &c->journal_.rec; /* the one record: identity + progress */
    int resumed = 0, rc, journal = has_journal(c); /* once: calls below cannot change it */
    if (size > c->cfg_.slot->slot_size) {
        return MFOTA_ERR_CLIENT_SIZE;
    }
    rec->total_size = (uint32_t)size;
    rec->offset = 0;
    rec->crc32 = 0;
    rec->requests = 0;
    rec->flags &= ~MFOTA_JOURNAL_COMPLETE;
    mfota_sha256_init(&rec->sha);
    if (journal) {
        rc = mfota_journal_begin(&c->journal_, rec, &resumed);
        if (rc < 0) {
            return hal_check(c, rc);
        }
        if (resumed && (fresh || (rec->flags & MFOTA_JOURNAL_DELTA))) {
            /* A delta download never resumes at an offset (client_delta.c). */
            rc = mfota_journal_restart(&c->journal_);
            if (rc < 0) {
                return hal_check(c, rc);
            }
            resumed = 0;
        }
    }
    mfota_client_delta_reset_(c);
    c->writer_.journal = journal ? &c->journal_ : NULL; /* a delta took it away */
    rc = mfota_flash_writer_begin(&c->writer_, (uint32_t)size,
                                  resumed ? rec : NULL);
    if (rc == MFOTA_ERR_INVAL && resumed) {
        /* A record the writer cannot continue from: start over. */
        resumed = 0;
        if (journal) {
            rc = mfota_journal_restart(&c->journal_);
            if (rc < 0) {
                return hal_check(c, rc);
            }
        }
        rc = mfota_flash_writer_begin(&c->writer_, (uint32_t)size, NULL);
    }
    if (rc < 0) {
        return rc;
    }
#if MFOTA_MCUBOOT
    if (!resumed && c->cfg_.check_mcuboot) {
        /* An older install request must not stay armed beside new bytes. */
        rc = mfota_mcuboot_clear_pending(c->cfg_.slot);
        if (rc < 0) {
            return hal_check(c, rc);
        }
    }
#endif
    if (resumed && rec->offset > 0u) {
        c->stats.resumes++;
        c->requests_used_ = rec->requests;
    }
    c->writer_begun_ = 1;
    c->total = (uint32_t)size; /* size <= slot_size, a 32-bit value */
    c->done = c->writer_.committed.offset;
    return MFOTA_OK;
}

static int sink_data(void *ctx, uint32_t offset, const uint8_t *data, size_t len)
{
    struct mfota_client *c = (struct mfota_client *)ctx;
    if (!c->writer_begun_) {
        return MFOTA_ERR_STATE;
    }
    return hal_check(c, mfota_client_file_data_(c, offset, data, len));
}

/* A progress uplink is due (report_policy.h): its percentage plus one,
 * else 0.  Not at 100 %: the final uplink, moments later, says that. */
static int progress_due(const struct mfota_client *c)
{
    uint8_t pct = mfota_progress_percent(c->done, c->total);
    return pct < 100u && mfota_report_policy_due(&c->report_, MFOTA_STATE_DOWNLOADING, pct,
                                                 mfota_client_now_(c))
               ? pct + 1
               : 0;
}

/* The engine has work between two parts: a downlink handed over from the
 * event callback, or a progress uplink.  Both stay true until done (time
 * only makes an uplink more due), so the downloader's yield needs no flag. */
static int work_between_parts(const struct mfota_client *c)
{
    return c->pending_len_ != 0u || progress_due(c);
}

static int sink_part_done(void *ctx, uint32_t offset, uint32_t len, uint32_t crc, int verified)
{
    struct mfota_client *c = (struct mfota_client *)ctx;
    int rc;
    /* The journal record the writer may write carries the budget spent. */
    c->journal_.rec.requests = c->dl_.plan.requests;
    rc = mfota_client_delta_part_done_(c, offset, len);
    if (rc < 0) {
        return hal_check(c, rc);
    }
    if (rc == 0) { /* an image */
        rc = mfota_flash_writer_part_commit(&c->writer_, offset, len,
                                            verified ? &crc : NULL);
        if (rc < 0) {
            return hal_check(c, rc);
        }
        c->done = c->writer_.committed.offset;
    }
    mfota_backoff_reset(&c->backoff_); /* progress: earlier failures are forgiven */
    emit(c, MFOTA_CLIENT_EV_PROGRESS, 0, NULL);
    return work_between_parts(c); /* 1: back to the engine once the part is settled */
}

static int sink_part_failed(void *ctx, uint32_t offset, uint32_t len, int reason)
{
    struct mfota_client *c = (struct mfota_client *)ctx;
    uint32_t refetch = 0;
    int rc;
    (void)len;
    (void)reason;
    rc = mfota_client_delta_part_failed_(c, offset);
    if (rc != 0) {
        return rc < 0 ? rc : MFOTA_OK;
    }
    rc = mfota_flash_writer_part_abort(&c->writer_, offset, &refetch);
    if (rc < 0) {
        return hal_check(c, rc);
    }
    if (refetch != offset) {
        /* The writer lost earlier bytes of the sector: fetch from there
         * (the download fails with this code; step_download() restarts). */
        c->restart_at_ = refetch;
        return MFOTA_ERR_CLIENT_RESTART;
    }
    return MFOTA_OK;
}

static int sink_total(void *ctx, uint32_t total, int restarted)
{
    struct mfota_client *c = (struct mfota_client *)ctx;
    int rc;
    if ((c->expect_.flags & MFOTA_EXPECT_SIZE) && total != c->expect_.size) {
        return MFOTA_ERR_CLIENT_SIZE;
    }
    if (c->writer_begun_ && !restarted) {
        /* c->total: the file's size (a delta's writer holds the target's) */
        return total == c->total ? MFOTA_OK : MFOTA_ERR_CLIENT_SIZE;
    }
    rc = begin_image(c, total, restarted);
    if (rc < 0) {
        return rc;
    }
    if (c->writer_.committed.offset != c->dl_.plan.next) {
        /* The journal knows better than the download's start: go there. */
        c->restart_at_ = c->writer_.committed.offset;
        return MFOTA_ERR_CLIENT_RESTART;
    }
    return MFOTA_OK;
}

/* ---- the download ------------------------------------------------------------- */

static int start_download(struct mfota_client *c, uint32_t offset)
{
    struct mfota_dl_config dc;
    int rc;
    mfota_dl_config_default(&dc);
    dc.transport = c->cfg_.download_transport;
    dc.clock = c->cfg_.clock;
    dc.sink = &c->sink_;
    dc.url = c->cmd_.url;
    dc.url_len = c->cmd_.url_len;
    dc.token = c->cmd_.token;
    dc.token_len = c->cmd_.token_len;
    if (c->cfg_.part_size != 0u) {
        dc.plan.part_size = c->cfg_.part_size;
    }
    dc.plan.align = c->cfg_.slot->sector_size;
    if (dc.plan.part_size % dc.plan.align != 0u) {
        dc.plan.part_size += dc.plan.align - dc.plan.part_size % dc.plan.align;
    }
    dc.offset = offset;
    if (c->writer_begun_) {
        dc.total = c->total;
        dc.has_total = 1;
    }
    dc.requests_used = c->requests_used_;
    if (c->cfg_.io_timeout_ms != 0u) {
        dc.timeout_ms = c->cfg_.io_timeout_ms;
    }
    /* A whole file sent without a length (Range ignored) stops at the slot's
     * end instead of running on. */
    dc.max_size = c->cfg_.slot->slot_size;
    dc.rx_buf = c->rx_;
    dc.rx_cap = sizeof c->rx_;
    dc.tx_buf = c->scratch_;
    dc.tx_cap = sizeof c->scratch_;
    rc = mfota_dl_init(&c->dl_, &dc);
    return rc == MFOTA_OK ? mfota_client_go_(c, MFOTA_PHASE_DOWNLOAD) : rc;
}

/* Where a new download attempt starts: after the last committed part. */
static int resume_offset(struct mfota_client *c, uint32_t *offset)
{
    uint32_t refetch = 0;
    int rc;
    if (!c->writer_begun_ || mfota_client_delta_resume_(c)) {
        *offset = 0;
        return MFOTA_OK;
    }
    if (c->writer_.failed || c->writer_.run.offset != c->writer_.committed.offset) {
        rc = mfota_flash_writer_part_abort(&c->writer_, c->writer_.committed.offset, &refetch);
        if (rc < 0) {
            return hal_check(c, rc);
        }
        *offset = refetch;
        return MFOTA_OK;
    }
    *offset = c->writer_.committed.offset;
    return MFOTA_OK;
}

static int is_transient(int err)
{
    switch (err) {
    case MFOTA_ERR_DL_UNAUTHORIZED:
    case MFOTA_ERR_DL_FORBIDDEN:
    case MFOTA_ERR_DL_NOT_FOUND:
    case MFOTA_ERR_DL_BUDGET:
    case MFOTA_ERR_DL_TOTAL_CHANGED:
    case MFOTA_ERR_DL_TOO_LARGE:
    case MFOTA_ERR_CLIENT_SIZE:
    case MFOTA_ERR_FLASH_BOUNDS:
    case MFOTA_ERR_INVAL:
    case MFOTA_ERR_STATE:
        return 0;
    default:
        /* A delta error comes from a part that checked out: fetching the
         * file again would rebuild the same fault. */
        return !(err <= MFOTA_ERR_DELTA_HEADER && err >= MFOTA_ERR_DELTA_UNSUPPORTED);
    }
}

/* Wait (the backoff's next delay) in `wait_phase`: MFOTA_OK, or
 * MFOTA_ERR_RETRIES_EXHAUSTED, or MFOTA_ERR_CLIENT_PHASE when the table
 * refuses the wait -- an engine bug the callers pass on, which fails the
 * cycle (never mistaken for exhausted retries). */
static int retry_later(struct mfota_client *c, int wait_phase)
{
    uint32_t delay = 0;
    uint32_t rnd = c->cfg_.random ? c->cfg_.random->next(c->cfg_.random->ctx) : 0u;
    if (mfota_backoff_next(&c->backoff_, rnd, &delay) != MFOTA_OK) {
        return MFOTA_ERR_RETRIES_EXHAUSTED;
    }
    c->wake_at_ = mfota_client_now_(c) + delay;
    return mfota_client_go_(c, wait_phase);
}

static int download_failed(struct mfota_client *c, int err)
{
    int result = MFOTA_RESULT_CONNECTION_LOST;
    end_download(c);
    if (is_transient(err)) {
        int rc;
        emit(c, MFOTA_CLIENT_EV_ERROR, err, reason_for(err));
        rc = retry_later(c, MFOTA_PHASE_DL_WAIT);
        if (rc != MFOTA_ERR_RETRIES_EXHAUSTED) {
            if (rc == MFOTA_OK) {
                c->stats.retries++;
            }
            return rc;
        }
    }
    if (err == MFOTA_ERR_CLIENT_SIZE || err == MFOTA_ERR_DL_TOTAL_CHANGED) {
        result = c->total > c->cfg_.slot->slot_size ? MFOTA_RESULT_NO_FLASH
                                                   : MFOTA_RESULT_INTEGRITY;
    }
    if (err == MFOTA_ERR_FLASH_BOUNDS || err == MFOTA_ERR_DL_TOO_LARGE) {
        result = MFOTA_RESULT_NO_FLASH;
    }
    if (err <= MFOTA_ERR_DELTA_HEADER && err >= MFOTA_ERR_DELTA_UNSUPPORTED) {
        result = mfota_image_result(err);
    }
    return fail(c, result, NULL, err);
}

/* A valid command is in cmd_: start (or resume) its update. */
static int begin_command(struct mfota_client *c)
{
    struct mfota_journal_record *rec;
    int rc;
    /* A field the downlink left out is zero in cmd_ (the parser clears its
     * view): copied unconditionally, only the flags say what is present. */
    c->expect_.flags = (c->cmd_.has_size ? MFOTA_EXPECT_SIZE : 0u) |
                       (c->cmd_.has_crc32 ? MFOTA_EXPECT_CRC32 : 0u) |
                       (c->cmd_.has_sha256 ? MFOTA_EXPECT_SHA256 : 0u);
    c->expect_.size = c->cmd_.size;
    c->expect_.crc32 = c->cmd_.crc32;
    memcpy(c->expect_.sha256, c->cmd_.sha256, sizeof c->expect_.sha256);
    /* The journal's record in force is the wanted download from here on:
     * journal_begin() compares it with what flash holds (begin_image). */
    rec = &c->journal_.rec;
    mfota_journal_record_init(rec, c->cmd_.url, c->cmd_.url_len, NULL, 0, 0);
    rec->flags |= (c->cmd_.has_crc32 ? MFOTA_JOURNAL_HAS_CRC32 : 0u) |
                  (c->cmd_.has_sha256 ? MFOTA_JOURNAL_HAS_SHA256 : 0u);
    rec->expect_crc32 = c->cmd_.crc32;
    memcpy(rec->expect_sha256, c->cmd_.sha256, sizeof rec->expect_sha256);
    c->writer_begun_ = 0;
    c->requests_used_ = 0;
    c->done = c->total = 0;
    c->result = MFOTA_RESULT_INITIAL;
    c->reason = NULL;
    c->error = 0;
    c->has_pending = 0;
    mfota_backoff_reset(&c->backoff_);
    mfota_report_policy_init(&c->report_);
    if (c->cmd_.has_size && c->cmd_.size > c->cfg_.slot->slot_size) {
        return fail(c, MFOTA_RESULT_NO_FLASH, "no_flash", MFOTA_ERR_CLIENT_SIZE);
    }
    set_state(c, MFOTA_STATE_DOWNLOADING);
    if (c->cmd_.has_size) {
        rc = begin_image(c, c->cmd_.size, 0);
        if (rc < 0) {
            if (c->hal_err_) {
                return rc;
            }
            return fail(c, MFOTA_RESULT_UPDATE_FAILED, "journal", rc);
        }
        if (c->done == c->total) {
            return mfota_client_go_(c, MFOTA_PHASE_VERIFY); /* the journal has it all */
        }
    }
    rc = start_download(c, c->done);
    if (rc < 0) {
        return fail(c, rc == MFOTA_ERR_DL_BUDGET ? MFOTA_RESULT_CONNECTION_LOST
                                                 : MFOTA_RESULT_INVALID_URI,
                    NULL, rc);
    }
    return rc;
}

/* The downlink body in io_ (`len` bytes): act on its FOTA command.  It is
 * parsed in place and acted on at once -- the token lands in cmd_, its
 * one copy.  Returns 1 when it held a command. */
static int handle_downlink(struct mfota_client *c, size_t len, int *out_rc)
{
    struct mfota_fota_view v;
    int running = update_running(c);
    int rc = mfota_things_parse_downlink_inplace(c->io_, len, c->cfg_.imei,
                                                 strlen(c->cfg_.imei), &v, NULL);
    *out_rc = MFOTA_OK;
    if (rc == MFOTA_ERR_THINGS_NOT_FOTA) {
        return 0;
    }
    c->stats.downlinks++;
    if (running && rc == MFOTA_OK && v.url_len == c->cmd_.url_len &&
        memcmp(v.url, c->cmd_.url, v.url_len) == 0) {
        /* Same file: carry on.  A fresh token is adopted at once (the old
         * one may be about to expire): the download continues from its
         * last committed part with the new Authorization. */
        int renew = v.token_len != c->cmd_.token_len ||
                    memcmp(v.token, c->cmd_.token, v.token_len) != 0;
        if (renew) {
            memcpy(c->cmd_.token, v.token, v.token_len);
            c->cmd_.token[v.token_len] = '\0';
            c->cmd_.token_len = v.token_len;
        }
        emit(c, MFOTA_CLIENT_EV_DOWNLINK, 0, NULL);
        if (renew) {
            end_download(c); /* DL_RESUME: the next step starts it again */
        }
        return 1;
    }
    if (rc == MFOTA_OK) {
        /* Copied before the event: its callback may hand over another body
         * into io_.  A download still open reads nothing from cmd_ before
         * end_download() below closes it. */
        mfota_things_command_set(&c->cmd_, &v);
    }
    emit(c, MFOTA_CLIENT_EV_DOWNLINK, rc < 0 ? rc : 0, rc < 0 ? reason_for(rc) : NULL);
    if (running) {
        if (rc < 0) {
            return 1; /* a broken command does not stop a good update */
        }
        end_download(c);
        c->stats.restarts++;
        emit(c, MFOTA_CLIENT_EV_ERROR, MFOTA_ERR_CLIENT_SUPERSEDED, "superseded");
    }
    if (rc < 0) {
        *out_rc = fail(c, downlink_result(rc), NULL, rc);
        return 1;
    }
    *out_rc = begin_command(c);
    return 1;
}

/* ---- public API ---------------------------------------------------------------- */

void mfota_client_config_default(struct mfota_client_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->part_size = MFOTA_DL_PART_SIZE;
    cfg->io_timeout_ms = MFOTA_DL_TIMEOUT_MS;
    cfg->progress_step_percent = MFOTA_CLIENT_PROGRESS_STEP;
    cfg->progress_interval_ms = MFOTA_CLIENT_PROGRESS_INTERVAL_MS;
    cfg->retry_base_ms = MFOTA_CLIENT_RETRY_BASE_MS;
    cfg->retry_max_ms = MFOTA_CLIENT_RETRY_MAX_MS;
    cfg->max_retries = MFOTA_CLIENT_MAX_RETRIES;
    cfg->check_mcuboot = MFOTA_MCUBOOT;
}

/* The configuration's pointers that must not be NULL, as offsets: one loop
 * is smaller than a chain of tests. */
#define CFG_(m) (uint8_t) offsetof(struct mfota_client_config, m)
static const uint8_t required[] = {
    CFG_(imei),  CFG_(version), CFG_(server),     CFG_(uplink_transport), CFG_(download_transport),
    CFG_(clock), CFG_(slot),    CFG_(bootloader),
};
#undef CFG_

int mfota_client_init(struct mfota_client *c, const struct mfota_client_config *cfg)
{
    size_t n;
    int rc = MFOTA_OK;
    if (c == NULL || cfg == NULL || (cfg->secret == NULL && cfg->secret_len)) {
        return MFOTA_ERR_INVAL;
    }
    for (n = 0; n < sizeof required; n++) {
        const void *member;
        /* copied out, not read through a cast: no aliasing question */
        memcpy(&member, (const char *)cfg + required[n], sizeof member);
        if (member == NULL) {
            return MFOTA_ERR_INVAL;
        }
    }
    if (cfg->clock->now_ms == NULL || cfg->bootloader->mark_pending == NULL ||
        cfg->bootloader->check_image == NULL) {
        return MFOTA_ERR_INVAL;
    }
    memset(c, 0, sizeof *c);
    c->cfg_ = *cfg;
    mfota_client_hal_bind_(c);
    if (c->cfg_.io_timeout_ms == 0u) {
        c->cfg_.io_timeout_ms = MFOTA_DL_TIMEOUT_MS;
    }
    n = strlen(cfg->server);
    if (n > MFOTA_URL_MAX) {
        return MFOTA_ERR_URL_TOO_LONG;
    }
    /* Parsed from a copy in the (still unused) downlink buffer: only the
     * host and port are kept. */
    memcpy(c->io_, cfg->server, n);
    rc = mfota_url_parse(c->io_, n, &c->server_);
    if (rc == MFOTA_ERR_URL_PATH && n < MFOTA_URL_MAX) {
        /* A base URL without a path ("http://10.1.2.3:8080") is fine. */
        c->io_[n] = '/';
        rc = mfota_url_parse(c->io_, n + 1u, &c->server_);
    }
    if (rc == MFOTA_OK && c->server_.host_len > MFOTA_HOST_MAX) {
        rc = MFOTA_ERR_URL_TOO_LONG; /* it must fit scratch_, NUL-terminated */
    }
    if (rc != MFOTA_OK) {
        return rc;
    }
    /* The same bytes in the caller's string, which outlives the client:
     * nothing of the URL is copied. */
    c->server_.host = cfg->server + (c->server_.host - c->io_);
    c->server_.path = NULL;
    c->server_.path_len = 0;
    if (cfg->journal_flash != NULL) {
        rc = mfota_journal_init_flash(&c->journal_, c->cfg_.journal_flash);
    } else if (cfg->journal_kv != NULL) {
        rc = mfota_journal_init_kv(&c->journal_, c->cfg_.journal_kv);
    }
    if (rc != MFOTA_OK) {
        return rc;
    }
    rc = mfota_flash_writer_init(&c->writer_, c->cfg_.slot, has_journal(c) ? &c->journal_ : NULL);
    if (rc != MFOTA_OK) {
        return rc;
    }
    c->report_.step_percent = cfg->progress_step_percent;
    c->report_.min_interval_ms = cfg->progress_interval_ms;
    rc = mfota_report_policy_init(&c->report_);
    if (rc != MFOTA_OK) {
        return rc;
    }
    c->backoff_.base_ms = cfg->retry_base_ms;
    c->backoff_.max_ms = cfg->retry_max_ms;
    c->backoff_.max_retries = cfg->max_retries;
    rc = mfota_backoff_init(&c->backoff_);
    if (rc != MFOTA_OK) {
        return rc;
    }
    mfota_client_delta_init_(c);
    c->sink_.data = sink_data;
    c->sink_.part_done = sink_part_done;
    c->sink_.part_failed = sink_part_failed;
    c->sink_.total = sink_total;
    c->sink_.ctx = c;
    c->state = MFOTA_STATE_IDLE;
    c->phase_ = MFOTA_PHASE_IDLE;
    return MFOTA_OK;
}

static int cycle_may_start(const struct mfota_client *c)
{
    return c->phase_ == MFOTA_PHASE_IDLE || c->phase_ == MFOTA_PHASE_DONE;
}

static int start_cycle(struct mfota_client *c, int result)
{
    int rc;
    if (!cycle_may_start(c)) {
        return MFOTA_ERR_STATE;
    }
    c->result = result < 0 ? MFOTA_RESULT_INITIAL : result;
    c->reason = NULL;
    c->error = 0;
    c->has_pending = 0;
    c->hal_err_ = 0;
    c->hal_error = 0;
    c->pending_len_ = 0;
    mfota_backoff_reset(&c->backoff_);
    rc = mfota_client_uplink_begin_(c, MFOTA_STATE_IDLE, -1, result, NULL);
    return rc == MFOTA_OK ? mfota_client_go_(c, MFOTA_PHASE_START_UPLINK) : rc;
}

int mfota_client_start(struct mfota_client *c)
{
    if (c == NULL) {
        return MFOTA_ERR_INVAL;
    }
    return start_cycle(c, -1);
}

int mfota_client_start_boot(struct mfota_client *c)
{
    int rc;
    if (c == NULL) {
        return MFOTA_ERR_INVAL;
    }
    if (!cycle_may_start(c)) {
        return MFOTA_ERR_STATE;
    }
    c->hal_err_ = 0;
    c->hal_error = 0;
    if (c->cfg_.bootloader->confirm != NULL) {
        rc = mfota_client_hal_(c, c->cfg_.bootloader->confirm(c->cfg_.bootloader->ctx));
        if (rc < 0) {
            return rc;
        }
    }
    return start_cycle(c, MFOTA_RESULT_SUCCESS);
}

int mfota_client_downlink(struct mfota_client *c, const char *body, size_t len)
{
    int rc = MFOTA_OK;
    if (c == NULL || (body == NULL && len)) {
        return MFOTA_ERR_INVAL;
    }
    if (len > MFOTA_CLIENT_DOWNLINK_MAX) {
        return MFOTA_ERR_NOSPC;
    }
    if (c->in_step_) {
        /* Re-entered from the event callback: act at the next step.  io_ is
         * free while no uplink is armed (an uplink armed later drops it). */
        if (!update_running(c) || c->phase_ == MFOTA_PHASE_PROGRESS ||
            c->phase_ == MFOTA_PHASE_DL_WAIT) {
            return MFOTA_ERR_STATE;
        }
        memmove(c->io_, body, len);
        c->pending_len_ = len;
        return MFOTA_OK;
    }
    if (c->phase_ == MFOTA_PHASE_FAILED || c->phase_ == MFOTA_PHASE_START_UPLINK ||
        c->phase_ == MFOTA_PHASE_FINAL_UPLINK) {
        return MFOTA_ERR_STATE; /* the cycle's own uplink is in flight */
    }
    if (c->phase_ == MFOTA_PHASE_PROGRESS) {
        /* Give up the progress uplink; the body arrived another way. */
        c->cfg_.uplink_transport->close(c->cfg_.uplink_transport->ctx);
        rc = mfota_client_go_(c, MFOTA_PHASE_DOWNLOAD);
        if (rc < 0) {
            return rc;
        }
    }
    memmove(c->io_, body, len);
    if (!update_running(c)) {
        c->result = MFOTA_RESULT_INITIAL;
        c->hal_err_ = 0;
        c->hal_error = 0;
    }
    if (!handle_downlink(c, len, &rc)) {
        return MFOTA_OK;
    }
    if (c->hal_err_) {
        end_download(c);
        (void)mfota_client_go_(c, MFOTA_PHASE_FAILED);
        return c->hal_err_;
    }
    return rc;
}

static int uplink_done(struct mfota_client *c)
{
    int rc = MFOTA_OK;
    size_t len = (size_t)c->up_resp_.body_len;
    switch (c->phase_) {
    case MFOTA_PHASE_START_UPLINK:
        mfota_backoff_reset(&c->backoff_);
        /* an empty body is no command either (handle_downlink: 0) */
        if (!handle_downlink(c, len, &rc)) {
            rc = cycle_done(c, 0, NULL);
        }
        return rc;
    case MFOTA_PHASE_PROGRESS:
        rc = mfota_client_go_(c, MFOTA_PHASE_DOWNLOAD);
        if (rc == MFOTA_OK) {
            (void)handle_downlink(c, len, &rc);
        }
        return rc;
    default: /* final */
        return cycle_done(c, c->error, c->reason);
    }
}

static int uplink_failed(struct mfota_client *c, int err)
{
    c->stats.uplink_failures++;
    emit(c, MFOTA_CLIENT_EV_UPLINK, err, "uplink");
    if (c->phase_ == MFOTA_PHASE_PROGRESS) {
        /* the next progress point tries again */
        return mfota_client_go_(c, MFOTA_PHASE_DOWNLOAD);
    }
    if (err != MFOTA_ERR_CLIENT_REFUSED) {
        int rc = retry_later(c, c->phase_ == MFOTA_PHASE_START_UPLINK ? MFOTA_PHASE_START_WAIT
                                                                     : MFOTA_PHASE_FINAL_WAIT);
        if (rc != MFOTA_ERR_RETRIES_EXHAUSTED) {
            return rc;
        }
    }
    if (c->phase_ == MFOTA_PHASE_START_UPLINK) {
        c->result = MFOTA_RESULT_CONNECTION_LOST;
        c->reason = "uplink";
        c->error = err;
    }
    return cycle_done(c, err, "uplink");
}

/* DL_RESUME / DL_RESTART: open a new download. */
static int step_start_download(struct mfota_client *c)
{
    uint32_t off = c->restart_at_;
    int rc = MFOTA_OK;
    if (c->phase_ == MFOTA_PHASE_DL_RESUME) {
        rc = resume_offset(c, &off);
        if (rc < 0) {
            return rc;
        }
    }
    rc = start_download(c, off);
    return rc < 0 ? download_failed(c, rc) : rc;
}

static int step_download(struct mfota_client *c, uint32_t io_wait_ms)
{
    int pct = progress_due(c) - 1, rc;
    if (pct >= 0) {
        /* Recorded before it goes out: a failing uplink must not be retried
         * at every step. */
        mfota_report_policy_sent(&c->report_, MFOTA_STATE_DOWNLOADING, (uint8_t)pct,
                                 mfota_client_now_(c));
        rc = mfota_client_uplink_begin_(c, MFOTA_STATE_DOWNLOADING, pct, -1, NULL);
        return rc < 0 ? rc : mfota_client_go_(c, MFOTA_PHASE_PROGRESS);
    }
    rc = mfota_dl_step(&c->dl_, io_wait_ms);
    /* The downloader keeps no status of its own once a response is over;
     * its parser still holds the last one (0 between requests). */
    if (c->dl_.resp_.status != 0u) {
        c->download_http_status = c->dl_.resp_.status;
    }
    if (c->hal_err_) {
        return c->hal_err_;
    }
    if (rc == MFOTA_WAIT) {
        c->wake_at_ = mfota_dl_wake_at(&c->dl_);
        return rc;
    }
    if (rc == MFOTA_WOULD_BLOCK && work_between_parts(c)) {
        return MFOTA_OK; /* the part is settled (or paused); the loop does that work */
    }
    if (rc == MFOTA_WOULD_BLOCK) {
        return rc;
    }
    if (rc == MFOTA_DONE) {
        end_download(c);
        return mfota_client_go_(c, MFOTA_PHASE_VERIFY);
    }
    if (rc == MFOTA_ERR_CLIENT_RESTART) {
        /* The sink named the offset to fetch from (restart_at_). */
        end_download(c);
        return mfota_client_go_(c, MFOTA_PHASE_DL_RESTART);
    }
    return download_failed(c, rc);
}

static int refuse_image(struct mfota_client *c, int err)
{
    if (has_journal(c)) {
        int rc = mfota_journal_restart(&c->journal_);
        if (rc < 0 && rc != MFOTA_ERR_STATE) {
            return is_hal_error(rc) ? rc : fail(c, MFOTA_RESULT_UPDATE_FAILED, "journal", rc);
        }
    }
    return fail(c, mfota_image_result(err), NULL, err);
}

typedef char cmd_version_fills_pending_[
    sizeof ((struct mfota_client *)0)->cmd_.version == sizeof ((struct mfota_client *)0)->pending_version
        ? 1
        : -1];

static int step_verify(struct mfota_client *c)
{
    char version[sizeof c->pending_version];
    struct mfota_image_report rep;
    const struct mfota_bootloader *bl = c->cfg_.bootloader;
    int rc;
    memset(&rep, 0, sizeof rep);
    if (!c->writer_begun_) {
        return fail(c, MFOTA_RESULT_UPDATE_FAILED, "state", MFOTA_ERR_STATE);
    }
#if MFOTA_DELTA
    if (c->delta_.kind == MFOTA_DELTA_KIND_DELTA) {
        rc = mfota_client_delta_verify_(c, &rep);
    } else
#endif
    {
        rc = mfota_image_verify_writer(&c->writer_, &c->expect_, &rep);
    }
    if (rc < 0) {
        if (is_hal_error(rc)) {
            return rc;
        }
        return fail(c, mfota_image_result(rc), NULL, rc);
    }
    /* The bootloader decides what may be marked pending: an image it would
     * refuse at boot must not be announced as an update. */
    version[0] = '\0';
    rc = bl->check_image(bl->ctx, c->writer_.size, version, sizeof version);
    if (rc < 0) {
        if (rc <= MFOTA_ERR_IMAGE_SIZE && rc > -500) {
            return refuse_image(c, rc); /* an image/boot error: the image is refused */
        }
        /* Anything else is the port failing (a flash read, a crypto engine),
         * not a verdict on the image: end the cycle, keep its own value. */
        return mfota_client_hal_(c, rc);
    }
    /* the downlink's version, else the one the bootloader read (both
     * buffers as large as pending_version: one copy of either) */
    version[sizeof version - 1u] = '\0';
    memcpy(c->pending_version, c->cmd_.has_version ? c->cmd_.version : version,
           sizeof c->pending_version);
    c->done = c->total;
    set_state(c, MFOTA_STATE_DOWNLOADED);
    rc = mfota_client_hal_(c, bl->mark_pending(bl->ctx, c->writer_.size, c->cfg_.permanent));
    if (rc < 0) {
        if (is_hal_error(rc)) {
            return rc;
        }
        return fail(c, MFOTA_RESULT_UPDATE_FAILED, "bootloader", rc);
    }
    c->has_pending = 1;
    c->result = MFOTA_RESULT_INITIAL;
    set_state(c, MFOTA_STATE_UPDATING);
    mfota_backoff_reset(&c->backoff_);
    rc = mfota_client_uplink_begin_(c, MFOTA_STATE_UPDATING, 100, MFOTA_RESULT_INITIAL, NULL);
    if (rc < 0) {
        return cycle_done(c, 0, NULL);
    }
    return mfota_client_go_(c, MFOTA_PHASE_FINAL_UPLINK);
}

static int step_phases(struct mfota_client *c, uint32_t io_wait_ms);

int mfota_client_step(struct mfota_client *c, uint32_t io_wait_ms)
{
    int rc;
    if (c == NULL) {
        return MFOTA_ERR_INVAL;
    }
    if (c->in_step_) {
        return MFOTA_ERR_STATE;
    }
    c->in_step_ = 1;
    rc = step_phases(c, io_wait_ms);
    c->in_step_ = 0;
    return rc;
}

/* A waiting phase: MFOTA_WAIT until wake_at_, then on to `then`. */
static int step_wait(struct mfota_client *c, int then)
{
    if (mfota_client_now_(c) < c->wake_at_) {
        return MFOTA_WAIT;
    }
    return mfota_client_go_(c, then);
}

static int step_phases(struct mfota_client *c, uint32_t io_wait_ms)
{
    int rc;
    for (;;) {
        rc = MFOTA_OK;
        if (c->pending_len_ != 0u && update_running(c) && c->phase_ != MFOTA_PHASE_PROGRESS) {
            size_t len = c->pending_len_;
            c->pending_len_ = 0;
            (void)handle_downlink(c, len, &rc);
        }
        /* a failure of the handed-over downlink ends the cycle below, as a
         * phase's own failure does */
        if (rc == MFOTA_OK && c->hal_err_ == 0) {
            switch (c->phase_) {
            case MFOTA_PHASE_IDLE:
            case MFOTA_PHASE_DONE:
                return MFOTA_DONE;
            case MFOTA_PHASE_FAILED:
                return c->hal_err_ ? c->hal_err_ : MFOTA_ERR_HAL;
            case MFOTA_PHASE_START_WAIT:
                rc = step_wait(c, MFOTA_PHASE_START_UPLINK);
                break;
            case MFOTA_PHASE_DL_WAIT:
                rc = step_wait(c, MFOTA_PHASE_DL_RESUME);
                break;
            case MFOTA_PHASE_FINAL_WAIT:
                rc = step_wait(c, MFOTA_PHASE_FINAL_UPLINK);
                break;
            case MFOTA_PHASE_START_UPLINK:
            case MFOTA_PHASE_PROGRESS:
            case MFOTA_PHASE_FINAL_UPLINK:
                rc = mfota_client_uplink_step_(c, io_wait_ms);
                if (rc == MFOTA_WOULD_BLOCK) {
                    return rc;
                }
                if (rc == MFOTA_DONE) {
                    c->stats.uplinks++;
                    emit(c, MFOTA_CLIENT_EV_UPLINK, 0, NULL);
                    rc = uplink_done(c);
                } else {
                    rc = uplink_failed(c, rc);
                }
                break;
            case MFOTA_PHASE_DOWNLOAD:
                rc = step_download(c, io_wait_ms);
                break;
            case MFOTA_PHASE_DL_RESUME:
            case MFOTA_PHASE_DL_RESTART:
                rc = step_start_download(c);
                break;
            case MFOTA_PHASE_VERIFY:
                rc = step_verify(c);
                break;
            default:
                return MFOTA_ERR_STATE;
            }
        }
        if (rc == MFOTA_WOULD_BLOCK || rc == MFOTA_WAIT) {
            return rc;
        }
        if (rc < 0 || c->hal_err_) {
            if (c->hal_err_ == 0) {
                c->hal_err_ = rc;
            }
            end_download(c);
            c->cfg_.uplink_transport->close(c->cfg_.uplink_transport->ctx);
            (void)mfota_client_go_(c, MFOTA_PHASE_FAILED);
            return c->hal_err_;
        }
    }
}

uint64_t mfota_client_wake_at(const struct mfota_client *c)
{
    return c->wake_at_;
}

int mfota_client_run(struct mfota_client *c, uint32_t timeout_ms)
{
    const struct mfota_clock *clk;
    uint64_t deadline;
    if (c == NULL) {
        return MFOTA_ERR_INVAL;
    }
    clk = c->cfg_.clock;
    /* no timeout: a deadline no clock reaches, so one path serves both */
    deadline = timeout_ms != 0u ? mfota_client_now_(c) + timeout_ms : UINT64_MAX;
    for (;;) {
        uint64_t now = mfota_client_now_(c), before = now, until;
        int rc;
        if (now >= deadline) {
            mfota_client_abort(c);
            return MFOTA_ERR_CLIENT_TIMEOUT;
        }
        rc = mfota_client_step(c, deadline - now < 1000u ? (uint32_t)(deadline - now) : 1000u);
        if (rc == MFOTA_DONE) {
            return MFOTA_OK;
        }
        if (rc < 0) {
            return rc;
        }
        now = mfota_client_now_(c);
        if (clk->sleep_ms == NULL) {
            continue;
        }
        if (rc == MFOTA_WAIT) {
            until = c->wake_at_ < deadline ? c->wake_at_ : deadline;
            if (until > now) {
                until -= now;
                clk->sleep_ms(clk->ctx, until > 0xffffffffu ? 0xffffffffu : (uint32_t)until);
            }
        } else if (now == before) {
            /* A non-blocking connect or send: do not spin on it. */
            clk->sleep_ms(clk->ctx, 1);
        }
    }
}

void mfota_client_stats(const struct mfota_client *c, struct mfota_client_stats *out)
{
    *out = c->stats; /* finished downloads included (end_download) */
    if (download_open(c)) {
        add_stats(out, &c->dl_.stats);
    }
    out->erases += c->writer_.stats.erases + c->journal_.stats.erases;
    out->programs += c->writer_.stats.programs + c->journal_.stats.programs;
    out->journal_writes += c->journal_.stats.journal_writes + c->writer_.stats.journal_writes;
}

void mfota_client_abort(struct mfota_client *c)
{
    if (c == NULL || c->in_step_) {
        return; /* not from the event callback: step() is using the state */
    }
    end_download(c);
    c->cfg_.uplink_transport->close(c->cfg_.uplink_transport->ctx);
    if (mfota_client_go_(c, MFOTA_PHASE_IDLE) != MFOTA_OK) {
        return; /* FAILED: only mfota_client_init() leaves it */
    }
    if (c->state != MFOTA_STATE_UPDATING) {
        set_state(c, MFOTA_STATE_IDLE);
    }
}
