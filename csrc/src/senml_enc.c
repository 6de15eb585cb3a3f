/*
 * SenML JSON pack encoder into a caller buffer.
 *
 * Every byte goes through put(), which stores it only while it fits and
 * always counts it, so an overflowing encode still reports the size it
 * needs and never touches memory past the buffer.
 */
#include "m2mfota/senml.h"

#include <string.h>

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

/* Length of the valid UTF-8 sequence at p (lead byte >= 0x80), or 0. */
static size_t utf8_valid(const unsigned char *p, size_t avail)
{
    unsigned char c = p[0], lo = 0x80, hi = 0xBF;
    size_t n, i;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (avail < n || p[1] < lo || p[1] > hi) {
        return 0;
    }
    for (i = 2; i < n; i++) {
        if (p[i] < 0x80 || p[i] > 0xBF) {
            return 0;
        }
    }
    return n;
}

static int put_string(struct mfota_senml_enc *enc, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0, run = 0;
    /* Never write what the decoder would refuse: its limit is on the
     * decoded length, which is exactly len here. */
    if (len > MFOTA_SENML_STR_MAX) {
        return MFOTA_ERR_SENML_STR_TOO_LONG;
    }
    put_c(enc, '"');
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            run++;
            continue;
        }
        put(enc, s + i - run, run);
        run = 0;
        if (c >= 0x80) {
            size_t n = utf8_valid((const unsigned char *)s + i, len - i);
            if (n == 0) {
                return MFOTA_ERR_SENML_ENCODING;
            }
            put(enc, s + i, n);
            i += n;
            continue;
        }
        put_c(enc, '\\');
        switch (c) {
        case '"': put_c(enc, '"'); break;
        case '\\': put_c(enc, '\\'); break;
        case '\n': put_c(enc, 'n'); break;
        case '\r': put_c(enc, 'r'); break;
        case '\t': put_c(enc, 't'); break;
        case '\b': put_c(enc, 'b'); break;
        case '\f': put_c(enc, 'f'); break;
        default: {
            char u[5];
            u[0] = 'u';
            u[1] = '0';
            u[2] = '0';
            u[3] = hex[c >> 4];
            u[4] = hex[c & 0xF];
            put(enc, u, 5);
            break;
        }
        }
        i++;
    }
    put(enc, s + len - run, run);
    put_c(enc, '"');
    return MFOTA_OK;
}

static int put_number(struct mfota_senml_enc *enc, mfota_senml_num v)
{
    char tmp[MFOTA_SENML_NUM_MAX];
    size_t n = mfota_senml_format_num(v, tmp, sizeof tmp);
    if (n == 0) {
        return MFOTA_ERR_SENML_RANGE;
    }
    put(enc, tmp, n);
    return MFOTA_OK;
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

/* "key": with the separating comma when not the first member */
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

/* 1 when s[0..len) may continue a name; `first`: it also starts one. */
static int name_ok(const char *s, size_t len, int first)
{
    size_t i;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 128 || !(mfota_senml_name_class_[c] & (first ? 2u : 1u))) {
            return 0;
        }
        first = 0;
    }
    return 1;
}

static int encode_record(struct mfota_senml_enc *enc, const struct mfota_senml_entry *e)
{
    int first = 1, rc;
    /* write only what a decoder accepts: the resolved name (bn + n) must be
     * RFC 8428 characters, and present when the record carries a value */
    int has_bn = e->bn ? e->bn_len != 0 : enc->has_bn;
    if ((e->bn && !name_ok(e->bn, e->bn_len, 1)) || (e->n && !name_ok(e->n, e->n_len, !has_bn)) ||
        (!has_bn && (e->n == NULL || e->n_len == 0) &&
         (e->kind != MFOTA_SENML_KIND_NONE || e->has_s))) {
        return MFOTA_ERR_SENML_NAME;
    }
    if (e->bn) {
        enc->has_bn = e->bn_len != 0;
    }
    if (enc->records != 0) {
        put_c(enc, ',');
    }
    put_c(enc, '{');
    if (e->bn) {
        put_key(enc, "bn", &first);
        if ((rc = put_string(enc, e->bn, e->bn_len)) != MFOTA_OK) {
            return rc;
        }
    }
    if (e->has_bt) {
        put_key(enc, "bt", &first);
        if ((rc = put_number(enc, e->bt)) != MFOTA_OK) {
            return rc;
        }
    }
    if (e->n) {
        put_key(enc, "n", &first);
        if ((rc = put_string(enc, e->n, e->n_len)) != MFOTA_OK) {
            return rc;
        }
    }
    if (e->u) {
        put_key(enc, "u", &first);
        if ((rc = put_string(enc, e->u, e->u_len)) != MFOTA_OK) {
            return rc;
        }
    }
    switch (e->kind) {
    case MFOTA_SENML_KIND_NONE:
        break;
    case MFOTA_SENML_KIND_NUM:
        put_key(enc, "v", &first);
        if ((rc = put_number(enc, e->v)) != MFOTA_OK) {
            return rc;
        }
        break;
    case MFOTA_SENML_KIND_STR:
    case MFOTA_SENML_KIND_DATA:
        put_key(enc, e->kind == MFOTA_SENML_KIND_STR ? "vs" : "vd", &first);
        if ((rc = put_string(enc, e->vs ? e->vs : "", e->vs ? e->vs_len : 0)) != MFOTA_OK) {
            return rc;
        }
        break;
    case MFOTA_SENML_KIND_BOOL:
        put_key(enc, "vb", &first);
        if (e->vb) {
            put(enc, "true", 4);
        } else {
            put(enc, "false", 5);
        }
        break;
    default:
        return MFOTA_ERR_SENML_RANGE;
    }
    if (e->has_s) {
        put_key(enc, "s", &first);
        if ((rc = put_number(enc, e->s)) != MFOTA_OK) {
            return rc;
        }
    }
    if (e->has_t) {
        put_key(enc, "t", &first);
        if ((rc = put_number(enc, e->t)) != MFOTA_OK) {
            return rc;
        }
    }
    if (e->has_ut) {
        put_key(enc, "ut", &first);
        if ((rc = put_number(enc, e->ut)) != MFOTA_OK) {
            return rc;
        }
    }
    put_c(enc, '}');
    return MFOTA_OK;
}

int mfota_senml_enc_record(struct mfota_senml_enc *enc, const struct mfota_senml_entry *e)
{
    int rc;
    if (enc->err != MFOTA_OK) {
        return enc->err;
    }
    rc = encode_record(enc, e);
    if (rc != MFOTA_OK) {
        enc->err = rc;
        return rc;
    }
    enc->records++;
    return MFOTA_OK;
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
