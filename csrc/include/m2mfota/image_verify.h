/*
 * Whole-image verification: read the update slot back and check it before
 * the bootloader is told anything.
 *
 * The slot's CRC-32 is compared with the CRC combined from the verified parts
 * (so a flash fault after a good part is caught), then with the size, crc32
 * and sha256 the downlink announced, when it did.  Any mismatch is an
 * integrity failure (LwM2M /5 result 5, docs/protocol.md §5) and the image
 * must not be marked bootable.
 */
#ifndef MFOTA_IMAGE_VERIFY_H
#define MFOTA_IMAGE_VERIFY_H

#include <stdint.h>

#include "m2mfota/flash.h"
#include "m2mfota/flash_writer.h"
#include "m2mfota/fota_state.h"
#include "m2mfota/sha256.h"

#ifdef __cplusplus
extern "C" {
#endif

/* fota.result values are enum mfota_result (fota_state.h, LwM2M /5
 * numbering).  A verified image is not a success yet (that is for the new
 * firmware to say): MFOTA_RESULT_INITIAL. */

#define MFOTA_EXPECT_SIZE 0x01u
#define MFOTA_EXPECT_CRC32 0x02u
#define MFOTA_EXPECT_SHA256 0x04u

/* What the downlink promised; `flags` says which fields are set. */
struct mfota_image_expect {
    uint32_t flags;
    uint32_t size;
    uint32_t crc32;
    uint8_t sha256[MFOTA_SHA256_DIGEST_SIZE];
};

/* What the slot holds. */
struct mfota_image_report {
    uint32_t size;
    uint32_t crc32;
    uint8_t sha256[MFOTA_SHA256_DIGEST_SIZE];
    int result; /* MFOTA_RESULT_* for the fota.result uplink */
};

/* Read bytes [0, size) of the slot `flash`, compute CRC-32 and SHA-256, and
 * compare: with `parts_crc32` (MFOTA_ERR_IMAGE_READBACK), then with `expect`
 * (may be NULL): MFOTA_ERR_IMAGE_SIZE, _IMAGE_CRC, _IMAGE_SHA256.  `out`
 * (may be NULL) gets the figures and the result code either way.  HAL errors
 * pass through. */
int mfota_image_verify(const struct mfota_flash *flash, uint32_t size, uint32_t parts_crc32,
                       const struct mfota_image_expect *expect, struct mfota_image_report *out);

/* The same for the image a writer has finished: its size and the CRC
 * combined from its committed parts.  MFOTA_ERR_IMAGE_INCOMPLETE when not
 * every byte is committed. */
int mfota_image_verify_writer(const struct mfota_flash_writer *w,
                              const struct mfota_image_expect *expect,
                              struct mfota_image_report *out);

/* The fota.result code for an error of the update's final stage. */
int mfota_image_result(int err);

#ifdef __cplusplus
}
#endif

#endif /* MFOTA_IMAGE_VERIFY_H */
