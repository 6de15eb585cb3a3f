/* SenML and KPN Things messages, checked the same way on the host and on the
 * emulated Cortex-M4 (where doubles are soft-float: the number conversions
 * are the part most likely to differ between targets). */
#include <stdint.h>
#include <string.h>

#include "m2mfota/err.h"
#include "m2mfota/http_response.h"
#include "m2mfota/senml.h"
#include "m2mfota/things.h"
#include "selftest.h"

#if !MFOTA_SENML_FLOAT && MFOTA_SENML_FRAC_DIGITS != 3
#error "the fixed-point vectors below assume MFOTA_SENML_FRAC_DIGITS 3"
#endif

/* Shared vectors: both number builds (doubles, and integers with fixed
 * point) read each text and write it back in its canonical form.  These are
 * the numbers both can hold exactly: integers below 2^53 and values with at
 * most three decimals (the default MFOTA_SENML_FRAC_DIGITS). */
static const struct {
    const char *text;
    const char *canonical;
} shared_vectors[] = {
    {"0", "0"},
    {"100", "100"},
    {"-2.5", "-2.5"},
    {"123.456", "123.456"},
    {"120.1", "120.1"},
    {"0.1", "0.1"},
    {"0.3", "0.3"},
    {"-0.125", "-0.125"},
    {"0.001", "0.001"},
    {"2.50", "2.5"},
    {"1.5e3", "1500"},
    {"42E+1", "420"},
    {"5e-1", "0.5"},
    {"1e2", "100"},
    {"4096.000", "4096"},
    {"1448997445238699", "1448997445238699"},
    {"9007199254740991", "9007199254740991"},
    {"-9007199254740991", "-9007199254740991"},
};

/* 1 when `v` formats as `text`. */
static int num_is(mfota_senml_num v, const char *text)
{
    char out[MFOTA_SENML_NUM_MAX];
    size_t n = mfota_senml_format_num(v, out, sizeof out);
    return n == strlen(text) && memcmp(out, text, n) == 0;
}

static int check_shared(void)
{
    int failures = 0;
    size_t i;
    for (i = 0; i < sizeof shared_vectors / sizeof shared_vectors[0]; i++) {
        mfota_senml_num v;
        int rc = mfota_senml_parse_num(shared_vectors[i].text, strlen(shared_vectors[i].text), &v);
        SELFTEST_CHECK(failures, rc == MFOTA_OK && num_is(v, shared_vectors[i].canonical),
                       shared_vectors[i].text);
    }
    {
        /* not JSON numbers, in either build */
        static const char *const bad[] = {"", "-", "+1", "--1", "-01", ".5", "1.", "1.e1",
                                          "1.2.3", "1e", "1e+", "1E+-1", "0x1", "1 ", "1e2.5"};
        mfota_senml_num v;
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            SELFTEST_CHECK(failures,
                           mfota_senml_parse_num(bad[i], strlen(bad[i]), &v) ==
                               MFOTA_ERR_SENML_SYNTAX,
                           bad[i]);
        }
    }
    {
        mfota_senml_num v;
        int64_t k = 0;
        SELFTEST_CHECK(failures, mfota_senml_parse_num("01", 2, &v) == MFOTA_ERR_SENML_SYNTAX,
                       "leading zero is a syntax error");
        SELFTEST_CHECK(failures, mfota_senml_parse_num("1.", 2, &v) == MFOTA_ERR_SENML_SYNTAX,
                       "a point needs digits");
        SELFTEST_CHECK(failures, mfota_senml_parse_num("1e400", 5, &v) == MFOTA_ERR_SENML_RANGE,
                       "overflow is a range error");
        SELFTEST_CHECK(failures, num_is(MFOTA_SENML_NUM(-7), "-7"), "integer made");
        SELFTEST_CHECK(failures,
                       mfota_senml_parse_num("1.5e3", 5, &v) == MFOTA_OK &&
                           mfota_senml_num_to_int(v, &k) == MFOTA_OK && k == 1500,
                       "integer read back");
        SELFTEST_CHECK(failures,
                       mfota_senml_parse_num("-2.5", 4, &v) == MFOTA_OK &&
                           mfota_senml_num_to_int(v, &k) == MFOTA_ERR_SENML_RANGE,
                       "a fraction is no integer");
    }
    return failures;
}

