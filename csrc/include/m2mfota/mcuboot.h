/*
 * MCUboot images and the trailer that asks MCUboot to install one.
 *
 * An MCUboot image is a header (magic 0x96f3b83d, header size, image size,
 * version), the image, an optional protected TLV area (magic 0x6908) and the
 * TLV area (magic 0x6907).  The SHA-256 TLV (type 0x10) covers header, image
 * and protected TLVs.  Signatures are the bootloader's business: this module
 * checks the hash so a corrupt download is never handed over.
 *
 * To request an upgrade the slot's trailer is written as MCUboot's own
 * boot_set_pending() does, with BOOT_MAX_ALIGN = 8, counted from the slot
 * end: magic (16 bytes) at -16, image_ok at -24, copy_done at -32,
 * swap_info at -40 (image 0 in the high nibble, swap type in the low one:
 * 2 test, 3 permanent).  Magic goes last: it is what makes MCUboot act, so a
 * cut before it leaves no request at all.
 *
 * Compiled when MFOTA_MCUBOOT is 1 (config.h).
 */
#ifndef MFOTA_MCUBOOT_H
#define MFOTA_MCUBOOT_H

#include <stddef.h>
#include <stdint.h>

#include "m2mfota/bootloader.h"
#include "m2mfota/config.h"
#include "m2mfota/flash.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MFOTA_MCUBOOT_IMAGE_MAGIC 0x96f3b83du
#define MFOTA_MCUBOOT_TLV_INFO_MAGIC 0x6907u
#define MFOTA_MCUBOOT_TLV_PROT_INFO_MAGIC 0x6908u
#define MFOTA_MCUBOOT_TLV_SHA256 0x10u
/* Trailer field offsets from the slot end (BOOT_MAX_ALIGN 8). */
#define MFOTA_MCUBOOT_MAGIC_OFF 16u
#define MFOTA_MCUBOOT_IMAGE_OK_OFF 24u
#define MFOTA_MCUBOOT_COPY_DONE_OFF 32u
#define MFOTA_MCUBOOT_SWAP_INFO_OFF 40u
#define MFOTA_MCUBOOT_SWAP_TYPE_TEST 2u
#define MFOTA_MCUBOOT_SWAP_TYPE_PERM 3u

struct mfota_mcuboot_image {
    uint32_t header_size;
    uint32_t image_size;       /* bytes after the header, before the TLVs */
    uint32_t protect_tlv_size; /* protected TLV area, 0 when absent */
    uint32_t total_size;       /* header + image + all TLV areas */
    uint32_t flags;
    uint32_t load_addr;
    uint8_t major;
    uint8_t minor;
    uint16_t revision;
    uint32_t build;
    uint8_t sha256[32]; /* the hash TLV, checked */
};

#if MFOTA_MCUBOOT

/* Parse and check the MCUboot image at the start of the slot `flash`,
 * reading no byte at or past `limit` (the downloaded size).  Errors:
 * MFOTA_ERR_MCUBOOT_MAGIC, _HEADER, _TLV, _NO_HASH, _HASH; HAL errors. */
int mfota_mcuboot_check(const struct mfota_flash *flash, uint32_t limit,
                        struct mfota_mcuboot_image *out);

/* The same on an image in memory. */
int mfota_mcuboot_check_mem(const void *image, size_t len, struct mfota_mcuboot_image *out);

/* "major.minor.revision+build" into `buf` (NUL-terminated, at most 24 bytes
 * needed).  Returns the length, or MFOTA_ERR_NOSPC. */
int mfota_mcuboot_version_string(const struct mfota_mcuboot_image *img, char *buf, size_t cap);

/* Write the trailer of the slot `flash` (whose first `image_size` bytes hold
 * the verified image) so MCUboot installs it: for a test, or for good when
 * `permanent`.  An old trailer in a sector the image does not reach is
 * erased first.  MFOTA_ERR_MCUBOOT_TRAILER when the image reaches into the
 * trailer or program_size > 8. */
int mfota_mcuboot_mark_pending(const struct mfota_flash *flash, uint32_t image_size, int permanent);

/* Erase the slot's trailer sector when it holds a trailer: a download that
 * starts over must not leave an older request armed beside new bytes. */
int mfota_mcuboot_clear_pending(const struct mfota_flash *flash);

/* Confirm the running image in the primary slot `primary` (set image_ok)
 * when MCUboot booted it for a test.  MFOTA_OK when nothing was pending. */
int mfota_mcuboot_confirm(const struct mfota_flash *primary);

/* Bootloader HAL backed by MCUboot: mark_pending writes `secondary`'s
 * trailer, confirm and running_version use `primary`.  `port` must outlive
 * `bl`. */
struct mfota_mcuboot_port {
    const struct mfota_flash *primary;
    const struct mfota_flash *secondary;
};
void mfota_mcuboot_bootloader(struct mfota_bootloader *bl, const struct mfota_mcuboot_port *port);

#endif /* MFOTA_MCUBOOT */

#ifdef __cplusplus
}
#endif

#endif /* MFOTA_MCUBOOT_H */
