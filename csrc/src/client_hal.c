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

static int slot_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    struct mfota_client *c = (struct mfota_client *)ctx;
    const struct mfota_flash *f = c->port_slot_;
    return mfota_client_hal_(c, f->read(f->ctx, off, buf, len));
}

static int slot_program(void *ctx, uint32_t off, const void *data, size_t len)
{
    struct mfota_client *c = (struct mfota_client *)ctx;
    const struct mfota_flash *f = c->port_slot_;
    return mfota_client_hal_(c, f->program(f->ctx, off, data, len));
}

static int slot_erase(void *ctx, uint32_t off)
{
    struct mfota_client *c = (struct mfota_client *)ctx;
    const struct mfota_flash *f = c->port_slot_;
    return mfota_client_hal_(c, f->erase(f->ctx, off));
}

static int journal_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    struct mfota_client *c = (struct mfota_client *)ctx;
    const struct mfota_flash *f = c->port_journal_;
    return mfota_client_hal_(c, f->read(f->ctx, off, buf, len));
}

static int journal_program(void *ctx, uint32_t off, const void *data, size_t len)
{
    struct mfota_client *c = (struct mfota_client *)ctx;
    const struct mfota_flash *f = c->port_journal_;
    return mfota_client_hal_(c, f->program(f->ctx, off, data, len));
}

static int journal_erase(void *ctx, uint32_t off)
{
    struct mfota_client *c = (struct mfota_client *)ctx;
    const struct mfota_flash *f = c->port_journal_;
    return mfota_client_hal_(c, f->erase(f->ctx, off));
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

/* A copy of `port` (geometry included) whose callbacks are the given ones. */
static void wrap_flash(struct mfota_client *c, struct mfota_flash *out,
                       const struct mfota_flash *port, int (*rd)(void *, uint32_t, void *, size_t),
                       int (*pg)(void *, uint32_t, const void *, size_t),
                       int (*er)(void *, uint32_t))
{
    *out = *port;
    out->read = port->read != NULL ? rd : NULL;
    out->program = port->program != NULL ? pg : NULL;
    out->erase = port->erase != NULL ? er : NULL;
    out->ctx = c;
}

void mfota_client_hal_bind_(struct mfota_client *c)
{
    c->port_slot_ = c->cfg_.slot;
    wrap_flash(c, &c->slot_hal_, c->port_slot_, slot_read, slot_program, slot_erase);
    c->cfg_.slot = &c->slot_hal_;
    if (c->cfg_.journal_flash != NULL) {
        c->port_journal_ = c->cfg_.journal_flash;
        wrap_flash(c, &c->journal_hal_, c->port_journal_, journal_read, journal_program,
                   journal_erase);
        c->cfg_.journal_flash = &c->journal_hal_;
    }
    if (c->cfg_.journal_kv != NULL) {
        c->port_kv_ = c->cfg_.journal_kv;
        c->kv_hal_.get = c->port_kv_->get != NULL ? kv_get : NULL;
        c->kv_hal_.set = c->port_kv_->set != NULL ? kv_set : NULL;
        c->kv_hal_.ctx = c;
        c->cfg_.journal_kv = &c->kv_hal_;
    }
}
