/*
 * SenML JSON pack decoder: one record per call, strings as input slices.
 *
 * The JSON scanner is specialised for the only shape SenML has (an array of
 * flat objects).  An array or object is allowed only as the value of an
 * unknown extension field, which RFC 8428 4.4 asks receivers to ignore: it is
 * skipped (and checked to be JSON) with a one-bit-per-level stack, up to
 * MFOTA_SENML_EXT_DEPTH_MAX levels, which bounds its work and stack use.
 */
#include "m2mfota/senml.h"
#include "m2mfota/thingsml.h"

#include <stddef.h>
#include <string.h>

#include "m2mfota/err.h"
#include "senml_internal.h"
#include "ascii.h"

enum { ST_START = 0, ST_FIRST, ST_NEXT, ST_DONE, ST_ERROR };

static int fail(struct mfota_senml_dec *dec, int err, size_t at)
{
    dec->err = err;
    dec->err_offset = at;
    dec->state = ST_ERROR;
    return err;
}

static inline void skip_ws(struct mfota_senml_dec *dec)
{
    while (dec->pos < dec->len) {
        char c = dec->buf[dec->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            break;
        }
        dec->pos++;
    }
}

/* Consume the byte x when it is next; 1 when it was. */
static int eat(struct mfota_senml_dec *dec, char x)
{
    if (dec->pos < dec->len && dec->buf[dec->pos] == x) {
        dec->pos++;
        return 1;
    }
    return 0;
}

static int read_u4(const char *p, size_t avail, uint32_t *out)
{
    uint32_t v = 0;
    int i;
    if (avail < 4) {
        return -1;
    }
    for (i = 0; i < 4; i++) {
        int h = mfota_ascii_hexval_(p[i]);
        if (h < 0) {
            return -1;
        }
        v = (v << 4) | (uint32_t)h;
    }
    *out = v;
    return 0;
}

static size_t utf8_len(uint32_t cp)
{
    return cp < 0x80u ? 1u : cp < 0x800u ? 2u : cp < 0x10000u ? 3u : 4u;
}

size_t mfota_senml_utf8_seq_(const unsigned char *p, size_t avail)
{
    unsigned char c = p[0], lo, hi;
    size_t n, i;
    if (c < 0xC2 || c > 0xF4) {
        return 0; /* a continuation byte, an overlong lead, or above U+10FFFF */
    }
    n = c < 0xE0 ? 2u : c < 0xF0 ? 3u : 4u;
    /* the second byte's range excludes overlong forms, encoded surrogates
     * (after 0xED) and code points above U+10FFFF (after 0xF4) */
    lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
    hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
    if (avail < n) {
        return 0;
    }
    for (i = 1; i < n; i++) {
        if (p[i] < lo || p[i] > hi) {
            return 0;
        }
        lo = 0x80;
        hi = 0xBF;
    }
    return n;
}

#if MFOTA_WORD_SCAN
#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/* Nonzero when any byte of x is a control character, non-ASCII, '"' or
 * '\\' (the "has a zero byte" test, applied to shifted copies). */
static uint64_t special_bytes(uint64_t x)
{
    uint64_t q = x ^ (ONES * '"'), b = x ^ (ONES * '\\');
    /* a byte < 0x20 borrows into its high bit, one >= 0x80 has it set; a
     * borrow can only spread from a byte that is itself special */
    return ((x - ONES * 0x20) | x | ((q - ONES) & ~q) | ((b - ONES) & ~b)) & HIGHS;
}
#endif

/* The escape at p[0] ('\\', with `avail` >= 2 bytes there): its length in
 * the input (2, 6 or 12) with its code point in *cp; 0 when it is not JSON,
 * 1 for a lone UTF-16 surrogate.  The scanner checks escapes with it, and
 * the cursor decodes them with it. */
const char mfota_senml_esc_from_[9] = "\"\\/bfnrt", mfota_senml_esc_to_[9] = "\"\\/\b\f\n\r\t";

static size_t escape(const char *p, size_t avail, uint32_t *cp)
{
    uint32_t lo;
    size_t j;
    if (p[1] != 'u') {
        for (j = 0; j < 8u; j++) {
            if (p[1] == mfota_senml_esc_from_[j]) {
                *cp = (unsigned char)mfota_senml_esc_to_[j];
                return 2;
            }
        }
        return 0;
    }
    if (read_u4(p + 2, avail - 2, cp) != 0) {
        return 0;
    }
    if (*cp < 0xD800u || *cp > 0xDFFFu) {
        return 6;
    }
    if (*cp > 0xDBFFu || avail < 12 || p[6] != '\\' || p[7] != 'u' ||
        read_u4(p + 8, avail - 8, &lo) != 0 || lo < 0xDC00u || lo > 0xDFFFu) {
        return 1;
    }
    *cp = 0x10000u + ((*cp - 0xD800u) << 10) + (lo - 0xDC00u);
    return 12;
}

