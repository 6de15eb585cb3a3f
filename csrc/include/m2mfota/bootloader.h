/*
 * Bootloader HAL: the three things the update engine asks of a bootloader.
 * MCUboot has a ready implementation (mfota_mcuboot_bootloader() in
 * mcuboot.h); a port with another bootloader fills this struct itself.
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
};

#ifdef __cplusplus
}
#endif

#endif /* MFOTA_BOOTLOADER_H */
