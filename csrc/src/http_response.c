#include "m2mfota/http_response.h"

#include <string.h>

#include "m2mfota/crc32.h"
#include "m2mfota/err.h"
#include "ascii.h"
#include "noinline.h"

enum {
    S_STATUS = 0,
    S_HEADER,
    S_BODY_LEN,
    S_BODY_CLOSE,
    S_CHUNK_SIZE,
    S_CHUNK_DATA,
    S_CHUNK_CRLF,
    S_TRAILER,
    S_END_PENDING, /* body complete: EV_END on the next call */
    S_DONE,
    S_FAILED
};

/* Connection header tokens seen, in conn_. */
#define CONN_CLOSE 1u
#define CONN_KEEP_ALIVE 2u


/* Case-insensitive equality of s[0..n) with the lowercase NUL-terminated word. */
static int ieq(const char *s, size_t n, const char *word)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (word[i] == '\0' || mfota_ascii_lower_((unsigned char)s[i]) != word[i]) {
            return 0;
        }
    }
    return word[n] == '\0';
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t')) {
        (*n)--;
    }
}

/* Decimal digits only, no sign, no spaces: 0 on success, -1 for bad
 * syntax, 1 when the value is above 0xFFFFFFFF (sizes are 32-bit: an image
 * of 4 GiB or more is refused, never wrapped into a small one). */
static int parse_dec(const char *s, size_t n, uint32_t *out)
{
    uint32_t v = 0;
    size_t i;
    int over = 0;
    if (n == 0) {
        return -1;
    }
    for (i = 0; i < n; i++) {
        uint32_t d = (uint32_t)(s[i] - '0');
        if (d > 9u) {
            return -1;
        }
        if (v > (0xFFFFFFFFu - d) / 10u) {
            over = 1; /* keep scanning: bad syntax still wins */
        }
        v = v * 10u + d;
    }
    *out = v;
    return over;
}

/* parse_dec's result as a header error: `bad` for syntax, too large else. */
static int dec_err(int rc, int bad)
{
    return rc < 0 ? bad : MFOTA_ERR_DL_TOO_LARGE;
}

void mfota_http_response_init(struct mfota_http_response *r)
{
    memset(r, 0, sizeof *r);
    r->state_ = S_STATUS;
}

int mfota_http_response_complete(const struct mfota_http_response *r)
{
    return r->state_ == S_DONE;
}

/* ---- header fields ------------------------------------------------------ */

static int on_content_range(struct mfota_http_response *r, const char *v, size_t n)
{
    size_t i = 0, dash, slash;
    uint32_t first = 0, last = 0, total = 0;
    int star_range, star_total, rc;

    if (n < 6 || !ieq(v, 5, "bytes") || v[5] != ' ') {
        return MFOTA_ERR_HTTP_RANGE;
    }
    i = 6;
    for (slash = i; slash < n && v[slash] != '/'; slash++) {
    }
    if (slash >= n) {
        return MFOTA_ERR_HTTP_RANGE;
    }
    star_range = (slash - i == 1 && v[i] == '*');
    star_total = (n - slash - 1 == 1 && v[slash + 1] == '*');
    if (!star_range) {
        for (dash = i; dash < slash && v[dash] != '-'; dash++) {
        }
        if (dash >= slash) {
            return MFOTA_ERR_HTTP_RANGE;
        }
        rc = parse_dec(v + i, dash - i, &first);
        if (rc == 0) {
            rc = parse_dec(v + dash + 1, slash - dash - 1, &last);
        }
        if (rc != 0) {
            return dec_err(rc, MFOTA_ERR_HTTP_RANGE);
        }
        if (first > last) {
            return MFOTA_ERR_HTTP_RANGE;
        }
    }
    if (!star_total) {
        rc = parse_dec(v + slash + 1, n - slash - 1, &total);
        if (rc != 0) {
            return dec_err(rc, MFOTA_ERR_HTTP_RANGE);
        }
    }
    if (star_range && star_total) {
        return MFOTA_ERR_HTTP_RANGE;
    }
    if (!star_range && !star_total && last >= total) {
        return MFOTA_ERR_HTTP_RANGE;
    }
    if (r->has_range || r->has_total) {
        return MFOTA_ERR_HTTP_RANGE; /* two Content-Range fields: refuse to pick one */
    }
    r->has_range = (uint8_t)!star_range;
    r->has_total = (uint8_t)!star_total;
    r->range_first = first;
    r->range_last = last;
    r->total = total;
    return MFOTA_OK;
}