/* Scan a string starting at the opening quote; fills `out` with the slice
 * between the quotes, its decoded length and whether it holds escapes. */
static int scan_string(struct mfota_senml_dec *dec, struct mfota_senml_str *out)
{
    const char *b = dec->buf;
    size_t i = dec->pos + 1, dlen = 0;
    uint8_t escaped = 0;
    while (i < dec->len) {
        unsigned char c = (unsigned char)b[i];
        uint32_t cp;
        size_t n;
#if MFOTA_WORD_SCAN
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            /* the common case: a run of plain ASCII, eight bytes a step */
            size_t start = i++;
            while (dec->len - i >= 16) {
                uint64_t x, y;
                memcpy(&x, b + i, 8);
                memcpy(&y, b + i + 8, 8);
                if (special_bytes(x) | special_bytes(y)) {
                    break;
                }
                i += 16;
            }
            while (dec->len - i >= 8) {
                uint64_t x;
                memcpy(&x, b + i, 8);
                if (special_bytes(x)) {
                    break;
                }
                i += 8;
            }
            while (i < dec->len) {
                c = (unsigned char)b[i];
                if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') {
                    break;
                }
                i++;
            }
            dlen += i - start;
            continue;
        }
#endif
        if (c == '"') {
            out->ptr = b + dec->pos + 1;
            out->len = i - dec->pos - 1;
            out->dlen = dlen;
            out->escaped = escaped;
            if (dlen > MFOTA_SENML_STR_MAX) {
                return fail(dec, MFOTA_ERR_SENML_STR_TOO_LONG, dec->pos);
            }
            dec->pos = i + 1;
            return MFOTA_OK;
        }
        if (c < 0x20) {
            return fail(dec, MFOTA_ERR_SENML_SYNTAX, i);
        }
        if (c == '\\') {
            escaped = 1;
            if (i + 1 >= dec->len) {
                break;
            }
            n = escape(b + i, dec->len - i, &cp);
            if (n < 2) {
                return fail(dec, n ? MFOTA_ERR_SENML_ENCODING : MFOTA_ERR_SENML_SYNTAX, i);
            }
            i += n;
            dlen += utf8_len(cp);
            continue;
        }
        if (c < 0x80) {
            i++;
            dlen++;
        } else {
            n = mfota_senml_utf8_seq_((const unsigned char *)b + i, dec->len - i);
            if (n == 0) {
                return fail(dec, MFOTA_ERR_SENML_ENCODING, i);
            }
            i += n;
            dlen += n;
        }
    }
    return fail(dec, MFOTA_ERR_SENML_SYNTAX, dec->len);
}

/* Scan a JSON number at pos; `out` may be NULL to only check it. */
static int scan_number(struct mfota_senml_dec *dec, mfota_senml_num *out)
{
    size_t start = dec->pos, i = dec->pos;
    mfota_senml_num tmp;
    int rc;
    while (i < dec->len) {
        char c = dec->buf[i];
        if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' ||
              c == 'E')) {
            break;
        }
        i++;
    }
    rc = mfota_senml_parse_num(dec->buf + start, i - start, out ? out : &tmp);
    if (rc != MFOTA_OK) {
        return fail(dec, rc, start);
    }
    dec->pos = i;
    return MFOTA_OK;
}

static int match_literal(struct mfota_senml_dec *dec, const char *lit, size_t n)
{
    if (dec->len - dec->pos < n || memcmp(dec->buf + dec->pos, lit, n) != 0) {
        return fail(dec, MFOTA_ERR_SENML_SYNTAX, dec->pos);
    }
    dec->pos += n;
    return MFOTA_OK;
}

/* The JSON type of a scanned value. */
enum { VT_STRING, VT_NUMBER, VT_TRUE, VT_FALSE, VT_NULL };

/* Scan one value into *type; a string lands in *str (the record field it
 * belongs to, so it is not copied again), a number in *num (NULL: only
 * checked). */
static int scan_value(struct mfota_senml_dec *dec, int *type, mfota_senml_num *num,
                      struct mfota_senml_str *str)
{
    char c;
    if (dec->pos >= dec->len) {
        return fail(dec, MFOTA_ERR_SENML_SYNTAX, dec->pos);
    }
    c = dec->buf[dec->pos];
    switch (c) {
    case '"':
        *type = VT_STRING;
        return scan_string(dec, str);
    case 't':
        *type = VT_TRUE;
        return match_literal(dec, "true", 4);
    case 'f':
        *type = VT_FALSE;
        return match_literal(dec, "false", 5);
    case 'n':
        *type = VT_NULL;
        return match_literal(dec, "null", 4);
    case '{':
    case '[':
        return fail(dec, MFOTA_ERR_SENML_NESTING, dec->pos);
    default:
        if (c == '-' || (c >= '0' && c <= '9')) {
            *type = VT_NUMBER;
            return scan_number(dec, num);
        }
        return fail(dec, MFOTA_ERR_SENML_SYNTAX, dec->pos);
    }
}

