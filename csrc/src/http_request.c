#include "m2mfota/http_request.h"

#include <string.h>

#include "m2mfota/err.h"
#include "ascii.h"

#if MFOTA_HTTP_HEADER_SPACE
#define SEP ": "
#else
#define SEP ":"
#endif

struct out {
    char *buf;
    size_t cap, len;
    int overflow;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->overflow || n > o->cap - o->len) {
        o->overflow = 1;
        return;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void puts_(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

static void put_dec(struct out *o, uint32_t v)
{
    char tmp[10];
    /* the shared decimal writer (ports, versions, SenML numbers) rather
     * than a 32-bit copy of it: one writer costs less code than two */
    put(o, tmp, mfota_ascii_put_uint_(tmp, v));
}

static void out_init(struct out *o, char *buf, size_t cap)
{
    o->buf = buf;
    o->cap = cap;
    o->len = 0;
    o->overflow = 0;
}

/* The head as a sequence of pieces, so it can be copied out from any
 * position without ever being formatted whole (the token is the bulk of
 * it and already sits in the caller's command).  A piece is a literal, or
 * (NULL) the next of the caller's slices: path, host, port, token. */
static const char *const head_lits[] = {
    "GET ", NULL, " HTTP/1.1\r\nHost" SEP, NULL, NULL, "\r\n",
    "Authorization" SEP "Bearer ", NULL, "\r\n"};

size_t mfota_http_request_head_copy(const struct mfota_url *url, const char *token,
                                    size_t token_len, size_t pos, char *buf, size_t cap,
                                    size_t *total)
{
    char port_buf[8];
    const char *slice[4];
    size_t slice_len[4];
    size_t n = 0, at = 0, copied = 0, k = 0;
    unsigned i;
    port_buf[0] = ':';
    slice[0] = url->path;
    slice_len[0] = url->path_len;
    slice[1] = url->host;
    slice_len[1] = url->host_len;
    slice[2] = port_buf;
    /* no ":80" and no Authorization line at all without a token */
    slice_len[2] = url->port != 80 ? 1u + mfota_ascii_put_uint_(port_buf + 1, url->port) : 0u;
    slice[3] = token;
    slice_len[3] = token_len;
    for (i = 0; i < (token_len ? 9u : 6u); i++) {
        const char *p = head_lits[i];
        if (p != NULL) {
            n = strlen(p);
        } else {
            n = slice_len[k];
            p = slice[k++];
        }
        if (pos < at + n && copied < cap) {
            size_t skip = pos > at ? pos - at : 0u, take = n - skip;
            if (take > cap - copied) {
                take = cap - copied;
            }
            memcpy(buf + copied, p + skip, take);
            copied += take;
            pos += take;
        }
        at += n;
    }
    if (total != NULL) {
        *total = at;
    }
    return copied;
}

int mfota_http_request_head(char *buf, size_t cap, size_t *out_len, const struct mfota_url *url,
                            const char *token, size_t token_len)
{
    size_t total = 0;
    int rc = mfota_http_request_check_token(token, token_len);

    *out_len = 0;
    if (rc != MFOTA_OK) {
        return rc;
    }
    (void)mfota_http_request_head_copy(url, token, token_len, 0, buf, 0, &total);
    if (total > cap) {
        return MFOTA_ERR_HTTP_REQUEST_SIZE;
    }
    *out_len = mfota_http_request_head_copy(url, token, token_len, 0, buf, cap, NULL);
    return MFOTA_OK;
}

int mfota_http_request_check_token(const char *token, size_t token_len)
{
    size_t i;
    for (i = 0; i < token_len; i++) {
        unsigned char c = (unsigned char)token[i];
        if (c <= 0x20 || c >= 0x7F) {
            return MFOTA_ERR_INVAL; /* would split or corrupt the header line */
        }
    }
    return MFOTA_OK;
}

int mfota_http_request_tail(char *buf, size_t cap, size_t *out_len, int with_range,
                            uint32_t first, uint32_t last)
{
    struct out o;

    *out_len = 0;
    if (with_range && first > last) {
        return MFOTA_ERR_INVAL;
    }
    out_init(&o, buf, cap);
    if (with_range) {
        puts_(&o, "Range" SEP "bytes=");
        put_dec(&o, first);
        puts_(&o, "-");
        if (last != MFOTA_HTTP_RANGE_OPEN) {
            put_dec(&o, last);
        }
        puts_(&o, "\r\n");
    }
    puts_(&o, "\r\n");
    if (o.overflow) {
        return MFOTA_ERR_HTTP_REQUEST_SIZE;
    }
    *out_len = o.len;
    return MFOTA_OK;
}

int mfota_http_request_write(char *buf, size_t cap, size_t *out_len, const struct mfota_url *url,
                             const char *token, size_t token_len, int with_range, uint32_t first,
                             uint32_t last)
{
    size_t head, tail;
    int rc;

    *out_len = 0;
    if (with_range && first > last) {
        return MFOTA_ERR_INVAL;
    }
    rc = mfota_http_request_head(buf, cap, &head, url, token, token_len);
    if (rc != MFOTA_OK) {
        return rc;
    }
    rc = mfota_http_request_tail(buf + head, cap - head, &tail, with_range, first, last);
    if (rc != MFOTA_OK) {
        return rc;
    }
    *out_len = head + tail;
    return MFOTA_OK;
}
