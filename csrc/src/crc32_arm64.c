/*
 * AArch64 CRC-32 kernel: the ARMv8 CRC32 instructions compute the zlib
 * polynomial directly, eight bytes per CRC32X.
 *
 * The function carries its own target attribute, so the file builds for any
 * AArch64 baseline; it only runs when the CPU reports the instructions:
 * getauxval(AT_HWCAP) on Linux, or the compile-time __ARM_FEATURE_CRC32 when
 * the build already targets a CPU that has them (bare metal, no auxv).
 */
#include "crc32_internal.h"

#if MFOTA_CRC32_HAVE_ARMV8

#include <string.h>

#if defined(__linux__) && defined(__has_include)
#if __has_include(<sys/auxv.h>)
#include <sys/auxv.h>
#define MFOTA_HAVE_AUXV_ 1
#endif
#endif
#ifndef MFOTA_HAVE_AUXV_
#define MFOTA_HAVE_AUXV_ 0
#endif
#if MFOTA_HAVE_AUXV_ && !defined(HWCAP_CRC32)
#define HWCAP_CRC32 (1ul << 7) /* Linux arch/arm64 uapi hwcap.h */
#endif

#if defined(__clang__)
/* clang's arm_acle.h hides the intrinsics unless the whole build targets
 * +crc; its builtins work under a function target attribute. */
#define TARGET_CRC_ __attribute__((target("crc")))
#define CRC32B_(s, b) __builtin_arm_crc32b((s), (b))
#define CRC32D_(s, v) __builtin_arm_crc32d((s), (v))
#else
#include <arm_acle.h>
#define TARGET_CRC_ __attribute__((target("+crc")))
#define CRC32B_(s, b) __crc32b((s), (b))
#define CRC32D_(s, v) __crc32d((s), (v))
#endif

int mfota_crc32_armv8_available_(void)
{
#if defined(__ARM_FEATURE_CRC32)
    return 1;
#elif MFOTA_HAVE_AUXV_
    static int have = -1; /* probing twice is harmless: no lock */
    if (have < 0) {
        have = (getauxval(AT_HWCAP) & HWCAP_CRC32) != 0;
    }
    return have;
#else
    return 0;
#endif
}

static uint64_t load_le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v); /* alignment-safe; one LDR */
#if defined(__AARCH64EB__)
    v = __builtin_bswap64(v);
#endif
    return v;
}

TARGET_CRC_ uint32_t mfota_crc32_armv8_(uint32_t crc, const uint8_t *p, size_t len)
{
    uint32_t state = ~crc;
    /* Aligned 8-byte loads never cross a cache line. */
    while (len && ((uintptr_t)p & 7u)) {
        state = CRC32B_(state, *p++);
        len--;
    }
    while (len >= 32) {
        state = CRC32D_(state, load_le64(p));
        state = CRC32D_(state, load_le64(p + 8));
        state = CRC32D_(state, load_le64(p + 16));
        state = CRC32D_(state, load_le64(p + 24));
        p += 32;
        len -= 32;
    }
    while (len >= 8) {
        state = CRC32D_(state, load_le64(p));
        p += 8;
        len -= 8;
    }
    while (len--) {
        state = CRC32B_(state, *p++);
    }
    return ~state;
}

#else
/* ISO C forbids an empty translation unit. */
typedef int mfota_crc32_arm64_unused_;
#endif /* MFOTA_CRC32_HAVE_ARMV8 */
