#include "m2mfota/downloader.h"

#include <string.h>

#include "m2mfota/err.h"
#include "m2mfota/http_request.h"
#include "noinline.h"

enum { ST_NEXT = 0, ST_CONNECT, ST_SEND, ST_RECV, ST_WAIT, ST_DONE, ST_FAILED, ST_ABORTED };

/* What the body of the current response is for. */
enum { M_ACCEPT = 0, M_DISCARD };

/* What to do once a discarded body has ended (or the connection is closed). */
enum { P_NONE = 0, P_RETRY, P_WAIT, P_RESTART, P_DONE };

/* A body is drained to keep the connection only when it is this small;
 * anything larger costs less as a reconnect than as airtime. */
#define DRAIN_MAX 4096u

/* Backoff after a failed connect or a 429/503 without Retry-After:
 * 1 s doubling to this many seconds. */
#define BACKOFF_MAX_S 32u

static uint64_t now_ms(const struct mfota_dl *dl)
{
    return dl->cfg_.clock->now_ms(dl->cfg_.clock->ctx);
}

static void close_conn(struct mfota_dl *dl)
{
    if (dl->connected_) {
        dl->cfg_.transport->close(dl->cfg_.transport->ctx);
        dl->connected_ = 0;
    }
    dl->in_flight_ = 0;
    dl->sending_ahead_ = 0;
    dl->spoilt_ = 0;
}

/* Out of line (noinline.h): some 28 error paths end here; a copy in each
 * cost about 300 B on Cortex-M4. */
MFOTA_NOINLINE_ static int fail(struct mfota_dl *dl, int err)
{
    close_conn(dl);
    dl->state_ = ST_FAILED;
    dl->last_error = err;
    return err;
}

/* Start the deadline of a connect or of a part's request + response; never
 * past the end of the whole download (max_time_ms). */
static void arm(struct mfota_dl *dl)
{
    uint64_t t = now_ms(dl) + dl->cfg_.timeout_ms;
    dl->deadline_ = t < dl->end_at_ ? t : dl->end_at_;
}

static int expired(const struct mfota_dl *dl)
{
    return now_ms(dl) >= dl->deadline_;
}

static uint32_t backoff_s(uint32_t attempts)
{
    uint32_t s = 1u << (attempts < 5u ? attempts : 5u);
    return s < BACKOFF_MAX_S ? s : BACKOFF_MAX_S;
}

void mfota_dl_config_default(struct mfota_dl_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    mfota_plan_config_default(&cfg->plan);
    cfg->timeout_ms = MFOTA_DL_TIMEOUT_MS;
    cfg->max_size = MFOTA_DL_MAX_SIZE;
    cfg->max_retries = MFOTA_DL_MAX_RETRIES;
    cfg->max_retry_after_s = MFOTA_DL_MAX_RETRY_AFTER_S;
    cfg->max_restarts = MFOTA_DL_MAX_RESTARTS;
    cfg->accept_whole_body = 1;
    cfg->pipeline = MFOTA_DL_PIPELINE;
}

