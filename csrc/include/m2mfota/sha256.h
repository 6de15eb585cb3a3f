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

/* The block functions.  Portable C exists on every target; SHA-NI only in
 * x86-64 builds with MFOTA_SHA256_HW, on CPUs with the SHA extensions. */
enum mfota_sha256_impl {
    MFOTA_SHA256_IMPL_PORTABLE = 0, /* FIPS 180-4 in C, 64-byte schedule on the stack */
    MFOTA_SHA256_IMPL_SHANI = 1,    /* x86-64 SHA256RNDS2 / SHA256MSG1 / SHA256MSG2 */
    MFOTA_SHA256_IMPL_COUNT_ = 2
};

/* 1 when `impl` is compiled in and the running CPU supports it, else 0. */
int mfota_sha256_available(enum mfota_sha256_impl impl);

/* The block function mfota_sha256_update() uses on this CPU (probed once). */
enum mfota_sha256_impl mfota_sha256_active(void);

/* Short lowercase name of a block function ("portable", "shani"), or "?". */
const char *mfota_sha256_impl_name(enum mfota_sha256_impl impl);

/* One-shot digest with the named block function, for tests and benchmarks.
 * Returns MFOTA_OK, or MFOTA_ERR_UNSUPPORTED (out untouched) when `impl` is
 * not available here. */
int mfota_sha256_with(enum mfota_sha256_impl impl, const void *data, size_t len,
                      uint8_t out[MFOTA_SHA256_DIGEST_SIZE]);

/* Write the lowercase hex of a digest: 64 characters plus a NUL into `out`. */
void mfota_sha256_hex(const uint8_t digest[MFOTA_SHA256_DIGEST_SIZE], char out[65]);

#ifdef __cplusplus
}
#endif

#endif /* MFOTA_SHA256_H */
