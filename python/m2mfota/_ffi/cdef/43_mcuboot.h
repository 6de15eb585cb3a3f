/* bootloader.h, mcuboot.h (the build keeps MFOTA_MCUBOOT=1) */
struct mfota_bootloader {
    int (*mark_pending)(void *ctx, uint32_t image_size, int permanent);
    int (*confirm)(void *ctx);
    int (*running_version)(void *ctx, char *buf, size_t cap);
    void *ctx;
    int (*check_image)(void *ctx, uint32_t image_size, char *version, size_t cap);
};
int mfota_bootloader_accept_raw(void *ctx, uint32_t image_size, char *version, size_t cap);
/* sig_verify.h */
enum mfota_sig_alg { MFOTA_SIG_ECDSA_P256 = 1, MFOTA_SIG_ED25519 = 2 };
struct mfota_sig_verifier {
    int (*verify)(void *ctx, int alg, const uint8_t *key, size_t key_len,
                  const uint8_t hash[32], const uint8_t *sig, size_t sig_len);
    void *ctx;
};
struct mfota_sig_key {
    int alg;
    const uint8_t *der;
    size_t der_len;
};
struct mfota_mcuboot_trust {
    const struct mfota_sig_key *keys;
    size_t n_keys;
    const struct mfota_sig_verifier *verifier;
};
#define MFOTA_MCUBOOT_MAGIC_OFF ...
#define MFOTA_MCUBOOT_IMAGE_OK_OFF ...
#define MFOTA_MCUBOOT_COPY_DONE_OFF ...
#define MFOTA_MCUBOOT_SWAP_INFO_OFF ...
struct mfota_mcuboot_image {
    uint32_t header_size;
    uint32_t image_size;
    uint32_t protect_tlv_size;
    uint32_t total_size;
    uint32_t flags;
    uint32_t load_addr;
    uint8_t major;
    uint8_t minor;
    uint16_t revision;
    uint32_t build;
    uint8_t sha256[32];
};
struct mfota_mcuboot_port {
    const struct mfota_flash *primary;
    const struct mfota_flash *secondary;
    struct mfota_mcuboot_trust trust;
};
int mfota_mcuboot_check(const struct mfota_flash *flash, uint32_t limit,
                        struct mfota_mcuboot_image *out);
int mfota_mcuboot_check_mem(const void *image, size_t len, struct mfota_mcuboot_image *out);
int mfota_mcuboot_verify(const struct mfota_flash *flash, uint32_t limit,
                         const struct mfota_mcuboot_trust *trust,
                         struct mfota_mcuboot_image *out);
int mfota_mcuboot_verify_mem(const void *image, size_t len,
                             const struct mfota_mcuboot_trust *trust,
                             struct mfota_mcuboot_image *out);
int mfota_mcuboot_version_string(const struct mfota_mcuboot_image *img, char *buf, size_t cap);
int mfota_mcuboot_mark_pending(const struct mfota_flash *flash, uint32_t image_size, int permanent);
int mfota_mcuboot_clear_pending(const struct mfota_flash *flash);
int mfota_mcuboot_confirm(const struct mfota_flash *primary);
void mfota_mcuboot_bootloader(struct mfota_bootloader *bl, const struct mfota_mcuboot_port *port);
extern "Python" int _py_sig_verify(void *ctx, int alg, const uint8_t *key, size_t key_len,
                                   const uint8_t hash[32], const uint8_t *sig, size_t sig_len);
