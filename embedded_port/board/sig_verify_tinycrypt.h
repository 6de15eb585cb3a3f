/*
 * The m2mfota signature verifier HAL (m2mfota/sig_verify.h) with tinycrypt
 * (MCUboot's vendored copy): ECDSA P-256 over the image's SHA-256.
 *
 * Keys and signatures arrive as MCUboot stores them -- the DER
 * SubjectPublicKeyInfo `imgtool getpub` prints and the DER
 * SEQUENCE { r INTEGER, s INTEGER } of the 0x22 TLV -- and tinycrypt wants
 * raw numbers: the 64-byte point X||Y and the 64-byte r||s.  The two small
 * DER readers below do that conversion and refuse anything else (no other
 * curve, no compressed point, no trailing bytes).  No state: ctx is unused.
 */
#ifndef MFOTA_SIG_VERIFY_TINYCRYPT_H
#define MFOTA_SIG_VERIFY_TINYCRYPT_H

#include <stddef.h>
#include <stdint.h>

#include "m2mfota/sig_verify.h"

/* Fill `v` with the tinycrypt verifier. */
void board_sig_verifier(struct mfota_sig_verifier *v);

/* The verify callback itself (see struct mfota_sig_verifier): 0 valid,
 * MFOTA_ERR_MCUBOOT_SIG invalid or unparsable, MFOTA_ERR_UNSUPPORTED for an
 * algorithm other than MFOTA_SIG_ECDSA_P256. */
int board_sig_verify(void *ctx, int alg, const uint8_t *key, size_t key_len,
                     const uint8_t hash[32], const uint8_t *sig, size_t sig_len);

/* DER SubjectPublicKeyInfo of a P-256 key -> raw X||Y (64 bytes).  0 or -1. */
int board_der_p256_pubkey(const uint8_t *der, size_t len, uint8_t out[64]);

/* DER ECDSA signature -> raw r||s (2 x 32 bytes, big-endian).  0 or -1. */
int board_der_ecdsa_sig(const uint8_t *der, size_t len, uint8_t out[64]);

#endif /* MFOTA_SIG_VERIFY_TINYCRYPT_H */