int mfota_dl_init(struct mfota_dl *dl, const struct mfota_dl_config *cfg)
{
    int rc;
    uint64_t max_size;
    const struct mfota_transport *t = cfg->transport;

    memset(dl, 0, sizeof *dl);
    if (t == NULL || t->connect == NULL || t->send == NULL || t->recv == NULL ||
        t->close == NULL || cfg->clock == NULL || cfg->clock->now_ms == NULL ||
        cfg->sink == NULL || cfg->sink->data == NULL || cfg->sink->part_done == NULL ||
        cfg->rx_buf == NULL || cfg->rx_cap < 64 || cfg->tx_buf == NULL || cfg->tx_cap < 16 ||
        cfg->url == NULL ||
        (cfg->token == NULL && cfg->token_len > 0)) {
        return MFOTA_ERR_INVAL;
    }
    dl->cfg_ = *cfg;
    /* Sizes are 32-bit past this point: a larger bound is no bound. */
    max_size = cfg->max_size != 0u ? cfg->max_size : (uint64_t)MFOTA_DL_MAX_SIZE;
    dl->max_size_ = max_size > 0xFFFFFFFEu ? 0xFFFFFFFEu : (uint32_t)max_size;
    if (dl->cfg_.timeout_ms == 0u) {
        dl->cfg_.timeout_ms = MFOTA_DL_TIMEOUT_MS;
    }
    dl->end_at_ = cfg->max_time_ms != 0u ? now_ms(dl) + cfg->max_time_ms : UINT64_MAX;
    /* The request is never formatted whole: its head is sent in pieces
     * from the caller's URL and token (they must outlive the download), so
     * a 1 KiB token is not copied again here. */
    rc = mfota_url_parse(cfg->url, cfg->url_len, &dl->url_);
    if (rc != MFOTA_OK) {
        return rc;
    }
    if (dl->url_.host_len > MFOTA_HOST_MAX || dl->url_.host_len >= cfg->tx_cap) {
        return MFOTA_ERR_URL_TOO_LONG; /* connect() gets it NUL-terminated in tx_buf */
    }
    rc = mfota_http_request_check_token(cfg->token, cfg->token_len);
    if (rc != MFOTA_OK) {
        return rc;
    }
    (void)mfota_http_request_head_copy(&dl->url_, cfg->token, cfg->token_len, 0, NULL, 0,
                                       &dl->head_len_);
    if (dl->head_len_ > MFOTA_HTTP_REQUEST_MAX) {
        return MFOTA_ERR_HTTP_REQUEST_SIZE;
    }
    if (cfg->offset > 0xFFFFFFFFu || (cfg->has_total && cfg->total > dl->max_size_)) {
        return MFOTA_ERR_DL_TOO_LARGE; /* also every size of 4 GiB or more */
    }
    rc = mfota_plan_init(&dl->plan, &cfg->plan, (uint32_t)cfg->offset, cfg->requests_used);
    if (rc == MFOTA_OK && cfg->has_total) {
        rc = mfota_plan_set_total(&dl->plan, (uint32_t)cfg->total);
    }
    if (rc != MFOTA_OK) {
        return rc;
    }
    dl->validator = cfg->validator;
    dl->has_validator = cfg->has_validator;
    dl->state_ = ST_NEXT;
    return MFOTA_OK;
}

uint64_t mfota_dl_wake_at(const struct mfota_dl *dl)
{
    return dl->wake_at_;
}

void mfota_dl_abort(struct mfota_dl *dl)
{
    close_conn(dl);
    dl->state_ = ST_ABORTED;
}

/* Out of line (noinline.h): two callers, each copy larger than its call. */
MFOTA_NOINLINE_ static void begin_part(struct mfota_dl *dl);
static int send_ahead(struct mfota_dl *dl);

/* ---- outcomes of one attempt -------------------------------------------- */

/* The attempt at the current part failed with `reason`; try it again unless
 * the failures in a row are over the limit. */
static int attempt_failed(struct mfota_dl *dl, int reason, int keep_conn)
{
    const struct mfota_dl_sink *s = dl->cfg_.sink;
    if (!keep_conn || dl->in_flight_ > 1) {
        close_conn(dl); /* a request sent ahead would answer out of step */
    }
    dl->last_error = reason;
    if (dl->mode_ == M_ACCEPT && dl->delivered_ > 0 && s->part_failed != NULL) {
        int rc = s->part_failed(s->ctx, dl->part_first_, dl->delivered_, reason);
        if (rc < 0) {
            return fail(dl, rc);
        }
    }
    dl->delivered_ = 0;
    if (++dl->attempts_ > dl->cfg_.max_retries) {
        return fail(dl, reason);
    }
    dl->stats.retries++;
    dl->state_ = ST_NEXT;
    return MFOTA_OK;
}

static int set_total(struct mfota_dl *dl, uint32_t total)
{
    const struct mfota_dl_sink *s = dl->cfg_.sink;
    int rc;
    if (total > dl->max_size_) {
        return fail(dl, MFOTA_ERR_DL_TOO_LARGE);
    }
    rc = mfota_plan_set_total(&dl->plan, total);
    if (rc != MFOTA_OK) {
        return fail(dl, rc == MFOTA_ERR_INVAL ? MFOTA_ERR_DL_UNSATISFIABLE : rc);
    }
    if (s->total != NULL) {
        rc = s->total(s->ctx, total, 0);
        if (rc < 0) {
            return fail(dl, rc);
        }
    }
    return MFOTA_OK;
}

