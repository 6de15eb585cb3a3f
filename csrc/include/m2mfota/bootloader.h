/*
 * Bootloader HAL: what the update engine asks of a bootloader.
 * MCUboot has a ready implementation (mfota_mcuboot_bootloader() in
 * mcuboot.h); a port with another bootloader fills this struct itself.
 *
 * The bootloader decides what may be marked pending: the engine calls
 * check_image after the download and the whole-file checks, and calls
 * mark_pending only when it returns 0.  A bootloader that boots raw images
 * (no header, nothing to check) must say so by setting check_image to
 * mfota_bootloader_accept_raw; mfota_client_init() refuses a NULL one, so
 * a forgotten check never silently becomes "accept anything".
 */
#ifndef MFOTA_BOOTLOADER_H
#define MFOTA_BOOTLOADER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mfota_bootloader {
    /* Mark the verified image (its first `image_size` bytes fill the update
     * slot) to be booted at the next reset: once for a test (the new firmware
     * must confirm itself, or the bootloader reverts), or for good when
     * `permanent` is 1.  0 or a negative error. */
    int (*mark_pending)(void *ctx, uint32_t image_size, int permanent);
    /* Called by the new firmware once it works: keep it.  0 or an error. */
    int (*confirm)(void *ctx);
    /* Write the running firmware's version as a NUL-terminated string (at
     * most `cap` bytes with the NUL).  Its length, or a negative error. */
    int (*running_version)(void *ctx, char *buf, size_t cap);
    void *ctx;
    /* Would the bootloader boot the image that fills the first `image_size`
     * bytes of the update slot?  0 when yes.  A refusal is an image/boot
     * error (-400..-499: MFOTA_ERR_MCUBOOT_MAGIC, _HEADER, _TLV, _NO_HASH,
     * _HASH, _SIG, _NO_SIG for MCUboot), which ends the update with its
     * fota.result.  Any other negative value (MFOTA_ERR_HAL, a port's -EIO)
     * is a failure of the port and ends the cycle with MFOTA_ERR_HAL.  When it accepts and knows the image's
     * version it writes it NUL-terminated into `version` (`cap` bytes,
     * `version` may be NULL), else it leaves version[0] = '\0'. */
    int (*check_image)(void *ctx, uint32_t image_size, char *version, size_t cap);
};

/* check_image for a bootloader that boots raw images: accepts every image
 * (the whole-file size/CRC/SHA-256 checks of the downlink still apply) and
 * knows no version.  Choosing it is choosing not to check. */
int mfota_bootloader_accept_raw(void *ctx, uint32_t image_size, char *version, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* MFOTA_BOOTLOADER_H */
