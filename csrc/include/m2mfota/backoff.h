/*
 * Bounded exponential backoff with jitter for retries (reconnects, refetches,
 * uplinks).  Jitter spreads a fleet that lost the network at the same moment,
 * so the devices do not all come back in the same second.
 * Sans-IO: the caller supplies the random number and does the waiting.
 */
#ifndef MFOTA_BACKOFF_H
#define MFOTA_BACKOFF_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mfota_backoff {
    /* configuration */
    uint32_t base_ms;     /* delay before the first retry, before jitter (> 0) */
    uint32_t max_ms;      /* cap on any delay (>= base_ms) */
    uint16_t max_retries; /* retries allowed before giving up */
    /* state */
    uint16_t retries;     /* retries handed out since the last reset */
};

/* Check the configuration and reset the retry count.  MFOTA_ERR_INVAL when
 * base_ms is 0 or max_ms < base_ms. */
int mfota_backoff_init(struct mfota_backoff *b);

/* Forget earlier failures (call after a success). */
void mfota_backoff_reset(struct mfota_backoff *b);

/* Delay before the next retry: d = min(max_ms, base_ms * 2^retries), then
 * "equal jitter": d/2 + random % (d/2 + 1), so the delay never drops below
 * half the exponential value.  Writes it to *delay_ms and returns MFOTA_OK, or
 * returns MFOTA_ERR_RETRIES_EXHAUSTED (and leaves *delay_ms alone) once
 * max_retries retries were handed out. */
int mfota_backoff_next(struct mfota_backoff *b, uint32_t random, uint32_t *delay_ms);

#ifdef __cplusplus
}
#endif

#endif /* MFOTA_BACKOFF_H */
