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

static void put_dec(struct out *o, uint64_t v)
{
    char tmp[20];
    /* the shared helper divides 64-bit values without libgcc's helpers */
    put(o, tmp, mfota_ascii_put_uint_(tmp, v));
}

static void out_init(struct out *o, char *buf, size_t cap)
{
    o->buf = buf;
    o->cap = cap;
    o->len = 0;
    o->overflow = 0;
}

int mfota_http_request_head(char *buf, size_t cap, size_t *out_len, const struct mfota_url *url,
                            const char *token, size_t token_len)
{
    struct out o;
    size_t i;

    *out_len = 0;
    for (i = 0; i < token_len; i++) {
        unsigned char c = (unsigned char)token[i];
        if (c <= 0x20 || c >= 0x7F) {
            return MFOTA_ERR_INVAL; /* would split or corrupt the header line */
        }
    }
    out_init(&o, buf, cap);
    puts_(&o, "GET ");
    put(&o, url->path, url->path_len);
    puts_(&o, " HTTP/1.1\r\nHost" SEP);
    put(&o, url->host, url->host_len);
    if (url->port != 80) {
        puts_(&o, ":");
        put_dec(&o, url->port);
    }
    puts_(&o, "\r\n");
    if (token_len > 0) {
        puts_(&o, "Authorization" SEP "Bearer ");
        put(&o, token, token_len);
        puts_(&o, "\r\n");
    }
    if (o.overflow) {
        return MFOTA_ERR_HTTP_REQUEST_SIZE;
    }
    *out_len = o.len;
    return MFOTA_OK;
}

int mfota_http_request_tail(char *buf, size_t cap, size_t *out_len, int with_range,
                            uint64_t first, uint64_t last)
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
                             const char *token, size_t token_len, int with_range, uint64_t first,
                             uint64_t last)
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
