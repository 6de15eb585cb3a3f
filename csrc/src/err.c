#include "m2mfota/err.h"

#include <stddef.h>

struct err_entry {
    int code;
    const char *name;
};

#define E(x) {x, #x}
/* Kept in the same section order as err.h; each module appends to its own. */
static const struct err_entry err_table[] = {
    E(MFOTA_OK),
    E(MFOTA_NEED_MORE),
    E(MFOTA_DONE),

    E(MFOTA_ERR_INVAL),
    E(MFOTA_ERR_NOSPC),
    E(MFOTA_ERR_STATE),
    E(MFOTA_ERR_HAL),
    E(MFOTA_ERR_UNSUPPORTED),

    /* SenML / KPN messages */

    /* HTTP / download */
    E(MFOTA_ERR_URL_SCHEME),
    E(MFOTA_ERR_URL_HOST),
    E(MFOTA_ERR_URL_PORT),
    E(MFOTA_ERR_URL_PATH),
    E(MFOTA_ERR_URL_CHAR),
    E(MFOTA_ERR_URL_TOO_LONG),

    /* flash / journal */
    E(MFOTA_ERR_FLASH_GEOMETRY),
    E(MFOTA_ERR_FLASH_BOUNDS),
    E(MFOTA_ERR_FLASH_ORDER),
    E(MFOTA_ERR_FLASH_VERIFY),
    E(MFOTA_ERR_FLASH_PART_CRC),
    E(MFOTA_ERR_FLASH_NOT_ERASED),
    E(MFOTA_ERR_JOURNAL_EMPTY),
    E(MFOTA_ERR_JOURNAL_REGION),

    /* image / boot */
    E(MFOTA_ERR_IMAGE_SIZE),
    E(MFOTA_ERR_IMAGE_READBACK),
    E(MFOTA_ERR_IMAGE_CRC),
    E(MFOTA_ERR_IMAGE_SHA256),
    E(MFOTA_ERR_IMAGE_INCOMPLETE),
    E(MFOTA_ERR_MCUBOOT_MAGIC),
    E(MFOTA_ERR_MCUBOOT_HEADER),
    E(MFOTA_ERR_MCUBOOT_TLV),
    E(MFOTA_ERR_MCUBOOT_NO_HASH),
    E(MFOTA_ERR_MCUBOOT_HASH),
    E(MFOTA_ERR_MCUBOOT_TRAILER),
    E(MFOTA_ERR_BOOT_STATE),

    /* client engine */
    E(MFOTA_ERR_RETRIES_EXHAUSTED),
};
#undef E

const char *mfota_err_name(int err)
{
    size_t i;
    for (i = 0; i < sizeof err_table / sizeof err_table[0]; i++) {
        if (err_table[i].code == err) {
            return err_table[i].name;
        }
    }
    return "MFOTA_ERR_UNKNOWN";
}
