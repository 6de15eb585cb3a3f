/*
 * Signature verifier HAL: how the MCUboot image check asks the port's crypto
 * library (mbedTLS, PSA, tinycrypt, a secure element...) whether a signature
 * is valid.  m2mfota itself contains no elliptic-curve code.
 *
 * The key is what `imgtool getpub` prints: the DER SubjectPublicKeyInfo
 * (91 bytes for ECDSA P-256, 44 bytes for Ed25519).  The signature is the
 * payload of the image's signature TLV: ASN.1 DER (SEQUENCE of r, s) for
 * ECDSA P-256 (TLV 0x22), 64 raw bytes for Ed25519 (TLV 0x24).  The signed
 * message is the image's 32-byte SHA-256 (MCUboot's default, non-"pure" mode).
 */
#ifndef MFOTA_SIG_VERIFY_H
#define MFOTA_SIG_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum mfota_sig_alg {
    MFOTA_SIG_ECDSA_P256 = 1,
    MFOTA_SIG_ED25519 = 2
};

struct mfota_sig_verifier {
    /* Verify `sig` (sig_len bytes) over the 32-byte `hash` with public key
     * `key` (key_len bytes), algorithm `alg` (enum mfota_sig_alg).
     * Returns 0 when the signature is valid, MFOTA_ERR_MCUBOOT_SIG when it
     * is not (or the key or signature cannot be parsed),
     * MFOTA_ERR_UNSUPPORTED for an algorithm the port does not offer, any
     * other negative value for a failure of the crypto hardware/library. */
    int (*verify)(void *ctx, int alg, const uint8_t *key, size_t key_len,
                  const uint8_t hash[32], const uint8_t *sig, size_t sig_len);
    void *ctx;
};

/* One trusted public key (DER SubjectPublicKeyInfo, as imgtool getpub
 * prints it) and its algorithm.  The bytes must outlive the port. */
struct mfota_sig_key {
    int alg; /* enum mfota_sig_alg */
    const uint8_t *der;
    size_t der_len;
};

#ifdef __cplusplus
}
#endif

#endif /* MFOTA_SIG_VERIFY_H */