#if MFOTA_SENML_FLOAT
static uint64_t bits_of(double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    return b;
}

static double double_of(uint64_t b)
{
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

/* Conversions whose correct result Python's float() gives (IEEE 754,
 * round to nearest even); several sit exactly on or next to a halfway point. */
static const struct {
    const char *text;
    uint64_t bits;
} parse_vectors[] = {
    {"0.1", UINT64_C(0x3FB999999999999A)},
    {"-0", UINT64_C(0x8000000000000000)},
    {"0", UINT64_C(0x0000000000000000)},
    {"1e-400", UINT64_C(0x0000000000000000)},
    {"2.2250738585072011e-308", UINT64_C(0x000FFFFFFFFFFFFF)},
    {"2.2250738585072014e-308", UINT64_C(0x0010000000000000)},
    {"4.9406564584124654e-324", UINT64_C(0x0000000000000001)},
    {"2.4703282292062327e-324", UINT64_C(0x0000000000000000)},
    {"2.4703282292062328e-324", UINT64_C(0x0000000000000001)},
    {"1.7976931348623157e308", UINT64_C(0x7FEFFFFFFFFFFFFF)},
    {"9007199254740993", UINT64_C(0x4340000000000000)},
    {"1e23", UINT64_C(0x44B52D02C7E14AF6)},
    {"8.98846567431158e307", UINT64_C(0x7FE0000000000000)},
    {"1.00000000000000011102230246251565404236316680908203125", UINT64_C(0x3FF0000000000000)},
    {"1.00000000000000011102230246251565404236316680908203126", UINT64_C(0x3FF0000000000001)},
    {"123456789012345678901234567890", UINT64_C(0x45F8EE90FF6C373E)},
    {"3.14159265358979323846264338327950288", UINT64_C(0x400921FB54442D18)},
    {"0.000001234567890123456789e-300", UINT64_C(0x006BBDFF5C8C1662)},
    {"7.2057594037927933e16", UINT64_C(0x4370000000000000)},
    {"1448997445238699", UINT64_C(0x4314976C0803FEAC)},
    {"1e300", UINT64_C(0x7E37E43C8800759C)},
    /* exponents beyond any counter: underflow to 0, no wrap-around */
    {"1e-99999999999999999999", UINT64_C(0x0000000000000000)},
    {"0e99999999999999999999", UINT64_C(0x0000000000000000)},
};

/* Shortest round-trip texts (Python's repr, in JSON's exponent spelling). */
static const struct {
    uint64_t bits;
    const char *text;
} format_vectors[] = {
    {UINT64_C(0x3FB999999999999A), "0.1"},
    {UINT64_C(0x3FD5555555555555), "0.3333333333333333"},
    {UINT64_C(0x0000000000000001), "5e-324"},
    {UINT64_C(0x7FEFFFFFFFFFFFFF), "1.7976931348623157e308"},
    {UINT64_C(0x405EDD2F1A9FBE77), "123.456"},
    {UINT64_C(0x4480F0CF064DD592), "1e22"},
    {UINT64_C(0x3E7AD7F29ABCAF48), "1e-7"},
    {UINT64_C(0x43B0000000000000), "1.152921504606847e18"},
    {UINT64_C(0xC004000000000000), "-2.5"},
    {UINT64_C(0x4059000000000000), "100"},
    {UINT64_C(0x3FD3333333333333), "0.3"},
};

static int check_numbers(void)
{
    int failures = check_shared(), before;
    size_t i;
    uint64_t x = UINT64_C(0x9E3779B97F4A7C15);
    before = 0;
    for (i = 0; i < sizeof parse_vectors / sizeof parse_vectors[0]; i++) {
        double d = 1;
        int rc = mfota_senml_parse_double(parse_vectors[i].text, strlen(parse_vectors[i].text), &d);
        SELFTEST_CHECK(failures, rc == MFOTA_OK && bits_of(d) == parse_vectors[i].bits,
                       parse_vectors[i].text);
    }
    {
        double d;
        SELFTEST_CHECK(failures, mfota_senml_parse_double("1e309", 5, &d) == MFOTA_ERR_SENML_RANGE,
                       "overflow is a range error");
        SELFTEST_CHECK(failures,
                       mfota_senml_parse_double("1e99999999999999999999", 22, &d) ==
                           MFOTA_ERR_SENML_RANGE,
                       "a huge exponent is a range error");
        SELFTEST_CHECK(failures, mfota_senml_parse_double("01", 2, &d) == MFOTA_ERR_SENML_SYNTAX,
                       "leading zero is a syntax error");
    }
    printf("%s senml/parse\n", failures == before ? "ok" : "FAIL");

    before = failures;
    for (i = 0; i < sizeof format_vectors / sizeof format_vectors[0]; i++) {
        char out[MFOTA_SENML_NUM_MAX];
        size_t n = mfota_senml_format_double(double_of(format_vectors[i].bits), out, sizeof out);
        SELFTEST_CHECK(failures,
                       n == strlen(format_vectors[i].text) &&
                           memcmp(out, format_vectors[i].text, n) == 0,
                       format_vectors[i].text);
    }
    /* pseudo-random doubles of every exponent read back bit-exactly */
    for (i = 0; i < 500; i++) {
        char out[MFOTA_SENML_NUM_MAX];
        double d, back = 0;
        size_t n;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        d = double_of(x);
        if (((x >> 52) & 0x7FF) == 0x7FF) {
            continue;
        }
        n = mfota_senml_format_double(d, out, sizeof out);
        SELFTEST_CHECK(failures,
                       n > 0 && mfota_senml_parse_double(out, n, &back) == MFOTA_OK &&
                           bits_of(back) == x,
                       "format/parse round trip");
    }
    printf("%s senml/format\n", failures == before ? "ok" : "FAIL");
    return failures;
}

#else /* integers and fixed point */

/* The reference text of `v` units: its decimal digits found by subtracting
 * powers of ten (no division at all, so independent of the core's 32-bit
 * long division), the point before the last MFOTA_SENML_FRAC_DIGITS, the
 * decimals' trailing zeros dropped.  out holds MFOTA_SENML_NUM_MAX. */
static size_t reference_text(int64_t v, char *out)
{
    uint64_t m = v < 0 ? 0u - (uint64_t)v : (uint64_t)v, p = UINT64_C(1);
    uint64_t pow10[20];
    char digits[20];
    size_t nd = 0, len = 0, i, keep;
    int started = 0;
    for (i = 20; i-- > 0; p *= 10u) {
        pow10[i] = p; /* pow10[0] = 10^19 */
    }
    for (i = 0; i < 20; i++) {
        char d = '0';
        while (m >= pow10[i]) {
            m -= pow10[i];
            d++;
        }
        if (d != '0' || started || 20 - i <= MFOTA_SENML_FRAC_DIGITS + 1) {
            digits[nd++] = d;
            started = 1;
        }
    }
    keep = nd;
    while (keep > nd - MFOTA_SENML_FRAC_DIGITS && digits[keep - 1] == '0') {
        keep--;
    }
    if (v < 0) {
        out[len++] = '-';
    }
    for (i = 0; i < keep; i++) {
        if (i == nd - MFOTA_SENML_FRAC_DIGITS) {
            out[len++] = '.';
        }
        out[len++] = digits[i];
    }
    return len;
}

/* The fixed-point formatter writes every int64 exactly: its digits come
 * from the shared 64-bit decimal routine (32-bit steps, no libgcc division
 * helper), the one the HTTP port, MCUboot version and uplink writers use.
 * Edges of each digit count and of int64, then pseudo-random values of
 * every bit length. */
static int check_exact_digits(void)
{
    static const int64_t edges[] = {0, 1, 9, 10, 99, 100, 999, 1000, 4294967294,
                                    4294967295, 4294967296, INT64_C(999999999999999999),
                                    INT64_C(1000000000000000000), INT64_MAX - 1, INT64_MAX};
    int failures = 0;
    uint64_t x = UINT64_C(0x9E3779B97F4A7C15);
    size_t i;
    for (i = 0; i < sizeof edges / sizeof edges[0] + 4096u; i++) {
        char want[MFOTA_SENML_NUM_MAX], got[MFOTA_SENML_NUM_MAX];
        int64_t v;
        size_t nw, ng;
        if (i < sizeof edges / sizeof edges[0]) {
            v = edges[i];
        } else {
            /* xorshift64, cut to a length cycling through 1..63 bits */
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            v = (int64_t)(x >> (1u + i % 63u));
        }
        nw = reference_text(i & 1u ? -v : v, want);
        ng = mfota_senml_format_num(i & 1u ? -v : v, got, sizeof got);
        if (ng != nw || memcmp(got, want, nw) != 0) {
            SELFTEST_CHECK(failures, 0, "fixed-point digits exact over int64");
            break;
        }
    }
    {
        char want[MFOTA_SENML_NUM_MAX];
        size_t nw = reference_text(INT64_MIN, want);
        SELFTEST_CHECK(failures, nw == 21 && num_is(INT64_MIN, "-9223372036854775.808") &&
                                     memcmp(want, "-9223372036854775.808", nw) == 0,
                       "reference agrees at INT64_MIN");
    }
    return failures;
}

/* What the integer build refuses instead of rounding, and its edges. */
static int check_fixed(void)
{
    static const struct {
        const char *text;
        int rc;
    } refused[] = {
        {"0.0001", MFOTA_ERR_SENML_INEXACT},
        {"1.2345", MFOTA_ERR_SENML_INEXACT},
        {"1e-400", MFOTA_ERR_SENML_INEXACT},
        {"3.14159265358979323846264338327950288", MFOTA_ERR_SENML_INEXACT},
        {"1e16", MFOTA_ERR_SENML_RANGE},
        {"9223372036854775.808", MFOTA_ERR_SENML_RANGE},
        {"-9223372036854775.808", MFOTA_ERR_SENML_RANGE},
        {"123456789012345678901234567890", MFOTA_ERR_SENML_RANGE},
        {"1e300", MFOTA_ERR_SENML_RANGE},
        /* exponents beyond any counter: no wrap-around into a small value */
        {"1e99999999999999999999", MFOTA_ERR_SENML_RANGE},
        {"1e-99999999999999999999", MFOTA_ERR_SENML_INEXACT},
    };
    int failures = check_exact_digits();
    size_t i;
    mfota_senml_num v = 1;
    for (i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        SELFTEST_CHECK(failures,
                       mfota_senml_parse_num(refused[i].text, strlen(refused[i].text), &v) ==
                           refused[i].rc,
                       refused[i].text);
    }
    SELFTEST_CHECK(failures,
                   mfota_senml_parse_num("9223372036854775.807", 20, &v) == MFOTA_OK &&
                       v == INT64_MAX && num_is(v, "9223372036854775.807"),
                   "largest number");
    SELFTEST_CHECK(failures,
                   mfota_senml_parse_num("-0.000", 6, &v) == MFOTA_OK && v == 0 && num_is(v, "0"),
                   "no negative zero");
    SELFTEST_CHECK(failures,
                   mfota_senml_parse_num("1.5000000000000000000000000e-2", 30, &v) == MFOTA_OK &&
                       v == 15 && num_is(v, "0.015"),
                   "exact after trailing zeros");
    SELFTEST_CHECK(failures, num_is(INT64_MIN, "-9223372036854775.808"), "smallest int64");
    SELFTEST_CHECK(failures,
                   mfota_senml_parse_num("9223372036854775.8070", 21, &v) == MFOTA_OK &&
                       v == INT64_MAX,
                   "a trailing zero past the decimals at the limit");
    SELFTEST_CHECK(failures,
                   mfota_senml_parse_num("9007199254740993", 16, &v) == MFOTA_OK &&
                       num_is(v, "9007199254740993"),
                   "2^53 + 1 exact (a double would round it)");
    SELFTEST_CHECK(failures,
                   mfota_senml_parse_num("0e99999999999999999999", 22, &v) == MFOTA_OK && v == 0,
                   "zero with a huge exponent");
#if MFOTA_SENML_FULL
    {
        /* a base value plus a value may leave the range: refused, not wrapped */
        static const char pack[] = "[{\"bv\":9000000000000000,\"n\":\"a\",\"v\":9e15}]";
        struct mfota_senml_dec dec;
        struct mfota_senml_record rec;
        mfota_senml_dec_init(&dec, pack, sizeof pack - 1, MFOTA_SENML_STRICT);
        SELFTEST_CHECK(failures, mfota_senml_dec_next(&dec, &rec) == MFOTA_ERR_SENML_RANGE,
                       "base value overflow");
    }
#endif
    {
        struct mfota_senml_dec dec;
        struct mfota_senml_record rec;
        mfota_senml_dec_init(&dec, "[{\"n\":\"a\",\"v\":0.5001}]", 22, MFOTA_SENML_STRICT);
        SELFTEST_CHECK(failures,
                       mfota_senml_dec_next(&dec, &rec) == MFOTA_ERR_SENML_INEXACT &&
                           mfota_senml_dec_offset(&dec) == 14,
                       "inexact value refused where it is");
    }
    printf("%s senml/fixed\n", failures ? "FAIL" : "ok");
    return failures;
}

static int check_numbers(void)
{
    static const struct {
        int64_t units;
        const char *text;
    } format_vectors[] = {
        {0, "0"},           {1, "0.001"},       {10, "0.01"},        {-1000, "-1"},
        {1234567, "1234.567"}, {-20, "-0.02"}, {4096000, "4096"}, {100100, "100.1"},
    };
    int failures = check_shared(), before;
    size_t i;
    printf("%s senml/parse\n", failures ? "FAIL" : "ok");
    before = failures;
    for (i = 0; i < sizeof format_vectors / sizeof format_vectors[0]; i++) {
        char out[MFOTA_SENML_NUM_MAX];
        SELFTEST_CHECK(failures, num_is(format_vectors[i].units, format_vectors[i].text),
                       format_vectors[i].text);
        SELFTEST_CHECK(failures, mfota_senml_format_num(format_vectors[i].units, out, 1) ==
                                     (strlen(format_vectors[i].text) <= 1 ? 1u : 0u),
                       "cap respected");
    }
    printf("%s senml/format\n", failures == before ? "ok" : "FAIL");
    return failures + check_fixed();
}
#endif

#if !MFOTA_SENML_FULL
/* What the downlink decoder (MFOTA_SENML_FULL 0) refuses instead of
 * misreading: the base fields it does not resolve and an extension field
 * with a nested value, each with MFOTA_ERR_UNSUPPORTED where it stands. */
static int check_subset(void)
{
    static const struct {
        const char *pack;
        size_t offset;
    } refused[] = {
        {"[{\"n\":\"a\",\"bt\":1,\"v\":1}]", 10},
        {"[{\"n\":\"a\",\"bu\":\"V\",\"v\":1}]", 10},
        {"[{\"bv\":2,\"n\":\"a\",\"v\":1}]", 2},
        {"[{\"n\":\"a\",\"v\":1,\"bs\":0}]", 16},
        {"[{\"n\":\"a\",\"x\":[1],\"v\":1}]", 14},
        {"[{\"n\":\"a\",\"v\":1},{\"n\":\"b\",\"x\":{},\"v\":2}]", 30},
        {"[{\"\\u006e\":\"a\",\"v\":1}]", 2},
    };
    struct mfota_senml_dec dec;
    struct mfota_senml_record rec;
    int failures = 0, rc;
    size_t i;
    for (i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        mfota_senml_dec_init(&dec, refused[i].pack, strlen(refused[i].pack), MFOTA_SENML_STRICT);
        while ((rc = mfota_senml_dec_next(&dec, &rec)) == MFOTA_OK) {
        }
        SELFTEST_CHECK(failures,
                       rc == MFOTA_ERR_UNSUPPORTED && mfota_senml_dec_offset(&dec) == refused[i].offset,
                       refused[i].pack);
    }
    /* an extension field with a scalar value is still ignored */
    mfota_senml_dec_init(&dec, "[{\"n\":\"a\",\"x\":\"y\",\"v\":1}]", 25, MFOTA_SENML_STRICT);
    SELFTEST_CHECK(failures,
                   mfota_senml_dec_next(&dec, &rec) == MFOTA_OK && num_is(rec.v, "1") &&
                       mfota_senml_dec_next(&dec, &rec) == MFOTA_DONE,
                   "scalar extension ignored");
    return failures;
}
#endif

/* The encoder: every field in the full build; the subset encoder
 * (MFOTA_SENML_FULL 0) writes bn, n, u, v and vs and refuses the others
 * with MFOTA_ERR_UNSUPPORTED, writing nothing of that record. */
static int check_encoder(void)
{
    static const char *const expect[6] = {
        "[{\"n\":\"a\",\"vb\":true}]", "[{\"n\":\"a\",\"vd\":\"QQ\"}]",
        "[{\"bt\":1,\"n\":\"a\",\"v\":1}]", "[{\"n\":\"a\",\"s\":1}]",
        "[{\"n\":\"a\",\"v\":1,\"t\":1}]", "[{\"n\":\"a\",\"v\":1,\"ut\":1}]",
    };
    struct mfota_senml_entry e;
    char out[64];
    size_t needed, i;
    int failures = 0, rc;
    for (i = 0; i < 6u; i++) {
        memset(&e, 0, sizeof e);
        e.n = "a";
        e.n_len = 1;
        e.kind = i < 2u ? (uint8_t)(i == 0u ? MFOTA_SENML_KIND_BOOL : MFOTA_SENML_KIND_DATA)
                        : (uint8_t)(i == 3u ? MFOTA_SENML_KIND_NONE : MFOTA_SENML_KIND_NUM);
        e.vb = 1;
        e.vs = "QQ";
        e.vs_len = 2;
        e.v = e.bt = e.s = e.t = e.ut = MFOTA_SENML_NUM(1);
        e.has_bt = i == 2u;
        e.has_s = i == 3u;
        e.has_t = i == 4u;
        e.has_ut = i == 5u;
        rc = mfota_senml_encode(&e, 1, out, sizeof out, &needed);
#if MFOTA_SENML_FULL
        SELFTEST_CHECK(failures,
                       rc == MFOTA_OK && needed == strlen(expect[i]) &&
                           memcmp(out, expect[i], needed) == 0,
                       expect[i]);
#else
        SELFTEST_CHECK(failures, rc == MFOTA_ERR_UNSUPPORTED && needed == 2u, expect[i]);
#endif
    }
    e.kind = MFOTA_SENML_KIND_STR;
    e.has_ut = 0;
    rc = mfota_senml_encode(&e, 1, out, sizeof out, &needed);
    SELFTEST_CHECK(failures,
                   rc == MFOTA_OK && needed == 21u &&
                       memcmp(out, "[{\"n\":\"a\",\"vs\":\"QQ\"}]", 21) == 0,
                   "string value in every build");
    printf("%s senml/encoder\n", failures ? "FAIL" : "ok");
    return failures;
}

static int check_decoder(void)
{
#if MFOTA_SENML_FULL
#define BASE_TIME_AND_UNIT "\"bt\":1.276020076001e+09,\"bu\":\"A\","
#else
#define BASE_TIME_AND_UNIT "" /* refused by this build: see check_subset() */
#endif
    static const char pack[] =
        "[{\"bn\":\"urn:dev:ow:10e2073a0108006:\"," BASE_TIME_AND_UNIT
        "\"bver\":5,\"n\":\"voltage\",\"u\":\"V\",\"v\":120.1},"
        "{\"n\":\"current\",\"t\":-5,\"v\":1.2},{\"n\":\"label\",\"vs\":\"a\\u00e9\\n\"}]";
    struct mfota_senml_dec dec;
    struct mfota_senml_record rec;
    char name[64], text[8];
    size_t n;
    int failures = 0, rc, count = 0;

    mfota_senml_dec_init(&dec, pack, sizeof pack - 1, MFOTA_SENML_STRICT);
    while ((rc = mfota_senml_dec_next(&dec, &rec)) == MFOTA_OK) {
        count++;
        SELFTEST_CHECK(failures, mfota_senml_record_name(&rec, name, sizeof name, &n) == MFOTA_OK,
                       "name fits");
        if (count == 2) {
            SELFTEST_CHECK(failures,
                           n == 34 && memcmp(name, "urn:dev:ow:10e2073a0108006:current", n) == 0,
                           "base name resolved");
            SELFTEST_CHECK(failures, rec.kind == MFOTA_SENML_KIND_NUM && num_is(rec.v, "1.2"),
                           "value");
#if !MFOTA_SENML_FULL
            SELFTEST_CHECK(failures, rec.has_t && num_is(rec.t, "-5") && rec.u.ptr == NULL,
                           "time as written, no unit");
#elif MFOTA_SENML_FLOAT
            SELFTEST_CHECK(failures, rec.has_t && rec.t == 1.276020076001e+09 - 5, "base time");
            SELFTEST_CHECK(failures, mfota_senml_str_eq(&rec.u, "A", 1), "base unit");
#else
            SELFTEST_CHECK(failures, rec.has_t && num_is(rec.t, "1276020071.001"), "base time");
            SELFTEST_CHECK(failures, mfota_senml_str_eq(&rec.u, "A", 1), "base unit");
#endif
        }
        if (count == 3) {
            SELFTEST_CHECK(failures,
                           mfota_senml_str_decode(&rec.vs, text, sizeof text, &n) == MFOTA_OK &&
                               n == 4 && memcmp(text, "a\xc3\xa9\n", 4) == 0,
                           "escapes decoded");
        }
    }
    SELFTEST_CHECK(failures, rc == MFOTA_DONE && count == 3, "three records");
    mfota_senml_dec_init(&dec, "[{\"n\":\"a\",\"v\":1,\"vs\":\"x\"}]", 26, MFOTA_SENML_STRICT);
    SELFTEST_CHECK(failures,
                   mfota_senml_dec_next(&dec, &rec) == MFOTA_ERR_SENML_TWO_VALUES &&
                       mfota_senml_dec_offset(&dec) == 16,
                   "two values refused with offset");
#if MFOTA_SENML_FULL
    {
        /* RFC 8428 4.4: an unknown field is ignored whatever its value */
        static const char ext[] = "[{\"n\":\"a\",\"x\":{\"k\":[1,{\"z\":null}],\"e\":[]},\"v\":2}]";
        /* x: up to MFOTA_SENML_EXT_DEPTH_MAX + 1 levels of [ ] around a 0 */
        char deep[32 + 2 * (MFOTA_SENML_EXT_DEPTH_MAX + 1)];
        size_t len = 0, k, levels;
        mfota_senml_dec_init(&dec, ext, sizeof ext - 1, MFOTA_SENML_STRICT);
        SELFTEST_CHECK(failures,
                       mfota_senml_dec_next(&dec, &rec) == MFOTA_OK && num_is(rec.v, "2") &&
                           mfota_senml_dec_next(&dec, &rec) == MFOTA_DONE,
                       "extension object skipped");
        for (levels = MFOTA_SENML_EXT_DEPTH_MAX; levels <= MFOTA_SENML_EXT_DEPTH_MAX + 1u;
             levels++) {
            static const char head[] = "[{\"n\":\"a\",\"v\":1,\"x\":";
            memcpy(deep, head, sizeof head - 1);
            len = sizeof head - 1;
            for (k = 0; k < levels; k++) {
                deep[len++] = '[';
            }
            deep[len++] = '0';
            for (k = 0; k < levels; k++) {
                deep[len++] = ']';
            }
            deep[len++] = '}';
            deep[len++] = ']';
            mfota_senml_dec_init(&dec, deep, len, MFOTA_SENML_STRICT);
            rc = mfota_senml_dec_next(&dec, &rec);
            SELFTEST_CHECK(failures,
                           levels == MFOTA_SENML_EXT_DEPTH_MAX
                               ? rc == MFOTA_OK
                               : rc == MFOTA_ERR_SENML_DEPTH &&
                                     mfota_senml_dec_offset(&dec) == sizeof head - 1 + levels - 1,
                           "extension depth limit");
        }
    }
#else
    failures += check_subset();
#endif
    {
        /* ThingsML "i_" -24 is a temperature in Cel; compiled out on MCUs,
         * where it is an unknown must-understand field like in plain SenML */
        static const char tml[] = "[{\"i_\":-24,\"v\":21.5}]";
        mfota_senml_dec_init(&dec, tml, sizeof tml - 1, MFOTA_SENML_THINGSML);
        rc = mfota_senml_dec_next(&dec, &rec);
#if MFOTA_THINGSML
        SELFTEST_CHECK(failures,
                       rc == MFOTA_OK && mfota_senml_str_eq(&rec.n, "temperature", 11) &&
                           mfota_senml_str_eq(&rec.u, "Cel", 3),
                       "ThingsML index resolved");
#else
        SELFTEST_CHECK(failures, rc == MFOTA_ERR_SENML_MUST_UNDERSTAND, "ThingsML compiled out");
#endif
    }
    printf("%s senml/decoder\n", failures ? "FAIL" : "ok");
    return failures;
}

static int check_things(void)
{
    static const char downlink[] =
        "[{\"bn\":\"urn:dev:IMEI:0123456789abcdef:\"},"
        "{\"n\":\"url\",\"v\":\"http://10.151.236.136/f/v1/c5801012\"},"
        "{\"n\":\"token\",\"v\":\"eyJhbGciOiJIUzI1NiJ9.e30.sig\"},{\"n\":\"size\",\"v\":1024}]";
    static struct mfota_fota_command cmd;
    static char req[600];
    static const char response[] =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\n[{\"n\r\n"
        "6\r\n\":\"a\",\r\n7\r\n\"v\":1}]\r\n0\r\n\r\n";
    struct mfota_things_status st = {"1.4.2", "downloading", 42, 0, NULL};
    struct mfota_senml_entry e[5];
    struct mfota_http_response resp;
    uint8_t body[32];
    size_t needed, i, used, count;
    int failures = 0, rc = MFOTA_NEED_MORE;

    rc = mfota_things_parse_downlink(downlink, sizeof downlink - 1, "0123456789abcdef", 16, &cmd,
                                     NULL);
    SELFTEST_CHECK(failures,
                   rc == MFOTA_OK && strcmp(cmd.url, "http://10.151.236.136/f/v1/c5801012") == 0 &&
                       strcmp(cmd.token, "eyJhbGciOiJIUzI1NiJ9.e30.sig") == 0 && cmd.has_size &&
                       cmd.size == 1024,
                   "KPN downlink");
    SELFTEST_CHECK(failures,
                   mfota_things_parse_downlink(downlink, sizeof downlink - 1, "0123456789abcdee",
                                               16, &cmd, NULL) == MFOTA_ERR_THINGS_WRONG_DEVICE,
                   "other device refused");
    printf("%s things/downlink\n", failures ? "FAIL" : "ok");

    count = mfota_things_status_entries(&st, e);
    memset(req, 0x5A, sizeof req);
    rc = mfota_things_build_uplink(req, 100, &needed, "356938035643809", 15,
                                   (const uint8_t *)"s", 1, "m.m", e, count);
    SELFTEST_CHECK(failures, rc == MFOTA_ERR_NOSPC && needed > 100 && needed < sizeof req,
                   "overflow reports the size");
    for (i = 0; i < sizeof req; i++) {
        if (req[i] != 0x5A) {
            break;
        }
    }
    SELFTEST_CHECK(failures, i == sizeof req, "nothing written on overflow");
    rc = mfota_things_build_uplink(req, needed, &needed, "356938035643809", 15,
                                   (const uint8_t *)"s", 1, "m.m", e, count);
    SELFTEST_CHECK(failures, rc == MFOTA_OK && req[needed] == 0x5A &&
                                 memcmp(req, "POST /ingestion/m2m/senml/v1 HTTP/1.1\r\n", 39) == 0,
                   "uplink written");
    printf("%s things/uplink\n", failures ? "FAIL" : "ok");

    mfota_http_response_init(&resp);
    for (i = 0; i < sizeof response - 1 && rc != MFOTA_DONE; i++) {
        rc = mfota_http_response_collect(&resp, (const uint8_t *)response + i, 1, &used, body,
                                         sizeof body);
    }
    SELFTEST_CHECK(failures,
                   rc == MFOTA_DONE && resp.status == 200 && resp.body_len == 17 &&
                       memcmp(body, "[{\"n\":\"a\",\"v\":1}]", 17) == 0,
                   "chunked response byte by byte");
    printf("%s things/response\n", failures ? "FAIL" : "ok");
    return failures;
}

int mfota_selftest_senml(void)
{
    printf("senml numbers: %s\n", MFOTA_SENML_FLOAT ? "double" : "fixed");
    printf("senml thingsml: %s\n", MFOTA_THINGSML ? "on" : "off");
    printf("senml full: %s\n", MFOTA_SENML_FULL ? "on" : "off");
    return check_numbers() + check_decoder() + check_encoder() + check_things();
}
