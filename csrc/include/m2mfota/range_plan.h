/*
 * Part planner for a ranged download (sans-IO: numbers in, decisions out).
 *
 * It sizes parts so the rest of the file fits in what is left of the
 * request budget (KPN: 19999 per download, retries included) minus a
 * reserve kept for retries, raising the configured part size -- rounded up
 * to the flash erase sector -- only when it must.  It hands out parts in
 * order from any start offset (resume), clamps the last one, counts every
 * request against the budget and per connection, and says when to reconnect
 * before the server's per-connection limit (KPN: 100).
 *
 * Offsets and sizes are 32-bit: images are below 4 GiB (the HTTP parser and
 * the downloader refuse larger files with MFOTA_ERR_DL_TOO_LARGE), and a
 * Cortex-M0+/M4 pays for every 64-bit add and compare.
 */
#ifndef MFOTA_RANGE_PLAN_H
#define MFOTA_RANGE_PLAN_H

#include <stdint.h>

#include "m2mfota/config.h"

#ifdef __cplusplus
extern "C" {
#endif

struct mfota_plan_config {
    uint32_t part_size;      /* wanted part size (bytes), >= 1 */
    uint32_t align;          /* part sizes are multiples of this (erase sector); 0 or 1: none */
    uint32_t budget;         /* requests allowed per download, retries included */
    uint32_t reserve;        /* requests of the budget kept for retries when sizing parts */
    uint32_t per_connection; /* requests per connection before reconnecting, >= 1 */
};

struct mfota_plan {
    struct mfota_plan_config cfg;
    uint32_t next;          /* first byte not yet done */
    uint32_t total;         /* file size, valid when has_total */
    uint32_t part_size;     /* current part size */
    uint32_t requests;      /* requests made in this download (budget use) */
    uint32_t conn_requests; /* requests on the current connection */
    uint8_t has_total;
};

/* Fill `c` with the config.h defaults (MFOTA_DL_PART_SIZE, _REQUEST_BUDGET,
 * _RETRY_RESERVE, _REQUESTS_PER_CONNECTION; align = part size). */
void mfota_plan_config_default(struct mfota_plan_config *c);

/* Start a plan at byte `offset` with `requests_used` requests already spent
 * (a resumed download keeps counting).  The total is unknown until
 * mfota_plan_set_total().  Returns MFOTA_OK, MFOTA_ERR_INVAL for a bad config,
 * MFOTA_ERR_DL_BUDGET when requests_used >= budget. */
int mfota_plan_init(struct mfota_plan *p, const struct mfota_plan_config *cfg, uint32_t offset,
                    uint32_t requests_used);

/* The file is `total` bytes: size the parts for [next, total).  Returns
 * MFOTA_OK; MFOTA_ERR_INVAL when next > total;
 * MFOTA_ERR_DL_BUDGET when not even the largest aligned 32-bit parts would
 * fit the requests left. */
int mfota_plan_set_total(struct mfota_plan *p, uint32_t total);

/* The file changed: start again at byte 0 with the new total (the request
 * count goes on).  Errors as mfota_plan_set_total(). */
int mfota_plan_restart(struct mfota_plan *p, uint32_t total);

/* The file changed and its new size is not known yet: start again at byte 0
 * as before the first answer (the request count goes on).  Cannot fail. */
void mfota_plan_forget_total(struct mfota_plan *p);

/* The next part to request: [*first, *first + *len).  Before the total is
 * known the part has the configured size (the server clamps it).  Returns
 * MFOTA_OK, MFOTA_DONE when [offset, total) is done, MFOTA_ERR_DL_BUDGET when
 * no request is left.  Does not change the plan. */
int mfota_plan_next(const struct mfota_plan *p, uint32_t *first, uint32_t *len);

/* The part that starts at byte `at` (>= next), for a request sent ahead of
 * the answer to the current one.  Returns as mfota_plan_next(), and
 * MFOTA_ERR_STATE while the total is unknown.  Does not change the plan. */
int mfota_plan_part_at(const struct mfota_plan *p, uint32_t at, uint32_t *first, uint32_t *len);

/* 1 when the current connection has served its requests: reconnect first. */
int mfota_plan_must_reconnect(const struct mfota_plan *p);

/* A new connection is up. */
void mfota_plan_on_connect(struct mfota_plan *p);

/* A request is about to be sent (part or retry): count it. */
void mfota_plan_on_request(struct mfota_plan *p);

/* `n` bytes from `next` are done (verified and delivered). */
void mfota_plan_advance(struct mfota_plan *p, uint32_t n);

#ifdef __cplusplus
}
#endif

#endif /* MFOTA_RANGE_PLAN_H */