/* Comma-separated list members of Connection and Digest, one at a time. */
static int next_token(const char *v, size_t n, size_t *pos, const char **tok, size_t *tn)
{
    size_t end = *pos;
    if (*pos > n) {
        return 0;
    }
    while (end < n && v[end] != ',') {
        end++;
    }
    *tok = v + *pos;
    *tn = end - *pos;
    trim(tok, tn);
    *pos = end + 1;
    return 1;
}

/* Digest: alg=value[, alg=value...]; only crc32 matters here. */
static int on_digest(struct mfota_http_response *r, const char *v, size_t n)
{
    const char *e;
    size_t en, pos = 0;
    while (next_token(v, n, &pos, &e, &en)) {
        uint32_t crc = 0;
        size_t k = 6;
        if (en < 6 || !ieq(e, 6, "crc32=")) {
            continue;
        }
        if (en < 7 || en > 14) {
            return MFOTA_ERR_HTTP_DIGEST; /* 1 to 8 hex digits */
        }
        for (; k < en; k++) {
            int h = mfota_ascii_hexval_((unsigned char)e[k]);
            if (h < 0) {
                return MFOTA_ERR_HTTP_DIGEST;
            }
            crc = (crc << 4) | (uint32_t)h;
        }
        if (r->has_digest && r->digest_crc != crc) {
            return MFOTA_ERR_HTTP_DIGEST;
        }
        r->has_digest = 1;
        r->digest_crc = crc;
    }
    return MFOTA_OK;
}

/* The header fields this parser acts on, by index (H_*): one table for
 * telling kept lines from skipped ones and for acting on them. */
enum { H_DIGEST = 0, H_LENGTH, H_RANGE, H_CONNECTION, H_ENCODING, H_RETRY, H_ETAG, H_MODIFIED,
       H_COUNT };
static const char *const header_names[H_COUNT] = {
    "digest", "content-length", "content-range", "connection", "transfer-encoding",
    "retry-after", "etag", "last-modified"};

/* The H_* index of a field name, or H_COUNT for one this parser ignores.
 * Only Digest is read from trailers: framing and metadata fields are not
 * allowed there. */
static int header_index(const char *name, size_t nn, int trailer)
{
    int i;
    for (i = 0; i < (trailer ? 1 : H_COUNT); i++) {
        if (ieq(name, nn, header_names[i])) {
            return i;
        }
    }
    return H_COUNT;
}

static int on_header(struct mfota_http_response *r, int which, const char *v, size_t vn)
{
    const char *tok;
    size_t tn, pos = 0;
    uint32_t n;
    int rc;

    switch (which) {
    case H_DIGEST:
        return on_digest(r, v, vn);
    case H_LENGTH:
        rc = parse_dec(v, vn, &n);
        if (rc != 0) {
            return dec_err(rc, MFOTA_ERR_HTTP_LENGTH);
        }
        if (r->has_length && n != r->content_length) {
            return MFOTA_ERR_HTTP_LENGTH;
        }
        r->has_length = 1;
        r->content_length = n;
        break;
    case H_RANGE:
        return on_content_range(r, v, vn);
    case H_CONNECTION:
        while (next_token(v, vn, &pos, &tok, &tn)) {
            if (ieq(tok, tn, "close")) {
                r->conn_ |= CONN_CLOSE;
            } else if (ieq(tok, tn, "keep-alive")) {
                r->conn_ |= CONN_KEEP_ALIVE;
            }
        }
        break;
    case H_ENCODING:
        /* Only plain chunked: a firmware image is not worth a decompressor. */
        if (!ieq(v, vn, "chunked")) {
            return MFOTA_ERR_HTTP_ENCODING;
        }
        r->chunked = 1;
        break;
    case H_RETRY:
        /* An HTTP-date needs a calendar the device lacks: treated as absent. */
        if (vn > 0 && v[0] >= '0' && v[0] <= '9') {
            rc = parse_dec(v, vn, &n);
            if (rc < 0) {
                return MFOTA_ERR_HTTP_SYNTAX;
            }
            r->has_retry_after = 1;
            r->retry_after_s = rc ? 0xFFFFFFFFu : n; /* saturates */
        }
        break;
    case H_ETAG:
    case H_MODIFIED:
        /* ETag wins over Last-Modified, whichever comes first. */
        if (which == H_ETAG || !r->etag_seen_) {
            r->validator = mfota_crc32(0, v, vn);
            r->has_validator = 1;
            r->etag_seen_ = (uint8_t)(r->etag_seen_ | (which == H_ETAG));
        }
        break;
    default:
        break;
    }
    return MFOTA_OK;
}

