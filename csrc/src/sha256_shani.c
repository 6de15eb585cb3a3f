/*
 * SHA-256 block function on the x86 SHA extensions (SHA-NI).
 *
 * SHA256RNDS2 does two rounds on the state split as ABEF / CDGH, and
 * SHA256MSG1/MSG2 extend the message schedule four words at a time.  The
 * function carries its own target attribute, so the file builds with the
 * baseline x86-64 flags and runs only after the CPUID probe below.
 */
#include "sha256_internal.h"

#if MFOTA_SHA256_HAVE_SHANI

#include <cpuid.h>
#include <immintrin.h>

#define CPUID1_ECX_SSSE3_ (1u << 9)
#define CPUID1_ECX_SSE41_ (1u << 19)
#define CPUID7_EBX_SHA_ (1u << 29)

#define TARGET_SHANI_ __attribute__((target("sha,sse4.1")))

static int probe_shani(void)
{
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & CPUID1_ECX_SSSE3_) || !(c & CPUID1_ECX_SSE41_)) {
        return 0;
    }
    if (__get_cpuid_max(0, 0) < 7) {
        return 0;
    }
    __cpuid_count(7, 0, a, b, c, d);
    return (b & CPUID7_EBX_SHA_) != 0;
}

int mfota_sha256_shani_available_(void)
{
    static int have = -1; /* probing twice is harmless: no lock */
    if (have < 0) {
        have = probe_shani();
    }
    return have;
}

/* Four rounds: message words plus round constants, two rounds per
 * SHA256RNDS2, the second pair taken from the high half. */
#define ROUNDS4_(msg, i)                                                                           \
    do {                                                                                           \
        __m128i wk_ = _mm_add_epi32((msg), load128(k + (i)));                                      \
        cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk_);                                             \
        abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk_, 0x0E));                    \
    } while (0)

/* W[i+16..i+19] from w0 = W[i..i+3], w1 = W[i+4..], w2 = W[i+8..], w3 = W[i+12..],
 * written over w0. */
#define SCHEDULE_(w0, w1, w2, w3)                                                                  \
    (w0) = _mm_sha256msg2_epu32(                                                                   \
        _mm_add_epi32(_mm_sha256msg1_epu32((w0), (w1)), _mm_alignr_epi8((w3), (w2), 4)), (w3))

static inline __attribute__((always_inline)) TARGET_SHANI_ __m128i load128(const void *p)
{
    return _mm_loadu_si128((const __m128i *)p);
}

TARGET_SHANI_ void mfota_sha256_blocks_shani_(uint32_t state[8], const uint8_t *p, size_t nblocks)
{
    const uint32_t *k = mfota_sha256_k_();
    /* Big-endian words: reverse the bytes of each 32-bit lane. */
    const __m128i bswap = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
    __m128i abcd = load128(state);
    __m128i efgh = load128(state + 4);
    __m128i abef, cdgh;

    /* (a,b,c,d), (e,f,g,h) -> ABEF = (f,e,b,a), CDGH = (h,g,d,c), lane 0 first. */
    abcd = _mm_shuffle_epi32(abcd, 0xB1); /* b,a,d,c */
    efgh = _mm_shuffle_epi32(efgh, 0x1B); /* h,g,f,e */
    abef = _mm_alignr_epi8(abcd, efgh, 8);
    cdgh = _mm_blend_epi16(efgh, abcd, 0xF0);

    while (nblocks--) {
        const __m128i abef_in = abef, cdgh_in = cdgh;
        __m128i w0 = _mm_shuffle_epi8(load128(p), bswap);
        __m128i w1 = _mm_shuffle_epi8(load128(p + 16), bswap);
        __m128i w2 = _mm_shuffle_epi8(load128(p + 32), bswap);
        __m128i w3 = _mm_shuffle_epi8(load128(p + 48), bswap);
        int i;
        ROUNDS4_(w0, 0);
        ROUNDS4_(w1, 4);
        ROUNDS4_(w2, 8);
        ROUNDS4_(w3, 12);
        for (i = 16; i < 64; i += 16) {
            SCHEDULE_(w0, w1, w2, w3);
            ROUNDS4_(w0, i);
            SCHEDULE_(w1, w2, w3, w0);
            ROUNDS4_(w1, i + 4);
            SCHEDULE_(w2, w3, w0, w1);
            ROUNDS4_(w2, i + 8);
            SCHEDULE_(w3, w0, w1, w2);
            ROUNDS4_(w3, i + 12);
        }
        abef = _mm_add_epi32(abef, abef_in);
        cdgh = _mm_add_epi32(cdgh, cdgh_in);
        p += 64;
    }

    /* Back to (a,b,c,d), (e,f,g,h). */
    abef = _mm_shuffle_epi32(abef, 0x1B); /* a,b,e,f */
    cdgh = _mm_shuffle_epi32(cdgh, 0xB1); /* g,h,c,d */
    abcd = _mm_blend_epi16(abef, cdgh, 0xF0);
    efgh = _mm_alignr_epi8(cdgh, abef, 8);
    _mm_storeu_si128((__m128i *)(void *)state, abcd);
    _mm_storeu_si128((__m128i *)(void *)(state + 4), efgh);
}

#else
/* ISO C forbids an empty translation unit. */
typedef int mfota_sha256_shani_unused_;
#endif /* MFOTA_SHA256_HAVE_SHANI */
