/* sha256.h */
struct mfota_sha256 {
    uint32_t state[8];
    uint64_t length;
    uint8_t buffer[64];
};
void mfota_sha256_init(struct mfota_sha256 *ctx);
void mfota_sha256_update(struct mfota_sha256 *ctx, const void *data, size_t len);
void mfota_sha256_final(struct mfota_sha256 *ctx, uint8_t out[32]);
