/* client.h */
struct mfota_random {
    uint32_t (*next)(void *ctx);
    void *ctx;
};
#define MFOTA_CLIENT_EV_STATE ...
#define MFOTA_CLIENT_EV_PROGRESS ...
#define MFOTA_CLIENT_EV_ERROR ...
#define MFOTA_CLIENT_EV_DONE ...
#define MFOTA_CLIENT_EV_DOWNLINK ...
#define MFOTA_CLIENT_EV_UPLINK ...
struct mfota_client_event {
    int kind;
    int state;
    int result;
    int error;
    const char *reason;
    uint32_t done;
    uint32_t total;
};
struct mfota_client_stats {
    uint32_t uplinks;
    uint32_t uplink_failures;
    uint32_t downlinks;
    uint32_t requests;
    uint32_t connections;
    uint32_t retries;
    uint32_t restarts;
    uint32_t resumes;
    uint32_t unverified_parts;
    uint64_t bytes;
    uint32_t erases;
    uint32_t programs;
    uint32_t journal_writes;
};
struct mfota_client_config {
    const char *imei;
    const uint8_t *secret;
    size_t secret_len;
    const char *version;
    const char *server;
    const struct mfota_transport *uplink_transport;
    const struct mfota_transport *download_transport;
    const struct mfota_clock *clock;
    const struct mfota_random *random;
    const struct mfota_flash *slot;
    const struct mfota_flash *journal_flash;
    const struct mfota_kv *journal_kv;
    const struct mfota_bootloader *bootloader;
    const struct mfota_flash *delta_source;
    void (*on_event)(void *ctx, const struct mfota_client_event *ev);
    void *event_ctx;
    uint32_t part_size;
    uint32_t io_timeout_ms;
    uint8_t progress_step_percent;
    uint32_t progress_interval_ms;
    uint32_t retry_base_ms;
    uint32_t retry_max_ms;
    uint16_t max_retries;
    uint8_t check_mcuboot;
    uint8_t permanent;
};
struct mfota_client {
    int state;
    int result;
    int error;
    const char *reason;
    struct mfota_client_stats stats;
    uint32_t done, total;
    int hal_error;
    char pending_version[...];
    uint8_t has_pending;
    uint16_t uplink_http_status;
    uint16_t download_http_status;
    ...;
};
void mfota_client_config_default(struct mfota_client_config *cfg);
int mfota_client_init(struct mfota_client *c, const struct mfota_client_config *cfg);
int mfota_client_start(struct mfota_client *c);
int mfota_client_start_boot(struct mfota_client *c);
int mfota_client_downlink(struct mfota_client *c, const char *body, size_t len);
int mfota_client_step(struct mfota_client *c, uint32_t io_wait_ms);
uint64_t mfota_client_wake_at(const struct mfota_client *c);
int mfota_client_run(struct mfota_client *c, uint32_t timeout_ms);
void mfota_client_stats(const struct mfota_client *c, struct mfota_client_stats *out);
void mfota_client_abort(struct mfota_client *c);
int mfota_client_phase(const struct mfota_client *c);
const char *mfota_phase_name(int phase);
int mfota_phase_transition_allowed(int from, int to);
/* embedded_port/posix/random_posix.h */
struct mfota_posix_random {
    uint32_t state;
};
void mfota_posix_random_init(struct mfota_posix_random *pr, struct mfota_random *r, uint32_t seed);
/* Python callbacks (python/m2mfota/client.py) */
extern "Python" void _py_client_event(void *ctx, const struct mfota_client_event *ev);
extern "Python" int _py_bl_mark_pending(void *ctx, uint32_t image_size, int permanent);
extern "Python" int _py_bl_confirm(void *ctx);
extern "Python" int _py_bl_running_version(void *ctx, char *buf, size_t cap);
extern "Python" int _py_bl_check_image(void *ctx, uint32_t image_size, char *version, size_t cap);