#if MFOTA_SENML_FULL
/* Skip the array or object at pos (an unknown field's value) and check that
 * it is well-formed JSON.  Bit d of `objects` says whether level d is an
 * object (members need a key) or an array; more than
 * MFOTA_SENML_EXT_DEPTH_MAX open levels is MFOTA_ERR_SENML_DEPTH. */
static int skip_nested(struct mfota_senml_dec *dec)
{
    uint32_t objects = 0;
    unsigned depth = 0;
    int want_key = 0;
    for (;;) {
        char c;
        skip_ws(dec);
        if (dec->pos >= dec->len) {
            return fail(dec, MFOTA_ERR_SENML_SYNTAX, dec->pos);
        }
        if (want_key) {
            struct mfota_senml_str key;
            int rc;
            if (dec->buf[dec->pos] != '"') {
                return fail(dec, MFOTA_ERR_SENML_SYNTAX, dec->pos);
            }
            if ((rc = scan_string(dec, &key)) != MFOTA_OK) {
                return rc;
            }
            skip_ws(dec);
            if (!eat(dec, ':')) {
                return fail(dec, MFOTA_ERR_SENML_SYNTAX, dec->pos);
            }
            want_key = 0;
            continue;
        }
        c = dec->buf[dec->pos];
        if (c == '{' || c == '[') {
            if (depth >= MFOTA_SENML_EXT_DEPTH_MAX) {
                return fail(dec, MFOTA_ERR_SENML_DEPTH, dec->pos);
            }
            objects = (objects & ~(1u << depth)) | ((uint32_t)(c == '{') << depth);
            depth++;
            dec->pos++;
            skip_ws(dec);
            if (eat(dec, c == '{' ? '}' : ']')) {
                depth--;
            } else {
                want_key = c == '{';
                continue;
            }
        } else {
            struct mfota_senml_str str;
            int type, rc = scan_value(dec, &type, NULL, &str);
            if (rc != MFOTA_OK) {
                return rc;
            }
        }
        /* a value ended: close levels, or go on to the next member */
        for (;;) {
            char close;
            if (depth == 0) {
                return MFOTA_OK;
            }
            close = (objects >> (depth - 1)) & 1u ? '}' : ']';
            skip_ws(dec);
            if (eat(dec, ',')) {
                want_key = (objects >> (depth - 1)) & 1u;
                break;
            }
            if (eat(dec, close)) {
                depth--;
                continue;
            }
            return fail(dec, MFOTA_ERR_SENML_SYNTAX, dec->pos);
        }
    }
}

#endif /* MFOTA_SENML_FULL */

/* ---- decoding escapes ---------------------------------------------------- */

/* UTF-8 of cp into out; returns its length. */
static size_t put_utf8(uint32_t cp, unsigned char out[4])
{
    size_t n = utf8_len(cp), i;
    if (n == 1) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    for (i = n - 1; i > 0; i--) {
        out[i] = (unsigned char)(0x80u | (cp & 0x3Fu));
        cp >>= 6;
    }
    out[0] = (unsigned char)((0xFF00u >> n) | cp); /* 110x, 1110x or 11110x */
    return n;
}

/* Decoded bytes of s, one chunk at a time: a cursor for compare and copy. */
struct cursor {
    const struct mfota_senml_str *s;
    size_t i;
};

/* The next chunk of decoded bytes: a run of raw bytes up to the next
 * escape (valid UTF-8 already, so copied as it is), or one escape decoded
 * into tmp.  Returns its length, 0 at the end. */
static size_t cursor_next(struct cursor *c, unsigned char tmp[4], const unsigned char **chunk)
{
    const char *p = c->s->ptr;
    size_t len = c->s->len, start = c->i, k = start;
    if (p == NULL || k >= len) {
        return 0;
    }
    if (p[k] == '\\') {
        uint32_t cp = 0;
        c->i = k + escape(p + k, len - k, &cp);
        *chunk = tmp;
        return put_utf8(cp, tmp);
    }
    while (k < len && p[k] != '\\') {
        k++;
    }
    c->i = k;
    *chunk = (const unsigned char *)p + start;
    return k - start;
}

