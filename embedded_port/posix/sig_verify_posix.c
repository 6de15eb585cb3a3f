#include "sig_verify_posix.h"

#include <stdio.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <sodium.h>

#include "m2mfota/err.h"

/* SubjectPublicKeyInfo of an Ed25519 key (RFC 8410): this prefix, then the
 * 32 key bytes. */
static const uint8_t ed25519_spki[12] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
                                         0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};

static int is_ed25519(const uint8_t *der, size_t len)
{
    return len == sizeof ed25519_spki + 32u && memcmp(der, ed25519_spki, sizeof ed25519_spki) == 0;
}

static int verify_p256(const uint8_t *key, size_t key_len, const uint8_t hash[32],
                       const uint8_t *sig, size_t sig_len)
{
    mbedtls_pk_context pk;
    int rc = MFOTA_ERR_MCUBOOT_SIG;
    mbedtls_pk_init(&pk);
    if (mbedtls_pk_parse_public_key(&pk, key, key_len) == 0 &&
        mbedtls_pk_get_type(&pk) == MBEDTLS_PK_ECKEY &&
        mbedtls_pk_ec(pk)->grp.id == MBEDTLS_ECP_DP_SECP256R1 &&
        mbedtls_pk_verify(&pk, MBEDTLS_MD_SHA256, hash, 32, sig, sig_len) == 0) {
        rc = MFOTA_OK;
    }
    mbedtls_pk_free(&pk);
    return rc;
}

static int verify(void *ctx, int alg, const uint8_t *key, size_t key_len, const uint8_t hash[32],
                  const uint8_t *sig, size_t sig_len)
{
    (void)ctx;
    if (alg == MFOTA_SIG_ECDSA_P256) {
        return verify_p256(key, key_len, hash, sig, sig_len);
    }
    if (alg == MFOTA_SIG_ED25519) {
        if (!is_ed25519(key, key_len) || sig_len != crypto_sign_BYTES) {
            return MFOTA_ERR_MCUBOOT_SIG;
        }
        /* MCUboot signs the image's SHA-256, not the image ("non-pure"). */
        return crypto_sign_verify_detached(sig, hash, 32, key + sizeof ed25519_spki) == 0
                   ? MFOTA_OK
                   : MFOTA_ERR_MCUBOOT_SIG;
    }
    return MFOTA_ERR_UNSUPPORTED;
}

int mfota_posix_sig_verifier(struct mfota_sig_verifier *v)
{
    if (sodium_init() < 0) {
        return -1;
    }
    v->verify = verify;
    v->ctx = NULL;
    return 0;
}

int mfota_posix_load_key(const char *path, uint8_t *der, size_t cap, struct mfota_sig_key *key,
                         const char **why)
{
    static const char begin[] = "-----BEGIN PUBLIC KEY-----", end[] = "-----END PUBLIC KEY-----";
    char text[4096], b64[4096];
    size_t n, len = 0, k = 0;
    const char *a, *z;
    mbedtls_pk_context pk;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        *why = "cannot read the file";
        return -1;
    }
    n = fread(text, 1, sizeof text - 1u, f);
    fclose(f);
    text[n] = '\0';
    a = strstr(text, begin);
    if (a != NULL) {
        z = strstr(a, end);
        if (z == NULL) {
            *why = "PEM without its END line";
            return -1;
        }
        for (a += sizeof begin - 1u; a < z; a++) {
            if (*a != '\n' && *a != '\r' && *a != ' ' && *a != '\t') {
                b64[k++] = *a;
            }
        }
        if (mbedtls_base64_decode(der, cap, &len, (const unsigned char *)b64, k) != 0) {
            *why = "bad base64 in the PEM";
            return -1;
        }
    } else {
        if (n > cap) {
            *why = "not a public key (too long)";
            return -1;
        }
        memcpy(der, text, n);
        len = n;
    }
    key->der = der;
    key->der_len = len;
    if (is_ed25519(der, len)) {
        key->alg = MFOTA_SIG_ED25519;
        return 0;
    }
    mbedtls_pk_init(&pk);
    if (mbedtls_pk_parse_public_key(&pk, der, len) == 0 &&
        mbedtls_pk_get_type(&pk) == MBEDTLS_PK_ECKEY &&
        mbedtls_pk_ec(pk)->grp.id == MBEDTLS_ECP_DP_SECP256R1) {
        mbedtls_pk_free(&pk);
        key->alg = MFOTA_SIG_ECDSA_P256;
        return 0;
    }
    mbedtls_pk_free(&pk);
    *why = "not an ECDSA P-256 or Ed25519 public key";
    return -1;
}
