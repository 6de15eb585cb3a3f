/*
 * SenML JSON pack encoder into a caller buffer.
 *
 * Every byte goes through put(), which stores it only while it fits and
 * always counts it, so an overflowing encode still reports the size it
 * needs and never touches memory past the buffer.
 */
#include "m2mfota/senml.h"

#include <string.h>

#include "m2mfota/config.h"
#include "m2mfota/err.h"
#include "senml_internal.h"

static void put(struct mfota_senml_enc *enc, const char *p, size_t n)
{
    if (enc->needed < enc->cap) {
        size_t room = enc->cap - enc->needed;
        memcpy(enc->buf + enc->needed, p, n < room ? n : room);
    }
    enc->needed += n;
}

static void put_c(struct mfota_senml_enc *enc, char c)
{
    put(enc, &c, 1);
}

/* Record the first error; the record goes on being written (the caller
 * discards a pack that had one), which keeps the writers branch-free. */
static void set_err(struct mfota_senml_enc *enc, int err)
{
    if (enc->err == MFOTA_OK) {
        enc->err = err;
    }
}

/* ,"key": -- the comma unless the member is the record's first */
static void put_key(struct mfota_senml_enc *enc, const char *key, int *first)
{
    if (!*first) {
        put_c(enc, ',');
    }
    *first = 0;
    put_c(enc, '"');
    put(enc, key, strlen(key));
    put(enc, "\":", 2);
}

static void put_string(struct mfota_senml_enc *enc, const char *key, int *first, const char *s,
                       size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, k;
    put_key(enc, key, first);
    /* Never write what the decoder would refuse: its limit is on the
     * decoded length, which is exactly len here. */
    if (len > MFOTA_SENML_STR_MAX) {
        set_err(enc, MFOTA_ERR_SENML_STR_TOO_LONG);
        return;
    }
    put_c(enc, '"');
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            size_t n = mfota_senml_utf8_seq_((const unsigned char *)s + i, len - i);
            if (n == 0) {
                set_err(enc, MFOTA_ERR_SENML_ENCODING);
                return;
            }
            put(enc, s + i, n);
            i += n - 1;
        } else if (c >= 0x20 && c != '"' && c != '\\') {
            put_c(enc, (char)c); /* a byte at a time: uplink strings are short */
        } else {
            put_c(enc, '\\');
            /* the decoder's table read backwards ('/' is never escaped here) */
            for (k = 0; k < 8u && mfota_senml_esc_to_[k] != (char)c; k++) {
            }
            if (k < 8u) {
                put_c(enc, mfota_senml_esc_from_[k]);
            } else {
                char u[5];
                u[0] = 'u';
                u[1] = '0';
                u[2] = '0';
                u[3] = hex[c >> 4];
                u[4] = hex[c & 0xF];
                put(enc, u, 5);
            }
        }
    }
    put_c(enc, '"');
}

static void put_number(struct mfota_senml_enc *enc, const char *key, int *first,
                       mfota_senml_num v)
{
    char tmp[MFOTA_SENML_NUM_MAX];
    size_t n;
    put_key(enc, key, first);
    n = mfota_senml_format_num(v, tmp, sizeof tmp);
    if (n == 0) {
        set_err(enc, MFOTA_ERR_SENML_RANGE);
    }
    put(enc, tmp, n);
}

void mfota_senml_enc_init(struct mfota_senml_enc *enc, char *buf, size_t cap)
{
    enc->buf = buf;
    enc->cap = buf ? cap : 0;
    enc->needed = 0;
    enc->records = 0;
    enc->err = MFOTA_OK;
    enc->has_bn = 0;
    put_c(enc, '[');
}

/* 1 when the entry's base name and name are RFC 8428 characters; a
 * base name starts the resolved name, else the name does (`has_bn`: a
 * non-empty base name is in force).  One loop over both parts. */
static int names_ok(const struct mfota_senml_entry *e, int has_bn)
{
    size_t i, k;
    for (k = 0; k < 2u; k++) {
        const char *s = k ? e->n : e->bn;
        size_t len = k ? e->n_len : e->bn_len;
        int first = k ? !has_bn : 1;
        for (i = 0; s != NULL && i < len; i++) {
            if (!mfota_senml_name_char_((unsigned char)s[i], first)) {
                return 0;
            }
            first = 0;
        }
    }
    return 1;
}

