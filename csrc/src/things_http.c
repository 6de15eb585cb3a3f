/*
 * Framing of the uplink's HTTP/1.1 response (RFC 9112), incremental.
 *
 * Only what framing needs is interpreted: the status code, Content-Length
 * and Transfer-Encoding.  Other header lines are skipped without being kept
 * whole, so a long cookie or server banner costs no memory.
 */
#include "m2mfota/things.h"

#include <string.h>

#include "m2mfota/err.h"
#include "ascii.h"

enum {
    S_STATUS = 0, /* collecting the status line */
    S_HEADER,     /* collecting a header line */
    S_BODY_LEN,   /* body with Content-Length */
    S_BODY_CLOSE, /* body ends when the connection does */
    S_CHUNK_SIZE, /* collecting a chunk-size line */
    S_CHUNK_DATA,
    S_CHUNK_END, /* the CRLF after chunk data */
    S_TRAILER,   /* trailer lines after the last chunk */
    S_DONE,
    S_ERROR
};

void mfota_things_resp_init(struct mfota_things_resp *r, char *body, size_t body_cap)
{
    memset(r, 0, sizeof *r);
    r->body = body;
    r->body_cap = body ? body_cap : 0;
    r->state = S_STATUS;
}

static int name_is(const char *s, size_t len, const char *name)
{
    size_t i, n = strlen(name);
    if (len != n) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (mfota_ascii_lower_((unsigned char)s[i]) != name[i]) {
            return 0;
        }
    }
    return 1;
}

static int parse_status(struct mfota_things_resp *r)
{
    const char *l = r->line;
    if (r->line_len < 12 || memcmp(l, "HTTP/1.", 7) != 0 || l[7] < '0' || l[7] > '9' ||
        l[8] != ' ' || l[9] < '1' || l[9] > '5' || l[10] < '0' || l[10] > '9' || l[11] < '0' ||
        l[11] > '9' || (r->line_len > 12 && l[12] != ' ')) {
        return MFOTA_ERR_THINGS_HTTP_STATUS;
    }
    r->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
    return MFOTA_OK;
}

static int parse_header(struct mfota_things_resp *r)
{
    const char *l = r->line;
    size_t len = r->line_len, colon = 0, vs, ve, i;
    if (len > 0 && (l[0] == ' ' || l[0] == '\t')) {
        return MFOTA_ERR_THINGS_HTTP_HEADER; /* obsolete line folding */
    }
    while (colon < len && l[colon] != ':') {
        if (!mfota_ascii_is_tchar_((unsigned char)l[colon])) {
            return MFOTA_ERR_THINGS_HTTP_HEADER;
        }
        colon++;
    }
    if (colon == 0 || colon == len) {
        return MFOTA_ERR_THINGS_HTTP_HEADER;
    }
    vs = colon + 1;
    ve = len;
    while (vs < ve && (l[vs] == ' ' || l[vs] == '\t')) {
        vs++;
    }
    while (ve > vs && (l[ve - 1] == ' ' || l[ve - 1] == '\t')) {
        ve--;
    }
    if (name_is(l, colon, "content-length")) {
        uint64_t v = 0;
        if (r->line_overflow || ve == vs || ve - vs > 18) {
            return MFOTA_ERR_THINGS_HTTP_LENGTH;
        }
        for (i = vs; i < ve; i++) {
            if (l[i] < '0' || l[i] > '9') {
                return MFOTA_ERR_THINGS_HTTP_LENGTH;
            }
            v = v * 10u + (uint64_t)(l[i] - '0');
        }
        if (r->has_length && r->content_length != v) {
            return MFOTA_ERR_THINGS_HTTP_LENGTH;
        }
        r->has_length = 1;
        r->content_length = v;
    } else if (name_is(l, colon, "transfer-encoding")) {
        if (r->line_overflow || !name_is(l + vs, ve - vs, "chunked")) {
            return MFOTA_ERR_THINGS_HTTP_CHUNK;
        }
        r->chunked = 1;
    }
    return MFOTA_OK;
}

static int end_of_headers(struct mfota_things_resp *r)
{
    if (r->status < 200) {
        /* an interim response: the real one follows */
        r->state = S_STATUS;
        r->has_length = 0;
        r->chunked = 0;
        r->content_length = 0;
        return MFOTA_OK;
    }
    if (r->status == 204 || r->status == 304) {
        r->state = S_DONE;
    } else if (r->chunked) {
        r->state = S_CHUNK_SIZE;
    } else if (r->has_length) {
        if (r->content_length > r->body_cap) {
            return MFOTA_ERR_THINGS_HTTP_TOO_LONG;
        }
        r->remaining = r->content_length;
        r->state = r->remaining ? S_BODY_LEN : S_DONE;
    } else {
        r->state = S_BODY_CLOSE;
    }
    return MFOTA_OK;
}

