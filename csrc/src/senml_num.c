/*
 * Decimal <-> number without strtod or printf, in one of two builds
 * (config.h MFOTA_SENML_FLOAT).
 *
 * Doubles: parsing takes Clinger's fast path when the digits and the power
 * of ten are both exact doubles; otherwise an exact big-integer computation
 * (the integer part by multiplication, a fraction by long division) that
 * yields 64+ bits of the quotient and a sticky bit, rounded once.
 * Formatting: the Steele-White / Burger-Dybvig free-format algorithm on big
 * integers, which gives the shortest digit string that reads back as the
 * same double.  Both keep their big integers in fixed stack arrays.
 *
 * Fixed point: one pass over the same JSON grammar places the digits
 * exactly (or refuses them) in an int64_t of 10^-MFOTA_SENML_FRAC_DIGITS
 * units -- its own pass, as it needs none of the double build's digit
 * bookkeeping, and the shared vectors hold both to one grammar -- with
 * multiplications by ten and a division by ten in 32-bit steps: a 32-bit MCU
 * links neither soft-float nor a 64-bit division helper.
 */
#include "m2mfota/senml.h"

#include <string.h>

#include "m2mfota/err.h"
#include "ascii.h"

#if MFOTA_SENML_FLOAT

#include <float.h>

/* ---- the JSON number grammar ---------------------------------------------- */

/* What the scanner learned: value = (the significant digits) * 10^(exp10 -
 * frac_len), with `first` the index of the first significant digit. */
struct num_text {
    size_t first;
    long frac_len, exp10, trailing_zeros;
    uint64_t w; /* the first 19 significant digits */
    int neg, nd_total;
};

static int scan_num(const char *s, size_t len, struct num_text *t)
{
    size_t i = 0;
    int seen_sig = 0, in_frac = 0;

    memset(t, 0, sizeof *t);
    if (len == 0) {
        return MFOTA_ERR_SENML_SYNTAX;
    }
    if (s[i] == '-') {
        t->neg = 1;
        i++;
    }
    /* JSON: 0 | [1-9][0-9]* , then optional .[0-9]+ and [eE][+-]?[0-9]+ */
    if (i >= len || s[i] < '0' || s[i] > '9') {
        return MFOTA_ERR_SENML_SYNTAX;
    }
    if (s[i] == '0' && i + 1 < len && s[i + 1] >= '0' && s[i + 1] <= '9') {
        return MFOTA_ERR_SENML_SYNTAX;
    }
    for (; i < len; i++) {
        char c = s[i];
        if (c == '.') {
            if (in_frac) {
                return MFOTA_ERR_SENML_SYNTAX;
            }
            in_frac = 1;
            if (i + 1 >= len || s[i + 1] < '0' || s[i + 1] > '9') {
                return MFOTA_ERR_SENML_SYNTAX;
            }
            continue;
        }
        if (c < '0' || c > '9') {
            break;
        }
        if (in_frac) {
            t->frac_len++;
        }
        if (!seen_sig) {
            if (c == '0') {
                continue;
            }
            seen_sig = 1;
            t->first = i;
        }
        t->nd_total++;
        if (c == '0') {
            t->trailing_zeros++;
        } else {
            t->trailing_zeros = 0;
        }
        if (t->nd_total <= 19) {
            t->w = t->w * 10u + (uint64_t)(c - '0');
        }
        if (t->nd_total > 1000000) {
            return MFOTA_ERR_SENML_RANGE; /* keep the counters bounded */
        }
    }
    if (i < len) {
        int eneg = 0;
        if (s[i] != 'e' && s[i] != 'E') {
            return MFOTA_ERR_SENML_SYNTAX;
        }
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-')) {
            eneg = s[i] == '-';
            i++;
        }
        if (i >= len) {
            return MFOTA_ERR_SENML_SYNTAX;
        }
        for (; i < len; i++) {
            if (s[i] < '0' || s[i] > '9') {
                return MFOTA_ERR_SENML_SYNTAX;
            }
            if (t->exp10 < 100000000L) {
                t->exp10 = t->exp10 * 10 + (s[i] - '0');
            }
        }
        if (eneg) {
            t->exp10 = -t->exp10;
        }
    }
    return MFOTA_OK;
}