/* The file on the server is not the one the parts so far came from. */
static int restart(struct mfota_dl *dl, uint32_t total)
{
    const struct mfota_dl_sink *s = dl->cfg_.sink;
    int rc;
    if (s->total == NULL || dl->stats.restarts >= dl->cfg_.max_restarts) {
        return fail(dl, MFOTA_ERR_DL_TOTAL_CHANGED);
    }
    if (total != MFOTA_DL_TOTAL_UNKNOWN && total > dl->max_size_) {
        return fail(dl, MFOTA_ERR_DL_TOO_LARGE);
    }
    dl->stats.restarts++;
    rc = s->total(s->ctx, total, 1);
    if (rc < 0) {
        return fail(dl, rc);
    }
    if (total == MFOTA_DL_TOTAL_UNKNOWN) {
        mfota_plan_forget_total(&dl->plan);
    } else {
        rc = mfota_plan_restart(&dl->plan, total); /* <= max_size_ */
        if (rc != MFOTA_OK) {
            return fail(dl, rc);
        }
    }
    dl->has_validator = dl->resp_.has_validator;
    dl->validator = dl->resp_.validator;
    dl->attempts_ = 0;
    dl->state_ = ST_NEXT;
    return MFOTA_OK;
}

/* The size of the file the current response comes from. */
static uint32_t new_total(const struct mfota_dl *dl)
{
    const struct mfota_http_response *r = &dl->resp_;
    if (r->has_total) {
        return r->total;
    }
    if (!r->has_range && r->has_length && (r->status == 200 || r->status == 206)) {
        return r->content_length; /* a Range-ignoring server's whole file */
    }
    return MFOTA_DL_TOTAL_UNKNOWN; /* the old size says nothing about the new file */
}

/* Carry out the decision taken at the headers of a response whose body is
 * not wanted. */
static int perform(struct mfota_dl *dl, int keep_conn)
{
    int pending = dl->pending_;
    dl->pending_ = P_NONE;
    if (!keep_conn || dl->in_flight_ > 1) {
        close_conn(dl);
        keep_conn = 0;
    }
    switch (pending) {
    case P_RETRY:
        return attempt_failed(dl, dl->last_error, keep_conn);
    case P_WAIT:
        if (++dl->attempts_ > dl->cfg_.max_retries) {
            return fail(dl, MFOTA_ERR_DL_BUSY);
        }
        dl->stats.waits++;
        dl->stats.retries++;
        dl->wake_at_ = now_ms(dl) + (uint64_t)dl->busy_wait_s_ * 1000u;
        dl->state_ = ST_WAIT;
        return MFOTA_OK;
    case P_RESTART:
        return restart(dl, new_total(dl));
    case P_DONE:
        close_conn(dl);
        dl->state_ = ST_DONE;
        return MFOTA_OK;
    default:
        return fail(dl, MFOTA_ERR_STATE);
    }
}

/* Ignore the body of this response, then do `pending`.  Small bodies on a
 * kept-alive connection are read to the end to keep the connection. */
static int discard(struct mfota_dl *dl, int pending, int reason)
{
    const struct mfota_http_response *r = &dl->resp_;
    dl->pending_ = pending;
    dl->mode_ = M_DISCARD;
    if (reason != MFOTA_OK) {
        dl->last_error = reason;
    }
    if (r->keep_alive && !r->chunked && r->has_length && r->content_length <= DRAIN_MAX &&
        dl->in_flight_ < 2) {
        return MFOTA_OK; /* keep reading: perform() runs at EV_END */
    }
    return perform(dl, 0);
}

