/*
 * Ranged firmware download: fetches [offset, total) of one file into a sink.
 *
 * It plans parts (range_plan.h), writes one GET per part (http_request.h),
 * parses the response as it arrives (http_response.h) and streams the body
 * to the sink without buffering a part.  It re-fetches a part whose CRC-32
 * disagrees with the Digest, reconnects after a dropped connection (every
 * 100 requests, and whenever the server says Connection: close), waits out
 * 429/503 Retry-After (bounded), starts over when the file changes under it,
 * stops with a distinct error on 401/403/404 and unusable 416, and never
 * delivers bytes at an offset other than the one they belong to.
 *
 * With `pipeline` set it keeps one request ahead on the connection (HTTP/1.1
 * pipelining): the next part's request leaves while the current answer is
 * arriving, which hides a round trip per part -- seconds on NB-IoT.  Any
 * failure, Connection: close or retry drops back to one request at a time
 * on a fresh connection; a request lost that way still counts against the
 * budget, and never more than per_connection requests go on one connection.
 * When a server closes earlier than per_connection with a request still
 * unanswered, the downloader lowers its per-connection count to what the
 * server served, so the loss happens once, not on every connection.
 *
 * The downloader is a state machine: mfota_dl_step() makes as much progress
 * as the transport allows and returns MFOTA_WOULD_BLOCK (waiting for the
 * transport) or MFOTA_WAIT (waiting until mfota_dl_wake_at()), so an event
 * loop can drive it; mfota_dl_run() is the blocking loop on top of it.
 *
 * The sink contract (what a flash writer implements)
 * ---------------------------------------------------
 * Bytes of a part arrive through data() in order, at increasing offsets,
 * UNVERIFIED: write them (e.g. into erased flash) but do not trust them yet.
 * Then exactly one of:
 *   part_done(offset, len, crc, verified)  the part [offset, offset+len) is
 *       complete; crc is CRC-32 of those len bytes; verified is 1 when the
 *       server's Digest matched, 0 when the server sent none (docs/protocol.md §6:
 *       accept, the whole-image check must catch errors).  A journal records
 *       progress here.  len may exceed the planned part size when a server
 *       that ignored Range sent the whole file from offset 0.
 *   part_failed(offset, len, reason)  the len bytes given since the part
 *       began at offset are void (CRC mismatch, dropped connection, short
 *       body, timeout...): the same part will be fetched again from offset,
 *       so re-erase what was written.  Called only when len > 0.
 * total(total, restarted) is called when the file size becomes known, and
 * with restarted = 1 when the file changed on the server (new size or
 * ETag/Last-Modified): everything delivered before is void and delivery
 * starts again at offset 0.  After a restart the new size may not be known
 * yet (total == MFOTA_DL_TOTAL_UNKNOWN); a call with restarted = 0 follows
 * once it is.  A NULL total() makes such a change an error
 * (MFOTA_ERR_DL_TOTAL_CHANGED).  A negative return from any sink function
 * stops the download with that code.  A positive return from part_done()
 * makes step() return MFOTA_WOULD_BLOCK once that part is settled, so the
 * caller can act between parts (the client engine sends a progress uplink).
 */
#ifndef MFOTA_DOWNLOADER_H
#define MFOTA_DOWNLOADER_H

#include <stddef.h>
#include <stdint.h>

#include "m2mfota/config.h"
#include "m2mfota/http_response.h"
#include "m2mfota/range_plan.h"
#include "m2mfota/transport.h"
#include "m2mfota/url.h"

