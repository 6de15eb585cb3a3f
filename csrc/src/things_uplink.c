/*
 * The KPN Things uplink request (docs/protocol.md §1).
 *
 * The pack is encoded twice -- once to learn its length for Content-Length,
 * once in place -- so the request is built in the caller's buffer with no
 * scratch memory, and nothing is written unless all of it fits.
 */
#include "m2mfota/things.h"

#include <string.h>

#include "m2mfota/err.h"
#include "m2mfota/sha256.h"
#include "ascii.h"

#define URN_PREFIX "urn:dev:IMEI:"

/* The header block with three holes (NULs): the host, the token and the
 * body's length go there, in that order. */
static const char head[] = "POST /ingestion/m2m/senml/v1 HTTP/1.1\r\nHost: \0"
                           "\r\nContent-Type: application/json\r\nThings-Message-Token: \0"
                           "\r\nContent-Length: \0\r\n\r\n";

/* Encode the pack: the first record carries the device's base name. */
static int encode_body(char *buf, size_t cap, size_t *needed, const char *bn, size_t bn_len,
                       const struct mfota_senml_entry *entries, size_t count)
{
    struct mfota_senml_enc enc;
    struct mfota_senml_entry e;
    size_t i;
    mfota_senml_enc_init(&enc, buf, cap);
    memset(&e, 0, sizeof e);
    /* no entries: one record with the base name alone */
    for (i = 0; i < count || i == 0; i++) {
        if (count != 0) {
            e = entries[i];
        }
        e.bn = i == 0 ? bn : NULL;
        e.bn_len = i == 0 ? bn_len : 0;
        if (mfota_senml_enc_record(&enc, &e) != MFOTA_OK) {
            break;
        }
    }
    return mfota_senml_enc_finish(&enc, needed);
}

int mfota_things_build_uplink(char *out, size_t cap, size_t *needed, const char *imei,
                              size_t imei_len, const uint8_t *secret, size_t secret_len,
                              const char *host, const struct mfota_senml_entry *entries,
                              size_t count)
{
    char bn[sizeof URN_PREFIX + MFOTA_THINGS_IMEI_MAX + 1];
    char digits[24];
    size_t bn_len, host_len, body_len, ndigits, head_len, total, at, k;
    const char *t;
    struct mfota_sha256 sha;
    uint8_t digest[32];
    int rc;

    if (needed) {
        *needed = 0;
    }
    if (imei == NULL || imei_len == 0 || imei_len > MFOTA_THINGS_IMEI_MAX || host == NULL ||
        (secret == NULL && secret_len != 0) || (entries == NULL && count != 0)) {
        return MFOTA_ERR_INVAL;
    }
    host_len = strlen(host);
    if (host_len == 0 || !mfota_ascii_visible_(host, host_len)) {
        return MFOTA_ERR_INVAL; /* would break the header block */
    }
    memcpy(bn, URN_PREFIX, sizeof URN_PREFIX - 1);
    memcpy(bn + sizeof URN_PREFIX - 1, imei, imei_len);
    bn_len = sizeof URN_PREFIX - 1 + imei_len;
    bn[bn_len++] = ':';

    rc = encode_body(NULL, 0, &body_len, bn, bn_len, entries, count);
    if (rc != MFOTA_OK && rc != MFOTA_ERR_NOSPC) {
        return rc;
    }
    ndigits = mfota_ascii_put_uint_(digits, body_len);
    head_len = (sizeof head - 4) + host_len + 64 + ndigits; /* less the holes and the NUL */
    total = head_len + body_len;
    if (needed) {
        *needed = total;
    }
    if (out == NULL || cap < total) {
        return MFOTA_ERR_NOSPC;
    }

    rc = encode_body(out + head_len, body_len, NULL, bn, bn_len, entries, count);
    if (rc != MFOTA_OK) {
        return rc;
    }
    mfota_sha256_init(&sha);
    mfota_sha256_update(&sha, out + head_len, body_len);
    mfota_sha256_update(&sha, secret, secret_len);
    mfota_sha256_final(&sha, digest);

    /* the template's pieces with what goes into each hole: one loop */
    at = 0;
    for (k = 0, t = head;; k++) {
        size_t n = strlen(t);
        memcpy(out + at, t, n);
        at += n;
        t += n + 1;
        if (k == 3u) {
            break;
        }
        if (k == 1u) {
            mfota_sha256_hex(digest, out + at); /* its NUL lands where the next piece goes */
            at += 64;
        } else {
            n = k == 0u ? host_len : ndigits;
            memcpy(out + at, k == 0u ? host : digits, n);
            at += n;
        }
    }
    return MFOTA_OK;
}

size_t mfota_things_status_entries(const struct mfota_things_status *st,
                                   struct mfota_senml_entry out[5])
{
    /* One loop over the five records, in their order: two numbers between
     * three optional strings. */
    static const char *const names[5] = {
        MFOTA_THINGS_NAME_FIRMWARE, MFOTA_THINGS_NAME_STATE, MFOTA_THINGS_NAME_PROGRESS,
        MFOTA_THINGS_NAME_RESULT,   MFOTA_THINGS_NAME_ERROR,
    };
    const char *text[5];
    int num[5];
    size_t n = 0, i;
    text[0] = st->firmware;
    text[1] = st->state;
    text[4] = st->error;
    num[2] = st->progress > 100 ? 100 : st->progress;
    num[3] = st->result;
    memset(out, 0, 5 * sizeof out[0]);
    for (i = 0; i < 5u; i++) {
        struct mfota_senml_entry *e = &out[n];
        if (i == 2u || i == 3u) {
            if (num[i] < 0) {
                continue;
            }
            e->kind = MFOTA_SENML_KIND_NUM;
            e->v = MFOTA_SENML_NUM(num[i]);
            if (i == 2u) {
                e->u = "%";
                e->u_len = 1;
            }
        } else {
            if (text[i] == NULL) {
                continue;
            }
            e->kind = MFOTA_SENML_KIND_STR;
            e->vs = text[i];
            e->vs_len = strlen(text[i]);
        }
        e->n = names[i];
        e->n_len = strlen(names[i]);
        n++;
    }
    return n;
}
