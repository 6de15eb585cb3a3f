/* sha256.h */
struct mfota_sha256 {
    uint32_t state[8];
    uint64_t length;
    uint8_t buffer[64];
};
void mfota_sha256_init(struct mfota_sha256 *ctx);
void mfota_sha256_update(struct mfota_sha256 *ctx, const void *data, size_t len);
void mfota_sha256_final(struct mfota_sha256 *ctx, uint8_t out[32]);
enum mfota_sha256_impl {
    MFOTA_SHA256_IMPL_PORTABLE = 0,
    MFOTA_SHA256_IMPL_SHANI = 1,
    MFOTA_SHA256_IMPL_COUNT_ = 2
};
int mfota_sha256_available(enum mfota_sha256_impl impl);
enum mfota_sha256_impl mfota_sha256_active(void);
const char *mfota_sha256_impl_name(enum mfota_sha256_impl impl);
int mfota_sha256_with(enum mfota_sha256_impl impl, const void *data, size_t len, uint8_t out[32]);
void mfota_sha256(const void *data, size_t len, uint8_t out[32]);
void mfota_sha256_hex(const uint8_t digest[32], char out[65]);
