/* CRC-32 and SHA-256 vectors.  Reference values come from zlib.crc32 and
 * hashlib.sha256 (FIPS 180-4 examples), so a pass on the MCU means the same
 * bits as on the host. */
#include <string.h>

#include "m2mfota/crc32.h"
#include "m2mfota/sha256.h"
#include "selftest.h"

static unsigned char pattern[4096 + 64];

static void fill_pattern(void)
{
    size_t i;
    for (i = 0; i < sizeof pattern; i++) {
        pattern[i] = (unsigned char)((i * 7u + 3u) & 0xFFu);
    }
}

static int check_crc_kernel(enum mfota_crc32_impl impl)
{
    int failures = 0, err = 0;
    size_t align, len, split;
    const char *name = mfota_crc32_impl_name(impl);
    unsigned char aligned[4096 + 64];

    SELFTEST_CHECK(failures, mfota_crc32_with(impl, 0, "123456789", 9, &err) == 0xCBF43926u, name);
    SELFTEST_CHECK(failures, err == 0, name);
    SELFTEST_CHECK(failures, mfota_crc32_with(impl, 0, pattern, 4096, &err) == 0x5e4e1995u, name);
    SELFTEST_CHECK(failures, mfota_crc32_with(impl, 0, "", 0, &err) == 0u, name);

    /* Every alignment 0..63 and lengths around the folding widths, against the
     * bitwise reference: heads, bodies and tails of each kernel get exercised. */
    for (align = 0; align < 64; align++) {
        memcpy(aligned + align, pattern, 4096);
        for (len = 0; len <= 300; len += (len < 160 ? 1u : 37u)) {
            uint32_t want = mfota_crc32_with(MFOTA_CRC32_IMPL_BITWISE, 0, pattern, len, &err);
            if (err != 0) { /* bitwise compiled out: compare with the default */
                want = mfota_crc32(0, pattern, len);
            }
            if (mfota_crc32_with(impl, 0, aligned + align, len, &err) != want) {
                SELFTEST_CHECK(failures, 0, name);
                return failures;
            }
        }
    }
    /* Streaming: split a buffer anywhere. */
    for (split = 0; split <= 1000; split += 61) {
        uint32_t crc = mfota_crc32_with(impl, 0, pattern, split, &err);
        crc = mfota_crc32_with(impl, crc, pattern + split, 1000 - split, &err);
        SELFTEST_CHECK(failures, crc == mfota_crc32(0, pattern, 1000), name);
    }
    return failures;
}

static int hex_equals(const uint8_t digest[32], const char *hex)
{
    char out[65];
    mfota_sha256_hex(digest, out);
    return strcmp(out, hex) == 0;
}

static int check_sha256(void)
{
    static const struct {
        const char *msg;
        const char *hex;
    } vectors[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopq"
         "rsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    };
    int failures = 0;
    size_t i;
    uint8_t digest[32];
    struct mfota_sha256 ctx;
    static char a1000[1000];

    for (i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        int impl;
        mfota_sha256(vectors[i].msg, strlen(vectors[i].msg), digest);
        SELFTEST_CHECK(failures, hex_equals(digest, vectors[i].hex), vectors[i].msg);
        /* Every block function this CPU offers, not only the active one. */
        for (impl = 0; impl < MFOTA_SHA256_IMPL_COUNT_; impl++) {
            enum mfota_sha256_impl which = (enum mfota_sha256_impl)impl;
            if (mfota_sha256_available(which)) {
                int err = mfota_sha256_with(which, vectors[i].msg, strlen(vectors[i].msg), digest);
                SELFTEST_CHECK(failures, err == 0 && hex_equals(digest, vectors[i].hex),
                               mfota_sha256_impl_name(which));
            }
        }
    }
    /* FIPS 180-4 long message: one million 'a', fed in odd-sized pieces. */
    memset(a1000, 'a', sizeof a1000);
    mfota_sha256_init(&ctx);
    for (i = 0; i < 1000; i++) {
        mfota_sha256_update(&ctx, a1000, 1 + (i % 7));
        mfota_sha256_update(&ctx, a1000, 1000 - 1 - (i % 7));
    }
    mfota_sha256_final(&ctx, digest);
    SELFTEST_CHECK(failures,
                   hex_equals(digest, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
                   "sha256 million a");
    return failures;
}

int mfota_selftest_checksums(void)
{
    int failures = 0, impl, kernels = 0;
    fill_pattern();
    for (impl = 0; impl < MFOTA_CRC32_IMPL_COUNT_; impl++) {
        if (mfota_crc32_available((enum mfota_crc32_impl)impl)) {
            int f = check_crc_kernel((enum mfota_crc32_impl)impl);
            printf("%s crc32/%s\n", f ? "FAIL" : "ok", mfota_crc32_impl_name((enum mfota_crc32_impl)impl));
            failures += f;
            kernels++;
        }
    }
    SELFTEST_CHECK(failures, kernels > 0, "at least one CRC-32 kernel");
    SELFTEST_CHECK(failures,
                   mfota_crc32_combine(mfota_crc32(0, pattern, 1000), mfota_crc32(0, pattern + 1000, 3000),
                                       3000) == mfota_crc32(0, pattern, 4000),
                   "crc32 combine");
    {
        int f = check_sha256();
        printf("%s sha256\n", f ? "FAIL" : "ok");
        failures += f;
    }
    return failures;
}