int mfota_senml_str_decode(const struct mfota_senml_str *s, char *out, size_t cap,
                           size_t *out_len)
{
    struct cursor c;
    unsigned char tmp[4];
    const unsigned char *chunk;
    size_t n, at = 0;
    if (s->ptr == NULL) {
        *out_len = 0;
        return MFOTA_OK;
    }
    if (s->dlen > cap) {
        return MFOTA_ERR_NOSPC;
    }
    c.s = s;
    c.i = 0;
    while ((n = cursor_next(&c, tmp, &chunk)) != 0) {
        memmove(out + at, chunk, n); /* out may be s->ptr itself: in-place decoding */
        at += n;
    }
    *out_len = at;
    return MFOTA_OK;
}

int mfota_senml_str_eq(const struct mfota_senml_str *s, const char *text, size_t len)
{
    struct cursor c;
    unsigned char tmp[4];
    const unsigned char *chunk;
    size_t n, at = 0;
    if (s->ptr == NULL) {
        return len == 0;
    }
    if (s->dlen != len) {
        return 0;
    }
    c.s = s;
    c.i = 0;
    while ((n = cursor_next(&c, tmp, &chunk)) != 0) {
        if (memcmp(text + at, chunk, n) != 0) {
            return 0;
        }
        at += n;
    }
    return 1;
}

int mfota_senml_record_name(const struct mfota_senml_record *rec, char *out, size_t cap,
                            size_t *out_len)
{
    size_t a = 0, b = 0;
    size_t need = (rec->bn.ptr ? rec->bn.dlen : 0) + (rec->n.ptr ? rec->n.dlen : 0);
    if (need > cap) {
        return MFOTA_ERR_NOSPC;
    }
    (void)mfota_senml_str_decode(&rec->bn, out, cap, &a);
    (void)mfota_senml_str_decode(&rec->n, out + a, cap - a, &b);
    *out_len = a + b;
    return MFOTA_OK;
}

int mfota_senml_name_char_(unsigned c, int first)
{
    if ((c | 0x20u) - 'a' < 26u || c - '0' < 10u) {
        return 1;
    }
    return !first && (c - '-' < 3u || c == ':' || c == '_'); /* - . / : _ */
}

/* 1 when every decoded byte of s may appear in a name; `first` says the
 * first byte must also be a letter or digit (it starts the resolved name). */
static int name_chars_ok(const struct mfota_senml_str *s, int first)
{
    struct cursor c;
    unsigned char tmp[4];
    const unsigned char *chunk;
    size_t k, len;
    c.s = s;
    c.i = 0;
    while ((len = cursor_next(&c, tmp, &chunk)) != 0) {
        for (k = 0; k < len; k++) {
            if (!mfota_senml_name_char_(chunk[k], first)) {
                return 0;
            }
            first = 0;
        }
    }
    return 1;
}

/* ---- keys ------------------------------------------------------------------ */

/* The field bit of a key of 1, 2 or 4 raw bytes, 0 for any other.  Keys
 * of one or two bytes as k[0] | k[1] << 8, in the order of the
 * MFOTA_SENML_F_* bits (bit 5, "bver", is the four-byte key). */
static uint32_t known_key(const char *k, size_t n)
{
#define K2_(a, b) ((a) | (b) << 8)
    static const uint16_t keys[15] = {
        K2_('b', 'n'), K2_('b', 't'), K2_('b', 'u'), K2_('b', 'v'), K2_('b', 's'), 0,
        'n', 'u', 'v', K2_('v', 's'), K2_('v', 'b'), K2_('v', 'd'), 's', 't', K2_('u', 't'),
    };
#undef K2_
    unsigned code, i;
    if (n == 4) {
        return memcmp(k, "bver", 4) == 0 ? MFOTA_SENML_F_BVER : 0;
    }
    if (n == 0 || n > 2) {
        return 0;
    }
    code = (unsigned char)k[0] | (n == 2 ? (unsigned)(unsigned char)k[1] << 8 : 0u);
    for (i = 0; i < 15; i++) {
        if (keys[i] == code) {
            return (uint32_t)1 << i;
        }
    }
    return 0;
}

/* The field bit of a key, 0 for an unknown one; *must_understand set when
 * an unknown key ends in '_'. */
static uint32_t classify_key(const struct mfota_senml_str *k, int *must_understand)
{
    *must_understand = 0;
    if (!k->escaped) {
        uint32_t bit = known_key(k->ptr, k->len);
        if (bit == 0 && k->len > 0) {
            *must_understand = k->ptr[k->len - 1] == '_';
        }
        return bit;
    }
#if MFOTA_SENML_FULL
    if (k->dlen <= 4) {
        char small[4];
        size_t n = 0;
        uint32_t bit;
        (void)mfota_senml_str_decode(k, small, sizeof small, &n);
        bit = known_key(small, n);
        if (bit != 0) {
            return bit;
        }
    }
    if (k->dlen > 0) {
        /* the last decoded byte; an escape's last byte is what it decodes to */
        struct cursor c;
        unsigned char tmp[4];
        const unsigned char *chunk;
        size_t len;
        unsigned char last = 0;
        c.s = k;
        c.i = 0;
        while ((len = cursor_next(&c, tmp, &chunk)) != 0) {
            last = chunk[len - 1];
        }
        *must_understand = last == '_';
    }
#endif
    return 0; /* the subset decoder refused an escaped key before */
}

