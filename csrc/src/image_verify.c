#include "m2mfota/image_verify.h"

#include <string.h>

#include "m2mfota/crc32.h"
#include "m2mfota/err.h"

int mfota_image_result(int err)
{
    switch (err) {
    case MFOTA_OK:
        return MFOTA_RESULT_INITIAL;
    case MFOTA_ERR_FLASH_BOUNDS:
        return MFOTA_RESULT_NO_FLASH;
    case MFOTA_ERR_IMAGE_SIZE:
    case MFOTA_ERR_IMAGE_READBACK:
    case MFOTA_ERR_IMAGE_CRC:
    case MFOTA_ERR_IMAGE_SHA256:
    case MFOTA_ERR_FLASH_VERIFY:
    case MFOTA_ERR_FLASH_PART_CRC:
    case MFOTA_ERR_MCUBOOT_HEADER: /* an image cut short, or a corrupt header */
    case MFOTA_ERR_MCUBOOT_TLV:
    case MFOTA_ERR_MCUBOOT_HASH:
    case MFOTA_ERR_MCUBOOT_NO_HASH:
    case MFOTA_ERR_MCUBOOT_SIG:
    case MFOTA_ERR_MCUBOOT_NO_SIG:
        return MFOTA_RESULT_INTEGRITY;
#if MFOTA_DELTA /* without it only MFOTA_ERR_DELTA_UNSUPPORTED can occur */
    case MFOTA_ERR_DELTA_HEADER: /* a delta file damaged, or not what it says */
    case MFOTA_ERR_DELTA_CORRUPT:
    case MFOTA_ERR_DELTA_OVERRUN:
    case MFOTA_ERR_DELTA_TRUNCATED:
    case MFOTA_ERR_DELTA_TARGET:
        return MFOTA_RESULT_INTEGRITY;
    case MFOTA_ERR_DELTA_SOURCE: /* a patch for another image: the campaign decides */
    case MFOTA_ERR_DELTA_COMPRESSION:
    case MFOTA_ERR_DELTA_WINDOW:
    case MFOTA_ERR_DELTA_DATA_FORMAT:
#endif
    case MFOTA_ERR_DELTA_UNSUPPORTED:
    case MFOTA_ERR_MCUBOOT_MAGIC: /* not an MCUboot image at all */
        return MFOTA_RESULT_UNSUPPORTED_PACKAGE;
    default:
        return MFOTA_RESULT_UPDATE_FAILED;
    }
}

int mfota_image_verify(const struct mfota_flash *flash, uint32_t size, uint32_t parts_crc32,
                       const struct mfota_image_expect *expect, struct mfota_image_report *out)
{
    uint8_t chunk[MFOTA_FLASH_READ_CHUNK];
    struct mfota_image_report rep;
    struct mfota_sha256 sha;
    uint32_t off = 0;
    int rc;

    rc = mfota_flash_check(flash);
    if (rc != MFOTA_OK) {
        return rc;
    }
    if (size > flash->slot_size) {
        return MFOTA_ERR_FLASH_BOUNDS;
    }
    memset(&rep, 0, sizeof rep);
    mfota_sha256_init(&sha);
    while (off < size) {
        uint32_t n = size - off < (uint32_t)sizeof chunk ? size - off : (uint32_t)sizeof chunk;
        rc = flash->read(flash->ctx, flash->slot_offset + off, chunk, n);
        if (rc < 0) {
            return rc;
        }
        rep.crc32 = mfota_crc32(rep.crc32, chunk, n);
        mfota_sha256_update(&sha, chunk, n);
        off += n;
    }
    mfota_sha256_final(&sha, rep.sha256);
    rep.size = size;

    if (rep.crc32 != parts_crc32) {
        rc = MFOTA_ERR_IMAGE_READBACK;
    } else if (expect != NULL && (expect->flags & MFOTA_EXPECT_SIZE) && expect->size != size) {
        rc = MFOTA_ERR_IMAGE_SIZE;
    } else if (expect != NULL && (expect->flags & MFOTA_EXPECT_CRC32) && expect->crc32 != rep.crc32) {
        rc = MFOTA_ERR_IMAGE_CRC;
    } else if (expect != NULL && (expect->flags & MFOTA_EXPECT_SHA256) &&
               memcmp(expect->sha256, rep.sha256, sizeof rep.sha256) != 0) {
        rc = MFOTA_ERR_IMAGE_SHA256;
    } else {
        rc = MFOTA_OK;
    }
    rep.result = mfota_image_result(rc);
    if (out != NULL) {
        *out = rep;
    }
    return rc;
}

int mfota_image_verify_writer(const struct mfota_flash_writer *w,
                              const struct mfota_image_expect *expect,
                              struct mfota_image_report *out)
{
    if (w == NULL || w->flash == NULL) {
        return MFOTA_ERR_INVAL;
    }
    if (!w->begun || w->failed || w->committed.offset != w->size || w->buf_len != 0) {
        if (out != NULL) {
            memset(out, 0, sizeof *out);
            out->result = MFOTA_RESULT_UPDATE_FAILED;
        }
        return MFOTA_ERR_IMAGE_INCOMPLETE;
    }
    return mfota_image_verify(w->flash, w->size, w->committed.crc32, expect, out);
}
