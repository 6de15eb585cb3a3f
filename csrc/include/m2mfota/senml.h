/*
 * SenML (RFC 8428) JSON: a zero-copy, zero-allocation pack decoder, a pack
 * encoder into a caller buffer, and the number conversions both need
 * (without strtod or printf): exact doubles, or integers and decimal fixed
 * point on MCUs (config.h MFOTA_SENML_FLOAT).
 *
 * Decoding iterates one record at a time over bytes the caller keeps alive,
 * so a pack of any length decodes in constant memory.  Strings come back as
 * slices of the input with their escapes still in place; the helpers below
 * decode them into caller buffers or compare them without copying.
 */
#ifndef MFOTA_SENML_H
#define MFOTA_SENML_H

#include <stddef.h>
#include <stdint.h>

#include "m2mfota/config.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The SenML version this code implements; a larger bver is refused. */
#define MFOTA_SENML_VERSION 10

/* Room mfota_senml_format_num() may need, NUL not included. */
#define MFOTA_SENML_NUM_MAX 25

/* A SenML number, as config.h's MFOTA_SENML_FLOAT chooses.
 * MFOTA_SENML_NUM(i) makes one from an integer; mfota_senml_num_to_int()
 * reads an integer back in either build. */
#if MFOTA_SENML_FLOAT
typedef double mfota_senml_num;
#define MFOTA_SENML_NUM(i) ((double)(i))
#else
/* Decimal fixed point: the value times 10^MFOTA_SENML_FRAC_DIGITS. */
typedef int64_t mfota_senml_num;
#if MFOTA_SENML_FRAC_DIGITS == 0
#define MFOTA_SENML_NUM_SCALE INT64_C(1)
#elif MFOTA_SENML_FRAC_DIGITS == 1
#define MFOTA_SENML_NUM_SCALE INT64_C(10)
#elif MFOTA_SENML_FRAC_DIGITS == 2
#define MFOTA_SENML_NUM_SCALE INT64_C(100)
#elif MFOTA_SENML_FRAC_DIGITS == 3
#define MFOTA_SENML_NUM_SCALE INT64_C(1000)
#elif MFOTA_SENML_FRAC_DIGITS == 4
#define MFOTA_SENML_NUM_SCALE INT64_C(10000)
#elif MFOTA_SENML_FRAC_DIGITS == 5
#define MFOTA_SENML_NUM_SCALE INT64_C(100000)
#elif MFOTA_SENML_FRAC_DIGITS == 6
#define MFOTA_SENML_NUM_SCALE INT64_C(1000000)
#elif MFOTA_SENML_FRAC_DIGITS == 7
#define MFOTA_SENML_NUM_SCALE INT64_C(10000000)
#elif MFOTA_SENML_FRAC_DIGITS == 8
#define MFOTA_SENML_NUM_SCALE INT64_C(100000000)
#else
#define MFOTA_SENML_NUM_SCALE INT64_C(1000000000)
#endif
/* Largest magnitude (in units); the range is symmetric, so negating a
 * number never overflows. */
#define MFOTA_SENML_NUM_LIMIT INT64_MAX
#define MFOTA_SENML_NUM(i) ((int64_t)(i) * MFOTA_SENML_NUM_SCALE)
#endif

/* Decoder modes. */
#define MFOTA_SENML_STRICT 0u
/* Read a string under "v" as "vs" (KPN's own downlink example does this). */
#define MFOTA_SENML_LENIENT_V_STRING 1u
/* KPN ThingsML (OR it in): a record's "i_" (an index into the table of
 * thingsml.h) gives its name and, unless "u" is there, its unit, instead of
 * failing as an unknown must-understand field; an empty record {} (which KPN's
 * SDK writes first in a gateway pack) is a record that sets nothing.  An
 * index outside the table is MFOTA_ERR_SENML_RANGE, a non-integer
 * MFOTA_ERR_SENML_TYPE, "i_" beside "n" MFOTA_ERR_SENML_DUPLICATE.  Ignored
 * when config.h's MFOTA_THINGSML is 0 (the MCU default). */
#define MFOTA_SENML_THINGSML 2u

/* Field bits of mfota_senml_record.fields: which fields the record held. */
#define MFOTA_SENML_F_BN 0x0001u
#define MFOTA_SENML_F_BT 0x0002u
#define MFOTA_SENML_F_BU 0x0004u
#define MFOTA_SENML_F_BV 0x0008u
#define MFOTA_SENML_F_BS 0x0010u
#define MFOTA_SENML_F_BVER 0x0020u
#define MFOTA_SENML_F_N 0x0040u
#define MFOTA_SENML_F_U 0x0080u
#define MFOTA_SENML_F_V 0x0100u
#define MFOTA_SENML_F_VS 0x0200u
#define MFOTA_SENML_F_VB 0x0400u
#define MFOTA_SENML_F_VD 0x0800u
#define MFOTA_SENML_F_S 0x1000u
#define MFOTA_SENML_F_T 0x2000u
#define MFOTA_SENML_F_UT 0x4000u
#define MFOTA_SENML_F_BASE_ 0x003Fu

