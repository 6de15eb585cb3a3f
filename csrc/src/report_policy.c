#include "m2mfota/report_policy.h"

#include "m2mfota/err.h"

int mfota_report_policy_init(struct mfota_report_policy *p)
{
    if (p->step_percent == 0 || p->step_percent > 100) {
        return MFOTA_ERR_INVAL;
    }
    p->last_state = MFOTA_STATE_IDLE;
    p->last_percent = 0;
    p->sent_any = 0;
    p->last_sent_ms = 0;
    return MFOTA_OK;
}

uint8_t mfota_progress_percent(uint64_t done, uint64_t total)
{
    if (total == 0) {
        return 0;
    }
    if (done >= total) {
        return 100;
    }
    /* done * 100 could overflow for absurd totals; divide first there. */
    if (done > UINT64_MAX / 100u) {
        return (uint8_t)(done / (total / 100u));
    }
    return (uint8_t)((done * 100u) / total);
}

int mfota_report_policy_due(const struct mfota_report_policy *p, enum mfota_state state,
                            uint8_t percent, uint64_t now_ms)
{
    if (!p->sent_any || state != p->last_state) {
        return 1;
    }
    if (percent == p->last_percent) {
        return 0;
    }
    if (percent >= 100) {
        return 1;
    }
    if (percent < p->last_percent || percent - p->last_percent < p->step_percent) {
        return 0;
    }
    return now_ms - p->last_sent_ms >= p->min_interval_ms;
}

void mfota_report_policy_sent(struct mfota_report_policy *p, enum mfota_state state,
                              uint8_t percent, uint64_t now_ms)
{
    p->last_state = state;
    p->last_percent = percent;
    p->last_sent_ms = now_ms;
    p->sent_any = 1;
}
