/* libFuzzer harness for the HTTP response parser.
 *
 * The first byte picks a chunk size; the rest is fed to the parser once in
 * one piece and once in chunks of that size.  Both runs must agree on the
 * outcome (error code, events, body length and CRC, fields): splitting
 * input must never change what the parser decides.  ASan/UBSan catch the
 * memory and arithmetic errors. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "m2mfota/crc32.h"
#include "m2mfota/err.h"
#include "m2mfota/http_response.h"
#include "whole_vs_split.h"

struct outcome {
    int rc;
    int headers, ends;
    uint64_t body_len;
    uint32_t body_crc;
    size_t consumed;
    uint16_t status;
    uint64_t content_length, total;
    uint32_t digest_crc;
};

static void run(const uint8_t *data, size_t size, size_t chunk, void *out)
{
    struct outcome *o = out;
    struct mfota_http_response r;
    struct mfota_http_event ev;
    size_t pos = 0;
    memset(o, 0, sizeof *o);
    mfota_http_response_init(&r);
    while (pos < size || o->rc == MFOTA_OK) {
        size_t n = size - pos < chunk ? size - pos : chunk, used = 0;
        int rc = mfota_http_response_feed(&r, data + pos, n, &used, &ev);
        if (used > n) {
            abort();
        }
        pos += used;
        o->rc = rc;
        if (ev.kind == MFOTA_HTTP_EV_BODY) {
            /* body bytes must lie inside the input just given */
            if (ev.data < data || ev.data + ev.len > data + pos || ev.len == 0) {
                abort();
            }
            o->body_crc = mfota_crc32(o->body_crc, ev.data, ev.len);
            o->body_len += ev.len;
        } else if (ev.kind == MFOTA_HTTP_EV_HEADERS) {
            o->headers++;
        } else if (ev.kind == MFOTA_HTTP_EV_END) {
            o->ends++;
        }
        if (rc < 0 || ev.kind == MFOTA_HTTP_EV_END) {
            break;
        }
        if (rc == MFOTA_NEED_MORE && pos >= size) {
            break;
        }
    }
    if (o->rc >= 0 && o->ends == 0) {
        o->rc = mfota_http_response_eof(&r, &ev);
        if (ev.kind == MFOTA_HTTP_EV_END) {
            o->ends++;
        }
    }
    if (o->ends && (r.body_len != o->body_len || r.body_crc != o->body_crc)) {
        abort();
    }
    if (o->headers > 1 || o->ends > 1) {
        abort();
    }
    o->consumed = pos;
    o->status = r.status;
    o->content_length = r.content_length;
    o->total = r.total;
    o->digest_crc = r.digest_crc;
}

static int same(const void *a, const void *b)
{
    const struct outcome *x = a, *y = b;
    return x->rc == y->rc && x->headers == y->headers && x->ends == y->ends &&
           x->body_len == y->body_len && x->body_crc == y->body_crc &&
           x->consumed == y->consumed && x->status == y->status &&
           x->content_length == y->content_length && x->total == y->total &&
           x->digest_crc == y->digest_crc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct outcome whole, split;
    return fuzz_whole_vs_split(data, size, 17u, run, same, &whole, &split);
}
