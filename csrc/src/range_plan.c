#include "m2mfota/range_plan.h"

#include "m2mfota/err.h"
#include "noinline.h"

void mfota_plan_config_default(struct mfota_plan_config *c)
{
    c->part_size = MFOTA_DL_PART_SIZE;
    c->align = MFOTA_DL_PART_SIZE;
    c->budget = MFOTA_DL_REQUEST_BUDGET;
    c->reserve = MFOTA_DL_RETRY_RESERVE;
    c->per_connection = MFOTA_DL_REQUESTS_PER_CONNECTION;
}

int mfota_plan_init(struct mfota_plan *p, const struct mfota_plan_config *cfg, uint32_t offset,
                    uint32_t requests_used)
{
    if (cfg->part_size == 0 || cfg->budget == 0 || cfg->per_connection == 0) {
        return MFOTA_ERR_INVAL;
    }
    p->cfg = *cfg;
    p->next = offset;
    p->total = 0;
    p->has_total = 0;
    p->part_size = cfg->part_size;
    p->requests = requests_used;
    p->conn_requests = 0;
    if (requests_used >= cfg->budget) {
        return MFOTA_ERR_DL_BUDGET;
    }
    return MFOTA_OK;
}

int mfota_plan_set_total(struct mfota_plan *p, uint32_t total)
{
    uint32_t remaining, left, size, align = p->cfg.align > 1 ? p->cfg.align : 1u, q;
    if (p->next > total) {
        return MFOTA_ERR_INVAL;
    }
    if (p->requests >= p->cfg.budget) {
        return MFOTA_ERR_DL_BUDGET;
    }
    remaining = total - p->next;
    left = p->cfg.budget - p->requests;
    /* Keep the retry reserve while it is intact; once retries ate into it
     * the parts must fit in whatever is left. */
    if (left > p->cfg.reserve) {
        left -= p->cfg.reserve;
    }
    size = p->cfg.part_size;
    /* ceil(remaining / size) > left, without overflowing remaining + size */
    if (remaining / size + (remaining % size != 0u) > left) {
        size = remaining / left + (remaining % left != 0u);
        q = size / align + (size % align != 0u);
        if (q > UINT32_MAX / align) {
            return MFOTA_ERR_DL_BUDGET;
        }
        size = q * align;
    }
    p->part_size = size;
    p->total = total;
    p->has_total = 1;
    return MFOTA_OK;
}

int mfota_plan_restart(struct mfota_plan *p, uint32_t total)
{
    p->next = 0;
    p->part_size = p->cfg.part_size;
    return mfota_plan_set_total(p, total);
}

void mfota_plan_forget_total(struct mfota_plan *p)
{
    p->next = 0;
    p->total = 0;
    p->has_total = 0;
    p->part_size = p->cfg.part_size;
}

/* Out of line (noinline.h): its inlined copies cost more than the calls. */
MFOTA_NOINLINE_ static int part_at(const struct mfota_plan *p, uint32_t at, uint32_t *first,
                                   uint32_t *len)
{
    uint32_t n = p->part_size;
    *first = at;
    *len = 0;
    if (p->has_total) {
        if (at >= p->total) {
            return MFOTA_DONE;
        }
        if (n > p->total - at) {
            n = p->total - at;
        }
    } else if (n - 1u > 0xFFFFFFFFu - at) {
        n = 0xFFFFFFFFu - at + 1u; /* the part's last byte stays a 32-bit offset */
    }
    if (p->requests >= p->cfg.budget) {
        return MFOTA_ERR_DL_BUDGET;
    }
    *len = n;
    return MFOTA_OK;
}

int mfota_plan_next(const struct mfota_plan *p, uint32_t *first, uint32_t *len)
{
    return part_at(p, p->next, first, len);
}

int mfota_plan_part_at(const struct mfota_plan *p, uint32_t at, uint32_t *first, uint32_t *len)
{
    if (!p->has_total) {
        *first = at;
        *len = 0;
        return MFOTA_ERR_STATE;
    }
    return part_at(p, at, first, len);
}

int mfota_plan_must_reconnect(const struct mfota_plan *p)
{
    return p->conn_requests >= p->cfg.per_connection;
}

void mfota_plan_on_connect(struct mfota_plan *p)
{
    p->conn_requests = 0;
}

void mfota_plan_on_request(struct mfota_plan *p)
{
    p->requests++;
    p->conn_requests++;
}

void mfota_plan_advance(struct mfota_plan *p, uint32_t n)
{
    p->next += n;
}
