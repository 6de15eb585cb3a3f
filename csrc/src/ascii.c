#include "ascii.h"

int mfota_ascii_lower_(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

int mfota_ascii_hexval_(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = mfota_ascii_lower_(c);
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

int mfota_ascii_is_tchar_(int c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        return 1;
    }
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
        return 1;
    default:
        return 0;
    }
}

uint32_t mfota_ascii_divmod10_(uint64_t *v)
{
    /* Hacker's Delight's divide-by-10 by shifts and adds, widened to 64
     * bits: a 32-bit CPU then needs no 64-bit division helper (libgcc's
     * __aeabi_uldivmod / __udivdi3), which would be its only user. */
    uint64_t n = *v, q, r;
    q = (n >> 1) + (n >> 2);
    q += q >> 4;
    q += q >> 8;
    q += q >> 16;
    q += q >> 32;
    q >>= 3;
    r = n - ((q << 3) + (q << 1)); /* n - 10q, in 0..19 */
    if (r > 9u) {
        q++;
        r -= 10u;
    }
    *v = q;
    return (uint32_t)r;
}

size_t mfota_ascii_put_uint_(char *out, uint64_t v)
{
    char tmp[20];
    size_t n = 0, i;
    uint32_t low;
    while (v > UINT32_MAX) {
        tmp[n++] = (char)('0' + mfota_ascii_divmod10_(&v));
    }
    /* the rest fits 32 bits: plain division (one instruction on most MCUs) */
    low = (uint32_t)v;
    do {
        tmp[n++] = (char)('0' + (int)(low % 10u));
        low /= 10u;
    } while (low != 0);
    for (i = 0; i < n; i++) {
        out[i] = tmp[n - 1 - i];
    }
    return n;
}
