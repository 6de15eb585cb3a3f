/*
 * libFuzzer harness for the downlink extractor and the framing of the
 * uplink's response (mfota_http_response_collect, as the client engine uses
 * it).  Whatever the input, an accepted command must satisfy what the
 * download code relies on, and the framing must give the same result however
 * the bytes are split, never writing past the body buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "m2mfota/err.h"
#include "m2mfota/http_response.h"
#include "m2mfota/things.h"
#include "m2mfota/url.h"

static struct mfota_fota_command cmd;
static uint8_t body_a[4096], body_b[4096];

static int frame(const uint8_t *data, size_t size, size_t step, uint8_t *body, size_t *body_len,
                 int *status)
{
    struct mfota_http_response r;
    size_t at = 0, used;
    int rc = MFOTA_NEED_MORE;
    mfota_http_response_init(&r);
    while (at < size) {
        size_t n = size - at < step ? size - at : step;
        rc = mfota_http_response_collect(&r, data + at, n, &used, body, sizeof body_a);
        if (used > n) {
            abort();
        }
        at += used;
        if (rc != MFOTA_NEED_MORE) {
            break;
        }
    }
    if (rc == MFOTA_NEED_MORE) {
        rc = mfota_http_response_collect_eof(&r);
    }
    *body_len = (size_t)r.body_len;
    *status = r.status;
    if (rc == MFOTA_DONE && r.body_len > sizeof body_a) {
        abort();
    }
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t i, off, la, lb;
    int rc, sa, sb, ra, rb;
    struct mfota_url url;

    rc = mfota_things_parse_downlink((const char *)data, size, "356938035643809", 15, &cmd,
                                     &off);
    if (rc == MFOTA_OK) {
        if (cmd.url_len == 0 || cmd.url_len > MFOTA_URL_MAX || cmd.url[cmd.url_len] != '\0' ||
            mfota_url_parse(cmd.url, cmd.url_len, &url) != MFOTA_OK) {
            abort();
        }
        if (cmd.token_len == 0 || cmd.token_len > MFOTA_TOKEN_MAX) {
            abort();
        }
        for (i = 0; i < cmd.token_len; i++) {
            if ((unsigned char)cmd.token[i] <= 0x20 || (unsigned char)cmd.token[i] >= 0x7F) {
                abort();
            }
        }
    } else if (rc > 0 || off > size) {
        abort();
    }

    /* the same bytes as an HTTP response, whole and split in small steps */
    ra = frame(data, size, size ? size : 1, body_a, &la, &sa);
    rb = frame(data, size, size ? (size_t)data[0] % 7 + 1 : 1, body_b, &lb, &sb);
    if (ra != rb || (ra == MFOTA_DONE && (la != lb || sa != sb || memcmp(body_a, body_b, la)))) {
        abort();
    }
    return 0;
}
