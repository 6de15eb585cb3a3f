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
#define MFOTA_DELTA_FILE_VERSION ...
#define MFOTA_DELTA_FILE_HEADER_SIZE ...
struct mfota_delta_header {
    uint32_t source_size;
    uint32_t target_size;
    uint16_t header_size;
    uint8_t source_sha256[32];
    uint8_t target_sha256[32];
};
#define MFOTA_DELTA_KIND_UNKNOWN ...
#define MFOTA_DELTA_KIND_IMAGE ...
#define MFOTA_DELTA_KIND_DELTA ...
struct mfota_delta_reader {
    uint8_t buf[84];
    uint8_t len;
    uint8_t kind;
};
int mfota_delta_header_parse(const uint8_t *buf, size_t len, struct mfota_delta_header *out);
void mfota_delta_reader_init(struct mfota_delta_reader *r);
int mfota_delta_reader_feed(struct mfota_delta_reader *r, const void *data, size_t len,
                            size_t *used, struct mfota_delta_header *out);
int mfota_delta_reader_end(struct mfota_delta_reader *r);
void mfota_delta_expect_size(struct mfota_delta *d, uint32_t to_size);
int mfota_delta_begin(struct mfota_delta *d, const struct mfota_flash *source,
                      uint32_t source_size, const uint8_t *source_sha256,
                      struct mfota_flash_writer *out);
int mfota_delta_feed(struct mfota_delta *d, const void *data, size_t len);
int mfota_delta_finish(struct mfota_delta *d);
