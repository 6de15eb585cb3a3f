/* Strict http://host[:port]/path parser (see url.h for what is refused). */
#include "m2mfota/url.h"

#include <string.h>

#include "m2mfota/config.h"
#include "m2mfota/err.h"
#include "ascii.h"
#include "noinline.h"

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Check the host s[0..len) label by label, in one pass.  A name is RFC 1123
 * labels of letters, digits and inner hyphens.  A host whose last label is
 * a number -- decimal digits, or 0x and hex digits -- is an IPv4 literal to
 * inet_aton() and to URL parsers (0x7f.0.0.1, 0x7f000001, 127.1,
 * 010.0.0.1, 999.1.1.1): it must then be a plain dotted quad, 1-3 digit
 * octets <= 255 without leading zeros (which some stacks read as octal),
 * since resolving it would connect somewhere else.  Returns 0 for a bad
 * host, 1 for a name, 2 for an address (in out).  Out of line
 * (noinline.h): smaller so on Cortex-M, although called once. */
MFOTA_NOINLINE_ static int check_host(const char *s, size_t len, uint8_t out[4])
{
    size_t i, start = 0;
    unsigned labels = 0, octets = 0;
    int numeric = 0;
    if (len == 0 || len > 253) {
        return 0;
    }
    for (i = 0; i <= len; i++) {
        size_t n = i - start, k = start;
        unsigned value = 0;
        int hex = 0;
        if (i < len && s[i] != '.') {
            char c = s[i];
            if ((unsigned)((c | 0x20) - 'a') >= 26u && !is_digit(c) && c != '-') {
                return 0;
            }
            continue;
        }
        /* the label s[start..i) */
        if (n == 0 || n > 63 || s[start] == '-' || s[i - 1] == '-') {
            return 0;
        }
        if (n >= 2 && s[k] == '0' && (s[k + 1] | 0x20) == 'x') {
            hex = 1;
            k += 2;
        }
        for (numeric = 1; k < i && numeric; k++) {
            numeric = hex ? mfota_ascii_hexval_(s[k]) >= 0 : is_digit(s[k]);
            value = value * 10u + (unsigned)(s[k] - '0'); /* meaningful for n <= 3 */
        }
        if (numeric && !hex && n <= 3 && value <= 255u && (n == 1 || s[start] != '0') &&
            labels < 4) {
            out[labels] = (uint8_t)value;
            octets++;
        }
        labels++;
        start = i + 1;
    }
    if (!numeric) {
        return 1;
    }
    return labels == 4 && octets == 4 ? 2 : 0;
}

int mfota_url_parse(const char *url, size_t len, struct mfota_url *out)
{
    static const char scheme[] = "http://";
    const size_t scheme_len = sizeof scheme - 1;
    size_t i, host_end, path_start;
    uint32_t port = 80;
    int host;

    memset(out, 0, sizeof *out);
    if (len > MFOTA_URL_MAX) {
        return MFOTA_ERR_URL_TOO_LONG;
    }
    /* Characters first: a CR/LF or space must never get as far as an HTTP
     * request line, whatever else is wrong with the URL. */
    if (!mfota_ascii_visible_(url, len)) {
        return MFOTA_ERR_URL_CHAR;
    }
    if (len < scheme_len || memcmp(url, scheme, scheme_len) != 0) {
        return MFOTA_ERR_URL_SCHEME;
    }
    for (host_end = scheme_len; host_end < len && url[host_end] != ':' && url[host_end] != '/';
         host_end++) {
        if (url[host_end] == '@' || url[host_end] == '?' || url[host_end] == '#') {
            return MFOTA_ERR_URL_HOST;
        }
    }
    path_start = host_end;
    if (host_end < len && url[host_end] == ':') {
        port = 0;
        for (path_start++; path_start < len && is_digit(url[path_start]); path_start++) {
            port = port * 10u + (uint32_t)(url[path_start] - '0');
            if (path_start - host_end > 5) {
                return MFOTA_ERR_URL_PORT; /* six digits, and no overflow */
            }
        }
        if (port == 0 || port > 65535u || (path_start < len && url[path_start] != '/')) {
            return MFOTA_ERR_URL_PORT; /* also no digits at all */
        }
    }
    if (path_start >= len || url[path_start] != '/') {
        return MFOTA_ERR_URL_PATH;
    }
    for (i = path_start; i < len; i++) {
        if (url[i] == '#') {
            return MFOTA_ERR_URL_PATH; /* a fragment */
        }
    }
    host = check_host(url + scheme_len, host_end - scheme_len, out->ipv4);
    if (host == 0) {
        memset(out, 0, sizeof *out);
        return MFOTA_ERR_URL_HOST;
    }
    out->host = url + scheme_len;
    out->host_len = host_end - scheme_len;
    out->host_is_ipv4 = host == 2;
    out->port = (uint16_t)port;
    out->path = url + path_start;
    out->path_len = len - path_start;
    return MFOTA_OK;
}
