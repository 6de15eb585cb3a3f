/*
 * MCUboot's trusted keys: the one `imgtool getpub` printed at build time
 * (ecdsa_pub_key, generated into the build tree from the signing key).
 */
#include "bootutil/sign_key.h"

extern const unsigned char ecdsa_pub_key[];
extern const unsigned int ecdsa_pub_key_len;

const struct bootutil_key bootutil_keys[] = {
    {ecdsa_pub_key, &ecdsa_pub_key_len},
};
const int bootutil_key_cnt = 1;
