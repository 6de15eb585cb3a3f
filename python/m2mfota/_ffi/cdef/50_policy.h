/* fota_state.h, report_policy.h, backoff.h */
enum mfota_state {
    MFOTA_STATE_IDLE = 0,
    MFOTA_STATE_DOWNLOADING = 1,
    MFOTA_STATE_DOWNLOADED = 2,
    MFOTA_STATE_UPDATING = 3
};
enum mfota_result {
    MFOTA_RESULT_INITIAL = 0,
    MFOTA_RESULT_SUCCESS = 1,
    MFOTA_RESULT_NO_FLASH = 2,
    MFOTA_RESULT_NO_RAM = 3,
    MFOTA_RESULT_CONNECTION_LOST = 4,
    MFOTA_RESULT_INTEGRITY = 5,
    MFOTA_RESULT_UNSUPPORTED_PACKAGE = 6,
    MFOTA_RESULT_INVALID_URI = 7,
    MFOTA_RESULT_UPDATE_FAILED = 8,
    MFOTA_RESULT_UNSUPPORTED_PROTOCOL = 9
};
const char *mfota_state_name(enum mfota_state state);
const char *mfota_result_name(enum mfota_result result);

struct mfota_report_policy {
    uint8_t step_percent;
    uint32_t min_interval_ms;
    uint8_t last_state;
    uint8_t last_percent;
    uint8_t sent_any;
    uint64_t last_sent_ms;
};
int mfota_report_policy_init(struct mfota_report_policy *p);
uint8_t mfota_progress_percent(uint32_t done, uint32_t total);
int mfota_report_policy_due(const struct mfota_report_policy *p, enum mfota_state state,
                            uint8_t percent, uint64_t now_ms);
void mfota_report_policy_sent(struct mfota_report_policy *p, enum mfota_state state,
                              uint8_t percent, uint64_t now_ms);

struct mfota_backoff {
    uint32_t base_ms;
    uint32_t max_ms;
    uint16_t max_retries;
    uint16_t retries;
};
int mfota_backoff_init(struct mfota_backoff *b);
void mfota_backoff_reset(struct mfota_backoff *b);
int mfota_backoff_next(struct mfota_backoff *b, uint32_t random, uint32_t *delay_ms);
