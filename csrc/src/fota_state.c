#include "m2mfota/fota_state.h"

const char *mfota_state_name(enum mfota_state state)
{
    static const char *const names[] = {"idle", "downloading", "downloaded", "updating"};
    if ((unsigned)state >= sizeof names / sizeof names[0]) {
        return "?";
    }
    return names[state];
}

const char *mfota_result_name(enum mfota_result result)
{
    static const char *const names[] = {
        "initial",   "success",             "no_flash",    "no_ram",        "connection_lost",
        "integrity", "unsupported_package", "invalid_uri", "update_failed", "unsupported_protocol"};
    if ((unsigned)result >= sizeof names / sizeof names[0]) {
        return "?";
    }
    return names[result];
}
