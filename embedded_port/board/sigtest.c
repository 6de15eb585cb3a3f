/*
 * On-target check of the tinycrypt signature verifier HAL: the semihosting
 * command line names a signed MCUboot image file; the image is parsed with
 * mfota_mcuboot_check_mem (hash TLV checked), its ECDSA TLV verified against
 * the build's trusted key.  Exit status 0: signature valid; 1: refused;
 * 3: the file or the image could not be read.  tests/test_on_target.py feeds
 * it a good image, one signed with another key and one with a flipped byte
 * (hash TLV recomputed so only the signature can catch it).
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