/* Which value a record carries. */
enum mfota_senml_kind {
    MFOTA_SENML_KIND_NONE = 0, /* base-only record, or a record with only a sum */
    MFOTA_SENML_KIND_NUM = 1,  /* v */
    MFOTA_SENML_KIND_STR = 2,  /* vs (or a string under v in lenient mode) */
    MFOTA_SENML_KIND_BOOL = 3, /* vb */
    MFOTA_SENML_KIND_DATA = 4  /* vd: base64url text, not decoded */
};

/* A JSON string as it sits in the input: the bytes between the quotes. */
struct mfota_senml_str {
    const char *ptr; /* into the decoder's input; NULL when absent */
    size_t len;      /* raw length, escapes included */
    size_t dlen;     /* length in UTF-8 bytes once escapes are decoded */
    uint8_t escaped; /* 0: ptr[0..len) is already the decoded text */
};

/* One record with RFC 8428 section 4.6 base fields resolved. */
struct mfota_senml_record {
    struct mfota_senml_str bn; /* base name in force; the name is bn + n */
    struct mfota_senml_str n;  /* the record's own name */
    struct mfota_senml_str u;  /* u, else the bu in force; ptr NULL if neither */
    struct mfota_senml_str vs; /* the text of a STR or DATA value */
    mfota_senml_num v;         /* NUM: bv in force + v */
    mfota_senml_num s;         /* when has_s: bs in force + s */
    mfota_senml_num t;         /* when has_t: bt in force + t */
    mfota_senml_num ut;        /* when has_ut */
    uint32_t fields;           /* MFOTA_SENML_F_* held by this record itself */
    size_t offset;             /* byte offset of the record's '{' */
    uint8_t kind;              /* enum mfota_senml_kind */
    uint8_t vb;                /* BOOL: 0 or 1 */
    uint8_t has_s, has_t, has_ut;
};

/* Decoder state: plain data, caller-allocated, no pointers but the input. */
struct mfota_senml_dec {
    const char *buf;
    size_t len;
    size_t pos;
    size_t records;
    size_t err_offset;
    int err;
    unsigned mode;
    uint8_t state;
    uint8_t has_bt, has_bu, has_bv, has_bs;
    struct mfota_senml_str bn, bu;
    mfota_senml_num bt, bv, bs;
};

/* Start decoding `len` bytes at `json` (no NUL needed; the bytes must stay
 * alive while records are used).  `mode` is MFOTA_SENML_STRICT or an OR of
 * MFOTA_SENML_LENIENT_V_STRING and MFOTA_SENML_THINGSML. */
void mfota_senml_dec_init(struct mfota_senml_dec *dec, const char *json, size_t len,
                          unsigned mode);

/* Decode the next record into `rec`.  Returns MFOTA_OK with a record,
 * MFOTA_DONE after the closing ']' (and only whitespace after it), or a
 * negative MFOTA_ERR_SENML_* code -- or MFOTA_ERR_UNSUPPORTED for what the
 * subset decoder (config.h MFOTA_SENML_FULL 0, the MCU default) does not
 * implement: bt/bu/bv/bs, a nested extension value, an escaped key; errors
 * are sticky and mfota_senml_dec_offset() tells where in the input it was
 * found. */
int mfota_senml_dec_next(struct mfota_senml_dec *dec, struct mfota_senml_record *rec);

/* Byte offset of the error the decoder stopped at (0 when none). */
size_t mfota_senml_dec_offset(const struct mfota_senml_dec *dec);

/* Decode the escapes of `s` into `out` as UTF-8 (no NUL added); `*out_len`
 * gets s->dlen.  MFOTA_ERR_NOSPC if cap < s->dlen (nothing is written). */
int mfota_senml_str_decode(const struct mfota_senml_str *s, char *out, size_t cap,
                           size_t *out_len);

/* 1 when the decoded text of `s` equals the `len` bytes at `text`. */
int mfota_senml_str_eq(const struct mfota_senml_str *s, const char *text, size_t len);

/* Write the record's resolved name (bn + n) decoded into `out`; `*out_len`
 * gets its length.  MFOTA_ERR_NOSPC if it does not fit (nothing written). */
int mfota_senml_record_name(const struct mfota_senml_record *rec, char *out, size_t cap,
                            size_t *out_len);

/* ---- encoder ------------------------------------------------------------ */

/* One record to encode.  Pointers with lengths (NUL bytes allowed, UTF-8
 * expected); a NULL pointer means the field is absent. */