/* The first `nd` (<= 19) significant digits as an integer. */
static uint64_t leading_digits(const char *s, size_t first, int nd)
{
    uint64_t w = 0;
    size_t k = first;
    int taken = 0;
    while (taken < nd) {
        if (s[k] != '.') {
            w = w * 10u + (uint64_t)(s[k] - '0');
            taken++;
        }
        k++;
    }
    return w;
}


/* ---- big unsigned integers in caller storage ------------------------------ */

struct big {
    uint32_t *w; /* little-endian 32-bit limbs */
    int n;       /* limbs in use; 0 means zero */
    int cap;
    int overflow; /* set when a result would not fit: callers bail out */
};

static void big_init(struct big *b, uint32_t *storage, int cap)
{
    b->w = storage;
    b->n = 0;
    b->cap = cap;
    b->overflow = 0;
}

static void big_set_u64(struct big *b, uint64_t v)
{
    b->n = 0;
    while (v != 0 && b->n < b->cap) {
        b->w[b->n++] = (uint32_t)v;
        v >>= 32;
    }
}

static void big_push(struct big *b, uint32_t limb)
{
    if (b->n >= b->cap) {
        b->overflow = 1;
        return;
    }
    b->w[b->n++] = limb;
}

/* b = b * m + add */
static void big_muladd(struct big *b, uint32_t m, uint32_t add)
{
    uint64_t carry = add;
    int i;
    for (i = 0; i < b->n; i++) {
        uint64_t p = (uint64_t)b->w[i] * m + carry;
        b->w[i] = (uint32_t)p;
        carry = p >> 32;
    }
    if (carry != 0) {
        big_push(b, (uint32_t)carry);
    }
}

static void big_mul_pow5(struct big *b, int e)
{
    /* 5^13 is the largest power of five below 2^32. */
    while (e >= 13) {
        big_muladd(b, 1220703125u, 0);
        e -= 13;
    }
    if (e > 0) {
        uint32_t m = 1;
        while (e-- > 0) {
            m *= 5;
        }
        big_muladd(b, m, 0);
    }
}

static void big_shl(struct big *b, int bits)
{
    int limbs = bits / 32, sh = bits % 32, i;
    if (b->n == 0 || bits == 0) {
        return;
    }
    if (b->n + limbs + 1 > b->cap) {
        b->overflow = 1;
        return;
    }
    if (sh != 0) {
        uint32_t top = b->w[b->n - 1] >> (32 - sh);
        for (i = b->n - 1; i > 0; i--) {
            b->w[i] = (b->w[i] << sh) | (b->w[i - 1] >> (32 - sh));
        }
        b->w[0] <<= sh;
        if (top != 0) {
            b->w[b->n++] = top;
        }
    }
    if (limbs != 0) {
        for (i = b->n - 1; i >= 0; i--) {
            b->w[i + limbs] = b->w[i];
        }
        for (i = 0; i < limbs; i++) {
            b->w[i] = 0;
        }
        b->n += limbs;
    }
}

static void big_mul_pow10(struct big *b, int e)
{
    big_mul_pow5(b, e);
    big_shl(b, e);
}

static void big_shr1(struct big *b)
{
    int i;
    for (i = 0; i < b->n; i++) {
        uint32_t next = (i + 1 < b->n) ? b->w[i + 1] : 0u;
        b->w[i] = (b->w[i] >> 1) | (next << 31);
    }
    while (b->n > 0 && b->w[b->n - 1] == 0) {
        b->n--;
    }
}

static int big_cmp(const struct big *a, const struct big *b)
{
    int i;
    if (a->n != b->n) {
        return a->n < b->n ? -1 : 1;
    }
    for (i = a->n - 1; i >= 0; i--) {
        if (a->w[i] != b->w[i]) {
            return a->w[i] < b->w[i] ? -1 : 1;
        }
    }
    return 0;
}

/* a -= b, requires a >= b */
static void big_sub(struct big *a, const struct big *b)
{
    uint32_t borrow = 0;
    int i;
    for (i = 0; i < a->n; i++) {
        uint32_t bi = i < b->n ? b->w[i] : 0u;
        uint64_t d = (uint64_t)a->w[i] - bi - borrow;
        a->w[i] = (uint32_t)d;
        borrow = (uint32_t)((d >> 63) & 1u);
    }
    while (a->n > 0 && a->w[a->n - 1] == 0) {
        a->n--;
    }
}

