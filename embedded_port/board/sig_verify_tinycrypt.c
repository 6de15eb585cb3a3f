#include "sig_verify_tinycrypt.h"

#include <string.h>

#include <tinycrypt/constants.h>
#include <tinycrypt/ecc.h>
#include <tinycrypt/ecc_dsa.h>

#include "m2mfota/err.h"

/* AlgorithmIdentifier { id-ecPublicKey, prime256v1 } (RFC 5480), whole TLV. */
static const uint8_t p256_alg_id[] = {0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
                                      0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d,
                                      0x03, 0x01, 0x07};

/* Read one DER tag + definite length (short or one/two-byte long form) at
 * *pos; the content must fit before `end`.  Returns the content length or
 * -1. */
static long der_hdr(const uint8_t *p, size_t end, size_t *pos, uint8_t tag)
{
    size_t i = *pos, n;
    if (end - i < 2u || p[i] != tag) {
        return -1;
    }
    n = p[i + 1];
    i += 2;
    if (n == 0x81u || n == 0x82u) {
        size_t k = n & 0x7Fu;
        if (end - i < k) {
            return -1;
        }
        n = k == 1u ? p[i] : ((size_t)p[i] << 8) | p[i + 1];
        i += k;
    } else if (n > 0x7Fu) {
        return -1;
    }
    if (n > end - i) {
        return -1;
    }
    *pos = i;
    return (long)n;
}

int board_der_p256_pubkey(const uint8_t *der, size_t len, uint8_t out[64])
{
    size_t pos = 0;
    long n = der_hdr(der, len, &pos, 0x30);
    if (n < 0 || pos + (size_t)n != len) {
        return -1;
    }
    if (len - pos < sizeof p256_alg_id || memcmp(der + pos, p256_alg_id, sizeof p256_alg_id) != 0) {
        return -1;
    }
    pos += sizeof p256_alg_id;
    n = der_hdr(der, len, &pos, 0x03);
    /* BIT STRING: no unused bits, uncompressed point 0x04 || X || Y. */
    if (n != 66 || pos + 66u != len || der[pos] != 0x00 || der[pos + 1] != 0x04) {
        return -1;
    }
    memcpy(out, der + pos + 2, 64);
    return 0;
}

/* One positive INTEGER into a 32-byte big-endian field. */
static int der_uint32b(const uint8_t *p, size_t end, size_t *pos, uint8_t out[32])
{
    long n = der_hdr(p, end, pos, 0x02);
    size_t i, len;
    if (n <= 0) {
        return -1;
    }
    i = *pos;
    len = (size_t)n;
    if (p[i] & 0x80u) {
        return -1; /* negative */
    }
    while (len > 1u && p[i] == 0x00) {
        i++;
        len--;
    }
    if (len > 32u) {
        return -1;
    }
    memset(out, 0, 32u - len);
    memcpy(out + 32u - len, p + i, len);
    *pos += (size_t)n;
    return 0;
}

int board_der_ecdsa_sig(const uint8_t *der, size_t len, uint8_t out[64])
{
    size_t pos = 0;
    long n = der_hdr(der, len, &pos, 0x30);
    if (n < 0 || pos + (size_t)n != len) {
        return -1;
    }
    if (der_uint32b(der, len, &pos, out) != 0 || der_uint32b(der, len, &pos, out + 32) != 0) {
        return -1;
    }
    return pos == len ? 0 : -1;
}

int board_sig_verify(void *ctx, int alg, const uint8_t *key, size_t key_len,
                     const uint8_t hash[32], const uint8_t *sig, size_t sig_len)
{
    uint8_t point[64], rs[64];
    (void)ctx;
    if (alg != MFOTA_SIG_ECDSA_P256) {
        return MFOTA_ERR_UNSUPPORTED;
    }
    if (key == NULL || hash == NULL || sig == NULL ||
        board_der_p256_pubkey(key, key_len, point) != 0 ||
        board_der_ecdsa_sig(sig, sig_len, rs) != 0) {
        return MFOTA_ERR_MCUBOOT_SIG;
    }
    /* A point off the curve would make uECC_verify's answer meaningless. */
    if (uECC_valid_public_key(point, uECC_secp256r1()) != 0) {
        return MFOTA_ERR_MCUBOOT_SIG;
    }
    return uECC_verify(point, hash, 32, rs, uECC_secp256r1()) == TC_CRYPTO_SUCCESS
               ? MFOTA_OK
               : MFOTA_ERR_MCUBOOT_SIG;
}

void board_sig_verifier(struct mfota_sig_verifier *v)
{
    v->verify = board_sig_verify;
    v->ctx = NULL;
}