/* ---- records ----------------------------------------------------------------- */

void mfota_senml_dec_init(struct mfota_senml_dec *dec, const char *json, size_t len,
                          unsigned mode)
{
    memset(dec, 0, sizeof *dec);
    dec->buf = json;
    dec->len = len;
    dec->mode = mode;
    dec->state = ST_START;
}

size_t mfota_senml_dec_offset(const struct mfota_senml_dec *dec)
{
    return dec->err_offset;
}

static int finish_pack(struct mfota_senml_dec *dec)
{
    skip_ws(dec);
    if (dec->pos != dec->len) {
        return fail(dec, MFOTA_ERR_SENML_TRAILING, dec->pos);
    }
    dec->state = ST_DONE;
    return MFOTA_DONE;
}

#if MFOTA_WORD_SCAN
/* Every SenML key is one or two lowercase letters (or "bver"): take those
 * without the general string scan (a host's fast path; an MCU build saves
 * the code). */
static int short_key(struct mfota_senml_dec *dec, struct mfota_senml_str *key)
{
    const char *p = dec->buf + dec->pos;
    size_t avail = dec->len - dec->pos, n;
    if (avail < 3 || p[1] < 'a' || p[1] > 'z') {
        return 0;
    }
    if (p[2] == '"') {
        n = 1;
    } else if (avail >= 4 && p[2] >= 'a' && p[2] <= 'z' && p[3] == '"') {
        n = 2;
    } else {
        return 0;
    }
    key->ptr = p + 1;
    key->len = key->dlen = n;
    key->escaped = 0;
    dec->pos += n + 2;
    return 1;
}
#endif

#if MFOTA_SENML_FLOAT
static int finite(double x)
{
    double d = x - x; /* NaN for an infinity */
    return d == d;
}

#if MFOTA_SENML_FULL
/* base + value; finite inputs can add up to infinity, caught at the end */
static int num_add(double a, double b, double *out)
{
    *out = a + b;
    return 1;
}
#endif
#elif MFOTA_SENML_FULL
/* base + value, or 0 when the sum leaves the fixed-point range */
static int num_add(int64_t a, int64_t b, int64_t *out)
{
    if ((b > 0 && a > MFOTA_SENML_NUM_LIMIT - b) || (b < 0 && a < -MFOTA_SENML_NUM_LIMIT - b)) {
        return 0;
    }
    *out = a + b;
    return 1;
}
#endif

/* 1 when `v` is an integer in [lo, hi], stored in *out. */
static int int_in(mfota_senml_num v, long lo, long hi, long *out)
{
    int64_t i;
    if (mfota_senml_num_to_int(v, &i) != MFOTA_OK || i < lo || i > hi) {
        return 0;
    }
    *out = (long)i;
    return 1;
}

#if MFOTA_THINGSML
#define THINGSML_MODE(dec) ((dec)->mode & MFOTA_SENML_THINGSML)
#else
/* compiled out: a constant, so the table lookup below is never referenced */
#define THINGSML_MODE(dec) 0u
#endif

/* ThingsML "i_": the table entry of the number just scanned, or an error. */
static int thingsml_index(struct mfota_senml_dec *dec, int type, mfota_senml_num num, size_t at,
                          const struct mfota_thingsml_measure **out)
{
    long index;
    if (type != VT_NUMBER) {
        return fail(dec, MFOTA_ERR_SENML_TYPE, at);
    }
    if (!int_in(num, MFOTA_THINGSML_INDEX_MIN, MFOTA_THINGSML_INDEX_MAX, &index)) {
        return fail(dec, MFOTA_ERR_SENML_RANGE, at);
    }
    *out = mfota_thingsml_lookup(index);
    return *out ? MFOTA_OK : fail(dec, MFOTA_ERR_SENML_RANGE, at);
}

#define VALUE_FIELDS (MFOTA_SENML_F_V | MFOTA_SENML_F_VS | MFOTA_SENML_F_VB | MFOTA_SENML_F_VD)
#define STRING_FIELDS                                                                  \
    (MFOTA_SENML_F_BN | MFOTA_SENML_F_BU | MFOTA_SENML_F_N | MFOTA_SENML_F_U |         \
     MFOTA_SENML_F_VS | MFOTA_SENML_F_VD)
