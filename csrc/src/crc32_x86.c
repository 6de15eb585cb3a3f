/*
 * x86-64 CRC-32 kernels: carry-less multiply folding with PCLMULQDQ on 128-bit
 * lanes and with VPCLMULQDQ on 512-bit AVX-512 lanes, then a Barrett
 * reduction to 32 bits.  tools/gen_crc32_fold_constants.py derives the
 * constants and explains the math.
 *
 * Each function carries its own target attribute, so this file builds with
 * the baseline x86-64 flags of any gcc or clang; the instructions only run
 * after the CPUID/XGETBV probes below said the CPU and the OS support them.
 */
#include "crc32_internal.h"

#if MFOTA_CRC32_HAVE_X86

#include <cpuid.h>
#include <immintrin.h>

#include "crc32_fold_constants.h"

#define TARGET_SSE_ __attribute__((target("pclmul,sse4.1")))
#define TARGET_AVX512_ __attribute__((target("pclmul,sse4.1,avx512f,vpclmulqdq")))
/* The 128-bit helpers are inlined into the AVX-512 kernel too, where the
 * compiler emits them VEX-encoded: no SSE/AVX transition in the hot path. */
#define HELPER_ static inline __attribute__((always_inline))

/* ---- feature probes ---------------------------------------------------- */

#define CPUID1_ECX_PCLMUL_ (1u << 1)
#define CPUID1_ECX_SSE41_ (1u << 19)
#define CPUID1_ECX_OSXSAVE_ (1u << 27)
#define CPUID7_EBX_AVX512F_ (1u << 16)
#define CPUID7_ECX_VPCLMUL_ (1u << 10)
/* XCR0: SSE, AVX, opmask, upper halves of ZMM0-15, ZMM16-31.  The OS must
 * save all of them across context switches before AVX-512 code may run. */
#define XCR0_AVX512_STATE_ 0xE6u

static int probe_pclmul(void)
{
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) {
        return 0;
    }
    return (c & CPUID1_ECX_PCLMUL_) && (c & CPUID1_ECX_SSE41_);
}

static int probe_vpclmul(void)
{
    unsigned int a, b, c, d, xcr0_lo, xcr0_hi;
    if (!probe_pclmul() || __get_cpuid_max(0, 0) < 7) {
        return 0;
    }
    __cpuid(1, a, b, c, d);
    if (!(c & CPUID1_ECX_OSXSAVE_)) {
        return 0; /* XGETBV would fault */
    }
    __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0u));
    (void)xcr0_hi;
    if ((xcr0_lo & XCR0_AVX512_STATE_) != XCR0_AVX512_STATE_) {
        return 0;
    }
    __cpuid_count(7, 0, a, b, c, d);
    return (b & CPUID7_EBX_AVX512F_) && (c & CPUID7_ECX_VPCLMUL_);
}

/* ---- tuning, per CPU vendor -------------------------------------------------
 * What the folding loop adapts to the memory system; one row per vendor,
 * picked by the CPUID vendor string when the kernel is first probed.
 *
 * align_min: from this length on, the main loop runs on 64-byte aligned
 *   data.  Loads that straddle cache lines cost a fifth of the throughput
 *   once the data streams from L2; from L1 they are nearly free, and the
 *   aligning head (one extra reduction) would cost more than it saves.
 * prefetch_min, prefetch_ahead: from prefetch_min bytes on, the loop asks
 *   for every cache line prefetch_ahead bytes before it loads it (PREFETCHT0).
 *   Measured on the Intel Xeon of docs/checksums.md (ad-hoc C harness, same
 *   buffer, variants interleaved): +3-7 % at 4 MiB (L3), +5-18 % at 16 MiB, within
 *   noise from L1/L2, so it is off below 1 MiB where it can only cost issue
 *   slots; 512 B to 2 KiB ahead measured alike; PREFETCHT1 gained nothing and
 *   lost 20 % at 256 KiB-1 MiB; PREFETCHNTA lost 60 % (the benchmark re-reads
 *   its buffer, NTA evicts it); two prefetches per 256 B instead of four
 *   gained less.
 * No AMD machine was available: the AMD row repeats the Intel values,
 *   unmeasured.  bench/bench_crc32.py (through Python) and mfota_bench_crc32
 *   (C) measure a new row. */
struct x86_tune {
    size_t align_min;
    size_t prefetch_min;
    size_t prefetch_ahead;
};

static const struct x86_tune TUNE_INTEL_ = {16384u, (size_t)1 << 20, 1024u};
static const struct x86_tune TUNE_AMD_ = {16384u, (size_t)1 << 20, 1024u}; /* unmeasured */

static const struct x86_tune *tune_for_cpu(void)
{
    unsigned int a, b, c, d;
    __cpuid(0, a, b, c, d);
    (void)a;
    /* "AuthenticAMD" in EBX, EDX, ECX; "HygonGenuine" is a Zen too. */
    if ((b == 0x68747541u && d == 0x69746e65u && c == 0x444d4163u) ||
        (b == 0x6f677948u && d == 0x6e65476eu && c == 0x656e6975u)) {
        return &TUNE_AMD_;
    }
    return &TUNE_INTEL_;
}

