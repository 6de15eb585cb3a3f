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

uint8_t mfota_progress_percent(uint64_t done, uint64_t total)
{
    uint8_t lo = 0, hi = 99, mid;
    if (total == 0) {
        return 0;
    }
    if (done >= total) {
        return 100;
    }
    /* Totals of 2^32 and more (never an image) keep their top 32 bits: the
     * ratio barely moves and the products below stay within 64 bits. */
    while (total > UINT32_MAX) {
        total >>= 1;
        done >>= 1;
    }
    /* floor(done * 100 / total) by bisection on p * total <= done * 100:
     * multiplications and compares only, so a 32-bit MCU links no 64-bit
     * division helper.  done < total keeps the answer at most 99. */
    while (lo < hi) {
        mid = (uint8_t)((lo + hi + 1) / 2);
        if ((uint64_t)mid * total <= done * 100u) {
            lo = mid;
        } else {
            hi = (uint8_t)(mid - 1);
        }
    }
    return lo;
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