/* Base fields whose effect on later records only the full decoder resolves. */
#define RESOLVED_BASE_FIELDS                                                           \
    (MFOTA_SENML_F_BT | MFOTA_SENML_F_BU | MFOTA_SENML_F_BV | MFOTA_SENML_F_BS)

/* Where each field's value is scanned to, by bit number (MFOTA_SENML_F_*):
 * the offset of its string and of its number in the record, NONE_ for
 * neither.  bn goes to rec->bn, which parse_record() sets to the base name
 * in force once the record is whole. */
#define NONE_ 0xFFu
#define AT_(m) (uint8_t) offsetof(struct mfota_senml_record, m)
static const uint8_t str_at[15] = {
    AT_(bn), NONE_, NONE_, NONE_, NONE_, NONE_, AT_(n), AT_(u),
    AT_(vs), AT_(vs), NONE_, AT_(vs), NONE_, NONE_, NONE_,
};
static const uint8_t num_at[15] = {
    NONE_, NONE_, NONE_, NONE_, NONE_, NONE_, NONE_, NONE_,
    AT_(v), NONE_, NONE_, NONE_, AT_(s), AT_(t), AT_(ut),
};
#undef AT_

static int parse_record(struct mfota_senml_dec *dec, struct mfota_senml_record *rec)
{
    const struct mfota_thingsml_measure *measure = NULL;
#if MFOTA_SENML_FULL
    struct mfota_senml_str bu = {0, 0, 0, 0};
    mfota_senml_num bt = 0, bv = 0, bs = 0;
#endif
    uint32_t fields = 0;
    size_t start = dec->pos;
    int rc;

    memset(rec, 0, sizeof *rec); /* one call: smaller than field by field */
    rec->offset = start;
    dec->pos++; /* '{' */
    skip_ws(dec);
    if (!eat(dec, '}')) {
        for (;;) {
            struct mfota_senml_str key, other, *str = &other;
            mfota_senml_num index_num = 0, *num = NULL;
            size_t key_at = dec->pos, val_at;
            uint32_t bit;
            int mu, is_index, type = VT_NULL;
            if (dec->pos >= dec->len || dec->buf[dec->pos] != '"') {
                return fail(dec, MFOTA_ERR_SENML_SYNTAX, dec->pos);
            }
#if MFOTA_WORD_SCAN
            if (short_key(dec, &key)) {
                bit = known_key(key.ptr, key.len);
                mu = 0;
            } else
#endif
            {
                if ((rc = scan_string(dec, &key)) != MFOTA_OK) {
                    return rc;
                }
#if !MFOTA_SENML_FULL
                if (key.escaped) { /* no SenML key needs one: "\u0076" for "v" */
                    return fail(dec, MFOTA_ERR_UNSUPPORTED, key_at);
                }
#endif
                bit = classify_key(&key, &mu);
            }
            is_index = bit == 0 && mu && THINGSML_MODE(dec) &&
                       mfota_senml_str_eq(&key, "i_", 2);
#if !MFOTA_SENML_FULL
            if (bit & RESOLVED_BASE_FIELDS) {
                return fail(dec, MFOTA_ERR_UNSUPPORTED, key_at);
            }
#endif
            skip_ws(dec);
            if (!eat(dec, ':')) {
                return fail(dec, MFOTA_ERR_SENML_SYNTAX, dec->pos);
            }
            skip_ws(dec);
            val_at = dec->pos;
            /* where the value goes: scanned straight into its place (the
             * record's field from the table, else a local) */
            if (bit != 0) {
                unsigned k = 0;
                while (!((bit >> k) & 1u)) {
                    k++;
                }
                num = &index_num; /* bver and vb: only checked here */
                if (str_at[k] != NONE_) {
                    str = (struct mfota_senml_str *)(void *)((char *)rec + str_at[k]);
                }
                if (num_at[k] != NONE_) {
                    num = (mfota_senml_num *)(void *)((char *)rec + num_at[k]);
                }
            } else if (is_index) {
                num = &index_num;
            }
#if MFOTA_SENML_FULL
            switch (bit) { /* base fields: they take effect once the record is whole */
            case MFOTA_SENML_F_BU: str = &bu; break;
            case MFOTA_SENML_F_BT: num = &bt; break;
            case MFOTA_SENML_F_BV: num = &bv; break;
            case MFOTA_SENML_F_BS: num = &bs; break;
            default: break;
            }
#endif
            if (bit == 0 && !is_index && dec->pos < dec->len &&
                (dec->buf[dec->pos] == '{' || dec->buf[dec->pos] == '[')) {
#if MFOTA_SENML_FULL
                rc = skip_nested(dec);
#else
                rc = fail(dec, MFOTA_ERR_UNSUPPORTED, dec->pos);
#endif
            } else {
                rc = scan_value(dec, &type, num, str);
            }
            if (rc != MFOTA_OK) {
                return rc;
            }
            if (is_index) {
                if (measure != NULL) {
                    return fail(dec, MFOTA_ERR_SENML_DUPLICATE, key_at);
                }
                if ((rc = thingsml_index(dec, type, index_num, val_at, &measure)) != MFOTA_OK) {
                    return rc;
                }
            } else if (bit == 0 && mu) {
                return fail(dec, MFOTA_ERR_SENML_MUST_UNDERSTAND, key_at);
            }
            if (bit & fields) {
                return fail(dec, MFOTA_ERR_SENML_DUPLICATE, key_at);
            }
            fields |= bit;
            if (bit & STRING_FIELDS) {
                if (type != VT_STRING) {
                    return fail(dec, MFOTA_ERR_SENML_TYPE, val_at);
                }
                if (bit & (MFOTA_SENML_F_VS | MFOTA_SENML_F_VD)) {
                    rec->kind = bit == MFOTA_SENML_F_VS ? MFOTA_SENML_KIND_STR
                                                         : MFOTA_SENML_KIND_DATA;
                }
            } else if (bit == MFOTA_SENML_F_VB) {
                if (type != VT_TRUE && type != VT_FALSE) {
                    return fail(dec, MFOTA_ERR_SENML_TYPE, val_at);
                }
                rec->kind = MFOTA_SENML_KIND_BOOL;
                rec->vb = type == VT_TRUE;
            } else if (bit == MFOTA_SENML_F_V && type == VT_STRING &&
                       (dec->mode & MFOTA_SENML_LENIENT_V_STRING)) {
                rec->kind = MFOTA_SENML_KIND_STR;
            } else if (bit != 0) { /* the numeric fields */
                if (type != VT_NUMBER) {
                    return fail(dec, MFOTA_ERR_SENML_TYPE, val_at);
                }
                if (bit == MFOTA_SENML_F_V) {
                    rec->kind = MFOTA_SENML_KIND_NUM;
                } else if (bit == MFOTA_SENML_F_BVER) { /* a positive integer, at most ours */
                    long bver;
                    if (!int_in(index_num, 1, 2147483647L, &bver)) {
                        return fail(dec, MFOTA_ERR_SENML_RANGE, val_at);
                    }
                    if (bver > MFOTA_SENML_VERSION) {
                        return fail(dec, MFOTA_ERR_SENML_BVER, val_at);
                    }
                }
            }
            if ((bit & VALUE_FIELDS) && ((fields & ~bit) & VALUE_FIELDS)) {
                return fail(dec, MFOTA_ERR_SENML_TWO_VALUES, key_at);
            }
            skip_ws(dec);
            if (eat(dec, ',')) {
                skip_ws(dec);
                continue;
            }
            if (eat(dec, '}')) {
                break;
            }
            return fail(dec, MFOTA_ERR_SENML_SYNTAX, dec->pos);
        }
    }

    /* base fields take effect from this record on (RFC 8428 4.6) */
    if (fields & MFOTA_SENML_F_BN) {
        dec->bn = rec->bn;
    }
#if MFOTA_SENML_FULL
    if (fields & MFOTA_SENML_F_BU) {
        dec->bu = bu;
        dec->has_bu = 1;
    }
    if (fields & MFOTA_SENML_F_BT) {
        dec->bt = bt;
        dec->has_bt = 1;
    }
    if (fields & MFOTA_SENML_F_BV) {
        dec->bv = bv;
        dec->has_bv = 1;
    }
    if (fields & MFOTA_SENML_F_BS) {
        dec->bs = bs;
        dec->has_bs = 1;
    }
#endif
    rec->fields = fields;
    rec->bn = dec->bn;
    if (measure != NULL) {
        /* the index names the measurement: a name beside it is ambiguous */
        if (fields & MFOTA_SENML_F_N) {
            return fail(dec, MFOTA_ERR_SENML_DUPLICATE, start);
        }
        rec->n.ptr = measure->name;
        rec->n.len = rec->n.dlen = measure->name_len;
        if (!(fields & MFOTA_SENML_F_U) && measure->unit_len != 0) {
            rec->u.ptr = measure->unit;
            rec->u.len = rec->u.dlen = measure->unit_len;
            fields |= MFOTA_SENML_F_U; /* keeps the bu below from replacing it */
        }
    }
    rec->has_s = (fields & MFOTA_SENML_F_S) != 0;
    rec->has_ut = (fields & MFOTA_SENML_F_UT) != 0;
#if MFOTA_SENML_FULL
    if (!(fields & MFOTA_SENML_F_U) && dec->has_bu) {
        rec->u = dec->bu;
    }
    /* without a base the value stays as written (a double's -0 too) */
    if ((rec->kind == MFOTA_SENML_KIND_NUM && dec->has_bv && !num_add(dec->bv, rec->v, &rec->v)) ||
        (rec->has_s && dec->has_bs && !num_add(dec->bs, rec->s, &rec->s)) ||
        (dec->has_bt && !num_add(dec->bt, rec->t, &rec->t))) {
        return fail(dec, MFOTA_ERR_SENML_RANGE, start);
    }
    rec->has_t = (fields & MFOTA_SENML_F_T) || dec->has_bt;
#else
    rec->has_t = (fields & MFOTA_SENML_F_T) != 0;
#endif

    /* a record either measures something or only sets base fields */
    if (rec->kind == MFOTA_SENML_KIND_NONE && !rec->has_s &&
        ((fields & (MFOTA_SENML_F_N | MFOTA_SENML_F_U | MFOTA_SENML_F_T | MFOTA_SENML_F_UT)) ||
         measure != NULL ||
         (!(fields & MFOTA_SENML_F_BASE_) &&
          !(fields == 0 && THINGSML_MODE(dec))))) {
        return fail(dec, MFOTA_ERR_SENML_NO_VALUE, start);
    }
    {
        size_t name_len = (rec->bn.ptr ? rec->bn.dlen : 0) + (rec->n.ptr ? rec->n.dlen : 0);
        int has_value = rec->kind != MFOTA_SENML_KIND_NONE || rec->has_s;
        /* a base name is checked once, where it is set */
        if ((name_len == 0 && has_value) ||
            ((fields & MFOTA_SENML_F_BN) && !name_chars_ok(&rec->bn, 1)) ||
            !name_chars_ok(&rec->n, rec->bn.ptr == NULL || rec->bn.dlen == 0)) {
            return fail(dec, MFOTA_ERR_SENML_NAME, start);
        }
    }
#if MFOTA_SENML_FLOAT
    /* finite inputs can add up to infinity: nothing may resolve to it */
    if (!finite(rec->v) || !finite(rec->s) || !finite(rec->t)) {
        return fail(dec, MFOTA_ERR_SENML_RANGE, start);
    }
#endif
    return MFOTA_OK;
}

