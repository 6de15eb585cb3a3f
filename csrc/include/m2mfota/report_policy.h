/*
 * When to spend airtime on a progress uplink (docs/protocol.md §5).
 *
 * Progress uplinks cost radio energy, so they go up only on a state change,
 * on the final result, and otherwise at most every `step_percent` percent of
 * progress AND at most every `min_interval_ms` -- never once per part.
 * Sans-IO: the caller passes the time; nothing here sends anything.
 */
#ifndef MFOTA_REPORT_POLICY_H
#define MFOTA_REPORT_POLICY_H

#include <stdint.h>

#include "m2mfota/fota_state.h"

#ifdef __cplusplus
extern "C" {
#endif

struct mfota_report_policy {
    /* configuration (set before mfota_report_policy_init) */
    uint8_t step_percent;     /* 1..100: least progress between two progress uplinks */
    uint32_t min_interval_ms; /* least time between two progress uplinks */
    /* state */
    uint8_t last_state;       /* enum mfota_state: a fixed size whatever the compiler's enum size */
    uint8_t last_percent;
    uint8_t sent_any;
    uint64_t last_sent_ms;
};

/* Reset the state, keeping the configuration.  Returns MFOTA_ERR_INVAL when
 * step_percent is 0 or above 100. */
int mfota_report_policy_init(struct mfota_report_policy *p);

/* Progress in whole percent (0..100) of `done` out of `total` bytes, rounded
 * down so 100 means really complete; 0 when total is 0.  Exact for totals
 * below 32 MiB; above, it may be one point off (32-bit arithmetic). */
uint8_t mfota_progress_percent(uint32_t done, uint32_t total);

/* 1 when an uplink should go up now for (state, percent) at time now_ms, else
 * 0.  A state change, or reaching 100%, always reports.  Does not record
 * anything: call mfota_report_policy_sent() once the uplink went out, so a
 * failed uplink is retried at the next chance. */
int mfota_report_policy_due(const struct mfota_report_policy *p, enum mfota_state state,
                            uint8_t percent, uint64_t now_ms);

/* Record that an uplink for (state, percent) was sent at now_ms. */
void mfota_report_policy_sent(struct mfota_report_policy *p, enum mfota_state state,
                              uint8_t percent, uint64_t now_ms);

#ifdef __cplusplus
}
#endif

#endif /* MFOTA_REPORT_POLICY_H */
