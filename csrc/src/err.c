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
    E(MFOTA_ERR_SENML_SYNTAX),
    E(MFOTA_ERR_SENML_TYPE),
    E(MFOTA_ERR_SENML_DUPLICATE),
    E(MFOTA_ERR_SENML_RANGE),
    E(MFOTA_ERR_SENML_NAME),
    E(MFOTA_ERR_SENML_NESTING),
    E(MFOTA_ERR_SENML_TRAILING),
    E(MFOTA_ERR_SENML_MUST_UNDERSTAND),
    E(MFOTA_ERR_SENML_BVER),
    E(MFOTA_ERR_SENML_NO_VALUE),
    E(MFOTA_ERR_SENML_TWO_VALUES),
    E(MFOTA_ERR_SENML_STR_TOO_LONG),
    E(MFOTA_ERR_SENML_TOO_MANY),
    E(MFOTA_ERR_SENML_ENCODING),
    E(MFOTA_ERR_THINGS_NOT_FOTA),
    E(MFOTA_ERR_THINGS_NO_URL),
    E(MFOTA_ERR_THINGS_NO_TOKEN),
    E(MFOTA_ERR_THINGS_WRONG_DEVICE),
    E(MFOTA_ERR_THINGS_BAD_URL),
    E(MFOTA_ERR_THINGS_BAD_TOKEN),
    E(MFOTA_ERR_THINGS_TOKEN_TOO_LONG),
    E(MFOTA_ERR_THINGS_BAD_SIZE),
    E(MFOTA_ERR_THINGS_BAD_CRC32),
    E(MFOTA_ERR_THINGS_BAD_SHA256),
    E(MFOTA_ERR_THINGS_BAD_VERSION),
    E(MFOTA_ERR_THINGS_DUPLICATE),
    E(MFOTA_ERR_THINGS_HTTP_STATUS),
    E(MFOTA_ERR_THINGS_HTTP_HEADER),
    E(MFOTA_ERR_THINGS_HTTP_LENGTH),
    E(MFOTA_ERR_THINGS_HTTP_CHUNK),
    E(MFOTA_ERR_THINGS_HTTP_TOO_LONG),
    E(MFOTA_ERR_THINGS_HTTP_TRUNCATED),

    /* HTTP / download */
    E(MFOTA_ERR_URL_SCHEME),
    E(MFOTA_ERR_URL_HOST),
    E(MFOTA_ERR_URL_PORT),
    E(MFOTA_ERR_URL_PATH),
    E(MFOTA_ERR_URL_CHAR),
    E(MFOTA_ERR_URL_TOO_LONG),

    /* flash / journal */

    /* image / boot */

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