/* Set before the kernel can run (mfota_crc32_x86_has_vpclmul_() probes
 * it); like the probes, a race between first callers writes equal values. */
static const struct x86_tune *tune = &TUNE_INTEL_;

/* Probing twice is harmless, so a race between first callers needs no lock. */
int mfota_crc32_x86_has_pclmul_(void)
{
    static int have = -1;
    if (have < 0) {
        have = probe_pclmul();
    }
    return have;
}

int mfota_crc32_x86_has_vpclmul_(void)
{
    static int have = -1;
    if (have < 0) {
        tune = tune_for_cpu();
        have = probe_vpclmul();
    }
    return have;
}

/* ---- 128-bit folding ----------------------------------------------------- */

/* Fold constants of one distance: low qword multiplies the register's low
 * half, high qword its high half. */
#define KPAIR_(d)                                                                                  \
    _mm_set_epi64x((long long)MFOTA_CRC32_FOLD##d##_HI, (long long)MFOTA_CRC32_FOLD##d##_LO)

HELPER_ TARGET_SSE_ __m128i load128(const uint8_t *p)
{
    return _mm_loadu_si128((const __m128i *)(const void *)p);
}

/* x * x^d mod P (d given by k) plus the block d bits later. */
HELPER_ TARGET_SSE_ __m128i fold128(__m128i x, __m128i k, __m128i next)
{
    __m128i lo = _mm_clmulepi64_si128(x, k, 0x00);
    __m128i hi = _mm_clmulepi64_si128(x, k, 0x11);
    return _mm_xor_si128(_mm_xor_si128(lo, hi), next);
}

/* The 32-bit raw CRC state of the 16 bytes in x (their polynomial times x^32
 * mod P): 128 -> 96 -> 64 bits by folding, then Barrett. */
HELPER_ TARGET_SSE_ uint32_t reduce128(__m128i x)
{
    const __m128i k = _mm_set_epi64x((long long)MFOTA_CRC32_RED64, (long long)MFOTA_CRC32_RED96);
    const __m128i barrett =
        _mm_set_epi64x((long long)MFOTA_CRC32_BARRETT_P, (long long)MFOTA_CRC32_BARRETT_MU);
    const __m128i low32 = _mm_set_epi32(0, 0, 0, -1);
    __m128i z, w, q;
    z = _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_srli_si128(x, 8));
    w = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(z, low32), k, 0x10), _mm_srli_si128(z, 4));
    /* Quotient q = floor(W_high * mu / x^32), then W - q * P: the remainder
     * lands in the second dword. */
    q = _mm_and_si128(_mm_clmulepi64_si128(_mm_and_si128(w, low32), barrett, 0x00), low32);
    w = _mm_xor_si128(w, _mm_clmulepi64_si128(q, barrett, 0x10));
    return (uint32_t)_mm_extract_epi32(w, 1);
}

/* Raw state after `len` bytes, len a non-zero multiple of 16.  Four
 * accumulators 64 bytes apart hide the multiply latency. */
HELPER_ TARGET_SSE_ uint32_t blocks128(uint32_t state, const uint8_t *p, size_t len)
{
    const __m128i k128 = KPAIR_(128);
    __m128i x = _mm_xor_si128(load128(p), _mm_cvtsi32_si128((int)state));
    p += 16;
    len -= 16;
    if (len >= 48) {
        const __m128i k512 = KPAIR_(512);
        __m128i x1 = load128(p), x2 = load128(p + 16), x3 = load128(p + 32);
        p += 48;
        len -= 48;
        while (len >= 64) {
            x = fold128(x, k512, load128(p));
            x1 = fold128(x1, k512, load128(p + 16));
            x2 = fold128(x2, k512, load128(p + 32));
            x3 = fold128(x3, k512, load128(p + 48));
            p += 64;
            len -= 64;
        }
        x = fold128(x, KPAIR_(384), fold128(x1, KPAIR_(256), fold128(x2, k128, x3)));
    }
    while (len) {
        x = fold128(x, k128, load128(p));
        p += 16;
        len -= 16;
    }
    return reduce128(x);
}

TARGET_SSE_ uint32_t mfota_crc32_pclmul_(uint32_t crc, const uint8_t *p, size_t len)
{
    uint32_t state = ~crc;
    size_t body = len & ~(size_t)15;
    if (body) {
        state = blocks128(state, p, body);
    }
    return ~mfota_crc32_byte_raw_(state, p + body, len - body);
}

/* ---- 512-bit folding ----------------------------------------------------- */

HELPER_ TARGET_AVX512_ __m512i load512(const uint8_t *p)
{
    return _mm512_loadu_si512((const void *)p);
}

