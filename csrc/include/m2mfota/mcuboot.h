/*
 * MCUboot images and the trailer that asks MCUboot to install one.
 *
 * An MCUboot image is a header (magic 0x96f3b83d, header size, image size,
 * version), the image, an optional protected TLV area (magic 0x6908) and the
 * TLV area (magic 0x6907).  The SHA-256 TLV (type 0x10) covers header, image
 * and protected TLVs.  When the port configures trusted public keys, one
 * signature TLV (ECDSA P-256 0x22 or Ed25519 0x24, over that hash) made by
 * one of them must verify too, through the port's mfota_sig_verifier: an
 * image MCUboot would refuse at boot is never marked pending.
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
#include "m2mfota/sig_verify.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MFOTA_MCUBOOT_IMAGE_MAGIC 0x96f3b83du
#define MFOTA_MCUBOOT_TLV_INFO_MAGIC 0x6907u
#define MFOTA_MCUBOOT_TLV_PROT_INFO_MAGIC 0x6908u
#define MFOTA_MCUBOOT_TLV_KEYHASH 0x01u /* SHA-256 of the signing key's DER */
#define MFOTA_MCUBOOT_TLV_SHA256 0x10u
#define MFOTA_MCUBOOT_TLV_ECDSA_SIG 0x22u
#define MFOTA_MCUBOOT_TLV_ED25519 0x24u
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

/* The keys an image must be signed with, and how to verify a signature.
 * n_keys 0: no signature is required (the hash still is). */
struct mfota_mcuboot_trust {
    const struct mfota_sig_key *keys;
    size_t n_keys;
    const struct mfota_sig_verifier *verifier; /* required when n_keys > 0 */
};

/* mfota_mcuboot_check(), then -- when `trust` has keys -- require one
 * signature TLV that a trusted key verifies.  A KEYHASH TLV before a
 * signature restricts it to the key with that SHA-256; without one every
 * trusted key of the signature's algorithm is tried.  Errors: those of
 * mfota_mcuboot_check(); MFOTA_ERR_MCUBOOT_NO_SIG when the image carries no
 * ECDSA P-256 or Ed25519 signature TLV; MFOTA_ERR_MCUBOOT_SIG when none
 * verifies (wrong key, bad signature); MFOTA_ERR_INVAL for keys without a
 * verifier; any other negative value the verifier returns (a crypto
 * failure) as it is.  `trust` may be NULL. */
int mfota_mcuboot_verify(const struct mfota_flash *flash, uint32_t limit,
                         const struct mfota_mcuboot_trust *trust,
                         struct mfota_mcuboot_image *out);

/* The same on an image in memory. */
int mfota_mcuboot_verify_mem(const void *image, size_t len,
                             const struct mfota_mcuboot_trust *trust,
                             struct mfota_mcuboot_image *out);

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

/* Bootloader HAL backed by MCUboot: check_image runs
 * mfota_mcuboot_verify() on `secondary` with `trust` (the version it
 * reports drops a "+0" build), mark_pending writes `secondary`'s trailer,
 * confirm and running_version use `primary`.  `port` must outlive `bl`.
 * A port whose MCUboot checks signatures fills `trust` with the same keys
 * (imgtool getpub), or the device would mark images MCUboot refuses. */
struct mfota_mcuboot_port {
    const struct mfota_flash *primary;
    const struct mfota_flash *secondary;
    struct mfota_mcuboot_trust trust;
};
void mfota_mcuboot_bootloader(struct mfota_bootloader *bl, const struct mfota_mcuboot_port *port);

#endif /* MFOTA_MCUBOOT */

#ifdef __cplusplus
}
#endif

#endif /* MFOTA_MCUBOOT_H */