/* A complete header (or trailer) line without its line ending. */
static int header_line(struct mfota_http_response *r, int trailer)
{
    const char *line = r->line_, *v;
    size_t n = r->line_len_, colon, vn;
    int which;

    if (line[0] == ' ' || line[0] == '\t') {
        return MFOTA_ERR_HTTP_SYNTAX; /* obsolete line folding (RFC 9112 5.2) */
    }
    for (colon = 0; colon < n && line[colon] != ':'; colon++) {
        if (!mfota_ascii_is_tchar_((unsigned char)line[colon])) {
            return MFOTA_ERR_HTTP_SYNTAX;
        }
    }
    if (colon >= n) {
        /* No colon in the kept prefix: malformed, unless the name itself
         * overflowed, which no needed header does. */
        return r->overflow_ ? MFOTA_OK : MFOTA_ERR_HTTP_SYNTAX;
    }
    if (colon == 0) {
        return MFOTA_ERR_HTTP_SYNTAX;
    }
    which = header_index(line, colon, trailer);
    if (r->overflow_) {
        return which != H_COUNT ? MFOTA_ERR_HTTP_TOO_LONG : MFOTA_OK;
    }
    v = line + colon + 1;
    vn = n - colon - 1;
    trim(&v, &vn);
    return on_header(r, which, v, vn);
}

