/*
 * CRC-32 (zlib): portable kernels, run-time dispatch and combine.
 * Hardware kernels live in crc32_x86.c and crc32_arm64.c.
 */
#include "m2mfota/crc32.h"

#include "crc32_internal.h"
#include "m2mfota/err.h"

/* Which tables to compile: the configured variant always; all of them on hosts
 * that ask for every variant.  The hardware kernels need the byte table. */
#define NEED_(v) (MFOTA_CRC32_ALL_VARIANTS || MFOTA_CRC32_VARIANT == (v))
#define MFOTA_CRC32_NEED_NIBBLE NEED_(MFOTA_CRC32_NIBBLE)
#define MFOTA_CRC32_NEED_SLICE8 NEED_(MFOTA_CRC32_SLICE8)
#define MFOTA_CRC32_NEED_BYTE                                                                      \
    (NEED_(MFOTA_CRC32_BYTE) || MFOTA_CRC32_NEED_SLICE8 || MFOTA_CRC32_HAVE_X86 ||                \
     MFOTA_CRC32_HAVE_ARMV8)
#define MFOTA_CRC32_NEED_BITWISE NEED_(MFOTA_CRC32_BITWISE)
#include "crc32_tables.h"

#if MFOTA_CRC32_NEED_BITWISE
static uint32_t crc32_bitwise(uint32_t crc, const uint8_t *p, size_t len)
{
    int k;
    crc = ~crc;
    while (len--) {
        crc ^= *p++;
        for (k = 0; k < 8; k++) {
            /* Branch-free: mask is all ones when the low bit is set. */
            crc = (crc >> 1) ^ (MFOTA_CRC32_POLY & (0u - (crc & 1u)));
        }
    }
    return ~crc;
}
#endif

#if MFOTA_CRC32_NEED_NIBBLE
static uint32_t crc32_nibble(uint32_t crc, const uint8_t *p, size_t len)
{
    crc = ~crc;
    while (len--) {
        crc ^= *p++;
        crc = (crc >> 4) ^ crc32_nibble_table[crc & 15u];
        crc = (crc >> 4) ^ crc32_nibble_table[crc & 15u];
    }
    return ~crc;
}
#endif

#if MFOTA_CRC32_NEED_BYTE
uint32_t mfota_crc32_byte_raw_(uint32_t state, const uint8_t *p, size_t len)
{
    while (len--) {
        state = (state >> 8) ^ crc32_byte_table[(state ^ *p++) & 0xFFu];
    }
    return state;
}
#endif

/* Only a kernel of its own when chosen: slice8 and the hardware kernels use
 * the table through mfota_crc32_byte_raw_(). */
#if NEED_(MFOTA_CRC32_BYTE)
static uint32_t crc32_byte(uint32_t crc, const uint8_t *p, size_t len)
{
    return ~mfota_crc32_byte_raw_(~crc, p, len);
}
#endif