/* Each 128-bit lane folded by the distance in k, plus `next`. */
HELPER_ TARGET_AVX512_ __m512i fold512(__m512i z, __m512i k, __m512i next)
{
    __m512i lo = _mm512_clmulepi64_epi128(z, k, 0x00);
    __m512i hi = _mm512_clmulepi64_epi128(z, k, 0x11);
    return _mm512_ternarylogic_epi64(lo, hi, next, 0x96); /* lo ^ hi ^ next */
}

#define KPAIR512_(d) _mm512_broadcast_i32x4(KPAIR_(d))

/* The main loop folds four ZMM accumulators, 256 bytes per iteration: eight
 * independent multiplies cover the VPCLMULQDQ latency.  Eight accumulators
 * measured no faster from L2 and 2-5 % slower from L3 on the benchmark
 * machine, with or without prefetch. */
#define ZMM_STRIDE_ 256u


TARGET_AVX512_ uint32_t mfota_crc32_vpclmul_(uint32_t crc, const uint8_t *p, size_t len)
{
    const struct x86_tune *t = tune;
    uint32_t state = ~crc;
    if (len >= t->align_min) {
        size_t head = (size_t)(0u - (uintptr_t)p) & 63u;
        size_t head16 = head & ~(size_t)15;
        if (head16) {
            state = blocks128(state, p, head16);
        }
        state = mfota_crc32_byte_raw_(state, p + head16, head - head16);
        p += head;
        len -= head;
    }
    if (len >= ZMM_STRIDE_) {
        const __m512i k2048 = KPAIR512_(2048), k512 = KPAIR512_(512);
        /* Lane i of the last ZMM lies 48 - 16 i bytes before the end. */
        const __m512i klanes = _mm512_set_epi64(
            0, 0, (long long)MFOTA_CRC32_FOLD128_HI, (long long)MFOTA_CRC32_FOLD128_LO,
            (long long)MFOTA_CRC32_FOLD256_HI, (long long)MFOTA_CRC32_FOLD256_LO,
            (long long)MFOTA_CRC32_FOLD384_HI, (long long)MFOTA_CRC32_FOLD384_LO);
        __m512i z0 = _mm512_xor_si512(load512(p), _mm512_maskz_set1_epi32(1, (int)state));
        __m512i z1 = load512(p + 64), z2 = load512(p + 128), z3 = load512(p + 192);
        __m128i x;
        const size_t ahead = t->prefetch_ahead;
        const int prefetch = len >= t->prefetch_min;
        p += ZMM_STRIDE_;
        len -= ZMM_STRIDE_;
        while (len >= ZMM_STRIDE_) {
            if (prefetch) {
                /* Past the end is harmless: prefetches never fault (the address
                 * is computed as an integer, not as a pointer past the end). */
                const char *q = (const char *)((uintptr_t)p + ahead);
                _mm_prefetch(q, _MM_HINT_T0);
                _mm_prefetch(q + 64, _MM_HINT_T0);
                _mm_prefetch(q + 128, _MM_HINT_T0);
                _mm_prefetch(q + 192, _MM_HINT_T0);
            }
            z0 = fold512(z0, k2048, load512(p));
            z1 = fold512(z1, k2048, load512(p + 64));
            z2 = fold512(z2, k2048, load512(p + 128));
            z3 = fold512(z3, k2048, load512(p + 192));
            p += ZMM_STRIDE_;
            len -= ZMM_STRIDE_;
        }
        z0 = fold512(z0, KPAIR512_(1536), fold512(z1, KPAIR512_(1024), fold512(z2, k512, z3)));
        while (len >= 64) {
            z0 = fold512(z0, k512, load512(p));
            p += 64;
            len -= 64;
        }
        /* Four lanes to one: fold lanes 0-2 onto lane 3, then add the lanes. */
        z0 = _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(z0, klanes, 0x00),
                                       _mm512_clmulepi64_epi128(z0, klanes, 0x11),
                                       _mm512_maskz_mov_epi64(0xC0, z0), 0x96);
        x = _mm_xor_si128(
            _mm_xor_si128(_mm512_extracti32x4_epi32(z0, 0), _mm512_extracti32x4_epi32(z0, 1)),
            _mm_xor_si128(_mm512_extracti32x4_epi32(z0, 2), _mm512_extracti32x4_epi32(z0, 3)));
        while (len >= 16) {
            x = fold128(x, KPAIR_(128), load128(p));
            p += 16;
            len -= 16;
        }
        state = reduce128(x);
    } else if (len >= 16) {
        size_t body = len & ~(size_t)15;
        state = blocks128(state, p, body);
        p += body;
        len -= body;
    }
    return ~mfota_crc32_byte_raw_(state, p, len);
}

#else
/* ISO C forbids an empty translation unit. */
typedef int mfota_crc32_x86_unused_;
#endif /* MFOTA_CRC32_HAVE_X86 */
