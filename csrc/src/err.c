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
