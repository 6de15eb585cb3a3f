/* http_request.h */
#define MFOTA_HTTP_RANGE_OPEN ...
#define MFOTA_HTTP_RANGE_TAIL_MAX ...
int mfota_http_request_write(char *buf, size_t cap, size_t *out_len, const struct mfota_url *url,
                             const char *token, size_t token_len, int with_range, uint32_t first,
                             uint32_t last);
int mfota_http_request_head(char *buf, size_t cap, size_t *out_len, const struct mfota_url *url,
                            const char *token, size_t token_len);
int mfota_http_request_tail(char *buf, size_t cap, size_t *out_len, int with_range,
                            uint32_t first, uint32_t last);
size_t mfota_http_request_head_copy(const struct mfota_url *url, const char *token,
                                    size_t token_len, size_t pos, char *buf, size_t cap,
                                    size_t *total);
int mfota_http_request_check_token(const char *token, size_t token_len);
/* http_response.h */
struct mfota_http_event {
    int kind;
    const uint8_t *data;
    size_t len;
};
struct mfota_http_response {
    uint16_t status;
    uint8_t version_minor;
    uint8_t keep_alive;
    uint8_t chunked;
    uint8_t has_length;
    uint8_t has_range;
    uint8_t has_total;
    uint8_t has_digest;
    uint8_t has_retry_after;
    uint8_t has_validator;
    uint8_t digest;
    uint32_t content_length;
    uint32_t range_first, range_last, total;
    uint32_t digest_crc;
    uint32_t retry_after_s;
    uint32_t validator;
    uint32_t body_crc;
    uint32_t body_len;
    ...;
};
#define MFOTA_HTTP_EV_NONE 0
#define MFOTA_HTTP_EV_HEADERS 1
#define MFOTA_HTTP_EV_BODY 2
#define MFOTA_HTTP_EV_END 3
void mfota_http_response_init(struct mfota_http_response *r);
int mfota_http_response_feed(struct mfota_http_response *r, const uint8_t *data, size_t len,
                             size_t *used, struct mfota_http_event *ev);
int mfota_http_response_eof(struct mfota_http_response *r, struct mfota_http_event *ev);
int mfota_http_response_complete(const struct mfota_http_response *r);
int mfota_http_response_collect(struct mfota_http_response *r, const uint8_t *data, size_t len,
                                size_t *used, uint8_t *body, size_t cap);
int mfota_http_response_collect_eof(struct mfota_http_response *r);
/* range_plan.h */
struct mfota_plan_config {
    uint32_t part_size;
    uint32_t align;
    uint32_t budget;
    uint32_t reserve;
    uint32_t per_connection;
};
struct mfota_plan {
    struct mfota_plan_config cfg;
    uint32_t next;
    uint32_t total;
    uint32_t part_size;
    uint32_t requests;
    uint32_t conn_requests;
    uint8_t has_total;
};
void mfota_plan_config_default(struct mfota_plan_config *c);
int mfota_plan_init(struct mfota_plan *p, const struct mfota_plan_config *cfg, uint32_t offset,
                    uint32_t requests_used);
int mfota_plan_set_total(struct mfota_plan *p, uint32_t total);
int mfota_plan_restart(struct mfota_plan *p, uint32_t total);
void mfota_plan_forget_total(struct mfota_plan *p);
int mfota_plan_next(const struct mfota_plan *p, uint32_t *first, uint32_t *len);
int mfota_plan_part_at(const struct mfota_plan *p, uint32_t at, uint32_t *first, uint32_t *len);
int mfota_plan_must_reconnect(const struct mfota_plan *p);
void mfota_plan_on_connect(struct mfota_plan *p);
void mfota_plan_on_request(struct mfota_plan *p);
void mfota_plan_advance(struct mfota_plan *p, uint32_t n);
/* transport.h */
struct mfota_transport {
    int (*connect)(void *ctx, const char *host, uint16_t port);
    int (*send)(void *ctx, const uint8_t *data, size_t len, size_t *sent);
    int (*recv)(void *ctx, uint8_t *buf, size_t cap, size_t *got, uint32_t timeout_ms);
    void (*close)(void *ctx);
    void *ctx;
};
struct mfota_clock {
    uint64_t (*now_ms)(void *ctx);
    void (*sleep_ms)(void *ctx, uint32_t ms);
    void *ctx;
};
/* downloader.h */
struct mfota_dl_sink {
    int (*data)(void *ctx, uint32_t offset, const uint8_t *data, size_t len);
    int (*part_done)(void *ctx, uint32_t offset, uint32_t len, uint32_t crc, int verified);
    int (*part_failed)(void *ctx, uint32_t offset, uint32_t len, int reason);
    int (*total)(void *ctx, uint32_t total, int restarted);
    void *ctx;
};
struct mfota_dl_config {
    const struct mfota_transport *transport;
    const struct mfota_clock *clock;
    const struct mfota_dl_sink *sink;
    const char *url;
    size_t url_len;
    const char *token;
    size_t token_len;
    struct mfota_plan_config plan;
    uint64_t offset;
    uint64_t total;
    uint32_t requests_used;
    uint32_t validator;
    uint32_t timeout_ms;
    uint32_t max_time_ms;
    uint64_t max_size;
    uint32_t max_retries;
    uint32_t max_retry_after_s;
    uint32_t max_restarts;
    uint8_t has_total;
    uint8_t has_validator;
    uint8_t accept_whole_body;
    uint8_t pipeline;
    uint8_t *rx_buf;
    size_t rx_cap;
    uint8_t *tx_buf;
    size_t tx_cap;
};
struct mfota_dl_stats {
    uint32_t requests;
    uint32_t connections;
    uint32_t retries;
    uint32_t restarts;
    uint32_t waits;
    uint32_t unverified_parts;
    uint32_t body_bytes;
    uint32_t bytes_done;
    uint32_t request_bytes;
};
struct mfota_dl {
    struct mfota_dl_stats stats;
    struct mfota_plan plan;
    uint32_t validator;
    uint8_t has_validator;
    int last_error;
    ...;
};
void mfota_dl_config_default(struct mfota_dl_config *cfg);
int mfota_dl_init(struct mfota_dl *dl, const struct mfota_dl_config *cfg);
int mfota_dl_step(struct mfota_dl *dl, uint32_t io_wait_ms);
uint64_t mfota_dl_wake_at(const struct mfota_dl *dl);
int mfota_dl_run(struct mfota_dl *dl);
void mfota_dl_abort(struct mfota_dl *dl);
/* embedded_port/posix/transport_posix.h */
struct mfota_posix_transport {
    int fd;
    uint32_t connect_timeout_ms;
    uint32_t connects;
    int awaiting_reply;
};
void mfota_posix_transport_init(struct mfota_posix_transport *pt, struct mfota_transport *t);
void mfota_posix_clock_init(struct mfota_clock *c);
/* Python sink callbacks (python/m2mfota/download.py) */
extern "Python" int _py_dl_data(void *ctx, uint32_t offset, const uint8_t *data, size_t len);
extern "Python" int _py_dl_part_done(void *ctx, uint32_t offset, uint32_t len, uint32_t crc,
                                     int verified);
extern "Python" int _py_dl_part_failed(void *ctx, uint32_t offset, uint32_t len, int reason);
extern "Python" int _py_dl_total(void *ctx, uint32_t total, int restarted);