static int on_success_headers(struct mfota_dl *dl)
{
    const struct mfota_http_response *r = &dl->resp_;
    struct mfota_plan *p = &dl->plan;
    uint32_t total, want_last;

    if (r->has_validator && dl->has_validator && r->validator != dl->validator) {
        return discard(dl, P_RESTART, MFOTA_ERR_DL_TOTAL_CHANGED);
    }
    if (!r->has_range) {
        if (r->status == 206) {
            return discard(dl, P_RETRY, MFOTA_ERR_DL_WRONG_RANGE);
        }
        /* 200 without Content-Range: the server ignored Range and sends the
         * whole file.  Usable only when the part starts at byte 0. */
        if (dl->part_first_ != 0 || !dl->cfg_.accept_whole_body) {
            return fail(dl, MFOTA_ERR_DL_RANGE_IGNORED);
        }
        if (r->has_length && p->has_total && r->content_length != p->total) {
            return discard(dl, P_RESTART, MFOTA_ERR_DL_TOTAL_CHANGED);
        }
        dl->whole_ = 1;
        if (r->has_length && !p->has_total && set_total(dl, r->content_length) < 0) {
            return dl->last_error;
        }
    } else {
        if (!r->has_total && !p->has_total) {
            return discard(dl, P_RETRY, MFOTA_ERR_DL_WRONG_RANGE);
        }
        total = r->has_total ? r->total : p->total;
        if (p->has_total && total != p->total) {
            return discard(dl, P_RESTART, MFOTA_ERR_DL_TOTAL_CHANGED);
        }
        want_last = dl->part_first_ + dl->part_len_ - 1u;
        if (want_last > total - 1u) {
            want_last = total - 1u; /* a first part asked before the total was known */
        }
        if (r->range_first != dl->part_first_ || r->range_last != want_last) {
            return discard(dl, P_RETRY, MFOTA_ERR_DL_WRONG_RANGE);
        }
        if (!p->has_total && set_total(dl, total) < 0) {
            return dl->last_error;
        }
    }
    if (r->has_validator) {
        dl->has_validator = 1;
        dl->validator = r->validator;
    }
    /* A chunked or close-delimited body could run past what the headers
     * promised; the sink must never see such bytes. */
    if (r->has_range) {
        dl->expect_len_ = r->range_last - r->range_first + 1u;
    } else {
        /* The whole file, of a size known or bounded: an endless body
         * must not become an endless download. */
        dl->expect_len_ = p->has_total ? p->total : dl->max_size_;
    }
    dl->mode_ = M_ACCEPT;
    return MFOTA_OK;
}

static int on_416(struct mfota_dl *dl)
{
    const struct mfota_http_response *r = &dl->resp_;
    struct mfota_plan *p = &dl->plan;
    if (!r->has_total) {
        return fail(dl, MFOTA_ERR_DL_UNSATISFIABLE);
    }
    if (p->has_total && r->total == p->total) {
        /* Nothing left past the offset: done, else the server is confused. */
        return dl->part_first_ >= r->total ? discard(dl, P_DONE, MFOTA_OK)
                                           : fail(dl, MFOTA_ERR_DL_UNSATISFIABLE);
    }
    if (!p->has_total && dl->part_first_ == r->total) {
        if (set_total(dl, r->total) < 0) {
            return dl->last_error;
        }
        return discard(dl, P_DONE, MFOTA_OK);
    }
    if (!p->has_total && dl->part_first_ < r->total) {
        return fail(dl, MFOTA_ERR_DL_UNSATISFIABLE);
    }
    /* The size changed (or a resume points past the end): the file changed. */
    return discard(dl, P_RESTART, MFOTA_ERR_DL_TOTAL_CHANGED);
}

static int on_headers(struct mfota_dl *dl)
{
    const struct mfota_http_response *r = &dl->resp_;
    dl->whole_ = 0;
    switch (r->status) {
    case 200:
    case 206:
        return on_success_headers(dl);
    case 401:
        return fail(dl, MFOTA_ERR_DL_UNAUTHORIZED);
    case 403:
        return fail(dl, MFOTA_ERR_DL_FORBIDDEN);
    case 404:
    case 410:
        return fail(dl, MFOTA_ERR_DL_NOT_FOUND);
    case 416:
        return on_416(dl);
    case 429:
    case 503:
        dl->busy_wait_s_ = r->has_retry_after ? r->retry_after_s : backoff_s(dl->attempts_);
        if (dl->busy_wait_s_ > dl->cfg_.max_retry_after_s) {
            return fail(dl, MFOTA_ERR_DL_BUSY);
        }
        return discard(dl, P_WAIT, MFOTA_ERR_DL_BUSY);
    case 500:
    case 502:
    case 504:
        return discard(dl, P_RETRY, MFOTA_ERR_DL_STATUS);
    default:
        return fail(dl, MFOTA_ERR_DL_STATUS);
    }
}