static void encode_record(struct mfota_senml_enc *enc, const struct mfota_senml_entry *e)
{
    int first = 1;
    /* write only what a decoder accepts: the resolved name (bn + n) must be
     * RFC 8428 characters, and present when the record carries a value */
    int has_bn = e->bn ? e->bn_len != 0 : enc->has_bn;
    if (!names_ok(e, has_bn) ||
        (!has_bn && (e->n == NULL || e->n_len == 0) &&
         (e->kind != MFOTA_SENML_KIND_NONE || e->has_s))) {
        set_err(enc, MFOTA_ERR_SENML_NAME);
        return;
    }
    if (e->kind > MFOTA_SENML_KIND_DATA) {
        set_err(enc, MFOTA_ERR_SENML_RANGE);
        return;
    }
#if !MFOTA_SENML_FULL
    /* The subset encoder writes what a device's status uplink holds (bn, n,
     * u and a number or string value): the rest is refused, never dropped. */
    if (e->has_bt || e->has_s || e->has_t || e->has_ut || e->kind == MFOTA_SENML_KIND_BOOL ||
        e->kind == MFOTA_SENML_KIND_DATA) {
        set_err(enc, MFOTA_ERR_UNSUPPORTED);
        return;
    }
#endif
    if (e->bn) {
        enc->has_bn = e->bn_len != 0;
    }
    if (enc->records != 0) {
        put_c(enc, ',');
    }
    put_c(enc, '{');
    if (e->bn) {
        put_string(enc, "bn", &first, e->bn, e->bn_len);
    }
#if MFOTA_SENML_FULL
    if (e->has_bt) {
        put_number(enc, "bt", &first, e->bt);
    }
#endif
    if (e->n) {
        put_string(enc, "n", &first, e->n, e->n_len);
    }
    if (e->u) {
        put_string(enc, "u", &first, e->u, e->u_len);
    }
    if (e->kind == MFOTA_SENML_KIND_NUM) {
        put_number(enc, "v", &first, e->v);
#if MFOTA_SENML_FULL
    } else if (e->kind == MFOTA_SENML_KIND_BOOL) {
        put_key(enc, "vb", &first);
        put(enc, e->vb ? "true" : "false", e->vb ? 4u : 5u);
    } else if (e->kind != MFOTA_SENML_KIND_NONE) {
        put_string(enc, e->kind == MFOTA_SENML_KIND_STR ? "vs" : "vd", &first,
                   e->vs ? e->vs : "", e->vs ? e->vs_len : 0);
    }
    if (e->has_s) {
        put_number(enc, "s", &first, e->s);
    }
    if (e->has_t) {
        put_number(enc, "t", &first, e->t);
    }
    if (e->has_ut) {
        put_number(enc, "ut", &first, e->ut);
    }
#else
    } else if (e->kind == MFOTA_SENML_KIND_STR) {
        put_string(enc, "vs", &first, e->vs ? e->vs : "", e->vs ? e->vs_len : 0);
    }
#endif
    put_c(enc, '}');
}

int mfota_senml_enc_record(struct mfota_senml_enc *enc, const struct mfota_senml_entry *e)
{
    if (enc->err == MFOTA_OK) {
        encode_record(enc, e);
        enc->records += enc->err == MFOTA_OK;
    }
    return enc->err;
}

int mfota_senml_enc_finish(struct mfota_senml_enc *enc, size_t *needed)
{
    put_c(enc, ']');
    if (needed) {
        *needed = enc->needed;
    }
    if (enc->err != MFOTA_OK) {
        return enc->err;
    }
    return enc->needed <= enc->cap ? MFOTA_OK : MFOTA_ERR_NOSPC;
}

int mfota_senml_encode(const struct mfota_senml_entry *entries, size_t count, char *buf,
                       size_t cap, size_t *needed)
{
    struct mfota_senml_enc enc;
    size_t i;
    mfota_senml_enc_init(&enc, buf, cap);
    for (i = 0; i < count; i++) {
        if (mfota_senml_enc_record(&enc, &entries[i]) != MFOTA_OK) {
            break;
        }
    }
    return mfota_senml_enc_finish(&enc, needed);
}
