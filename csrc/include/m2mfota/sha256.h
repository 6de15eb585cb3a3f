/*
 * SHA-256 (FIPS 180-4), streaming, no allocation.
 *
 * The context is plain data: copying it (memcpy or struct assignment) forks
 * the hash, and a journal may store it to resume hashing after a reboot.
 */
#ifndef MFOTA_SHA256_H
#define MFOTA_SHA256_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MFOTA_SHA256_DIGEST_SIZE 32
#define MFOTA_SHA256_BLOCK_SIZE 64

struct mfota_sha256 {
    uint32_t state[8];
    uint64_t length;        /* bytes hashed so far */
    uint8_t buffer[64];     /* pending partial block; `length % 64` bytes used */
};

/* Start a new hash. */
void mfota_sha256_init(struct mfota_sha256 *ctx);

/* Hash `len` more bytes; `data` may be NULL when len is 0. */
void mfota_sha256_update(struct mfota_sha256 *ctx, const void *data, size_t len);

/* Write the 32-byte digest to `out`.  The context is left finished; call
 * mfota_sha256_init() before reusing it (copy it first to keep hashing). */
void mfota_sha256_final(struct mfota_sha256 *ctx, uint8_t out[MFOTA_SHA256_DIGEST_SIZE]);

/* One-shot convenience: digest of `len` bytes at `data`. */
void mfota_sha256(const void *data, size_t len, uint8_t out[MFOTA_SHA256_DIGEST_SIZE]);

/* Write the lowercase hex of a digest: 64 characters plus a NUL into `out`. */
void mfota_sha256_hex(const uint8_t digest[MFOTA_SHA256_DIGEST_SIZE], char out[65]);

#ifdef __cplusplus
}
#endif

#endif /* MFOTA_SHA256_H */