static int on_end(struct mfota_dl *dl, int crc_rc, int keep_conn)
{
    const struct mfota_http_response *r = &dl->resp_;
    const struct mfota_dl_sink *s = dl->cfg_.sink;
    int rc;

    if (dl->mode_ == M_DISCARD) {
        return perform(dl, keep_conn);
    }
    if (crc_rc == MFOTA_ERR_HTTP_CRC) {
        return attempt_failed(dl, MFOTA_ERR_HTTP_CRC, keep_conn);
    }
    if (dl->whole_ && !dl->plan.has_total && set_total(dl, r->body_len) < 0) {
        return dl->last_error;
    }
    if (dl->whole_ && r->body_len != dl->plan.total) {
        return attempt_failed(dl, MFOTA_ERR_HTTP_SHORT_BODY, 0);
    }
    rc = s->part_done(s->ctx, dl->part_first_, dl->delivered_, r->body_crc,
                      r->digest == MFOTA_HTTP_DIGEST_MATCH);
    if (rc < 0) {
        return fail(dl, rc);
    }
    if (rc > 0) {
        dl->yield_ = 1; /* the sink wants control back once this part is settled */
    }
    if (r->digest != MFOTA_HTTP_DIGEST_MATCH) {
        dl->stats.unverified_parts++;
    }
    mfota_plan_advance(&dl->plan, dl->delivered_);
    dl->stats.bytes_done += dl->delivered_;
    dl->delivered_ = 0;
    dl->attempts_ = 0;
    if (keep_conn && dl->in_flight_ > 1 && dl->plan.next == dl->ahead_first_) {
        /* The answer to the request sent ahead comes next on this connection. */
        dl->in_flight_--;
        dl->part_first_ = dl->ahead_first_;
        dl->part_len_ = dl->ahead_len_;
        begin_part(dl);
        arm(dl); /* its own deadline, from the moment it is the one awaited */
        return send_ahead(dl);
    }
    if (!dl->resp_.keep_alive && dl->in_flight_ > 1 && dl->plan.conn_requests > 1u) {
        /* The server closed with a request of ours still unanswered: it
         * serves fewer requests per connection than planned.  Learn its
         * limit so that no further request is lost to it. */
        dl->plan.cfg.per_connection = dl->plan.conn_requests - 1u;
    }
    if (!keep_conn || dl->in_flight_ > 1) {
        close_conn(dl);
    }
    dl->in_flight_ = 0;
    dl->state_ = ST_NEXT;
    return MFOTA_OK;
}

/* ---- the state machine --------------------------------------------------- */

/* The Range line and empty line that end the request for the part being
 * sent (the one asked ahead while sending_ahead_), into tail[]; its length,
 * or 0 when it does not fit. */
static size_t request_tail(const struct mfota_dl *dl, char tail[MFOTA_HTTP_RANGE_TAIL_MAX])
{
    uint32_t first = dl->sending_ahead_ ? dl->ahead_first_ : dl->part_first_;
    uint32_t len = dl->sending_ahead_ ? dl->ahead_len_ : dl->part_len_;
    size_t n = 0;
    return mfota_http_request_tail(tail, MFOTA_HTTP_RANGE_TAIL_MAX, &n, 1, first,
                                   first + len - 1u) == MFOTA_OK ? n : 0u;
}

/* Arm the request for the part named by part_first_/part_len_ (or
 * ahead_first_/ahead_len_ while sending_ahead_) and count it.  Nothing is
 * formatted and kept: the head and the Range tail are copied out piece by
 * piece as they are sent. */
static int write_request(struct mfota_dl *dl)
{
    char buf[MFOTA_HTTP_RANGE_TAIL_MAX];
    size_t tail = request_tail(dl, buf);
    int rc = tail == 0u ? MFOTA_ERR_HTTP_REQUEST_SIZE : MFOTA_OK;
    if (rc == MFOTA_OK && dl->head_len_ + tail > MFOTA_HTTP_REQUEST_MAX) {
        rc = MFOTA_ERR_HTTP_REQUEST_SIZE; /* the limit a whole-request buffer had */
    }
    if (rc != MFOTA_OK) {
        return fail(dl, rc);
    }
    dl->req_len_ = dl->head_len_ + tail;
    dl->sent_ = 0;
    mfota_plan_on_request(&dl->plan);
    dl->stats.requests++;
    dl->in_flight_++;
    dl->state_ = ST_SEND;
    return MFOTA_OK;
}

/* Bytes [pos, pos + cap) of the request being sent, into buf. */
static size_t request_bytes(const struct mfota_dl *dl, size_t pos, char *buf, size_t cap)
{
    size_t n = 0;
    if (pos < dl->head_len_) {
        n = mfota_http_request_head_copy(&dl->url_, dl->cfg_.token, dl->cfg_.token_len, pos,
                                         buf, cap, NULL);
        pos += n;
    }
    if (n < cap && pos >= dl->head_len_) {
        char tail[MFOTA_HTTP_RANGE_TAIL_MAX];
        size_t skip = pos - dl->head_len_, take = request_tail(dl, tail) - skip;
        if (take > cap - n) {
            take = cap - n;
        }
        memcpy(buf + n, tail + skip, take);
        n += take;
    }
    return n;
}

