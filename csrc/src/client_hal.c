/*
 * The port's HALs as the engine's modules see them.  A port may return any
 * negative value from a flash, key-value or bootloader callback (a POSIX
 * port's -EIO is -5, which is also MFOTA_ERR_UNSUPPORTED).  Left as they
 * are, such values would reach the download's retry logic as if they were
 * protocol errors, and a dying flash would be written to again.  So the
 * engine hands its modules thin copies of the port's HALs whose callbacks
 * turn every negative return into MFOTA_ERR_HAL, keep the port's own value
 * in c->hal_error (for logs) and mark the cycle as failed: whatever a module
 * makes of the error, the cycle ends at the next check.
 */
#include "client_internal.h"
#include "m2mfota/err.h"

int mfota_client_hal_(struct mfota_client *c, int rc)
{
    if (rc >= 0) {
        return rc;
    }
    if (c->hal_error == 0) {
        c->hal_error = rc; /* the first failure is the cause; later ones follow from it */
    }
    c->hal_err_ = MFOTA_ERR_HAL;
    return MFOTA_ERR_HAL;
}

/* One set of wrappers for the slot and the journal region: ctx says which. */
static int flash_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    struct mfota_client_flash_ *w = (struct mfota_client_flash_ *)ctx;
    return mfota_client_hal_(w->client, w->port->read(w->port->ctx, off, buf, len));
}

static int flash_program(void *ctx, uint32_t off, const void *data, size_t len)
{
    struct mfota_client_flash_ *w = (struct mfota_client_flash_ *)ctx;
    return mfota_client_hal_(w->client, w->port->program(w->port->ctx, off, data, len));
}

static int flash_erase(void *ctx, uint32_t off)
{
    struct mfota_client_flash_ *w = (struct mfota_client_flash_ *)ctx;
    return mfota_client_hal_(w->client, w->port->erase(w->port->ctx, off));
}

static int kv_get(void *ctx, void *buf, size_t cap)
{
    struct mfota_client *c = (struct mfota_client *)ctx;
    return mfota_client_hal_(c, c->port_kv_->get(c->port_kv_->ctx, buf, cap));
}

static int kv_set(void *ctx, const void *buf, size_t len)
{
    struct mfota_client *c = (struct mfota_client *)ctx;
    return mfota_client_hal_(c, c->port_kv_->set(c->port_kv_->ctx, buf, len));
}

void mfota_client_hal_bind_(struct mfota_client *c)
{
    /* The slot and the journal region through one loop: the copy is made
     * by one piece of code, not two inlined ones. */
    const struct mfota_flash **port[2];
    unsigned i;
    port[0] = &c->cfg_.slot;
    port[1] = &c->cfg_.journal_flash;
    for (i = 0; i < 2u; i++) {
        const struct mfota_flash *p = *port[i];
        struct mfota_client_flash_ *w = &c->flash_w_[i];
        if (p == NULL) {
            continue; /* no journal region */
        }
        w->hal = *p; /* geometry included */
        w->hal.read = p->read != NULL ? flash_read : NULL;
        w->hal.program = p->program != NULL ? flash_program : NULL;
        w->hal.erase = p->erase != NULL ? flash_erase : NULL;
        w->hal.ctx = w;
        w->port = p;
        w->client = c;
        *port[i] = &w->hal;
    }
    if (c->cfg_.journal_kv != NULL) {
        c->port_kv_ = c->cfg_.journal_kv;
        c->kv_hal_.get = c->port_kv_->get != NULL ? kv_get : NULL;
        c->kv_hal_.set = c->port_kv_->set != NULL ? kv_set : NULL;
        c->kv_hal_.ctx = c;
        c->cfg_.journal_kv = &c->kv_hal_;
    }
}
