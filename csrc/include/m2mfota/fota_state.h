/*
 * Update state and result as the device reports them (docs/protocol.md §5):
 * the numbering of the LwM2M Firmware Update object (/5), which fleet tools
 * already understand.  Names are the strings that go up in `fota.state`.
 */
#ifndef MFOTA_FOTA_STATE_H
#define MFOTA_FOTA_STATE_H

#ifdef __cplusplus
extern "C" {
#endif

/* LwM2M /5 resource 3 "State". */
enum mfota_state {
    MFOTA_STATE_IDLE = 0,
    MFOTA_STATE_DOWNLOADING = 1,
    MFOTA_STATE_DOWNLOADED = 2,
    MFOTA_STATE_UPDATING = 3
};

/* LwM2M /5 resource 5 "Update Result". */
enum mfota_result {
    MFOTA_RESULT_INITIAL = 0,
    MFOTA_RESULT_SUCCESS = 1,
    MFOTA_RESULT_NO_FLASH = 2,        /* not enough flash for the image */
    MFOTA_RESULT_NO_RAM = 3,          /* out of RAM */
    MFOTA_RESULT_CONNECTION_LOST = 4, /* download failed on the network side */
    MFOTA_RESULT_INTEGRITY = 5,       /* CRC / SHA-256 / size check failed */
    MFOTA_RESULT_UNSUPPORTED_PACKAGE = 6,
    MFOTA_RESULT_INVALID_URI = 7,
    MFOTA_RESULT_UPDATE_FAILED = 8,
    MFOTA_RESULT_UNSUPPORTED_PROTOCOL = 9
};

/* "idle", "downloading", "downloaded", "updating"; "?" when out of range.
 * The strings are static. */
const char *mfota_state_name(enum mfota_state state);

/* Short machine-readable name of a result ("success", "integrity"...), for
 * logs; "?" when out of range. */
const char *mfota_result_name(enum mfota_result result);

#ifdef __cplusplus
}
#endif

#endif /* MFOTA_FOTA_STATE_H */
