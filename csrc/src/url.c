/* Strict http://host[:port]/path parser (see url.h for what is refused). */
#include "m2mfota/url.h"

#include <string.h>

#include "m2mfota/config.h"
#include "m2mfota/err.h"
#include "ascii.h"

static int is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* A dotted quad with 1-3 digit octets <= 255 and no leading zeros (which some
 * stacks read as octal: refusing them avoids connecting somewhere else). */
static int parse_ipv4(const char *s, size_t len, uint8_t out[4])
{
    size_t i = 0;
    int part;
    for (part = 0; part < 4; part++) {
        unsigned value = 0;
        size_t digits = 0;
        if (part > 0) {
            if (i >= len || s[i] != '.') {
                return 0;
            }
            i++;
        }
        while (i < len && s[i] >= '0' && s[i] <= '9' && digits < 4) {
            value = value * 10u + (unsigned)(s[i] - '0');
            digits++;
            i++;
        }
        if (digits == 0 || digits > 3 || value > 255u || (digits > 1 && s[i - digits] == '0')) {
            return 0;
        }
        out[part] = (uint8_t)value;
    }
    return i == len;
}

/* RFC 1123 host name: labels of letters, digits and inner hyphens. */
static int valid_hostname(const char *s, size_t len)
{
    size_t i, label = 0;
    if (len == 0 || len > 253) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        char c = s[i];
        if (c == '.') {
            if (label == 0 || s[i - 1] == '-') {
                return 0;
            }
            label = 0;
        } else if (is_alnum(c) || (c == '-' && label > 0)) {
            if (++label > 63) {
                return 0;
            }
        } else {
            return 0;
        }
    }
    return label > 0 && s[len - 1] != '-';
}

/* A host whose last label is a number -- decimal digits, or 0x followed by
 * hex digits -- is an IPv4 literal to inet_aton() and to URL parsers
 * (0x7f.0.0.1, 0x7f000001, 0x7f.1, 127.1, 010.0.0.1, 999.1.1.1).  No real
 * top-level domain is numeric, so one that failed the strict dotted-quad
 * parse is a bad host: resolving it would connect somewhere else. */
static int ends_in_number(const char *s, size_t len)
{
    size_t start = len, i;
    int hex = 0;
    while (start > 0 && s[start - 1] != '.') {
        start--;
    }
    if (start == len) {
        return 0;
    }
    if (len - start >= 2 && s[start] == '0' && (s[start + 1] == 'x' || s[start + 1] == 'X')) {
        hex = 1;
        start += 2;
    }
    for (i = start; i < len; i++) {
        if (hex ? mfota_ascii_hexval_(s[i]) < 0 : !(s[i] >= '0' && s[i] <= '9')) {
            return 0;
        }
    }
    return 1;
}

int mfota_url_parse(const char *url, size_t len, struct mfota_url *out)
{
    static const char scheme[] = "http://";
    const size_t scheme_len = sizeof scheme - 1;
    size_t i, host_end, path_start;
    uint32_t port = 80;

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
    host_end = scheme_len;
    while (host_end < len && url[host_end] != ':' && url[host_end] != '/') {
        if (url[host_end] == '@' || url[host_end] == '?' || url[host_end] == '#') {
            return MFOTA_ERR_URL_HOST;
        }
        host_end++;
    }
    path_start = host_end;
    if (host_end < len && url[host_end] == ':') {
        size_t digits = 0;
        port = 0;
        path_start++;
        while (path_start < len && url[path_start] >= '0' && url[path_start] <= '9') {
            if (++digits > 5) {
                return MFOTA_ERR_URL_PORT;
            }
            port = port * 10u + (uint32_t)(url[path_start] - '0');
            path_start++;
        }
        if (digits == 0 || port == 0 || port > 65535u ||
            (path_start < len && url[path_start] != '/')) {
            return MFOTA_ERR_URL_PORT;
        }
    }
    if (path_start >= len || url[path_start] != '/') {
        return MFOTA_ERR_URL_PATH;
    }
    for (i = path_start; i < len; i++) {
        if (url[i] == '#') {
            return MFOTA_ERR_URL_PATH;
        }
    }
    out->host = url + scheme_len;
    out->host_len = host_end - scheme_len;
    if (parse_ipv4(out->host, out->host_len, out->ipv4)) {
        out->host_is_ipv4 = 1;
    } else if (!valid_hostname(out->host, out->host_len) ||
               ends_in_number(out->host, out->host_len)) {
        memset(out, 0, sizeof *out);
        return MFOTA_ERR_URL_HOST;
    }
    out->port = (uint16_t)port;
    out->path = url + path_start;
    out->path_len = len - path_start;
    return MFOTA_OK;
}
