/* Internal: the hooks between the CRC-32 dispatcher and the hardware kernels. */
#ifndef MFOTA_CRC32_INTERNAL_H
#define MFOTA_CRC32_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "m2mfota/config.h"

#define MFOTA_CRC32_POLY 0xEDB88320u

/* Which hardware kernels this build compiles. */
#if MFOTA_CRC32_HW && defined(__x86_64__)
#define MFOTA_CRC32_HAVE_X86 1
#else
#define MFOTA_CRC32_HAVE_X86 0
#endif
#if MFOTA_CRC32_HW && defined(__aarch64__)
#define MFOTA_CRC32_HAVE_ARMV8 1
#else
#define MFOTA_CRC32_HAVE_ARMV8 0
#endif

/* Byte-table kernel on raw (pre-inverted) state: the hardware kernels use it
 * for heads and tails shorter than their folding width. */
uint32_t mfota_crc32_byte_raw_(uint32_t state, const uint8_t *p, size_t len);

#if MFOTA_CRC32_HAVE_X86
/* Feature probes (CPUID + XGETBV), and zlib-semantics kernels. */
int mfota_crc32_x86_has_pclmul_(void);
int mfota_crc32_x86_has_vpclmul_(void);
uint32_t mfota_crc32_pclmul_(uint32_t crc, const uint8_t *p, size_t len);
uint32_t mfota_crc32_vpclmul_(uint32_t crc, const uint8_t *p, size_t len);
#endif

#if MFOTA_CRC32_HAVE_ARMV8
int mfota_crc32_armv8_available_(void);
uint32_t mfota_crc32_armv8_(uint32_t crc, const uint8_t *p, size_t len);
#endif

#endif /* MFOTA_CRC32_INTERNAL_H */
