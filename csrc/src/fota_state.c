#include "m2mfota/fota_state.h"

/* The names as fixed-width arrays rather than pointers to literals: each
 * table is then its own section, so a firmware that never asks for result
 * names (the client engine) drops their bytes with --gc-sections instead of
 * keeping them in the object's shared string section. */

const char *mfota_state_name(enum mfota_state state)
{
    static const char names[][12] = {"idle", "downloading", "downloaded", "updating"};
    if ((unsigned)state >= sizeof names / sizeof names[0]) {
        return "?";
    }
    return names[state];
}

const char *mfota_result_name(enum mfota_result result)
{
    static const char names[][21] = {
        "initial",   "success",             "no_flash",    "no_ram",        "connection_lost",
        "integrity", "unsupported_package", "invalid_uri", "update_failed", "unsupported_protocol"};
    if ((unsigned)result >= sizeof names / sizeof names[0]) {
        return "?";
    }
    return names[result];
}