/* Expect the response for the current part (part_first_, part_len_). */
static void begin_part(struct mfota_dl *dl)
{
    mfota_http_response_init(&dl->resp_);
    dl->mode_ = M_ACCEPT;
    dl->pending_ = P_NONE;
    dl->whole_ = 0;
    dl->delivered_ = 0;
    dl->pos_ = dl->part_first_;
}

/* While the current answer is on its way, ask for the following part on the
 * same connection (HTTP/1.1 pipelining, one request deep) so the next
 * answer follows without a round trip in between.  Only in the steady
 * state: total known, no retry going on, room left on the connection. */
static int send_ahead(struct mfota_dl *dl)
{
    uint32_t first;
    uint32_t len;
    dl->state_ = ST_RECV;
    if (!dl->cfg_.pipeline || dl->in_flight_ != 1 || dl->attempts_ != 0 ||
        mfota_plan_must_reconnect(&dl->plan) ||
        mfota_plan_part_at(&dl->plan, dl->part_first_ + dl->part_len_, &first, &len) !=
            MFOTA_OK) {
        return MFOTA_OK;
    }
    dl->ahead_first_ = first;
    dl->ahead_len_ = len;
    dl->sending_ahead_ = 1;
    return write_request(dl);
}

static int start_request(struct mfota_dl *dl)
{
    dl->rx_pos_ = dl->rx_len_ = 0;
    dl->in_flight_ = 0;
    dl->sending_ahead_ = 0;
    begin_part(dl);
    arm(dl);
    return write_request(dl);
}

static int step_next(struct mfota_dl *dl)
{
    uint32_t len;
    int rc = mfota_plan_next(&dl->plan, &dl->part_first_, &len);
    if (rc == MFOTA_DONE) {
        close_conn(dl);
        dl->state_ = ST_DONE;
        return MFOTA_OK;
    }
    if (rc != MFOTA_OK) {
        return fail(dl, rc);
    }
    dl->part_len_ = len;
    if (dl->connected_ && mfota_plan_must_reconnect(&dl->plan)) {
        close_conn(dl);
    }
    if (!dl->connected_) {
        arm(dl);
        dl->state_ = ST_CONNECT;
        return MFOTA_OK;
    }
    return start_request(dl);
}

static int step_connect(struct mfota_dl *dl)
{
    const struct mfota_transport *t = dl->cfg_.transport;
    char *host = (char *)dl->cfg_.tx_buf; /* free while connecting; rewritten for every call */
    int rc;
    memcpy(host, dl->url_.host, dl->url_.host_len);
    host[dl->url_.host_len] = '\0';
    rc = t->connect(t->ctx, host, dl->url_.port);
    if (rc == MFOTA_WOULD_BLOCK) {
        if (expired(dl)) {
            t->close(t->ctx);
            rc = MFOTA_ERR_DL_TIMEOUT;
        } else {
            return MFOTA_WOULD_BLOCK;
        }
    }
    if (rc < 0) {
        t->close(t->ctx);
        dl->last_error = rc;
        if (++dl->attempts_ > dl->cfg_.max_retries) {
            return fail(dl, rc);
        }
        dl->stats.retries++;
        dl->wake_at_ = now_ms(dl) + (uint64_t)backoff_s(dl->attempts_ - 1u) * 1000u;
        dl->state_ = ST_WAIT;
        return MFOTA_OK;
    }
    dl->connected_ = 1;
    dl->stats.connections++;
    mfota_plan_on_connect(&dl->plan);
    return start_request(dl);
}

