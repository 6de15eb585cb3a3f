/* url.h */
struct mfota_url {
    const char *host;
    size_t host_len;
    const char *path;
    size_t path_len;
    uint16_t port;
    uint8_t ipv4[4];
    uint8_t host_is_ipv4;
};
int mfota_url_parse(const char *url, size_t len, struct mfota_url *out);
