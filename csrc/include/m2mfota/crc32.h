/*
 * CRC-32 as zlib computes it (reflected polynomial 0xEDB88320, initial and
 * final XOR 0xFFFFFFFF): mfota_crc32(0, data, n) == zlib.crc32(data).
 *
 * Streaming follows zlib: start from 0 and feed the previous result back in,
 *     crc = mfota_crc32(0, part1, n1);
 *     crc = mfota_crc32(crc, part2, n2);
 * No state besides the 32-bit value, so a journal can store it as is.
 */
#ifndef MFOTA_CRC32_H
#define MFOTA_CRC32_H

#include <stddef.h>
#include <stdint.h>

#include "m2mfota/config.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Update `crc` with `len` bytes at `data` using the fastest kernel this build
 * and CPU offer (see mfota_crc32_active()).  `data` may be NULL when len is 0. */
uint32_t mfota_crc32(uint32_t crc, const void *data, size_t len);

/* CRC-32 of A‖B from crc_a = CRC(A), crc_b = CRC(B) and len_b = |B|, in
 * O(log len_b) time, without the data.  Used to check a whole image against the
 * CRCs of its verified parts. */
uint32_t mfota_crc32_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b);

/* The kernels.  Portable ones exist on every target (when compiled in);
 * hardware ones only where the CPU has the instructions. */
enum mfota_crc32_impl {
    MFOTA_CRC32_IMPL_BITWISE = 0, /* no table */
    MFOTA_CRC32_IMPL_NIBBLE = 1,  /* 64 B table */
    MFOTA_CRC32_IMPL_BYTE = 2,    /* 1 KiB table */
    MFOTA_CRC32_IMPL_SLICE8 = 3,  /* 8 KiB of tables */
    MFOTA_CRC32_IMPL_PCLMUL = 4,  /* x86-64 PCLMULQDQ folding, 128-bit lanes */
    MFOTA_CRC32_IMPL_VPCLMUL = 5, /* x86-64 VPCLMULQDQ folding, AVX-512 lanes */
    MFOTA_CRC32_IMPL_ARMV8 = 6,   /* AArch64 CRC32 instructions */
    MFOTA_CRC32_IMPL_COUNT_ = 7
};

/* 1 when `impl` is compiled into this build and the running CPU supports it,
 * else 0.  Cheap: CPU features are probed once. */
int mfota_crc32_available(enum mfota_crc32_impl impl);

/* Like mfota_crc32() but with the named kernel.  Returns MFOTA_ERR_UNSUPPORTED
 * (as a negative int in *err when err is not NULL) and leaves crc unchanged
 * when the kernel is not available; *err is set to MFOTA_OK otherwise. */
uint32_t mfota_crc32_with(enum mfota_crc32_impl impl, uint32_t crc, const void *data, size_t len,
                          int *err);

/* The kernel mfota_crc32() dispatches to on this CPU. */
enum mfota_crc32_impl mfota_crc32_active(void);

/* Short lowercase name of a kernel ("slice8", "vpclmul"), or "?" when unknown. */
const char *mfota_crc32_impl_name(enum mfota_crc32_impl impl);

#ifdef __cplusplus
}
#endif

#endif /* MFOTA_CRC32_H */
