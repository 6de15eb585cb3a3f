/* libFuzzer harness: the MCUboot image parser on arbitrary bytes.  An image it
 * accepts must be self-consistent and lie inside the input.  The signature
 * walk runs too, with a stand-in verifier (no crypto: it checks what it is
 * handed and accepts on a parity bit, so both outcomes are explored). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "m2mfota/err.h"
#include "m2mfota/mcuboot.h"

static int fake_verify(void *ctx, int alg, const uint8_t *key, size_t key_len,
                       const uint8_t hash[32], const uint8_t *sig, size_t sig_len)
{
    (void)ctx;
    if ((alg != MFOTA_SIG_ECDSA_P256 && alg != MFOTA_SIG_ED25519) || key == NULL ||
        key_len == 0 || hash == NULL || sig == NULL || sig_len == 0 || sig_len > 80) {
        abort();
    }
    return (sig[sig_len - 1] ^ hash[0]) & 1 ? 0 : MFOTA_ERR_MCUBOOT_SIG;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t der_a[4] = {1, 2, 3, 4}, der_b[5] = {5, 6, 7, 8, 9};
    struct mfota_sig_key keys[2];
    struct mfota_sig_verifier verifier;
    struct mfota_mcuboot_trust trust;
    struct mfota_mcuboot_image img, img2;
    char version[48];
    int rc = mfota_mcuboot_check_mem(data, size, &img), rc2;
    keys[0].alg = MFOTA_SIG_ECDSA_P256;
    keys[0].der = der_a;
    keys[0].der_len = sizeof der_a;
    keys[1].alg = MFOTA_SIG_ED25519;
    keys[1].der = der_b;
    keys[1].der_len = sizeof der_b;
    verifier.verify = fake_verify;
    verifier.ctx = NULL;
    trust.keys = keys;
    trust.n_keys = 2;
    trust.verifier = &verifier;
    rc2 = mfota_mcuboot_verify_mem(data, size, &trust, &img2);
    /* Signatures only add refusals, with their own two codes. */
    if ((rc != MFOTA_OK && rc2 != rc) ||
        (rc == MFOTA_OK && rc2 != MFOTA_OK && rc2 != MFOTA_ERR_MCUBOOT_SIG &&
         rc2 != MFOTA_ERR_MCUBOOT_NO_SIG) ||
        (rc2 == MFOTA_OK && memcmp(&img, &img2, sizeof img) != 0)) {
        abort();
    }
    if (rc == MFOTA_OK) {
        if (img.header_size < 32u || img.total_size > size ||
            img.header_size + img.image_size + img.protect_tlv_size > img.total_size) {
            abort();
        }
        if (mfota_mcuboot_version_string(&img, version, sizeof version) <= 0) {
            abort();
        }
    } else if (rc > 0 || rc < -499) {
        abort();
    }
    return 0;
}
