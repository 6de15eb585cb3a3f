#include "ascii.h"

#include <string.h>

#include "m2mfota/config.h"

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
    /* one bit per ASCII byte: letters, digits and !#$%&'*+-.^_`|~ */
    static const uint8_t tchar[16] = {
        0x00, 0x00, 0x00, 0x00, 0xFA, 0x6C, 0xFF, 0x03,
        0xFE, 0xFF, 0xFF, 0xC7, 0xFF, 0xFF, 0xFF, 0x57,
    };
    return c >= 0 && c < 128 && ((tchar[c >> 3] >> (c & 7)) & 1);
}

int mfota_ascii_visible_(const char *p, size_t n)
{
    size_t i = 0;
#if MFOTA_WORD_SCAN
    /* eight bytes a step (a 1 KiB token is checked on every downlink) */
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = ones << 7;
    for (; n - i >= 8; i += 8) {
        uint64_t x, d;
        memcpy(&x, p + i, 8);
        d = x ^ (ones * 0x7F);
        if ((((x - ones * 0x21) & ~x) | x | ((d - ones) & ~d)) & highs) {
            break; /* some byte is <= 0x20 or >= 0x7F: find it below */
        }
    }
#endif
    for (; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c <= 0x20 || c >= 0x7F) {
            return 0;
        }
    }
    return 1;
}

uint32_t mfota_ascii_divmod10_(uint64_t *v)
{
    /* Long division in 32-bit steps -- the high word, then two 16-bit
     * digits of the low word, each step's remainder (< 10) carried into the
     * next -- so a 32-bit CPU needs no 64-bit division helper (libgcc's
     * __aeabi_uldivmod / __udivdi3), which would be its only user. */
    uint32_t hi = (uint32_t)(*v >> 32), lo = (uint32_t)*v, mid, low;
    uint32_t qhi = hi / 10u, r = hi % 10u, qmid, qlow;
    mid = r << 16 | lo >> 16;
    qmid = mid / 10u;
    low = (mid % 10u) << 16 | (lo & 0xFFFFu);
    qlow = low / 10u;
    *v = (uint64_t)qhi << 32 | (uint64_t)(qmid << 16 | qlow);
    return low % 10u;
}

size_t mfota_ascii_put_uint_(char *out, uint64_t v)
{
    char tmp[20];
    size_t n = 0, i;
    do {
        tmp[n++] = (char)('0' + mfota_ascii_divmod10_(&v));
    } while (v != 0);
    for (i = 0; i < n; i++) {
        out[i] = tmp[n - 1 - i];
    }
    return n;
}
