/*
 * On-target check of the tinycrypt signature verifier HAL: the semihosting
 * command line names a signed MCUboot image file; the image is parsed with
 * mfota_mcuboot_check_mem (hash TLV checked), its ECDSA TLV verified against
 * the build's trusted key.  Exit status 0: signature valid; 1: refused;
 * 3: the file or the image could not be read.  tests/test_on_target.py feeds
 * it a good image, one signed with another key and one with a flipped byte
 * (hash TLV recomputed so only the signature can catch it).  Before that it
 * feeds the verifier malformed keys and signatures made from the good ones
 * (wrong curve, compressed point, truncated, trailing byte, negative or
 * oversized integer, wrong tag): each must be refused, or the exit status
 * is 4.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "m2mfota/err.h"
#include "m2mfota/mcuboot.h"
#include "semihost_flash.h"
#include "sig_verify_tinycrypt.h"

extern void initialise_monitor_handles(void);
extern const unsigned char ecdsa_pub_key[];
extern const unsigned int ecdsa_pub_key_len;

static uint8_t image[256u * 1024u];
static char cmdline[256];

static uint8_t key[128], sig[128];

/* Refused (MFOTA_ERR_MCUBOOT_SIG) as it should be: 1; else 0. */
static int refused(const struct mfota_sig_verifier *v, size_t key_len, size_t sig_len,
                   const uint8_t *hash)
{
    return v->verify(v->ctx, MFOTA_SIG_ECDSA_P256, key, key_len, hash, sig, sig_len) ==
           MFOTA_ERR_MCUBOOT_SIG;
}

/* Mutations of a valid key and signature (the DER layout imgtool writes:
 * SPKI of 91 bytes; SEQUENCE { INTEGER r, INTEGER s } in short form). */
static int malformed_refused(const struct mfota_sig_verifier *v, const uint8_t *good_sig,
                             size_t good_len, const uint8_t *hash)
{
    size_t klen = ecdsa_pub_key_len;
    int ok = 1, i;
#define RESET() (memcpy(key, ecdsa_pub_key, klen), memcpy(sig, good_sig, good_len))
    if (klen != 91u || good_len + 2u > sizeof sig || good_sig[0] != 0x30 || good_sig[2] != 0x02) {
        return 0;
    }
    for (i = 0; i < 9; i++) {
        size_t kl = klen, sl = good_len;
        RESET();
        switch (i) {
        case 0: key[20] ^= 0x01; break;           /* curve OID: not prime256v1 */
        case 1: key[26] = 0x02; break;            /* compressed point */
        case 2: kl = klen - 1u; break;            /* truncated key */
        case 3: key[40] ^= 0x55; break;           /* point off the curve */
        case 4: sig[sl++] = 0x00; sig[1]++; break;/* trailing byte inside the SEQUENCE */
        case 5: sig[sl++] = 0x00; break;          /* trailing byte after it */
        case 6: sig[2] = 0x04; break;             /* r is not an INTEGER */
        case 7: sig[4] = 0x80; break;             /* r negative (or made so) */
        case 8: sl = good_len - 1u; break;        /* truncated signature */
        default: break;
        }
        if (!refused(v, kl, sl, hash)) {
            printf("[sigtest] malformed case %d accepted\n", i);
            ok = 0;
        }
    }
#undef RESET
    return ok;
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

int main(void)
{
    struct mfota_mcuboot_image img;
    struct mfota_sig_verifier v;
    size_t len = 0, pos, end;
    ssize_t n;
    int fd, rc;

    initialise_monitor_handles();
    if (board_cmdline(cmdline, sizeof cmdline) <= 0 || (fd = open(cmdline, O_RDONLY)) < 0) {
        printf("[sigtest] cannot open the image\n");
        return 3;
    }
    while ((n = read(fd, image + len, sizeof image - len)) > 0) {
        len += (size_t)n;
    }
    close(fd);
    rc = mfota_mcuboot_check_mem(image, len, &img);
    if (rc < 0) {
        printf("[sigtest] image: %s\n", mfota_err_name(rc));
        return 3;
    }
    board_sig_verifier(&v);
    pos = img.header_size + img.image_size + img.protect_tlv_size;
    end = pos + le16(image + pos + 2);
    rc = MFOTA_ERR_MCUBOOT_NO_SIG;
    for (pos += 4; pos + 4 <= end; pos += 4u + le16(image + pos + 2)) {
        if (le16(image + pos) == 0x22u) {
            rc = v.verify(v.ctx, MFOTA_SIG_ECDSA_P256, ecdsa_pub_key, ecdsa_pub_key_len,
                          img.sha256, image + pos + 4, le16(image + pos + 2));
            if (!malformed_refused(&v, image + pos + 4, le16(image + pos + 2), img.sha256)) {
                return 4;
            }
            break;
        }
    }
    /* The verifier must refuse another algorithm rather than guess. */
    if (v.verify(v.ctx, MFOTA_SIG_ED25519, ecdsa_pub_key, ecdsa_pub_key_len, img.sha256, image,
                 64) != MFOTA_ERR_UNSUPPORTED) {
        printf("[sigtest] Ed25519 not refused\n");
        return 3;
    }
    printf("[sigtest] verify: %s\n", mfota_err_name(rc));
    return rc == MFOTA_OK ? 0 : 1;
}