static int parse_chunk_size(struct mfota_things_resp *r)
{
    uint64_t v = 0;
    size_t i = 0;
    for (; i < r->line_len; i++) {
        char c = r->line[i];
        int h = (c >= '0' && c <= '9')   ? c - '0'
                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                         : -1;
        if (h < 0) {
            break;
        }
        if (i >= 15) {
            return MFOTA_ERR_THINGS_HTTP_CHUNK;
        }
        v = (v << 4) | (uint64_t)h;
    }
    if (i == 0) {
        return MFOTA_ERR_THINGS_HTTP_CHUNK;
    }
    while (i < r->line_len && (r->line[i] == ' ' || r->line[i] == '\t')) {
        i++;
    }
    if (i < r->line_len && r->line[i] != ';') {
        return MFOTA_ERR_THINGS_HTTP_CHUNK;
    }
    if (v == 0) {
        r->state = S_TRAILER;
    } else {
        if (v > r->body_cap - r->body_len) {
            return MFOTA_ERR_THINGS_HTTP_TOO_LONG;
        }
        r->remaining = v;
        r->state = S_CHUNK_DATA;
    }
    return MFOTA_OK;
}

/* A complete line (CRLF or LF stripped) in the current state. */
static int on_line(struct mfota_things_resp *r)
{
    switch (r->state) {
    case S_STATUS:
        if (r->line_len == 0 && !r->line_overflow) {
            return MFOTA_OK; /* RFC 9112 2.2: ignore empty lines before it */
        }
        r->state = S_HEADER;
        return parse_status(r);
    case S_HEADER:
        if (r->line_len == 0) {
            return end_of_headers(r);
        }
        return parse_header(r);
    case S_CHUNK_SIZE:
        return parse_chunk_size(r);
    case S_CHUNK_END:
        if (r->line_len != 0 || r->line_overflow) {
            return MFOTA_ERR_THINGS_HTTP_CHUNK;
        }
        r->state = S_CHUNK_SIZE;
        return MFOTA_OK;
    default: /* S_TRAILER */
        if (r->line_len == 0 && !r->line_overflow) {
            r->state = S_DONE;
        }
        return MFOTA_OK;
    }
}

static int fail(struct mfota_things_resp *r, int err)
{
    r->state = S_ERROR;
    r->err = err; /* sticky: later calls repeat it */
    return err;
}

int mfota_things_resp_feed(struct mfota_things_resp *r, const char *data, size_t len,
                           size_t *consumed)
{
    size_t i = 0;
    int rc;
    *consumed = 0;
    if (r->state == S_ERROR) {
        return r->err;
    }
    while (i < len && r->state != S_DONE) {
        if (r->state == S_BODY_LEN || r->state == S_CHUNK_DATA || r->state == S_BODY_CLOSE) {
            size_t n = len - i;
            if (r->state != S_BODY_CLOSE && n > r->remaining) {
                n = (size_t)r->remaining;
            }
            if (n > r->body_cap - r->body_len) {
                *consumed = i;
                return fail(r, MFOTA_ERR_THINGS_HTTP_TOO_LONG);
            }
            memcpy(r->body + r->body_len, data + i, n);
            r->body_len += n;
            i += n;
            if (r->state != S_BODY_CLOSE) {
                r->remaining -= n;
                if (r->remaining == 0) {
                    r->state = r->state == S_BODY_LEN ? S_DONE : S_CHUNK_END;
                }
            }
            continue;
        }
        /* line-oriented states */
        {
            char c = data[i++];
            if (c != '\n') {
                if (r->line_len < sizeof r->line) {
                    r->line[r->line_len++] = c;
                } else {
                    r->line_overflow = 1;
                }
                continue;
            }
            if (r->line_len > 0 && r->line[r->line_len - 1] == '\r' && !r->line_overflow) {
                r->line_len--;
            }
            rc = on_line(r);
            r->line_len = 0;
            r->line_overflow = 0;
            if (rc != MFOTA_OK) {
                *consumed = i;
                return fail(r, rc);
            }
        }
    }
    *consumed = i;
    return r->state == S_DONE ? MFOTA_DONE : MFOTA_NEED_MORE;
}

int mfota_things_resp_eof(struct mfota_things_resp *r)
{
    if (r->state == S_ERROR) {
        return r->err;
    }
    if (r->state == S_BODY_CLOSE || r->state == S_DONE) {
        r->state = S_DONE;
        return MFOTA_DONE;
    }
    return fail(r, MFOTA_ERR_THINGS_HTTP_TRUNCATED);
}