/* dst = a + b */
static void big_add(struct big *dst, const struct big *a, const struct big *b)
{
    uint64_t carry = 0;
    int n = a->n > b->n ? a->n : b->n, i;
    if (n > dst->cap) {
        dst->overflow = 1;
        return;
    }
    for (i = 0; i < n; i++) {
        uint64_t s = carry;
        s += i < a->n ? a->w[i] : 0u;
        s += i < b->n ? b->w[i] : 0u;
        dst->w[i] = (uint32_t)s;
        carry = s >> 32;
    }
    dst->n = n;
    if (carry != 0) {
        big_push(dst, (uint32_t)carry);
    }
}

static int bitlen32(uint32_t v)
{
    int n = 0;
    while (v != 0) {
        n++;
        v >>= 1;
    }
    return n;
}

static int bitlen64(uint64_t v)
{
    int n = 0;
    while (v != 0) {
        n++;
        v >>= 1;
    }
    return n;
}

static int big_bitlen(const struct big *b)
{
    return b->n == 0 ? 0 : (b->n - 1) * 32 + bitlen32(b->w[b->n - 1]);
}

/* ---- assembling a double -------------------------------------------------- */

static double bits_to_double(uint64_t bits)
{
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

static uint64_t double_to_bits(double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return bits;
}

/* The double nearest to m * 2^e2 (plus a sliver when `sticky`), ties to
 * even, m != 0.  MFOTA_ERR_SENML_RANGE on overflow. */
static int make_double(uint64_t m, int e2, int sticky, double *out)
{
    int bl = bitlen64(m);
    int shift = bl - 53;
    uint64_t mant;
    int ue;
    if (shift < -1074 - e2) {
        shift = -1074 - e2;
    }
    if (shift <= 0) {
        mant = m << -shift; /* exact: no bits dropped */
    } else if (shift > 64) {
        mant = 0; /* below half the smallest subnormal */
    } else {
        uint64_t rem, half;
        if (shift == 64) {
            mant = 0;
            rem = m;
        } else {
            mant = m >> shift;
            rem = m & ((UINT64_C(1) << shift) - 1u);
        }
        half = UINT64_C(1) << (shift - 1);
        if (rem > half || (rem == half && (sticky || (mant & 1u)))) {
            mant++;
        }
    }
    ue = e2 + shift;
    if (mant == (UINT64_C(1) << 53)) {
        mant >>= 1;
        ue++;
    }
    if (mant == 0) {
        *out = 0.0;
        return MFOTA_OK;
    }
    if (mant >= (UINT64_C(1) << 52)) {
        int biased = ue + 1075;
        if (biased >= 2047) {
            return MFOTA_ERR_SENML_RANGE;
        }
        *out = bits_to_double(((uint64_t)biased << 52) | (mant & ((UINT64_C(1) << 52) - 1u)));
    } else {
        *out = bits_to_double(mant); /* subnormal: ue is -1074 */
    }
    return MFOTA_OK;
}

/* ---- parsing ---------------------------------------------------------------- */

#define PARSE_LIMBS ((MFOTA_SENML_NUM_DIGITS_MAX * 3322 / 1000 + 1200) / 32 + 4)

static const double exact_pow10[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* The slow path: value = D * 10^e where D is the first `nd` significant
 * digits found in s[first..len) (skipping '.'), exactly. */
static int parse_exact(const char *s, size_t len, size_t first, int nd, long e, int sticky,
                       double *out)
{
    uint32_t dw[PARSE_LIMBS], pw[PARSE_LIMBS];
    struct big d, p;
    size_t i = first;
    int taken = 0;
    uint32_t chunk = 0, scale = 1;

    big_init(&d, dw, PARSE_LIMBS);
    big_init(&p, pw, PARSE_LIMBS);
    while (taken < nd && i < len) {
        char c = s[i++];
        if (c == '.') {
            continue;
        }
        chunk = chunk * 10u + (uint32_t)(c - '0');
        scale *= 10u;
        taken++;
        if (scale == 1000000000u) {
            big_muladd(&d, scale, chunk);
            chunk = 0;
            scale = 1;
        }
    }
    if (scale != 1) {
        big_muladd(&d, scale, chunk);
    }
    if (e >= 0) {
        int bl, k;
        uint64_t top = 0;
        big_mul_pow10(&d, (int)e);
        if (d.overflow) {
            return MFOTA_ERR_SENML_RANGE;
        }
        bl = big_bitlen(&d);
        if (bl <= 64) {
            for (k = d.n - 1; k >= 0; k--) {
                top = (top << 16 << 16) | d.w[k];
            }
            return make_double(top, 0, sticky, out);
        }
        /* top 64 bits, the rest folded into the sticky bit */
        for (k = bl - 1; k >= bl - 64; k--) {
            top = (top << 1) | ((d.w[k / 32] >> (k % 32)) & 1u);
        }
        for (; k >= 0 && !sticky; k--) {
            if ((d.w[k / 32] >> (k % 32)) & 1u) {
                sticky = 1;
            }
        }
        return make_double(top, bl - 64, sticky, out);
    } else {
        /* q = floor(D * 2^sh / 10^-e) lands in (2^62, 2^64). */
        int sh, bit;
        uint64_t q = 0;
        big_set_u64(&p, 1);
        big_mul_pow10(&p, (int)-e);
        sh = 63 - big_bitlen(&d) + big_bitlen(&p);
        if (sh >= 0) {
            big_shl(&d, sh);
        } else {
            big_shl(&p, -sh);
        }
        big_shl(&p, 63);
        if (d.overflow || p.overflow) {
            return MFOTA_ERR_SENML_RANGE;
        }
        for (bit = 63; bit >= 0; bit--) {
            if (big_cmp(&d, &p) >= 0) {
                big_sub(&d, &p);
                q |= UINT64_C(1) << bit;
            }
            big_shr1(&p);
        }
        if (d.n != 0) {
            sticky = 1;
        }
        return make_double(q, -sh, sticky, out);
    }
}

int mfota_senml_parse_double(const char *s, size_t len, double *out)
{
    struct num_text tx;
    size_t first;
    int neg, nd = 0, nd_total, rc;
    long frac_len, exp10, trailing_zeros, e;
    uint64_t w;
    double r;

    if ((rc = scan_num(s, len, &tx)) != MFOTA_OK) {
        return rc;
    }
    first = tx.first;
    neg = tx.neg;
    nd_total = tx.nd_total;
    frac_len = tx.frac_len;
    exp10 = tx.exp10;
    trailing_zeros = tx.trailing_zeros;
    w = tx.w;
    if (nd_total == 0) {
        *out = neg ? -0.0 : 0.0;
        return MFOTA_OK;
    }
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
    /* Clinger: digits and power of ten both exact doubles, one rounding */
    if (nd_total <= 19 && w <= (UINT64_C(1) << 53) && exp10 - frac_len >= -22 &&
        exp10 - frac_len <= 22) {
        e = exp10 - frac_len;
        r = (double)w;
        r = e < 0 ? r / exact_pow10[-e] : r * exact_pow10[e];
        *out = neg ? -r : r;
        return MFOTA_OK;
    }
#endif
    /* value = (the nd significant digits without trailing zeros) * 10^e */
    nd = nd_total - (int)trailing_zeros;
    e = exp10 - frac_len + trailing_zeros;
    if (nd <= 19) {
        w = leading_digits(s, first, nd);
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
        if (w <= (UINT64_C(1) << 53) && e >= -22 && e <= 22) {
            r = (double)w;
            r = e < 0 ? r / exact_pow10[-e] : r * exact_pow10[e];
            *out = neg ? -r : r;
            return MFOTA_OK;
        }
#endif
        if (e == 0) {
            rc = make_double(w, 0, 0, &r);
            if (rc == MFOTA_OK) {
                *out = neg ? -r : r;
            }
            return rc;
        }
    }
    /* magnitude: the value lies in [10^(nd+e-1), 10^(nd+e)) */
    if (nd + e > 310) {
        return MFOTA_ERR_SENML_RANGE;
    }
    if (nd + e < -324) {
        *out = neg ? -0.0 : 0.0;
        return MFOTA_OK;
    }
    {
        int sticky = 0;
        if (nd > MFOTA_SENML_NUM_DIGITS_MAX) {
            e += nd - MFOTA_SENML_NUM_DIGITS_MAX;
            nd = MFOTA_SENML_NUM_DIGITS_MAX;
            sticky = 1;
        }
        rc = parse_exact(s, len, first, nd, e, sticky, &r);
    }
    if (rc == MFOTA_OK) {
        *out = neg ? -r : r;
    }
    return rc;
}

/* ---- formatting ------------------------------------------------------------ */

#define FMT_LIMBS 40

/* floor(x * log10(2)) for |x| < 2000, without relying on signed shifts */
static int floor_log10_pow2(int x)
{
    long p = (long)x * 78913L; /* 78913 / 2^18 ~ log10(2) */
    if (p >= 0) {
        return (int)(p / 262144L);
    }
    return (int)-((-p + 262143L) / 262144L);
}

/* Shortest digits of a finite positive double: digits[0..n) and k with
 * value ~ 0.d1d2...dn * 10^k. */
static int shortest_digits(uint64_t bits, char digits[20], int *k_out)
{
    uint32_t rw[FMT_LIMBS], sw[FMT_LIMBS], mpw[FMT_LIMBS], mmw[FMT_LIMBS], tw[FMT_LIMBS];
    struct big r, s, mp, mm, t;
    int biased = (int)((bits >> 52) & 0x7FFu);
    uint64_t f = bits & ((UINT64_C(1) << 52) - 1u);
    int e, k, n = 0, even, unequal_gaps = 0;

    big_init(&r, rw, FMT_LIMBS);
    big_init(&s, sw, FMT_LIMBS);
    big_init(&mp, mpw, FMT_LIMBS);
    big_init(&mm, mmw, FMT_LIMBS);
    big_init(&t, tw, FMT_LIMBS);
    if (biased == 0) {
        e = -1074;
    } else {
        f |= UINT64_C(1) << 52;
        e = biased - 1075;
        unequal_gaps = (f == (UINT64_C(1) << 52)) && biased > 1;
    }
    even = (f & 1u) == 0;
    /* value = r / s, high gap = mp / s, low gap = mm / s (all scaled by 2) */
    if (e >= 0) {
        big_set_u64(&r, f);
        big_shl(&r, e + 1 + unequal_gaps);
        big_set_u64(&s, unequal_gaps ? 4u : 2u);
        big_set_u64(&mp, 1);
        big_shl(&mp, e + unequal_gaps);
        big_set_u64(&mm, 1);
        big_shl(&mm, e);
    } else {
        big_set_u64(&r, f);
        big_shl(&r, 1 + unequal_gaps);
        big_set_u64(&s, 1);
        big_shl(&s, 1 - e + unequal_gaps);
        big_set_u64(&mp, unequal_gaps ? 2u : 1u);
        big_set_u64(&mm, 1);
    }
    k = floor_log10_pow2(e + bitlen64(f) - 1) + 1;
    if (k >= 0) {
        big_mul_pow10(&s, k);
    } else {
        big_mul_pow10(&r, -k);
        big_mul_pow10(&mp, -k);
        big_mul_pow10(&mm, -k);
    }
    for (;;) { /* the estimate may be one low: make high < 10^k */
        int c;
        big_add(&t, &r, &mp);
        c = big_cmp(&t, &s);
        if (even ? c >= 0 : c > 0) {
            big_muladd(&s, 10, 0);
            k++;
        } else {
            break;
        }
        if (k > 400) {
            return -1;
        }
    }
    for (;;) {
        int d = 0, low, high, c;
        big_muladd(&r, 10, 0);
        big_muladd(&mp, 10, 0);
        big_muladd(&mm, 10, 0);
        while (big_cmp(&r, &s) >= 0) {
            big_sub(&r, &s);
            d++;
        }
        c = big_cmp(&r, &mm);
        low = even ? c <= 0 : c < 0;
        big_add(&t, &r, &mp);
        c = big_cmp(&t, &s);
        high = even ? c >= 0 : c > 0;
        if (r.overflow || s.overflow || mp.overflow || mm.overflow || t.overflow || n >= 19) {
            return -1;
        }
        if (!low && !high) {
            digits[n++] = (char)('0' + d);
            continue;
        }
        if (low && high) {
            big_add(&t, &r, &r);
            if (big_cmp(&t, &s) >= 0) {
                d++;
            }
        } else if (high) {
            d++;
        }
        digits[n++] = (char)('0' + d);
        break;
    }
    *k_out = k;
    return n;
}

size_t mfota_senml_format_double(double v, char *out, size_t cap)
{
    char buf[MFOTA_SENML_NUM_MAX + 8];
    char digits[20];
    size_t len = 0;
    uint64_t bits = double_to_bits(v);
    int n, k, i;

    if (((bits >> 52) & 0x7FFu) == 0x7FFu) {
        return 0; /* NaN or infinity: not representable in JSON */
    }
    if (bits >> 63) {
        buf[len++] = '-';
        bits &= ~(UINT64_C(1) << 63);
        v = -v;
    }
    if (bits == 0) {
        /* keep the sign of -0.0 visible */
        if (len) {
            buf[len++] = '0';
            buf[len++] = '.';
        }
        buf[len++] = '0';
    } else if (v < 9007199254740992.0 && v == (double)(uint64_t)v) {
        len += mfota_ascii_put_uint_(buf + len, (uint64_t)v);
    } else {
        n = shortest_digits(bits, digits, &k);
        if (n <= 0) {
            return 0;
        }
        if (k > 0 && n > k) {
            /* digits on both sides of the point.  Integral values above
             * 2^53 take the exponent form: written as integers, a JSON
             * reader could keep them as integers unequal to the double. */
            for (i = 0; i < k; i++) {
                buf[len++] = digits[i];
            }
            buf[len++] = '.';
            for (i = k; i < n; i++) {
                buf[len++] = digits[i];
            }
        } else if (k <= 0 && k > -6) {
            buf[len++] = '0';
            buf[len++] = '.';
            for (i = 0; i < -k; i++) {
                buf[len++] = '0';
            }
            for (i = 0; i < n; i++) {
                buf[len++] = digits[i];
            }
        } else {
            int x = k - 1;
            buf[len++] = digits[0];
            if (n > 1) {
                buf[len++] = '.';
                for (i = 1; i < n; i++) {
                    buf[len++] = digits[i];
                }
            }
            buf[len++] = 'e';
            if (x < 0) {
                buf[len++] = '-';
                x = -x;
            }
            len += mfota_ascii_put_uint_(buf + len, (uint64_t)x);
        }
    }
    if (len > cap) {
        return 0;
    }
    memcpy(out, buf, len);
    return len;
}

int mfota_senml_num_to_int(double v, int64_t *out)
{
    /* the range test first: the cast below is then defined */
    if (!(v >= -9223372036854775808.0 && v < 9223372036854775808.0) ||
        v != (double)(int64_t)v) {
        return MFOTA_ERR_SENML_RANGE;
    }
    *out = (int64_t)v;
    return MFOTA_OK;
}

#else /* integers and decimal fixed point */

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* One pass over the JSON number grammar, placing the digits as it goes:
 * m gets the significant digits with a run of zeros folded in only when a
 * non-zero digit follows, so it never holds trailing zeros, and e counts
 * the power of ten that turns m into units. */
int mfota_senml_parse_num(const char *s, size_t len, int64_t *out)
{
    uint64_t m = 0;
    size_t i = 0;
    long e = MFOTA_SENML_FRAC_DIGITS, zeros = 0, x = 0;
    int neg = 0, nd = 0, in_frac = 0;

    if (len != 0 && s[0] == '-') {
        neg = 1;
        i++;
    }
    /* JSON: 0 | [1-9][0-9]* , then optional .[0-9]+ and [eE][+-]?[0-9]+ */
    if (i >= len || !is_digit(s[i]) || (s[i] == '0' && i + 1 < len && is_digit(s[i + 1]))) {
        return MFOTA_ERR_SENML_SYNTAX;
    }
    for (; i < len; i++) {
        char c = s[i];
        if (c == '.' && !in_frac && i + 1 < len && is_digit(s[i + 1])) {
            in_frac = 1;
            continue;
        }
        if (!is_digit(c)) {
            break; /* a second point, a point without digits: refused below */
        }
        e -= in_frac;
        if (nd + zeros >= 1000000) {
            return MFOTA_ERR_SENML_RANGE; /* keep the counters bounded */
        }
        if (c == '0') {
            zeros += nd != 0; /* leading zeros are no digits */
            continue;
        }
        nd += (int)zeros + 1;
        if (nd <= 19) {
            for (; zeros > 0; zeros--) {
                m *= 10u;
            }
            m = m * 10u + (uint64_t)(c - '0');
        }
        zeros = 0;
    }
    if (i < len) {
        int eneg = 0;
        if (s[i] != 'e' && s[i] != 'E') {
            return MFOTA_ERR_SENML_SYNTAX;
        }
        if (++i < len && (s[i] == '+' || s[i] == '-')) {
            eneg = s[i++] == '-';
        }
        if (i >= len) {
            return MFOTA_ERR_SENML_SYNTAX;
        }
        for (; i < len; i++) {
            if (!is_digit(s[i])) {
                return MFOTA_ERR_SENML_SYNTAX;
            }
            if (x < 100000000L) {
                x = x * 10 + (s[i] - '0');
            }
        }
        e += eneg ? -x : x;
    }
    if (nd == 0) {
        *out = 0; /* -0 too: an integer has no negative zero */
        return MFOTA_OK;
    }
    /* value = m * 10^e units, m without trailing zeros: whole or refused */
    e += zeros;
    if (e < 0) {
        return MFOTA_ERR_SENML_INEXACT;
    }
    if (nd + e > 19) {
        return MFOTA_ERR_SENML_RANGE; /* 20+ digits of units: above INT64_MAX */
    }
    /* m has nd digits: 19 at most after scaling, below 10^19 < 2^64, so
     * the products cannot wrap and one comparison at the end suffices */
    for (; e > 0; e--) {
        m *= 10u;
    }
    if (m > (uint64_t)MFOTA_SENML_NUM_LIMIT) {
        return MFOTA_ERR_SENML_RANGE;
    }
    *out = neg ? -(int64_t)m : (int64_t)m;
    return MFOTA_OK;
}

/* |v| as unsigned, defined for INT64_MIN too (a caller may build one). */
static uint64_t magnitude(int64_t v)
{
    return v < 0 ? 0u - (uint64_t)v : (uint64_t)v;
}

size_t mfota_senml_format_num(int64_t v, char *out, size_t cap)
{
    char digits[20];
    uint64_t m = magnitude(v);
    size_t nd = 0, len, i, frac_end;

    /* digits, least significant first, at least one integer digit */
    do {
        digits[nd++] = (char)('0' + mfota_ascii_divmod10_(&m));
    } while (m != 0 || nd <= MFOTA_SENML_FRAC_DIGITS);
    /* the decimals without their trailing zeros: digits[frac_end..FRAC) */
    for (frac_end = 0; frac_end < MFOTA_SENML_FRAC_DIGITS && digits[frac_end] == '0';
         frac_end++) {
    }
    len = (v < 0) + (nd - frac_end) + (frac_end < MFOTA_SENML_FRAC_DIGITS);
    if (len > cap) {
        return 0;
    }
    len = 0;
    if (v < 0) {
        out[len++] = '-';
    }
    for (i = nd; i > frac_end; i--) {
        if (i == MFOTA_SENML_FRAC_DIGITS) {
            out[len++] = '.';
        }
        out[len++] = digits[i - 1];
    }
    return len;
}

int mfota_senml_num_to_int(int64_t v, int64_t *out)
{
    uint64_t m = magnitude(v);
    int k;
#if MFOTA_SENML_FRAC_DIGITS == 0
    *out = v; /* units are ones: and -m would not exist for INT64_MIN */
    return MFOTA_OK;
#endif
    for (k = 0; k < MFOTA_SENML_FRAC_DIGITS; k++) {
        if (mfota_ascii_divmod10_(&m) != 0) {
            return MFOTA_ERR_SENML_RANGE;
        }
    }
    *out = v < 0 ? -(int64_t)m : (int64_t)m;
    return MFOTA_OK;
}

#endif /* MFOTA_SENML_FLOAT */
