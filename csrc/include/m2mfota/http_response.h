/*
 * Incremental HTTP/1.1 response parser (sans-IO, in the style of h11).
 *
 * Feed it whatever bytes the transport produced -- split anywhere, one at a
 * time included -- and it hands back events: the headers are complete, a run
 * of body bytes (pointing into the caller's input: no copy), the message is
 * complete.  It keeps only the fields a firmware download needs (status,
 * Content-Length, Content-Range, Digest crc32, Connection, Retry-After, a
 * hash of ETag / Last-Modified, Transfer-Encoding: chunked), runs CRC-32 over
 * the body as it passes and checks it against `Digest: crc32=<hex>` at the end.
 *
 * It is the one HTTP response parser of the core: the downloader feeds it
 * file-server responses, and the client engine frames the ingestion
 * endpoint's answer to an uplink (whose body is the downlink) with
 * mfota_http_response_collect(), so both get the same bounds and refusals.
 *
 * State is one caller-allocated struct of a few hundred bytes; nothing is
 * allocated.  The status line and header block are bounded by
 * MFOTA_HTTP_HEADER_MAX, a kept header line by MFOTA_HTTP_LINE_MAX.
 */
#ifndef MFOTA_HTTP_RESPONSE_H
#define MFOTA_HTTP_RESPONSE_H

#include <stddef.h>
#include <stdint.h>

#include "m2mfota/config.h"

