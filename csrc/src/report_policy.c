#include "m2mfota/report_policy.h"

#include "m2mfota/err.h"

int mfota_report_policy_init(struct mfota_report_policy *p)
{
    if (p->step_percent == 0 || p->step_percent > 100) {
        return MFOTA_ERR_INVAL;
    }
    p->last_state = (uint8_t)MFOTA_STATE_IDLE;
    p->last_percent = 0;
    p->sent_any = 0;
    p->last_sent_ms = 0;
    return MFOTA_OK;
}

uint8_t mfota_progress_percent(uint32_t done, uint32_t total)
{
    uint32_t pct;
    if (total == 0) {
        return 0;
    }
    if (done >= total) {
        return 100;
    }
    /* Keep 25 bits of the total (done < total follows): done * 100 then
     * fits 32 bits.  Dropping the same low bits of both moves the ratio by
     * under 2^-23, at most one point. */
    while (total >> 25 != 0u) {
        total >>= 1;
        done >>= 1;
    }
    pct = done * 100u / total;
    return (uint8_t)(pct > 99u ? 99u : pct); /* done < total: never 100 */
}

int mfota_report_policy_due(const struct mfota_report_policy *p, enum mfota_state state,
                            uint8_t percent, uint64_t now_ms)
{
    if (!p->sent_any || (int)state != (int)p->last_state) {
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
    p->last_state = (uint8_t)state;
    p->last_percent = percent;
    p->last_sent_ms = now_ms;
    p->sent_any = 1;
}
