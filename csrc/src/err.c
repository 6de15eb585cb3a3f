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
    E(MFOTA_WOULD_BLOCK),
    E(MFOTA_WAIT),

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
    E(MFOTA_ERR_HTTP_SYNTAX),
    E(MFOTA_ERR_HTTP_TOO_LONG),
    E(MFOTA_ERR_HTTP_LENGTH),
    E(MFOTA_ERR_HTTP_RANGE),
    E(MFOTA_ERR_HTTP_CHUNK),
    E(MFOTA_ERR_HTTP_DIGEST),
    E(MFOTA_ERR_HTTP_CRC),
    E(MFOTA_ERR_HTTP_SHORT_BODY),
    E(MFOTA_ERR_HTTP_ENCODING),
    E(MFOTA_ERR_HTTP_REQUEST_SIZE),
    E(MFOTA_ERR_DL_UNAUTHORIZED),
    E(MFOTA_ERR_DL_FORBIDDEN),
    E(MFOTA_ERR_DL_NOT_FOUND),
    E(MFOTA_ERR_DL_UNSATISFIABLE),
    E(MFOTA_ERR_DL_BUSY),
    E(MFOTA_ERR_DL_STATUS),
    E(MFOTA_ERR_DL_RANGE_IGNORED),
    E(MFOTA_ERR_DL_BUDGET),
    E(MFOTA_ERR_DL_TOTAL_CHANGED),
    E(MFOTA_ERR_DL_TIMEOUT),
    E(MFOTA_ERR_DL_CONNECT),
    E(MFOTA_ERR_DL_CLOSED),
    E(MFOTA_ERR_DL_WRONG_RANGE),
    E(MFOTA_ERR_DL_IO),

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
