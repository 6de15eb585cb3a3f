/*
 * The one HTTP/1.1 request a device sends to the M2M file server:
 *
 *     GET <path> HTTP/1.1\r\n
 *     Host:<host>[:<port>]\r\n
 *     Authorization:Bearer <token>\r\n
 *     Range:bytes=<first>-<last>\r\n
 *     \r\n
 *
 * Nothing else: every byte is airtime on NB-IoT.  The space after each colon
 * is optional whitespace in HTTP (RFC 9110 5.6.3) and is left out unless
 * MFOTA_HTTP_HEADER_SPACE is 1; the port is written only when it is not 80.
 */
#ifndef MFOTA_HTTP_REQUEST_H
#define MFOTA_HTTP_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "m2mfota/config.h"
#include "m2mfota/url.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sentinel for `last`: no upper bound ("bytes=<first>-").  Range numbers
 * are 32-bit like every size in the SDK (images are below 4 GiB), so the
 * largest bounded `last` is 0xFFFFFFFE. */
#define MFOTA_HTTP_RANGE_OPEN UINT32_MAX

/* Write the GET for `url` (parsed by mfota_url_parse) into buf[0..cap).
 * token/token_len: the bearer token (may be empty: no Authorization header).
 * with_range: 0 for no Range header, else bytes first..last inclusive, both
 * 32-bit (last may be MFOTA_HTTP_RANGE_OPEN).  *out_len receives the request length (no NUL
 * is written).  Returns MFOTA_OK; MFOTA_ERR_INVAL when first > last or the
 * token holds a byte that would break the header (CR, LF, control, non-ASCII);
 * MFOTA_ERR_HTTP_REQUEST_SIZE when cap is too small (buf content undefined). */
int mfota_http_request_write(char *buf, size_t cap, size_t *out_len, const struct mfota_url *url,
                             const char *token, size_t token_len, int with_range, uint32_t first,
                             uint32_t last);

/* The same request in two pieces, so a downloader writes the fixed head once
 * and only the Range tail per part.  head: request line, Host and
 * Authorization, without the final empty line (errors as above).  tail: the
 * Range line (when with_range) and the empty line, appended at buf[0..cap). */
int mfota_http_request_head(char *buf, size_t cap, size_t *out_len, const struct mfota_url *url,
                            const char *token, size_t token_len);
int mfota_http_request_tail(char *buf, size_t cap, size_t *out_len, int with_range,
                            uint32_t first, uint32_t last);

/* The head without a buffer that holds it whole: copy its bytes
 * [pos, pos + cap) into buf and return how many were copied (fewer at its
 * end).  `*total` (may be NULL) gets the head's whole length.  url and token
 * are only read: a downloader sends the head in pieces straight from the
 * stored command.  The token is not checked here (see below). */
size_t mfota_http_request_head_copy(const struct mfota_url *url, const char *token,
                                    size_t token_len, size_t pos, char *buf, size_t cap,
                                    size_t *total);

/* MFOTA_OK when every byte of the token may stand in a header line, else
 * MFOTA_ERR_INVAL (CR, LF, space, control, non-ASCII). */
int mfota_http_request_check_token(const char *token, size_t token_len);

#ifdef __cplusplus
}
#endif

#endif /* MFOTA_HTTP_REQUEST_H */
