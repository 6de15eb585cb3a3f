/* crc32.h */
uint32_t mfota_crc32(uint32_t crc, const void *data, size_t len);
uint32_t mfota_crc32_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b);
enum mfota_crc32_impl {
    MFOTA_CRC32_IMPL_BITWISE = 0,
    MFOTA_CRC32_IMPL_NIBBLE = 1,
    MFOTA_CRC32_IMPL_BYTE = 2,
    MFOTA_CRC32_IMPL_SLICE8 = 3,
    MFOTA_CRC32_IMPL_PCLMUL = 4,
    MFOTA_CRC32_IMPL_VPCLMUL = 5,
    MFOTA_CRC32_IMPL_ARMV8 = 6,
    MFOTA_CRC32_IMPL_COUNT_ = 7
};
int mfota_crc32_available(enum mfota_crc32_impl impl);
uint32_t mfota_crc32_with(enum mfota_crc32_impl impl, uint32_t crc, const void *data, size_t len,
                          int *err);
enum mfota_crc32_impl mfota_crc32_active(void);
const char *mfota_crc32_impl_name(enum mfota_crc32_impl impl);