#if MFOTA_CRC32_NEED_SLICE8
static uint32_t load_le32(const uint8_t *p)
{
    /* Byte loads keep this endian-neutral and alignment-safe; compilers fuse
     * them into one load where that is allowed. */
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint32_t crc32_slice8(uint32_t crc, const uint8_t *p, size_t len)
{
    const uint32_t(*t)[256] = crc32_slice8_table; /* t[k-1]: byte then k zero bytes */
    uint32_t state = ~crc;
    while (len >= 8) {
        uint32_t a = state ^ load_le32(p);
        state = t[6][a & 0xFFu] ^ t[5][(a >> 8) & 0xFFu] ^ t[4][(a >> 16) & 0xFFu] ^
                t[3][a >> 24] ^ t[2][p[4]] ^ t[1][p[5]] ^ t[0][p[6]] ^ crc32_byte_table[p[7]];
        p += 8;
        len -= 8;
    }
    return ~mfota_crc32_byte_raw_(state, p, len);
}
#endif

typedef uint32_t (*crc32_fn)(uint32_t crc, const uint8_t *p, size_t len);

static crc32_fn kernel_of(enum mfota_crc32_impl impl)
{
    switch (impl) {
#if MFOTA_CRC32_NEED_BITWISE
    case MFOTA_CRC32_IMPL_BITWISE:
        return crc32_bitwise;
#endif
#if MFOTA_CRC32_NEED_NIBBLE
    case MFOTA_CRC32_IMPL_NIBBLE:
        return crc32_nibble;
#endif
#if NEED_(MFOTA_CRC32_BYTE)
    case MFOTA_CRC32_IMPL_BYTE:
        return crc32_byte;
#endif
#if MFOTA_CRC32_NEED_SLICE8
    case MFOTA_CRC32_IMPL_SLICE8:
        return crc32_slice8;
#endif
#if MFOTA_CRC32_HAVE_X86
    case MFOTA_CRC32_IMPL_PCLMUL:
        return mfota_crc32_x86_has_pclmul_() ? mfota_crc32_pclmul_ : 0;
    case MFOTA_CRC32_IMPL_VPCLMUL:
        return mfota_crc32_x86_has_vpclmul_() ? mfota_crc32_vpclmul_ : 0;
#endif
#if MFOTA_CRC32_HAVE_ARMV8
    case MFOTA_CRC32_IMPL_ARMV8:
        return mfota_crc32_armv8_available_() ? mfota_crc32_armv8_ : 0;
#endif
    default:
        return 0;
    }
}

/* The configured portable kernel, as an impl id. */
#if MFOTA_CRC32_VARIANT == MFOTA_CRC32_BITWISE
#define PORTABLE_IMPL MFOTA_CRC32_IMPL_BITWISE
#elif MFOTA_CRC32_VARIANT == MFOTA_CRC32_NIBBLE
#define PORTABLE_IMPL MFOTA_CRC32_IMPL_NIBBLE
#elif MFOTA_CRC32_VARIANT == MFOTA_CRC32_BYTE
#define PORTABLE_IMPL MFOTA_CRC32_IMPL_BYTE
#else
#define PORTABLE_IMPL MFOTA_CRC32_IMPL_SLICE8
#endif

enum mfota_crc32_impl mfota_crc32_active(void)
{
    /* Probing is idempotent, so a race between two first callers only
     * repeats work; no lock is needed. */
    static int chosen = -1;
    if (chosen < 0) {
        int best = PORTABLE_IMPL;
        if (kernel_of(MFOTA_CRC32_IMPL_VPCLMUL)) {
            best = MFOTA_CRC32_IMPL_VPCLMUL;
        } else if (kernel_of(MFOTA_CRC32_IMPL_PCLMUL)) {
            best = MFOTA_CRC32_IMPL_PCLMUL;
        } else if (kernel_of(MFOTA_CRC32_IMPL_ARMV8)) {
            best = MFOTA_CRC32_IMPL_ARMV8;
        }
        chosen = best;
    }
    return (enum mfota_crc32_impl)chosen;
}

uint32_t mfota_crc32(uint32_t crc, const void *data, size_t len)
{
#if !MFOTA_CRC32_ALL_VARIANTS && !MFOTA_CRC32_HAVE_X86 && !MFOTA_CRC32_HAVE_ARMV8
    /* One kernel compiled (an MCU build): nothing to choose, call it. */
    crc32_fn fn = kernel_of(PORTABLE_IMPL);
#else
    static crc32_fn fn;
    if (!fn) {
        fn = kernel_of(mfota_crc32_active());
    }
#endif
    if (len == 0) {
        return crc;
    }
    return fn(crc, (const uint8_t *)data, len);
}

int mfota_crc32_available(enum mfota_crc32_impl impl)
{
    return kernel_of(impl) != 0;
}

uint32_t mfota_crc32_with(enum mfota_crc32_impl impl, uint32_t crc, const void *data, size_t len,
                          int *err)
{
    crc32_fn fn = kernel_of(impl);
    if (err) {
        *err = fn ? MFOTA_OK : MFOTA_ERR_UNSUPPORTED;
    }
    if (!fn || len == 0) {
        return crc;
    }
    return fn(crc, (const uint8_t *)data, len);
}

const char *mfota_crc32_impl_name(enum mfota_crc32_impl impl)
{
    static const char *const names[MFOTA_CRC32_IMPL_COUNT_] = {
        "bitwise", "nibble", "byte", "slice8", "pclmul", "vpclmul", "armv8"};
    if ((unsigned)impl >= (unsigned)MFOTA_CRC32_IMPL_COUNT_) {
        return "?";
    }
    return names[impl];
}

/* ---- combine ------------------------------------------------------------ */

/* Multiply a(x) * b(x) mod P(x) in the reflected representation, where bit 31
 * is x^0.  This is the GF(2) arithmetic behind "append len_b zero bytes". */
static uint32_t multmodp(uint32_t a, uint32_t b)
{
    uint32_t m = 1u << 31;
    uint32_t p = 0;
    while (m) {
        if (a & m) {
            p ^= b;
        }
        m >>= 1;
        b = (b >> 1) ^ (MFOTA_CRC32_POLY & (0u - (b & 1u)));
    }
    return p;
}

uint32_t mfota_crc32_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b)
{
    /* crc(A‖B) = crc_a * x^(8*len_b) + crc_b (mod P).  x^(8*len_b) by square
     * and multiply: one squaring per bit of len_b, so O(log len_b). */
    uint32_t xpow = 1u << 31;      /* x^0 */
    uint32_t square = 1u << 23;    /* x^8: one byte of shift */
    while (len_b) {
        if (len_b & 1u) {
            xpow = multmodp(square, xpow);
        }
        square = multmodp(square, square);
        len_b >>= 1;
    }
    return multmodp(xpow, crc_a) ^ crc_b;
}