static int status_line(struct mfota_http_response *r)
{
    const char *s = r->line_;
    size_t n = r->line_len_;
    if (r->overflow_) {
        return MFOTA_ERR_HTTP_TOO_LONG;
    }
    size_t k;
    if (n < 12 || s[9] == '0' || (n > 12 && s[12] != ' ')) {
        return MFOTA_ERR_HTTP_SYNTAX;
    }
    /* "HTTP/1.x nnn", '#' standing for a digit */
    for (k = 0; k < 12; k++) {
        char p = "HTTP/1.# ###"[k];
        if (p == '#' ? (unsigned)(s[k] - '0') > 9u : s[k] != p) {
            return MFOTA_ERR_HTTP_SYNTAX;
        }
    }
    r->version_minor = (uint8_t)(s[7] - '0');
    r->status = (uint16_t)((s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0'));
    return MFOTA_OK;
}

/* The empty line after the headers: pick how the body is delimited. */
static int end_of_headers(struct mfota_http_response *r)
{
    unsigned conn = r->conn_;
    r->keep_alive = (uint8_t)(!(conn & CONN_CLOSE) &&
                              (r->version_minor >= 1 || (conn & CONN_KEEP_ALIVE)));
    if (r->chunked) {
        r->has_length = 0; /* RFC 9112 6.3: chunked overrides Content-Length */
        r->state_ = S_CHUNK_SIZE;
    } else if (r->status == 204 || r->status == 304) {
        r->state_ = S_END_PENDING;
    } else if (r->has_length) {
        if (r->has_range && r->content_length != r->range_last - r->range_first + 1u) {
            return MFOTA_ERR_HTTP_RANGE;
        }
        r->remaining_ = r->content_length;
        r->state_ = r->remaining_ ? S_BODY_LEN : S_END_PENDING;
    } else {
        r->keep_alive = 0; /* the close is the only end of this body */
        r->state_ = S_BODY_CLOSE;
    }
    return MFOTA_OK;
}

/* Reset everything but the header byte count for the real response after a 1xx. */
static void skip_interim(struct mfota_http_response *r)
{
    uint32_t hb = r->header_bytes_;
    mfota_http_response_init(r);
    r->header_bytes_ = hb;
}

static int finish(struct mfota_http_response *r, struct mfota_http_event *ev)
{
    ev->kind = MFOTA_HTTP_EV_END;
    r->state_ = S_DONE;
    if (r->has_range && r->status >= 200 && r->status < 300 &&
        r->body_len != r->range_last - r->range_first + 1u) {
        r->state_ = S_FAILED;
        return MFOTA_ERR_HTTP_RANGE;
    }
    if (!r->has_digest) {
        r->digest = MFOTA_HTTP_DIGEST_NONE;
        return MFOTA_OK;
    }
    if (r->body_crc == r->digest_crc) {
        r->digest = MFOTA_HTTP_DIGEST_MATCH;
        return MFOTA_OK;
    }
    r->digest = MFOTA_HTTP_DIGEST_MISMATCH;
    return MFOTA_ERR_HTTP_CRC;
}

/* Accumulate one byte of a line.  Returns 1 when the line is complete (its
 * ending stripped), 0 to continue, or an error. */
static int line_byte(struct mfota_http_response *r, uint8_t c)
{
    if (r->cr_) {
        r->cr_ = 0;
        return c == '\n' ? 1 : MFOTA_ERR_HTTP_SYNTAX;
    }
    if (c == '\n') {
        return 1; /* a bare LF ends a line too (RFC 9112 2.2 allows it) */
    }
    if (c == '\r') {
        r->cr_ = 1;
        return 0;
    }
    if ((c < 0x20 && c != '\t') || c == 0x7F) {
        return MFOTA_ERR_HTTP_SYNTAX;
    }
    if (r->line_len_ < MFOTA_HTTP_LINE_MAX) {
        r->line_[r->line_len_++] = (char)c;
    } else {
        r->overflow_ = 1;
    }
    return 0;
}

static int chunk_size_line(struct mfota_http_response *r)
{
    uint32_t size = 0;
    size_t i, n = r->line_len_;
    if (r->overflow_) {
        return MFOTA_ERR_HTTP_CHUNK;
    }
    for (i = 0; i < n; i++) {
        int h = mfota_ascii_hexval_((unsigned char)r->line_[i]);
        if (h < 0) {
            break;
        }
        if (size > 0x0FFFFFFFu) {
            return MFOTA_ERR_DL_TOO_LARGE; /* a chunk of 4 GiB or more */
        }
        size = (size << 4) | (uint32_t)h;
    }
    if (i == 0) {
        return MFOTA_ERR_HTTP_CHUNK;
    }
    while (i < n && (r->line_[i] == ' ' || r->line_[i] == '\t')) {
        i++;
    }
    if (i < n && r->line_[i] != ';') {
        return MFOTA_ERR_HTTP_CHUNK; /* only chunk extensions may follow the size */
    }
    r->remaining_ = size;
    r->state_ = size ? S_CHUNK_DATA : S_TRAILER;
    return MFOTA_OK;
}

/* Out of line (noinline.h): called from every error exit of feed(). */
MFOTA_NOINLINE_ static int fail(struct mfota_http_response *r, int err)
{
    r->state_ = S_FAILED;
    return err;
}

int mfota_http_response_feed(struct mfota_http_response *r, const uint8_t *data, size_t len,
                             size_t *used, struct mfota_http_event *ev)
{
    size_t i = 0;
    int rc;

    ev->kind = MFOTA_HTTP_EV_NONE;
    ev->data = NULL;
    ev->len = 0;
    *used = 0;
    if (r->state_ == S_DONE || r->state_ == S_FAILED) {
        return MFOTA_ERR_STATE;
    }
    if (r->state_ == S_END_PENDING) {
        rc = finish(r, ev);
        return rc;
    }
    while (i < len) {
        switch (r->state_) {
        case S_STATUS:
        case S_HEADER:
        case S_TRAILER:
            /* Byte by byte: a header block is a few hundred bytes per
             * response, and one path is less code than a fast one beside. */
            if (++r->header_bytes_ > MFOTA_HTTP_HEADER_MAX) {
                *used = i;
                return fail(r, MFOTA_ERR_HTTP_TOO_LONG);
            }
            rc = line_byte(r, data[i++]);
            if (rc < 0) {
                *used = i;
                return fail(r, rc);
            }
            if (rc == 0) {
                break;
            }
            if (r->state_ == S_STATUS) {
                rc = status_line(r);
                if (rc == MFOTA_OK) {
                    r->state_ = S_HEADER;
                }
            } else if (r->line_len_ == 0 && !r->overflow_) {
                *used = i;
                if (r->state_ == S_TRAILER) {
                    return finish(r, ev);
                }
                if (r->status < 200) {
                    skip_interim(r);
                    break;
                }
                rc = end_of_headers(r);
                if (rc < 0) {
                    return fail(r, rc);
                }
                ev->kind = MFOTA_HTTP_EV_HEADERS;
                return MFOTA_OK;
            } else {
                rc = header_line(r, r->state_ == S_TRAILER);
            }
            r->line_len_ = 0;
            r->overflow_ = 0;
            if (rc < 0) {
                *used = i;
                return fail(r, rc);
            }
            break;

        case S_CHUNK_SIZE:
        case S_CHUNK_CRLF:
            rc = line_byte(r, data[i++]);
            if (rc < 0) {
                *used = i;
                return fail(r, rc == MFOTA_ERR_HTTP_SYNTAX ? MFOTA_ERR_HTTP_CHUNK : rc);
            }
            if (rc == 0) {
                if (r->state_ == S_CHUNK_CRLF && r->line_len_ > 0) {
                    *used = i;
                    return fail(r, MFOTA_ERR_HTTP_CHUNK); /* data longer than its size */
                }
                break;
            }
            if (r->state_ == S_CHUNK_CRLF) {
                r->state_ = S_CHUNK_SIZE;
            } else {
                rc = chunk_size_line(r);
                if (rc < 0) {
                    *used = i;
                    return fail(r, rc);
                }
            }
            r->line_len_ = 0;
            r->overflow_ = 0;
            break;

        case S_BODY_LEN:
        case S_CHUNK_DATA:
        case S_BODY_CLOSE: {
            size_t n = len - i;
            if (r->state_ != S_BODY_CLOSE && n > r->remaining_) {
                n = (size_t)r->remaining_;
            }
            if (n > 0xFFFFFFFFu - r->body_len) {
                *used = i;
                return fail(r, MFOTA_ERR_DL_TOO_LARGE); /* a close-delimited body past 4 GiB */
            }
            ev->kind = MFOTA_HTTP_EV_BODY;
            ev->data = data + i;
            ev->len = n;
            r->body_crc = mfota_crc32(r->body_crc, data + i, n);
            r->body_len += (uint32_t)n;
            if (r->state_ != S_BODY_CLOSE) {
                r->remaining_ -= (uint32_t)n;
                if (r->remaining_ == 0) {
                    r->state_ = (r->state_ == S_BODY_LEN) ? S_END_PENDING : S_CHUNK_CRLF;
                }
            }
            *used = i + n;
            return MFOTA_OK;
        }

        default:
            *used = i;
            return fail(r, MFOTA_ERR_STATE);
        }
    }
    *used = i;
    if (r->state_ == S_END_PENDING) {
        return finish(r, ev);
    }
    return MFOTA_NEED_MORE;
}

int mfota_http_response_eof(struct mfota_http_response *r, struct mfota_http_event *ev)
{
    ev->kind = MFOTA_HTTP_EV_NONE;
    ev->data = NULL;
    ev->len = 0;
    switch (r->state_) {
    case S_DONE:
        return MFOTA_DONE;
    case S_BODY_CLOSE:
    case S_END_PENDING:
        return finish(r, ev);
    case S_FAILED:
        return MFOTA_ERR_STATE;
    default:
        r->state_ = S_FAILED;
        return MFOTA_ERR_HTTP_SHORT_BODY;
    }
}

int mfota_http_response_collect(struct mfota_http_response *r, const uint8_t *data, size_t len,
                                size_t *used, uint8_t *body, size_t cap)
{
    struct mfota_http_event ev;
    size_t pos = 0, n = 0;
    uint32_t at;
    int rc = MFOTA_NEED_MORE;
    *used = 0;
    while (pos < len || r->state_ == S_END_PENDING) {
        at = r->body_len;
        rc = mfota_http_response_feed(r, data == NULL ? NULL : data + pos, len - pos, &n, &ev);
        pos += n;
        *used = pos;
        if (rc < 0) {
            return rc;
        }
        if (ev.kind == MFOTA_HTTP_EV_BODY) {
            if (ev.len > cap || at > cap - ev.len) {
                r->state_ = S_FAILED;
                return MFOTA_ERR_NOSPC;
            }
            memcpy(body + at, ev.data, ev.len);
        } else if (ev.kind == MFOTA_HTTP_EV_END) {
            return MFOTA_DONE;
        }
        if (rc == MFOTA_NEED_MORE) {
            break;
        }
    }
    return MFOTA_NEED_MORE;
}

int mfota_http_response_collect_eof(struct mfota_http_response *r)
{
    struct mfota_http_event ev;
    int rc = mfota_http_response_eof(r, &ev);
    if (rc == MFOTA_OK && ev.kind == MFOTA_HTTP_EV_END) {
        return MFOTA_DONE;
    }
    return rc;
}