static int step_send(struct mfota_dl *dl)
{
    const struct mfota_transport *t = dl->cfg_.transport;
    while (dl->sent_ < dl->req_len_) {
        size_t n = 0, len = request_bytes(dl, dl->sent_, (char *)dl->cfg_.tx_buf,
                                          dl->cfg_.tx_cap);
        int rc = t->send(t->ctx, dl->cfg_.tx_buf, len, &n);
        if (rc == MFOTA_WOULD_BLOCK) {
            if (expired(dl)) {
                return attempt_failed(dl, MFOTA_ERR_DL_TIMEOUT, 0);
            }
            return MFOTA_WOULD_BLOCK;
        }
        if ((rc < 0 || n == 0 || n > len) && dl->sending_ahead_) {
            /* Only the request sent ahead did not get out whole -- a server
             * that closes after its last answer, which may already be here.
             * That request is lost (it still counts against the budget), not
             * the part being received; the connection takes no more. */
            dl->sending_ahead_ = 0;
            dl->in_flight_--;
            dl->spoilt_ = 1;
            dl->state_ = ST_RECV;
            return MFOTA_OK;
        }
        if (rc < 0 || n == 0 || n > len) {
            return attempt_failed(dl, rc < 0 ? rc : MFOTA_ERR_DL_IO, 0);
        }
        dl->sent_ += n;
        dl->stats.request_bytes += (uint32_t)n; /* counts modulo 2^32 */
    }
    if (dl->sending_ahead_) {
        dl->sending_ahead_ = 0;
        dl->state_ = ST_RECV;
        return MFOTA_OK;
    }
    return send_ahead(dl);
}

/* The peer closed the connection while this response was being read. */
static int on_eof(struct mfota_dl *dl)
{
    struct mfota_http_event ev;
    int untouched = dl->resp_.header_bytes_ == 0;
    int rc = mfota_http_response_eof(&dl->resp_, &ev);
    close_conn(dl);
    if (ev.kind == MFOTA_HTTP_EV_END) {
        return on_end(dl, rc, 0);
    }
    if (dl->mode_ == M_DISCARD && dl->pending_ != P_NONE) {
        return perform(dl, 0);
    }
    return attempt_failed(dl, untouched ? MFOTA_ERR_DL_CLOSED : MFOTA_ERR_HTTP_SHORT_BODY, 0);
}

static int step_recv(struct mfota_dl *dl, uint32_t io_wait_ms)
{
    const struct mfota_transport *t = dl->cfg_.transport;
    const struct mfota_dl_sink *s = dl->cfg_.sink;
    struct mfota_http_event ev;
    size_t used;
    int rc;
    /* Input is needed only after the parser said so: an EV_END can still be
     * pending after the last body byte, with no bytes left to feed. */
    int need_input = dl->rx_pos_ == dl->rx_len_;

    while (dl->state_ == ST_RECV) {
        if (need_input && dl->rx_pos_ == dl->rx_len_) {
            size_t got = 0;
            uint64_t now = now_ms(dl);
            /* Checked before every read, not only when nothing came: a peer
             * sending a byte now and then must not hold the part forever. */
            if (now >= dl->deadline_) {
                return attempt_failed(dl, MFOTA_ERR_DL_TIMEOUT, 0);
            }
            if (dl->deadline_ - now < io_wait_ms) {
                io_wait_ms = (uint32_t)(dl->deadline_ - now);
            }
            rc = t->recv(t->ctx, dl->cfg_.rx_buf, dl->cfg_.rx_cap, &got, io_wait_ms);
            if (rc == MFOTA_WOULD_BLOCK) {
                if (expired(dl)) {
                    return attempt_failed(dl, MFOTA_ERR_DL_TIMEOUT, 0);
                }
                return MFOTA_WOULD_BLOCK;
            }
            if (rc == MFOTA_DONE) {
                return on_eof(dl);
            }
            if (rc < 0 || got == 0 || got > dl->cfg_.rx_cap) {
                return attempt_failed(dl, rc < 0 ? rc : MFOTA_ERR_DL_IO, 0);
            }
            dl->rx_pos_ = 0;
            dl->rx_len_ = got;
        }
        rc = mfota_http_response_feed(&dl->resp_, dl->cfg_.rx_buf + dl->rx_pos_,
                                      dl->rx_len_ - dl->rx_pos_, &used, &ev);
        dl->rx_pos_ += used;
        need_input = rc == MFOTA_NEED_MORE;
        if (need_input) {
            continue;
        }
        if (rc == MFOTA_ERR_DL_TOO_LARGE) {
            return fail(dl, rc); /* a file of 4 GiB or more: asking again cannot help */
        }
        if (rc < 0 && rc != MFOTA_ERR_HTTP_CRC) {
            return attempt_failed(dl, rc, 0); /* malformed: the connection is unusable */
        }
        switch (ev.kind) {
        case MFOTA_HTTP_EV_HEADERS:
            rc = on_headers(dl);
            if (rc < 0) {
                return rc;
            }
            break;
        case MFOTA_HTTP_EV_BODY:
            dl->stats.body_bytes += (uint32_t)ev.len;
            if (dl->mode_ == M_ACCEPT) {
                if (ev.len > dl->expect_len_ - dl->delivered_) {
                    if (dl->whole_ && !dl->plan.has_total) {
                        /* A file of unknown size past max_size: asking
                         * again would stream it again, so this attempt is
                         * the last (the part is still failed to the sink). */
                        dl->attempts_ = dl->cfg_.max_retries;
                        return attempt_failed(dl, MFOTA_ERR_DL_TOO_LARGE, 0);
                    }
                    /* Past a known total: a bad body, retried like a bad range. */
                    return attempt_failed(dl, MFOTA_ERR_HTTP_RANGE, 0);
                }
                rc = s->data(s->ctx, dl->pos_, ev.data, ev.len);
                if (rc < 0) {
                    return fail(dl, rc);
                }
                dl->pos_ += (uint32_t)ev.len; /* <= expect_len_ - delivered_ */
                dl->delivered_ += (uint32_t)ev.len;
            }
            break;
        case MFOTA_HTTP_EV_END:
            /* Bytes after the response were never asked for: the connection
             * is out of step, so it is not reused. */
            return on_end(dl, rc, dl->resp_.keep_alive && !dl->spoilt_ &&
                                      (dl->rx_pos_ == dl->rx_len_ || dl->in_flight_ > 1));
        default:
            return attempt_failed(dl, MFOTA_ERR_STATE, 0);
        }
    }
    return MFOTA_OK;
}

