/* Shared between the client engine's files (client.c, client_uplink.c). */
#ifndef MFOTA_CLIENT_INTERNAL_H
#define MFOTA_CLIENT_INTERNAL_H

#include "m2mfota/client.h"

/* phase_ */
enum {
    MFOTA_CP_IDLE = 0,
    MFOTA_CP_UPLINK,
    MFOTA_CP_DOWNLOAD,
    MFOTA_CP_VERIFY,
    MFOTA_CP_WAIT,
    MFOTA_CP_DONE,
    MFOTA_CP_FAILED
};

/* up_purpose_: what the uplink in flight is for */
enum { MFOTA_UP_START = 0, MFOTA_UP_PROGRESS, MFOTA_UP_FINAL };

uint64_t mfota_client_now_(const struct mfota_client *c);

/* Point cfg_.slot / journal_flash / journal_kv at the engine's copies of the
 * port's HALs (client_hal.c), so every negative return becomes MFOTA_ERR_HAL. */
void mfota_client_hal_bind_(struct mfota_client *c);

/* The return value `rc` of a port callback called directly (the bootloader's):
 * a negative one is kept in c->hal_error, fails the cycle, and becomes
 * MFOTA_ERR_HAL; anything else is returned as it is. */
int mfota_client_hal_(struct mfota_client *c, int rc);

/* Write the status uplink (running version, `state`, `progress` (-1: none),
 * `result` (-1: none), `reason` (NULL: none)) into up_buf_ and arm the
 * uplink machine for `purpose`. */
int mfota_client_uplink_begin_(struct mfota_client *c, int purpose, int state, int progress,
                               int result, const char *reason);

/* Run the uplink machine: MFOTA_DONE when a 2xx response is in resp_
 * (body in resp_body_), MFOTA_WOULD_BLOCK, or MFOTA_ERR_CLIENT_UPLINK /
 * MFOTA_ERR_CLIENT_REFUSED when this attempt failed (connection closed). */
int mfota_client_uplink_step_(struct mfota_client *c, uint32_t io_wait_ms);

/* Restart the armed uplink from its connect (a retry). */
void mfota_client_uplink_rearm_(struct mfota_client *c);

#endif /* MFOTA_CLIENT_INTERNAL_H */
