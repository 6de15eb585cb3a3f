/* Internal: hooks between the SHA-256 buffering code and block kernels. */
#ifndef MFOTA_SHA256_INTERNAL_H
#define MFOTA_SHA256_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "m2mfota/config.h"

#if MFOTA_SHA256_HW && defined(__x86_64__)
#define MFOTA_SHA256_HAVE_SHANI 1
#else
#define MFOTA_SHA256_HAVE_SHANI 0
#endif

/* The 64 round constants (shared with the SHA-NI kernel). */
const uint32_t *mfota_sha256_k_(void);

void mfota_sha256_blocks_portable_(uint32_t state[8], const uint8_t *p, size_t nblocks);

#if MFOTA_SHA256_HAVE_SHANI
int mfota_sha256_shani_available_(void);
void mfota_sha256_blocks_shani_(uint32_t state[8], const uint8_t *p, size_t nblocks);
#endif

#endif /* MFOTA_SHA256_INTERNAL_H */