#ifdef __cplusplus
extern "C" {
#endif

/* total() argument for "restarted, new size not known yet".  No file has
 * this size: sizes are 32-bit, and the largest file accepted is one byte
 * less (see max_size). */
#define MFOTA_DL_TOTAL_UNKNOWN UINT32_MAX

/* Offsets and lengths are 32-bit: an image is below 4 GiB (a larger one is
 * refused with MFOTA_ERR_DL_TOO_LARGE before any byte reaches the sink), and
 * 64-bit arguments cost code on every call of a 32-bit MCU. */
struct mfota_dl_sink {
    int (*data)(void *ctx, uint32_t offset, const uint8_t *data, size_t len);
    int (*part_done)(void *ctx, uint32_t offset, uint32_t len, uint32_t crc, int verified);
    int (*part_failed)(void *ctx, uint32_t offset, uint32_t len, int reason); /* may be NULL */
    int (*total)(void *ctx, uint32_t total, int restarted);                   /* may be NULL */
    void *ctx;
};

struct mfota_dl_config {
    const struct mfota_transport *transport;
    const struct mfota_clock *clock;
    const struct mfota_dl_sink *sink;
    const char *url;           /* http://host[:port]/path; must outlive the download */
    size_t url_len;
    const char *token;         /* bearer token; must outlive the download (each request's
                                * head is sent in pieces from it, never copied whole) */
    size_t token_len;
    struct mfota_plan_config plan;
    uint64_t offset;           /* first byte wanted (resume) */
    uint64_t total;            /* file size when known (has_total) */
    uint32_t requests_used;    /* requests already spent on this download (resume) */
    uint32_t validator;        /* hash of ETag/Last-Modified from before (has_validator) */
    uint32_t timeout_ms;       /* deadline of a connect, and of each part's request + whole
                                * response (not an idle timeout: bytes arriving slowly do not
                                * extend it); past it the attempt failed (MFOTA_ERR_DL_TIMEOUT) */
    uint32_t max_time_ms;      /* 0, or the deadline of the whole download from init, waits
                                * and retries included: past it MFOTA_ERR_DL_DEADLINE */
    uint64_t max_size;         /* largest file accepted (MFOTA_ERR_DL_TOO_LARGE beyond it):
                                * bounds a body that ignored Range and carries no length;
                                * above 0xFFFFFFFE it is 0xFFFFFFFE (images are < 4 GiB,
                                * and 0xFFFFFFFF is MFOTA_DL_TOTAL_UNKNOWN) */
    uint32_t max_retries;      /* failed attempts in a row before giving up */
    uint32_t max_retry_after_s;/* longest Retry-After waited out */
    uint32_t max_restarts;     /* file changes tolerated */
    uint8_t has_total;
    uint8_t has_validator;
    uint8_t accept_whole_body; /* take a Range-ignoring 200 when the part starts at 0 */
    uint8_t pipeline;          /* send the next request before the answer (MFOTA_DL_PIPELINE) */
    uint8_t *rx_buf;           /* receive buffer (caller's), at least 64 bytes */
    size_t rx_cap;
    uint8_t *tx_buf;           /* send buffer (caller's), at least 16 bytes and longer than the
                                * URL's host: each request goes out through it in pieces
                                * (MFOTA_DL_SEND_CHUNK bytes is a good size), and it holds the
                                * NUL-terminated host during connect().  Scratch: its contents
                                * are not kept between calls of step(), so a caller may use it
                                * for other things in between */
    size_t tx_cap;
};

/* Byte counts are 32-bit like every size here; they count modulo 2^32
 * (only retries over a file near 4 GiB could wrap them). */
struct mfota_dl_stats {
    uint32_t requests;         /* sent in this run (parts + retries) */
    uint32_t connections;      /* opened in this run */
    uint32_t retries;          /* failed attempts that were repeated */
    uint32_t restarts;         /* file changed: started over */
    uint32_t waits;            /* 429/503 waited out */
    uint32_t unverified_parts; /* parts without a Digest */
    uint32_t body_bytes;       /* body bytes received, discarded ones included */
    uint32_t bytes_done;       /* bytes in completed parts */
    uint32_t request_bytes;    /* bytes of requests sent */
};

struct mfota_dl {
    /* ---- read-only for the caller ---- */
    struct mfota_dl_stats stats;
    struct mfota_plan plan;    /* plan.requests: budget used, incl. requests_used */
    uint32_t validator;
    uint8_t has_validator;
    int last_error;            /* reason of the most recent failed attempt */

    /* ---- private ---- */
    struct mfota_dl_config cfg_;
    struct mfota_url url_;     /* slices of cfg.url: the request head is sent from them */
    struct mfota_http_response resp_;
    uint64_t wake_at_;
    uint64_t deadline_;        /* the connect or part attempt in progress fails at this time */
    uint64_t end_at_;          /* max_time_ms from init, when set */
    uint32_t part_first_;
    uint32_t part_len_;        /* requested length */
    uint32_t delivered_;
    uint32_t expect_len_;      /* body bytes the headers promised */
    uint32_t pos_;
    size_t head_len_, req_len_, sent_;
    size_t rx_pos_, rx_len_;
    uint32_t attempts_;        /* failed attempts in a row */
    uint32_t busy_wait_s_;
    uint32_t max_size_;        /* cfg.max_size, at most 0xFFFFFFFE: sizes are 32-bit here */
    uint32_t ahead_first_;     /* the part requested ahead, when in_flight_ == 2 */
    uint32_t ahead_len_;
    uint8_t in_flight_;        /* requests sent on this connection, not yet answered */
    uint8_t sending_ahead_;
    int pending_;              /* what to do when a discarded body ends */
    uint8_t state_;
    uint8_t mode_;
    uint8_t connected_;
    uint8_t whole_;            /* this response is the whole file */
    uint8_t yield_;            /* part_done() asked step() to return */
    uint8_t spoilt_;           /* a request went out torn: no more on this connection */
};

/* Defaults from config.h: plan defaults, timeout MFOTA_DL_TIMEOUT_MS,
 * max_size MFOTA_DL_MAX_SIZE, no max_time,
 * retries, Retry-After bound, restarts, pipelining, accept_whole_body = 1;
 * pointers NULL. */
void mfota_dl_config_default(struct mfota_dl_config *cfg);

/* Prepare a download.  Keeps pointers to cfg's URL and token: each request
 * is sent from them in pieces of at most MFOTA_DL_SEND_CHUNK bytes, so they
 * must stay unchanged and alive while the download runs (a new token means a
 * new download); cfg's HAL structs and rx_buf must outlive it too.  Returns
 * MFOTA_OK; MFOTA_ERR_URL_* for a bad URL (MFOTA_ERR_URL_TOO_LONG for a host
 * longer than MFOTA_HOST_MAX or than tx_cap leaves room for); MFOTA_ERR_INVAL
 * for a missing HAL, sink function or buffer, a token with bytes not allowed
 * in a header;
 * MFOTA_ERR_HTTP_REQUEST_SIZE when URL + token do not fit a request;
 * MFOTA_ERR_DL_BUDGET when requests_used already spent the budget. */
int mfota_dl_init(struct mfota_dl *dl, const struct mfota_dl_config *cfg);

/* Make progress.  io_wait_ms is handed to transport recv() as its timeout
 * (0 for an event loop; never more than the attempt's deadline leaves).
 * A part whose response is not complete by its deadline fails with
 * MFOTA_ERR_DL_TIMEOUT and is retried like any failed attempt; the whole
 * download fails with MFOTA_ERR_DL_DEADLINE once max_time_ms is spent (a
 * Retry-After wait that would end past it fails at once); a file, or a
 * Range-ignoring body of a file of unknown size, larger than max_size ends
 * it with MFOTA_ERR_DL_TOO_LARGE (such a body past a known total is a bad
 * attempt, MFOTA_ERR_HTTP_RANGE, retried).  Returns MFOTA_DONE when
 * [offset, total) has been delivered (the connection is closed); MFOTA_WOULD_BLOCK when the
 * transport has nothing yet; MFOTA_WAIT when nothing is due before
 * mfota_dl_wake_at(); a negative code when the download failed for good
 * (the connection is closed, the error is also in last_error).  After
 * DONE or an error, step() returns the same value again. */
int mfota_dl_step(struct mfota_dl *dl, uint32_t io_wait_ms);

/* Clock time (clock->now_ms) before which step() has nothing to do, valid
 * after step() returned MFOTA_WAIT. */
uint64_t mfota_dl_wake_at(const struct mfota_dl *dl);

/* Blocking download: step() until done, sleeping through clock->sleep_ms
 * for MFOTA_WAIT, handing recv() the rest of the timeout.  Returns MFOTA_OK
 * or the error. */
int mfota_dl_run(struct mfota_dl *dl);

/* Stop: close the connection; step() then returns MFOTA_ERR_STATE. */
void mfota_dl_abort(struct mfota_dl *dl);

#ifdef __cplusplus
}
#endif

#endif /* MFOTA_DOWNLOADER_H */
