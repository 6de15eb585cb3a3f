/*
 * Signature verifier for the POSIX reference device: ECDSA P-256 with
 * mbedTLS, Ed25519 with libsodium (mbedTLS has none).  The core stays free
 * of both libraries; only mfota-device links them.
 */
#ifndef MFOTA_SIG_VERIFY_POSIX_H
#define MFOTA_SIG_VERIFY_POSIX_H

#include <stddef.h>
#include <stdint.h>

#include "m2mfota/sig_verify.h"

/* Fill `v` with the mbedTLS/libsodium verifier.  0, or -1 when libsodium
 * cannot start. */
int mfota_posix_sig_verifier(struct mfota_sig_verifier *v);

/* Read a public key file (PEM "PUBLIC KEY" as `imgtool getpub -e pem`
 * prints it, or DER as `-e raw` does) into `der` (cap bytes) and tell its
 * algorithm.  0 and key->der = der, or -1 (with a message in `why`) for an
 * unreadable file or a key that is neither P-256 nor Ed25519. */
int mfota_posix_load_key(const char *path, uint8_t *der, size_t cap, struct mfota_sig_key *key,
                         const char **why);

#endif /* MFOTA_SIG_VERIFY_POSIX_H */
