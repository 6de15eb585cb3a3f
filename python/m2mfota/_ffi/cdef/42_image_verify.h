/* image_verify.h */
#define MFOTA_EXPECT_SIZE ...
#define MFOTA_EXPECT_CRC32 ...
#define MFOTA_EXPECT_SHA256 ...
struct mfota_image_expect {
    uint32_t flags;
    uint32_t size;
    uint32_t crc32;
    uint8_t sha256[32];
};
struct mfota_image_report {
    uint32_t size;
    uint32_t crc32;
    uint8_t sha256[32];
    int result;
};
int mfota_image_verify(const struct mfota_flash *flash, uint32_t size, uint32_t parts_crc32,
                       const struct mfota_image_expect *expect, struct mfota_image_report *out);
int mfota_image_verify_writer(const struct mfota_flash_writer *w,
                              const struct mfota_image_expect *expect,
                              struct mfota_image_report *out);
int mfota_image_result(int err);
