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

static const char req_line[] = "POST /ingestion/m2m/senml/v1 HTTP/1.1\r\nHost: ";
static const char ctype[] = "\r\nContent-Type: application/json\r\nThings-Message-Token: ";
static const char clen[] = "\r\nContent-Length: ";

/* Copy n bytes to out + at; returns the offset after them. */
static size_t cat(char *out, size_t at, const char *s, size_t n)
{
    memcpy(out + at, s, n);
    return at + n;
}

/* Encode the pack: the first record carries the device's base name. */
static int encode_body(char *buf, size_t cap, size_t *needed, const char *bn, size_t bn_len,
                       const struct mfota_senml_entry *entries, size_t count)
{
    struct mfota_senml_enc enc;
    struct mfota_senml_entry e;
    size_t i;
    mfota_senml_enc_init(&enc, buf, cap);
    if (count == 0) {
        memset(&e, 0, sizeof e);
        e.bn = bn;
        e.bn_len = bn_len;
        (void)mfota_senml_enc_record(&enc, &e);
    }
    for (i = 0; i < count; i++) {
        e = entries[i];
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
    size_t bn_len, host_len, body_len, ndigits, head_len, total, at;
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
    head_len = (sizeof req_line - 1) + host_len + (sizeof ctype - 1) + 64 + (sizeof clen - 1) +
               ndigits + 4;
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

    at = cat(out, 0, req_line, sizeof req_line - 1);
    at = cat(out, at, host, host_len);
    at = cat(out, at, ctype, sizeof ctype - 1);
    mfota_sha256_hex(digest, out + at); /* its NUL lands where clen goes */
    at = cat(out, at + 64, clen, sizeof clen - 1);
    at = cat(out, at, digits, ndigits);
    (void)cat(out, at, "\r\n\r\n", 4);
    return MFOTA_OK;
}

static void set_str(struct mfota_senml_entry *e, const char *name, const char *text)
{
    e->n = name;
    e->n_len = strlen(name);
    e->kind = MFOTA_SENML_KIND_STR;
    e->vs = text;
    e->vs_len = strlen(text);
}

size_t mfota_things_status_entries(const struct mfota_things_status *st,
                                   struct mfota_senml_entry out[5])
{
    size_t n = 0;
    memset(out, 0, 5 * sizeof out[0]);
    if (st->firmware) {
        set_str(&out[n++], MFOTA_THINGS_NAME_FIRMWARE, st->firmware);
    }
    if (st->state) {
        set_str(&out[n++], MFOTA_THINGS_NAME_STATE, st->state);
    }
    if (st->progress >= 0) {
        out[n].n = MFOTA_THINGS_NAME_PROGRESS;
        out[n].n_len = sizeof MFOTA_THINGS_NAME_PROGRESS - 1;
        out[n].u = "%";
        out[n].u_len = 1;
        out[n].kind = MFOTA_SENML_KIND_NUM;
        out[n].v = MFOTA_SENML_NUM(st->progress > 100 ? 100 : st->progress);
        n++;
    }
    if (st->result >= 0) {
        out[n].n = MFOTA_THINGS_NAME_RESULT;
        out[n].n_len = sizeof MFOTA_THINGS_NAME_RESULT - 1;
        out[n].kind = MFOTA_SENML_KIND_NUM;
        out[n].v = MFOTA_SENML_NUM(st->result);
        n++;
    }
    if (st->error) {
        set_str(&out[n++], MFOTA_THINGS_NAME_ERROR, st->error);
    }
    return n;
}