/* 1 when c may start a JSON value other than an array. */
static int value_start(char c)
{
    return c == '{' || c == '"' || c == 't' || c == 'f' || c == 'n' || c == '-' ||
           (c >= '0' && c <= '9');
}

int mfota_senml_dec_next(struct mfota_senml_dec *dec, struct mfota_senml_record *rec)
{
    char c;
    switch (dec->state) {
    case ST_ERROR:
        return dec->err;
    case ST_DONE:
        return MFOTA_DONE;
    case ST_START:
        skip_ws(dec);
        if (dec->pos >= dec->len) {
            return fail(dec, MFOTA_ERR_SENML_SYNTAX, dec->pos);
        }
        if (dec->buf[dec->pos] != '[') {
            /* a JSON value that is not an array is a type error, else syntax */
            return fail(dec, value_start(dec->buf[dec->pos]) ? MFOTA_ERR_SENML_TYPE
                                                              : MFOTA_ERR_SENML_SYNTAX,
                        dec->pos);
        }
        dec->pos++;
        skip_ws(dec);
        if (eat(dec, ']')) {
            return finish_pack(dec);
        }
        dec->state = ST_FIRST;
        break;
    default: /* ST_FIRST, ST_NEXT */
        skip_ws(dec);
        if (dec->state == ST_NEXT) {
            if (eat(dec, ']')) {
                return finish_pack(dec);
            }
            if (!eat(dec, ',')) {
                return fail(dec, MFOTA_ERR_SENML_SYNTAX, dec->pos);
            }
            skip_ws(dec);
        }
        break;
    }
    if (dec->pos >= dec->len) {
        return fail(dec, MFOTA_ERR_SENML_SYNTAX, dec->pos);
    }
    c = dec->buf[dec->pos];
    if (c != '{') {
        if (c == '[') {
            return fail(dec, MFOTA_ERR_SENML_NESTING, dec->pos);
        }
        return fail(dec, value_start(c) ? MFOTA_ERR_SENML_TYPE : MFOTA_ERR_SENML_SYNTAX, dec->pos);
    }
    if (dec->records >= MFOTA_SENML_RECORDS_MAX) {
        return fail(dec, MFOTA_ERR_SENML_TOO_MANY, dec->pos);
    }
    dec->records++;
    dec->state = ST_NEXT;
    {
        int rc = parse_record(dec, rec);
        if (rc != MFOTA_OK) {
            return rc;
        }
    }
    return MFOTA_OK;
}
