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

/* ---- client_delta.c: the file's first bytes decide image or delta ---- */

/* The sink's data(): an image goes to the flash writer, a delta file's patch
 * to the applier.  Delta errors are held until the part is judged. */
int mfota_client_file_data_(struct mfota_client *c, uint64_t offset, const uint8_t *data,
                            size_t len);

#if MFOTA_DELTA
/* Bind the delta source HAL (errors through mfota_client_hal_()). */
void mfota_client_delta_init_(struct mfota_client *c);

/* Forget the file's kind: its next byte at offset 0 decides again. */
void mfota_client_delta_reset_(struct mfota_client *c);

/* The sink's part_done() for a file that is not (or not yet known to be) an
 * image: 1 when handled (c->done set), 0 when the caller commits the part
 * to the writer as an image, or the held delta error. */
int mfota_client_delta_part_done_(struct mfota_client *c, uint64_t offset, uint64_t len);

/* The sink's part_failed(): 0 for an image (the caller aborts the part), 1
 * when the same part is fetched again (it was the first), or
 * MFOTA_ERR_CLIENT_RESTART with restart_at_ = 0: a delta starts over. */
int mfota_client_delta_part_failed_(struct mfota_client *c, uint64_t offset);

/* A new download attempt (DL_RESUME): 1 when it must start at offset 0
 * (a delta file, or a file still undecided), else 0. */
int mfota_client_delta_resume_(struct mfota_client *c);

#else
/* Without the delta engine every file is an image (a delta file is refused
 * by its magic in mfota_client_file_data_()): nothing to bind, decide or
 * restart beyond the magic's match count. */
#define mfota_client_delta_init_(c) ((void)((c)->delta_.matched = 0))
#define mfota_client_delta_reset_(c) ((void)((c)->delta_.matched = 0))
#define mfota_client_delta_part_done_(c, offset, len) ((void)(offset), (void)(len), 0)
#define mfota_client_delta_part_failed_(c, offset) ((void)(offset), 0)
#define mfota_client_delta_resume_(c) 0
#endif

#if MFOTA_DELTA
/* VERIFY for a delta file: the applier finished, the file matches the
 * downlink's size/crc32/sha256, the rebuilt image the header's target
 * (MFOTA_ERR_DELTA_TARGET). */
int mfota_client_delta_verify_(struct mfota_client *c, struct mfota_image_report *rep);
#endif

#endif /* MFOTA_CLIENT_INTERNAL_H */