#ifdef __cplusplus
extern "C" {
#endif

enum mfota_http_event_kind {
    MFOTA_HTTP_EV_NONE = 0,
    MFOTA_HTTP_EV_HEADERS = 1, /* status and header fields are final (1xx are skipped) */
    MFOTA_HTTP_EV_BODY = 2,    /* data/len: body bytes, already counted in the CRC */
    MFOTA_HTTP_EV_END = 3      /* the message is complete and its Digest (if any) matched */
};

struct mfota_http_event {
    int kind;                 /* enum mfota_http_event_kind */
    const uint8_t *data;      /* EV_BODY: points into the input given to feed() */
    size_t len;
};

/* What kind of Digest check the finished body passed. */
enum mfota_http_digest {
    MFOTA_HTTP_DIGEST_NONE = 0,     /* no crc32 in Digest: body unverified */
    MFOTA_HTTP_DIGEST_MATCH = 1,    /* CRC-32 of the body equals the Digest */
    MFOTA_HTTP_DIGEST_MISMATCH = 2  /* it does not (feed returned MFOTA_ERR_HTTP_CRC) */
};

struct mfota_http_response {
    /* ---- results, valid from EV_HEADERS on ---- */
    uint16_t status;          /* 100..999 */
    uint8_t version_minor;    /* HTTP/1.x */
    uint8_t keep_alive;       /* 0 when the server will close (Connection: close, HTTP/1.0) */
    uint8_t chunked;          /* Transfer-Encoding: chunked */
    uint8_t has_length;       /* Content-Length given (and not overridden by chunked) */
    uint8_t has_range;        /* Content-Range "bytes first-last/total" */
    uint8_t has_total;        /* total known: from Content-Range .../total or bytes star/total */
    uint8_t has_digest;       /* Digest carried a crc32 value */
    uint8_t has_retry_after;  /* Retry-After in delay seconds */
    uint8_t has_validator;    /* ETag or Last-Modified seen */
    uint8_t digest;           /* enum mfota_http_digest, final at EV_END */
    /* Sizes are 32-bit: an image is below 4 GiB, and a Content-Length,
     * Content-Range number or chunk size above 0xFFFFFFFF makes feed()
     * return MFOTA_ERR_DL_TOO_LARGE. */
    uint32_t content_length;
    uint32_t range_first, range_last, total;
    uint32_t digest_crc;      /* the value the server claims */
    uint32_t retry_after_s;   /* saturates at 0xFFFFFFFF */
    uint32_t validator;       /* CRC-32 of the ETag value, else of Last-Modified */
    uint32_t body_crc;        /* CRC-32 of the body so far */
    uint32_t body_len;        /* body bytes so far */

    /* ---- private ---- */
    uint8_t state_;
    uint8_t cr_;              /* previous byte was CR */
    uint8_t overflow_;        /* current line exceeded the line buffer */
    uint8_t etag_seen_;
    uint8_t conn_;            /* Connection tokens seen (close / keep-alive) */
    uint16_t line_len_;
    uint32_t header_bytes_;
    uint32_t remaining_;      /* of the body or the current chunk */
    char line_[MFOTA_HTTP_LINE_MAX];
};

/* Reset `r` to expect a new response (also between responses on one
 * connection).  Cannot fail. */
void mfota_http_response_init(struct mfota_http_response *r);

/* Consume bytes from data[0..len) up to and including the next event.
 * Returns:
 *   MFOTA_OK        *ev holds an event; *used bytes were consumed (call again
 *                   with the rest: bytes after EV_END belong to the next message)
 *   MFOTA_NEED_MORE all `len` bytes consumed, no event (*used == len)
 *   MFOTA_ERR_HTTP_CRC  the body ended (as EV_END would) but its CRC-32 is not
 *                   the Digest value: the message framing is intact, the
 *                   connection may be reused, the body must be discarded
 *   other negative  malformed input (MFOTA_ERR_HTTP_SYNTAX, _TOO_LONG, _LENGTH,
 *                   _RANGE, _CHUNK, _DIGEST, _ENCODING); the parser then
 *                   stays failed, and the connection cannot be trusted
 *   MFOTA_ERR_DL_TOO_LARGE  a Content-Length, a Content-Range number, a
 *                   chunk size or the body so far is above 0xFFFFFFFF (an
 *                   image of 4 GiB or more); the parser stays failed
 *   MFOTA_ERR_STATE feed after EV_END or after an error
 * `data` may be NULL when len is 0. */
int mfota_http_response_feed(struct mfota_http_response *r, const uint8_t *data, size_t len,
                             size_t *used, struct mfota_http_event *ev);

/* The peer closed the connection.  For a body delimited by the close this
 * completes the message: *ev = EV_END and MFOTA_OK (or MFOTA_ERR_HTTP_CRC);
 * in the middle of a length- or chunk-delimited body, or of the headers,
 * MFOTA_ERR_HTTP_SHORT_BODY; after EV_END, MFOTA_DONE. */
int mfota_http_response_eof(struct mfota_http_response *r, struct mfota_http_event *ev);

/* For small responses kept whole (the uplink's response, whose body is the
 * downlink): feed data[0..len) and copy the body into body[0..cap).
 * r->status and r->body_len tell the outcome.  Returns MFOTA_NEED_MORE (all
 * of `len` used), MFOTA_DONE (the message is complete; bytes after *used
 * belong to the next one), MFOTA_ERR_NOSPC when the body is longer than
 * `cap` (nothing past cap is written), or any error of feed(), the Digest
 * mismatch MFOTA_ERR_HTTP_CRC included.  `body` may be NULL when cap is 0. */
int mfota_http_response_collect(struct mfota_http_response *r, const uint8_t *data, size_t len,
                                size_t *used, uint8_t *body, size_t cap);

/* The peer closed the connection during collect(): MFOTA_DONE when that
 * completes the message (a close-delimited body, or already complete), else
 * MFOTA_ERR_HTTP_SHORT_BODY (or MFOTA_ERR_HTTP_CRC). */
int mfota_http_response_collect_eof(struct mfota_http_response *r);

/* 1 once EV_END was delivered (or MFOTA_ERR_HTTP_CRC, which ends the body too). */
int mfota_http_response_complete(const struct mfota_http_response *r);

#ifdef __cplusplus
}
#endif

#endif /* MFOTA_HTTP_RESPONSE_H */
