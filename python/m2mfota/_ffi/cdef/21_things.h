/* things.h */
#define MFOTA_TOKEN_MAX ...
#define MFOTA_URL_MAX ...
#define MFOTA_THINGS_VERSION_MAX ...
#define MFOTA_THINGS_IMEI_MAX ...
struct mfota_fota_command {
    char url[...];
    size_t url_len;
    char token[...];
    size_t token_len;
    char version[...];
    size_t version_len;
    uint32_t size;
    uint32_t crc32;
    uint8_t sha256[32];
    uint8_t has_size, has_crc32, has_sha256, has_version;
};
int mfota_things_parse_downlink(const char *body, size_t len, const char *imei,
                                size_t imei_len, struct mfota_fota_command *cmd,
                                size_t *err_offset);
int mfota_things_build_uplink(char *out, size_t cap, size_t *needed, const char *imei,
                              size_t imei_len, const uint8_t *secret, size_t secret_len,
                              const char *host, const struct mfota_senml_entry *entries,
                              size_t count);
struct mfota_things_status {
    const char *firmware;
    const char *state;
    int progress;
    int result;
    const char *error;
};
size_t mfota_things_status_entries(const struct mfota_things_status *st,
                                   struct mfota_senml_entry out[5]);
