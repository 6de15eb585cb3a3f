#include "m2mfota/backoff.h"

#include "m2mfota/err.h"

int mfota_backoff_init(struct mfota_backoff *b)
{
    if (b->base_ms == 0 || b->max_ms < b->base_ms) {
        return MFOTA_ERR_INVAL;
    }
    b->retries = 0;
    return MFOTA_OK;
}

void mfota_backoff_reset(struct mfota_backoff *b)
{
    b->retries = 0;
}

int mfota_backoff_next(struct mfota_backoff *b, uint32_t random, uint32_t *delay_ms)
{
    uint32_t delay = b->base_ms;
    uint16_t i;
    uint32_t half;
    if (b->retries >= b->max_retries) {
        return MFOTA_ERR_RETRIES_EXHAUSTED;
    }
    for (i = 0; i < b->retries && delay < b->max_ms; i++) {
        delay = delay > b->max_ms / 2u ? b->max_ms : delay * 2u;
    }
    if (delay > b->max_ms) {
        delay = b->max_ms;
    }
    half = delay / 2u;
    *delay_ms = half + random % (half + 1u) + (delay & 1u);
    b->retries++;
    return MFOTA_OK;
}
