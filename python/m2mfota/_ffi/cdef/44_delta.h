/* delta.h */
#define MFOTA_DELTA_WINDOW_SZ2_MAX ...
#define MFOTA_DELTA_BUF ...
#define MFOTA_DELTA_RAM_BOUND ...
#define MFOTA_DELTA_COMPRESSION_NONE ...
#define MFOTA_DELTA_COMPRESSION_HEATSHRINK ...
struct mfota_delta {
    uint32_t source_size;
    uint32_t to_size;
    uint32_t to_pos;
    uint32_t patch_pos;
    uint8_t compression;
    uint8_t failed;
    uint8_t hs_window_sz2;
    uint8_t hs_lookahead_sz2;
    ...;
};
int mfota_delta_begin(struct mfota_delta *d, const struct mfota_flash *source,
                      uint32_t source_size, const uint8_t *source_sha256,
                      struct mfota_flash_writer *out);
int mfota_delta_feed(struct mfota_delta *d, const void *data, size_t len);
int mfota_delta_finish(struct mfota_delta *d);