int mfota_dl_step(struct mfota_dl *dl, uint32_t io_wait_ms)
{
    int rc = MFOTA_OK;
    for (;;) {
        if (dl->end_at_ != UINT64_MAX && dl->state_ < ST_DONE && now_ms(dl) >= dl->end_at_) {
            return fail(dl, MFOTA_ERR_DL_DEADLINE);
        }
        switch (dl->state_) {
        case ST_NEXT:
            rc = step_next(dl);
            break;
        case ST_CONNECT:
            rc = step_connect(dl);
            break;
        case ST_SEND:
            rc = step_send(dl);
            break;
        case ST_RECV:
            rc = step_recv(dl, io_wait_ms);
            break;
        case ST_WAIT:
            if (dl->wake_at_ >= dl->end_at_) {
                return fail(dl, MFOTA_ERR_DL_DEADLINE); /* the wait would outlast the download */
            }
            if (now_ms(dl) < dl->wake_at_) {
                return MFOTA_WAIT;
            }
            dl->state_ = ST_NEXT;
            break;
        case ST_DONE:
            return MFOTA_DONE;
        case ST_FAILED:
            return dl->last_error;
        default:
            return MFOTA_ERR_STATE;
        }
        if (rc != MFOTA_OK) {
            return rc;
        }
        if (dl->yield_) {
            dl->yield_ = 0;
            return MFOTA_WOULD_BLOCK;
        }
    }
}

int mfota_dl_run(struct mfota_dl *dl)
{
    const struct mfota_clock *c = dl->cfg_.clock;
    for (;;) {
        uint64_t now = now_ms(dl);
        uint32_t wait = dl->cfg_.timeout_ms;
        int rc;
        if (dl->state_ == ST_RECV || dl->state_ == ST_SEND) {
            wait = dl->deadline_ <= now ? 1u
                   : dl->deadline_ - now < wait ? (uint32_t)(dl->deadline_ - now) : wait;
        }
        rc = mfota_dl_step(dl, wait);
        if (rc == MFOTA_DONE) {
            return MFOTA_OK;
        }
        if (rc < 0) {
            return rc;
        }
        if (c->sleep_ms == NULL) {
            if (rc == MFOTA_WAIT) {
                mfota_dl_abort(dl);
                return MFOTA_ERR_INVAL; /* cannot wait without a sleep function */
            }
            continue;
        }
        if (rc == MFOTA_WAIT) {
            uint64_t t = dl->wake_at_ > now_ms(dl) ? dl->wake_at_ - now_ms(dl) : 0u;
            c->sleep_ms(c->ctx, t > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)t);
        } else if (dl->state_ != ST_RECV) {
            /* connect/send would block: a recv() timeout cannot pace us here */
            c->sleep_ms(c->ctx, 1);
        }
    }
}
