/* Shared between the client engine's files (client.c, client_uplink.c). */
#ifndef MFOTA_CLIENT_INTERNAL_H
#define MFOTA_CLIENT_INTERNAL_H

#include "m2mfota/client.h"

uint64_t mfota_client_now_(const struct mfota_client *c);

/* The one way phase_ changes: MFOTA_OK when the table allows
 * phase_ -> `to` (phase_ is then `to`), else MFOTA_ERR_CLIENT_PHASE and
 * phase_ stays.  Leaving for FAILED or IDLE (a HAL failure, an abort) is
 * allowed from every phase. */
int mfota_client_go_(struct mfota_client *c, int to);

/* Point cfg_.slot / journal_flash / journal_kv at the engine's copies of the
 * port's HALs (client_hal.c), so every negative return becomes MFOTA_ERR_HAL. */
void mfota_client_hal_bind_(struct mfota_client *c);

/* The return value `rc` of a port callback called directly (the bootloader's):
 * a negative one is kept in c->hal_error, fails the cycle, and becomes
 * MFOTA_ERR_HAL; anything else is returned as it is. */
int mfota_client_hal_(struct mfota_client *c, int rc);

/* Arm the status uplink (running version, `state`, `progress` (-1: none),
 * `result` (-1: none), `reason` (NULL: none)): the request is written into
 * io_ now and again for every retry (the response's body overwrites it).
 * The phase is not changed: the caller enters the uplink's phase. */
int mfota_client_uplink_begin_(struct mfota_client *c, int state, int progress, int result,
                               const char *reason);

/* Run the uplink machine: MFOTA_DONE when a 2xx response is in up_resp_
 * (body in io_), MFOTA_WOULD_BLOCK, or MFOTA_ERR_CLIENT_UPLINK /
 * MFOTA_ERR_CLIENT_REFUSED when this attempt failed (connection closed). */
int mfota_client_uplink_step_(struct mfota_client *c, uint32_t io_wait_ms);

#endif /* MFOTA_CLIENT_INTERNAL_H */
