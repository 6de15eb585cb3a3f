/* libFuzzer harness for the modem's AT response parser
 * (embedded_port/modem/at_parser.c).
 *
 * The first byte picks a chunk size; the rest is fed once whole and once in
 * chunks of that size.  Both runs must produce the same event stream (kinds,
 * numbers, payload bytes): how the UART splits bytes must never change what
 * the driver is told.  Also checked: every DATA event points inside the
 * bytes just given, a payload never exceeds the length its head announced
 * (at most 1024), and each call makes progress. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "at_parser.h"
#include "m2mfota/crc32.h"
#include "whole_vs_split.h"

struct outcome {
    uint32_t hash;   /* CRC-32 over the event stream */
    size_t events, data_bytes;
};

static void fold(struct outcome *o, const void *p, size_t n)
{
    o->hash = mfota_crc32(o->hash, p, n);
}

static void run(const uint8_t *data, size_t size, size_t chunk, void *out)
{
    struct outcome *o = out;
    struct mfota_at_parser p;
    struct mfota_at_event ev;
    size_t pos = 0, end, payload_left = 0;
    int in_payload = 0;
    memset(o, 0, sizeof *o);
    mfota_at_parser_init(&p);
    while (pos < size) {
        end = size - pos < chunk ? size : pos + chunk;
        for (;;) {
            size_t used = 0;
            int kind = mfota_at_parser_feed(&p, data + pos, end - pos, &used, &ev);
            if (used > end - pos) {
                abort();
            }
            pos += used;
            if (kind == MFOTA_AT_EV_NONE) {
                if (pos != end) {
                    abort(); /* NONE means everything was taken */
                }
                break;
            }
            o->events++;
            if (kind == MFOTA_AT_EV_DATA) {
                if (ev.len == 0 || ev.data < data || ev.data + ev.len > data + pos ||
                    !in_payload || ev.len > payload_left) {
                    abort();
                }
                payload_left -= ev.len;
                o->data_bytes += ev.len;
                fold(o, ev.data, ev.len); /* bytes only: chunking may cut DATA events */
                continue;
            }
            if (kind == MFOTA_AT_EV_DATA_BEGIN) {
                if (in_payload || ev.b < 0 || ev.b > (int32_t)MFOTA_AT_USORD_MAX) {
                    abort();
                }
                in_payload = 1;
                payload_left = (size_t)ev.b;
            } else if (kind == MFOTA_AT_EV_DATA_END) {
                if (!in_payload || payload_left != 0) {
                    abort();
                }
                in_payload = 0;
            } else if (in_payload) {
                abort(); /* nothing but DATA inside a payload */
            }
            fold(o, &kind, sizeof kind);
            fold(o, &ev.a, sizeof ev.a);
            fold(o, &ev.b, sizeof ev.b);
            if (used == 0 && kind != MFOTA_AT_EV_DATA_END) {
                abort(); /* only DATA_END may come without consuming */
            }
        }
    }
}

static int same(const void *a, const void *b)
{
    const struct outcome *x = a, *y = b;
    return x->hash == y->hash && x->data_bytes == y->data_bytes;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct outcome whole, split;
    return fuzz_whole_vs_split(data, size, 23u, run, same, &whole, &split);
}