struct mfota_senml_entry {
    const char *bn;
    size_t bn_len;
    const char *n;
    size_t n_len;
    const char *u;
    size_t u_len;
    const char *vs; /* the text of a STR or DATA value */
    size_t vs_len;
    mfota_senml_num bt, v, s, t, ut;
    uint8_t has_bt, has_s, has_t, has_ut;
    uint8_t kind; /* enum mfota_senml_kind */
    uint8_t vb;
};

/* Encoder: writes into buf[0..cap) and never past it; `needed` keeps
 * counting after the buffer is full so the caller learns the size. */
struct mfota_senml_enc {
    char *buf;
    size_t cap;
    size_t needed;
    size_t records;
    int err;
    uint8_t has_bn; /* a non-empty base name is in force */
};

/* Start a pack in `buf` (may be NULL with cap 0 to only measure). */
void mfota_senml_enc_init(struct mfota_senml_enc *enc, char *buf, size_t cap);

/* Append one record.  MFOTA_OK (even when the buffer is full: the final
 * call reports that); MFOTA_ERR_SENML_RANGE for a NaN/infinite number or a
 * bad kind, MFOTA_ERR_SENML_ENCODING for invalid UTF-8 in a string,
 * MFOTA_ERR_SENML_STR_TOO_LONG for a string longer than MFOTA_SENML_STR_MAX
 * bytes (the decoder would refuse it), MFOTA_ERR_SENML_NAME when bn + n would not be an RFC 8428 name (or is
 * empty on a record with a value).  The subset encoder (config.h
 * MFOTA_SENML_FULL 0, the MCU default) writes bn, n, u and a number or string
 * value only: an entry with bt, s, t, ut, or a boolean or data value is
 * MFOTA_ERR_UNSUPPORTED, and nothing of it is written.  After an error the
 * buffer holds a partial pack: discard it. */
int mfota_senml_enc_record(struct mfota_senml_enc *enc, const struct mfota_senml_entry *e);

/* Close the pack.  `*needed` (may be NULL) gets the pack's full length.
 * MFOTA_OK when it fit, MFOTA_ERR_NOSPC when cap was too small, or the
 * first error an enc_record call returned. */
int mfota_senml_enc_finish(struct mfota_senml_enc *enc, size_t *needed);

/* Encode `count` entries as one pack: the three calls above in one. */
int mfota_senml_encode(const struct mfota_senml_entry *entries, size_t count, char *buf,
                       size_t cap, size_t *needed);

/* ---- numbers ------------------------------------------------------------ */

#if MFOTA_SENML_FLOAT
/* Parse exactly the `len` bytes at `s` as a JSON number, correctly rounded
 * to the nearest double (ties to even).  MFOTA_ERR_SENML_SYNTAX if they are
 * not a JSON number, MFOTA_ERR_SENML_RANGE if it overflows a double;
 * underflow gives 0 like strtod.  Only in the MFOTA_SENML_FLOAT build. */
int mfota_senml_parse_double(const char *s, size_t len, double *out);

/* Write `v` as the shortest JSON number that reads back as the same double:
 * integers below 2^53 as integers.  Returns the length written (at most
 * MFOTA_SENML_NUM_MAX, no NUL), or 0 for NaN and infinities or when cap is
 * too small for this number.  Only in the MFOTA_SENML_FLOAT build. */
size_t mfota_senml_format_double(double v, char *out, size_t cap);

/* The double build's number conversions are the ones above. */
#define mfota_senml_parse_num mfota_senml_parse_double
#define mfota_senml_format_num mfota_senml_format_double
#else
/* Parse exactly the `len` bytes at `s` as a JSON number into fixed point,
 * exactly or not at all: MFOTA_ERR_SENML_SYNTAX if they are not a JSON
 * number, MFOTA_ERR_SENML_INEXACT if a non-zero digit lies beyond
 * MFOTA_SENML_FRAC_DIGITS decimals (1e-9, 0.0001 with 3 digits),
 * MFOTA_ERR_SENML_RANGE if the magnitude exceeds MFOTA_SENML_NUM_LIMIT
 * units.  Exponents are fine when the value is exact (1.5e3).  Uses no
 * floating point and no 64-bit division. */
int mfota_senml_parse_num(const char *s, size_t len, mfota_senml_num *out);

/* Write `v` as a JSON number: the integer part, then a point and the
 * decimals without trailing zeros when there is a fraction (1500 units with
 * 3 digits: "1.5"; 2000: "2").  Returns the length written (at most
 * MFOTA_SENML_NUM_MAX, no NUL), or 0 when cap is too small. */
size_t mfota_senml_format_num(mfota_senml_num v, char *out, size_t cap);
#endif

/* The integer value of `v` into *out.  MFOTA_OK; MFOTA_ERR_SENML_RANGE when
 * v has a fraction or (doubles) lies outside int64_t's range. */
int mfota_senml_num_to_int(mfota_senml_num v, int64_t *out);

#ifdef __cplusplus
}
#endif

#endif /* MFOTA_SENML_H */
