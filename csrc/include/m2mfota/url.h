/*
 * Strict parser for the only URL form KPN Things sends a device:
 *     http://host[:port]/path
 * host is an IPv4 literal (the device has no DNS on its private APN) or a
 * DNS name; path starts with '/' and may carry a query.  Anything else --
 * another scheme, userinfo, a fragment, an empty host, a port outside
 * 1..65535, a control character, space, CR, LF, or a byte >= 0x7F -- is
 * rejected, so a bad downlink never reaches the download code.  An IPv4
 * address must be a plain dotted quad (1.2.3.4, no leading zeros): every
 * other form a resolver would read as an address (octal 010.0.0.1, hex
 * 0x7f.0.0.1 or 0x7f000001, short 127.1) is refused as MFOTA_ERR_URL_HOST,
 * as is any name whose last label is such a number.
 */
#ifndef MFOTA_URL_H
#define MFOTA_URL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mfota_url {
    const char *host;  /* slice of the input, not NUL-terminated */
    size_t host_len;
    const char *path;  /* slice of the input, starts with '/', includes any query */
    size_t path_len;
    uint16_t port;     /* 80 when the URL names none */
    uint8_t ipv4[4];   /* the address when host_is_ipv4 */
    uint8_t host_is_ipv4;
};

/* Parse `len` bytes at `url` (no NUL needed) into `out`, whose slices point
 * into `url`.  Returns MFOTA_OK or one of MFOTA_ERR_URL_SCHEME, _URL_HOST,
 * _URL_PORT, _URL_PATH, _URL_CHAR, _URL_TOO_LONG; `out` is zeroed on error. */
int mfota_url_parse(const char *url, size_t len, struct mfota_url *out);

#ifdef __cplusplus
}
#endif

#endif /* MFOTA_URL_H */
