/* SHA-256 (FIPS 180-4): portable block function plus buffering. */
#include "m2mfota/sha256.h"

#include <string.h>

#include "m2mfota/config.h"
#include "m2mfota/err.h"
#include "sha256_internal.h"

static const uint32_t K[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u,
    0xab1c5ed5u, 0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu,
    0x9bdc06a7u, 0xc19bf174u, 0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu,
    0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau, 0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u,
    0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u, 0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu,
    0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u, 0xa2bfe8a1u, 0xa81a664bu,
    0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u, 0x19a4c116u,
    0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u,
    0xc67178f2u};

const uint32_t *mfota_sha256_k_(void)
{
    return K;
}

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static uint32_t load_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static void store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

void mfota_sha256_blocks_portable_(uint32_t state[8], const uint8_t *p, size_t nblocks)
{
    while (nblocks--) {
        /* A 16-word rolling schedule keeps the stack at 64 bytes, which
         * matters on an MCU task stack. */
        uint32_t w[16];
        uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
        uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
        int i;
        for (i = 0; i < 64; i++) {
            uint32_t t1, t2;
            if (i < 16) {
                w[i] = load_be32(p + 4 * i);
            } else {
                uint32_t w15 = w[(i - 15) & 15], w2 = w[(i - 2) & 15];
                uint32_t s0 = ROR(w15, 7) ^ ROR(w15, 18) ^ (w15 >> 3);
                uint32_t s1 = ROR(w2, 17) ^ ROR(w2, 19) ^ (w2 >> 10);
                w[i & 15] += s0 + w[(i - 7) & 15] + s1;
            }
            t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i & 15];
            t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
            h = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        state[0] += a;
        state[1] += b;
        state[2] += c;
        state[3] += d;
        state[4] += e;
        state[5] += f;
        state[6] += g;
        state[7] += h;
        p += 64;
    }
}

typedef void (*blocks_fn)(uint32_t state[8], const uint8_t *p, size_t nblocks);

static blocks_fn blocks_of(enum mfota_sha256_impl impl)
{
    switch (impl) {
    case MFOTA_SHA256_IMPL_PORTABLE:
        return mfota_sha256_blocks_portable_;
#if MFOTA_SHA256_HAVE_SHANI
    case MFOTA_SHA256_IMPL_SHANI:
        return mfota_sha256_shani_available_() ? mfota_sha256_blocks_shani_ : 0;
#endif
    default:
        return 0;
    }
}

enum mfota_sha256_impl mfota_sha256_active(void)
{
    if (blocks_of(MFOTA_SHA256_IMPL_SHANI)) {
        return MFOTA_SHA256_IMPL_SHANI;
    }
    return MFOTA_SHA256_IMPL_PORTABLE;
}

int mfota_sha256_available(enum mfota_sha256_impl impl)
{
    return blocks_of(impl) != 0;
}

const char *mfota_sha256_impl_name(enum mfota_sha256_impl impl)
{
    static const char *const names[MFOTA_SHA256_IMPL_COUNT_] = {"portable", "shani"};
    if ((unsigned)impl >= (unsigned)MFOTA_SHA256_IMPL_COUNT_) {
        return "?";
    }
    return names[impl];
}

static blocks_fn active_blocks(void)
{
#if MFOTA_SHA256_HAVE_SHANI
    /* Probing is idempotent, so a race between first callers needs no lock. */
    static blocks_fn fn;
    if (!fn) {
        fn = blocks_of(mfota_sha256_active());
    }
    return fn;
#else
    return mfota_sha256_blocks_portable_; /* the one block function: nothing to probe */
#endif
}

void mfota_sha256_init(struct mfota_sha256 *ctx)
{
    static const uint32_t iv[8] = {0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
                                   0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u};
    memcpy(ctx->state, iv, sizeof iv);
    ctx->length = 0;
    memset(ctx->buffer, 0, sizeof ctx->buffer);
}

static void update_with(blocks_fn process_blocks, struct mfota_sha256 *ctx, const void *data,
                        size_t len)
{
    const uint8_t *p = (const uint8_t *)data;
    size_t used = (size_t)(ctx->length & 63u);
    ctx->length += len;
    if (used) {
        size_t take = 64 - used;
        if (take > len) {
            take = len;
        }
        memcpy(ctx->buffer + used, p, take);
        p += take;
        len -= take;
        if (used + take < 64) {
            return;
        }
        process_blocks(ctx->state, ctx->buffer, 1);
    }
    if (len >= 64) {
        process_blocks(ctx->state, p, len / 64);
        p += len & ~(size_t)63;
        len &= 63;
    }
    if (len) {
        memcpy(ctx->buffer, p, len);
    }
}

static void final_with(blocks_fn process_blocks, struct mfota_sha256 *ctx,
                       uint8_t out[MFOTA_SHA256_DIGEST_SIZE])
{
    size_t used = (size_t)(ctx->length & 63u);
    uint64_t bits = ctx->length * 8u;
    int i;
    ctx->buffer[used++] = 0x80;
    if (used > 56) {
        memset(ctx->buffer + used, 0, 64 - used);
        process_blocks(ctx->state, ctx->buffer, 1);
        used = 0;
    }
    memset(ctx->buffer + used, 0, 56 - used);
    for (i = 0; i < 8; i++) {
        ctx->buffer[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
    }
    process_blocks(ctx->state, ctx->buffer, 1);
    for (i = 0; i < 8; i++) {
        store_be32(out + 4 * i, ctx->state[i]);
    }
}

void mfota_sha256_update(struct mfota_sha256 *ctx, const void *data, size_t len)
{
    update_with(active_blocks(), ctx, data, len);
}

void mfota_sha256_final(struct mfota_sha256 *ctx, uint8_t out[MFOTA_SHA256_DIGEST_SIZE])
{
    final_with(active_blocks(), ctx, out);
}

void mfota_sha256(const void *data, size_t len, uint8_t out[MFOTA_SHA256_DIGEST_SIZE])
{
    struct mfota_sha256 ctx;
    mfota_sha256_init(&ctx);
    mfota_sha256_update(&ctx, data, len);
    mfota_sha256_final(&ctx, out);
}

int mfota_sha256_with(enum mfota_sha256_impl impl, const void *data, size_t len,
                      uint8_t out[MFOTA_SHA256_DIGEST_SIZE])
{
    struct mfota_sha256 ctx;
    blocks_fn fn = blocks_of(impl);
    if (!fn) {
        return MFOTA_ERR_UNSUPPORTED;
    }
    mfota_sha256_init(&ctx);
    update_with(fn, &ctx, data, len);
    final_with(fn, &ctx, out);
    return MFOTA_OK;
}

void mfota_sha256_hex(const uint8_t digest[MFOTA_SHA256_DIGEST_SIZE], char out[65])
{
    static const char hex[] = "0123456789abcdef";
    int i;
    for (i = 0; i < MFOTA_SHA256_DIGEST_SIZE; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 15];
    }
    out[64] = '\0';
}
