/*
 * KPN Things M2M messages (docs/protocol.md §1, §2 and §5): the FOTA
 * command a downlink carries and the uplink HTTP request.  The uplink's
 * HTTP response (whose body is the downlink) is framed by the one HTTP
 * response parser, http_response.h (mfota_http_response_collect()).
 *
 * Nothing here allocates: the command is copied into a caller struct and
 * the request is written into a caller buffer.
 */
#ifndef MFOTA_THINGS_H
#define MFOTA_THINGS_H

#include <stddef.h>
#include <stdint.h>

#include "m2mfota/config.h"
#include "m2mfota/senml.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- downlink ------------------------------------------------------------- */

/* A FOTA command, copied out of the downlink (strings are NUL-terminated). */
struct mfota_fota_command {
    char url[MFOTA_URL_MAX + 1];
    size_t url_len;
    char token[MFOTA_TOKEN_MAX + 1];
    size_t token_len;
    char version[MFOTA_THINGS_VERSION_MAX + 1];
    size_t version_len;
    uint32_t size;      /* when has_size: the file's length in bytes (below 4 GiB) */
    uint32_t crc32;     /* when has_crc32: zlib CRC-32 of the whole file */
    uint8_t sha256[32]; /* when has_sha256: SHA-256 of the whole file */
    uint8_t has_size, has_crc32, has_sha256, has_version;
};

/* Extract the FOTA command from a downlink body (a SenML pack, decoded in
 * lenient mode so a string under "v" counts as "vs").  `imei` is this
 * device's id: a `bn` must be "urn:dev:IMEI:<imei>:" (the "urn:dev:IMEI:"
 * part case-insensitively).  Records other than url, token, size, crc32,
 * sha256 and version are ignored.  `err_offset` (may be NULL) gets the byte
 * offset of a SenML error.
 * Returns MFOTA_OK with `cmd` filled, or: a SenML decoder error;
 * MFOTA_ERR_THINGS_NOT_FOTA (no url and no token; also an empty body),
 * _NO_URL, _NO_TOKEN, _WRONG_DEVICE, _BAD_URL (not a string), an
 * MFOTA_ERR_URL_* code from mfota_url_parse, _BAD_TOKEN, _TOKEN_TOO_LONG,
 * _BAD_SIZE (not a whole number >= 0), MFOTA_ERR_DL_TOO_LARGE (a size of
 * 4 GiB or more: sizes are 32-bit), _BAD_CRC32, _BAD_SHA256, _BAD_VERSION,
 * _DUPLICATE.
 * On error `cmd` is zeroed, so it never holds a partial command. */
int mfota_things_parse_downlink(const char *body, size_t len, const char *imei,
                                size_t imei_len, struct mfota_fota_command *cmd,
                                size_t *err_offset);

/* The same command as views of the downlink body itself: no copy of a
 * 1 KiB token.  Strings are not NUL-terminated; a pointer is NULL (length
 * 0) when its record is absent. */
struct mfota_fota_view {
    const char *url;
    size_t url_len;
    const char *token;
    size_t token_len;
    const char *version;
    size_t version_len;
    uint32_t size;
    uint32_t crc32;
    uint8_t sha256[32];
    uint8_t has_size, has_crc32, has_sha256, has_version;
};

/* mfota_things_parse_downlink() without copies: the strings are decoded in
 * place in `body` (JSON escapes only shorten them, so bytes of the body may
 * change) and `view` points into it; it is valid while the body is.  Same
 * checks and returns; a field the downlink leaves out is zero in `view`,
 * and on error all of `view` is. */
int mfota_things_parse_downlink_inplace(char *body, size_t len, const char *imei,
                                        size_t imei_len, struct mfota_fota_view *view,
                                        size_t *err_offset);

/* Copy a parsed view into `cmd` (strings NUL-terminated).  The view may
 * point into `cmd` itself. */
void mfota_things_command_set(struct mfota_fota_command *cmd, const struct mfota_fota_view *v);

/* ---- uplink ---------------------------------------------------------------- */

/* Write the complete uplink request into out[0..cap):
 *   POST /ingestion/m2m/senml/v1 HTTP/1.1, Host, Content-Type,
 *   Things-Message-Token (hex SHA-256 of body || secret), Content-Length,
 * then the SenML pack of `entries`, whose first record gets the base name
 * "urn:dev:IMEI:<imei>:" (entries' own bn fields are ignored; their names
 * are relative to it).  `*needed` (may be NULL) gets the request's length.
 * Returns MFOTA_OK, MFOTA_ERR_NOSPC when cap < *needed (nothing is written),
 * MFOTA_ERR_INVAL for an empty/oversized imei or a host with a control
 * character or space, or an encoder error (MFOTA_ERR_SENML_RANGE/_ENCODING). */
int mfota_things_build_uplink(char *out, size_t cap, size_t *needed, const char *imei,
                              size_t imei_len, const uint8_t *secret, size_t secret_len,
                              const char *host, const struct mfota_senml_entry *entries,
                              size_t count);

/* The device's update status in the project's conventions (docs/protocol.md §5);
 * a NULL string or a negative number leaves that record out. */
struct mfota_things_status {
    const char *firmware; /* running version: record "firmware", vs */
    const char *state;    /* "idle", "downloading"...: record "fota.state", vs */
    int progress;         /* 0..100: record "fota.progress", v, unit "%" */
    int result;           /* LwM2M /5 result: record "fota.result", v */
    const char *error;    /* short reason: record "fota.error", vs */
};

/* Fill out[0..5) with the records of `st` (names from config.h) and return
 * how many were filled.  The entries point into `st`'s strings. */
size_t mfota_things_status_entries(const struct mfota_things_status *st,
                                   struct mfota_senml_entry out[5]);

#ifdef __cplusplus
}
#endif

#endif /* MFOTA_THINGS_H */
