/*
 * The board's firmware application (one source, built as v1, v2 and a v2
 * that never confirms; see embedded_port/board/CMakeLists.txt).
 *
 * It runs from code memory where the bootloader copied it and reaches the
 * flash file through semihosting.  On every boot it
 *   1. reads its identity (IMEI, secret, server) from the config area;
 *   2. runs one m2mfota client cycle (the config built from the config area,
 *      the secondary slot, the journal sectors, mfota_mcuboot_bootloader()):
 *      mfota_client_start_boot() on the first boot of a test-swapped image
 *      -- it confirms it -- else mfota_client_start().  The transports are
 *      the one HAL still missing: until the modem port is compiled in they
 *      are the offline transport (board_hal.h), so the cycle ends on its
 *      network error.  The v2 built with APP_CONFIRM=0 never confirms (it
 *      uses mfota_client_start() and asks for a reboot), so MCUboot reverts
 *      it at the next boot;
 *   3. looks at the secondary slot for a newer update (the network download
 *      writes it there; until the modem transport is plugged in, the host
 *      stages it): the image is checked (mfota_mcuboot_check), its ECDSA
 *      signature verified with the trusted key (tinycrypt HAL), then marked
 *      pending (mfota_mcuboot_mark_pending) and the app asks the host for a
 *      reboot (exit status BOARD_EXIT_REBOOT);
 *   4. otherwise idles (exit status BOARD_EXIT_IDLE).
 * Every decision is one "[app] ..." line on the semihosting console.
 *
 * An update that was tried and did not stick (MCUboot reverted it) is
 * remembered in the state sector (the SHA-256 of the image marked pending),
 * so v1 reports it as failed (LwM2M /5 result 8) instead of trying forever.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board_hal.h"
#include "board_layout.h"
#include "m2mfota/client.h"
#include "m2mfota/fota_state.h"
#include "m2mfota/crc32.h"
#include "m2mfota/err.h"
#include "m2mfota/mcuboot.h"
#include "semihost_flash.h"
#include "sig_verify_tinycrypt.h"

#ifndef APP_VERSION_STRING
#error "APP_VERSION_STRING: the build sets it"
#endif
#ifndef APP_CONFIRM
#define APP_CONFIRM 1
#endif

#define TLV_ECDSA_SIG 0x22u
#define ATTEMPT_SIZE 32u

extern void initialise_monitor_handles(void);
extern const unsigned char ecdsa_pub_key[];
extern const unsigned int ecdsa_pub_key_len;

struct config {
    char imei[BOARD_CONFIG_IMEI_MAX + 1];
    char secret[BOARD_CONFIG_SECRET_MAX + 1];
    char server[BOARD_CONFIG_SERVER_MAX + 1];
};

#ifndef APP_CYCLE_TIMEOUT_MS
#define APP_CYCLE_TIMEOUT_MS 30000u
#endif

static struct board_flash flash_dev;
static struct mfota_flash primary, secondary, state, cfg_area, journal;
static struct mfota_client client;
static struct mfota_transport uplink, download;
static struct mfota_clock clock_hal;
static char version[24];

/* MCUboot's trailer magic (image trailer format, BOOT_MAX_ALIGN 8). */
static const uint8_t boot_magic[16] = {0x77, 0xc2, 0x95, 0xf3, 0x60, 0xd2, 0xef, 0x7f,
                                       0x35, 0x52, 0x50, 0x0f, 0x2c, 0xb6, 0x79, 0x80};
static char cmdline[256];

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* Config record: magic, format 1, imei[16], secret[64], server[128] (NUL
 * padded), CRC-32 of everything before it.  See qemu_device.py. */
#define CFG_LEN (8u + BOARD_CONFIG_IMEI_MAX + BOARD_CONFIG_SECRET_MAX + BOARD_CONFIG_SERVER_MAX)

static int read_config(struct config *c)
{
    static uint8_t rec[CFG_LEN + 4u];
    const uint8_t *p = rec + 8;
    int rc = board_flash_read(&flash_dev, BOARD_CONFIG_OFF, rec, sizeof rec);
    if (rc < 0) {
        return rc;
    }
    if (le32(rec) != BOARD_CONFIG_MAGIC || le32(rec + 4) != 1u ||
        le32(rec + CFG_LEN) != mfota_crc32(0, rec, CFG_LEN)) {
        return MFOTA_ERR_INVAL;
    }
    memset(c, 0, sizeof *c);
    memcpy(c->imei, p, BOARD_CONFIG_IMEI_MAX);
    memcpy(c->secret, p + BOARD_CONFIG_IMEI_MAX, BOARD_CONFIG_SECRET_MAX);
    memcpy(c->server, p + BOARD_CONFIG_IMEI_MAX + BOARD_CONFIG_SECRET_MAX, BOARD_CONFIG_SERVER_MAX);
    return MFOTA_OK;
}

static uint32_t version_key(const struct mfota_mcuboot_image *img)
{
    return ((uint32_t)img->major << 24) | ((uint32_t)img->minor << 16) | img->revision;
}

/* The ECDSA signature TLV of the image `img` checked in `slot`. */
static int find_sig(const struct mfota_flash *slot, const struct mfota_mcuboot_image *img,
                    uint8_t *sig, size_t cap, size_t *len)
{
    uint8_t h[4];
    uint32_t pos = img->header_size + img->image_size + img->protect_tlv_size, end;
    int rc = slot->read(slot->ctx, slot->slot_offset + pos, h, 4);
    if (rc < 0) {
        return rc;
    }
    end = pos + (uint32_t)(h[2] | (h[3] << 8));
    for (pos += 4u; pos + 4u <= end;) {
        uint16_t type, n;
        rc = slot->read(slot->ctx, slot->slot_offset + pos, h, 4);
        if (rc < 0) {
            return rc;
        }
        type = (uint16_t)(h[0] | (h[1] << 8));
        n = (uint16_t)(h[2] | (h[3] << 8));
        if (type == TLV_ECDSA_SIG && n <= cap) {
            *len = n;
            return slot->read(slot->ctx, slot->slot_offset + pos + 4u, sig, n);
        }
        pos += 4u + n;
    }
    return MFOTA_ERR_MCUBOOT_NO_SIG;
}

/* 1 when `sha` is in the attempt log, 0 when not; *free_off is the first
 * erased record (or the sector size when full). */
static int attempted(const uint8_t sha[32], uint32_t *free_off)
{
    uint8_t rec[ATTEMPT_SIZE], erased[ATTEMPT_SIZE];
    uint32_t off;
    memset(erased, 0xFF, sizeof erased);
    *free_off = BOARD_STATE_SIZE;
    for (off = 0; off < BOARD_STATE_SIZE; off += ATTEMPT_SIZE) {
        if (board_flash_read(&flash_dev, BOARD_STATE_OFF + off, rec, sizeof rec) < 0) {
            return 0;
        }
        if (memcmp(rec, erased, sizeof rec) == 0) {
            *free_off = off;
            return 0;
        }
        if (memcmp(rec, sha, 32) == 0) {
            return 1;
        }
    }
    return 0;
}

static int record_attempt(const uint8_t sha[32], uint32_t free_off)
{
    if (free_off >= BOARD_STATE_SIZE) {
        int rc = board_flash_erase(&flash_dev, BOARD_STATE_OFF); /* full: start over */
        if (rc < 0) {
            return rc;
        }
        free_off = 0;
    }
    return board_flash_program(&flash_dev, BOARD_STATE_OFF + free_off, sha, ATTEMPT_SIZE);
}

/* Step 3 of the file comment.  Returns the exit status. */
static int update_check(const struct mfota_bootloader *bl, const struct mfota_mcuboot_image *run)
{
    struct mfota_mcuboot_image img;
    struct mfota_sig_verifier v;
    uint8_t sig[80];
    size_t sig_len = 0;
    char ver[24];
    uint32_t free_off;
    int rc = mfota_mcuboot_check(&secondary, secondary.slot_size, &img);
    if (rc < 0) {
        printf("[app] no update in the secondary slot (%s)\n", mfota_err_name(rc));
        return BOARD_EXIT_IDLE;
    }
    mfota_mcuboot_version_string(&img, ver, sizeof ver);
    if (version_key(&img) <= version_key(run)) {
        printf("[app] secondary slot holds %s: not newer\n", ver);
        return BOARD_EXIT_IDLE;
    }
    board_sig_verifier(&v);
    rc = find_sig(&secondary, &img, sig, sizeof sig, &sig_len);
    if (rc == MFOTA_OK) {
        rc = v.verify(v.ctx, MFOTA_SIG_ECDSA_P256, ecdsa_pub_key, ecdsa_pub_key_len, img.sha256,
                      sig, sig_len);
    }
    if (rc < 0) {
        printf("[app] update %s refused: %s (result 5)\n", ver, mfota_err_name(rc));
        return BOARD_EXIT_IDLE;
    }
    if (attempted(img.sha256, &free_off)) {
        printf("[app] update to %s failed: the bootloader reverted it (result 8)\n", ver);
        return BOARD_EXIT_IDLE;
    }
    /* Trailer first: a cut before the attempt record costs one more try,
     * the other order could report a failure that never happened. */
    rc = bl->mark_pending(bl->ctx, img.total_size, 0);
    if (rc < 0) {
        printf("[app] marking %s pending failed: %s\n", ver, mfota_err_name(rc));
        return BOARD_EXIT_IDLE;
    }
    rc = record_attempt(img.sha256, free_off);
    if (rc < 0) {
        printf("[app] attempt log: %s\n", mfota_err_name(rc));
    }
    printf("[app] update %s verified and pending: reboot\n", ver);
    return BOARD_EXIT_REBOOT;
}

#if APP_VARIANT == 2
/* Code only v2 has: proves that the new image, not a flag, is running. */
static void v2_feature(const struct config *c)
{
    printf("[app] v2 feature: identity checksum %08lx\n",
           (unsigned long)mfota_crc32(0, c->imei, strlen(c->imei)));
}
#endif

/* 1 when MCUboot booted the primary image for a test and it is not
 * confirmed yet: the primary trailer has its magic and image_ok is erased. */
static int test_boot(void)
{
    uint8_t magic[16], ok;
    uint32_t end = primary.slot_offset + primary.slot_size;
    if (board_flash_read(&flash_dev, end - MFOTA_MCUBOOT_MAGIC_OFF, magic, 16) < 0 ||
        board_flash_read(&flash_dev, end - MFOTA_MCUBOOT_IMAGE_OK_OFF, &ok, 1) < 0) {
        return 0;
    }
    return memcmp(magic, boot_magic, 16) == 0 && ok == 0xFFu;
}

/* Step 2 of the file comment.  Returns 1 when the cycle left an image
 * pending (reboot), 0 otherwise. */
static int client_cycle(const struct config *cfg, const struct mfota_bootloader *bl,
                        const struct mfota_mcuboot_image *run)
{
    struct mfota_client_config cc;
    int first = test_boot(), rc;
    char *plus;

    mfota_mcuboot_version_string(run, version, sizeof version);
    plus = strchr(version, '+');
    if (plus != NULL && strcmp(plus, "+0") == 0) {
        *plus = '\0'; /* the server knows "2.0.0", not "2.0.0+0" */
    }
    board_transport_offline(&uplink);
    board_transport_offline(&download);
    board_clock(&clock_hal);
    mfota_client_config_default(&cc);
    cc.imei = cfg->imei;
    cc.secret = (const uint8_t *)cfg->secret;
    cc.secret_len = strlen(cfg->secret);
    cc.version = version;
    cc.server = cfg->server;
    cc.uplink_transport = &uplink;
    cc.download_transport = &download;
    cc.clock = &clock_hal;
    cc.slot = &secondary;
    cc.journal_flash = &journal;
    cc.bootloader = bl;
    cc.check_mcuboot = 1;
    cc.max_retries = 0; /* one attempt per boot: the host reboots the board */
    rc = mfota_client_init(&client, &cc);
    if (rc < 0) {
        printf("[app] client init: %s\n", mfota_err_name(rc));
        return 0;
    }
#if APP_CONFIRM
    rc = first ? mfota_client_start_boot(&client) : mfota_client_start(&client);
#else
    rc = mfota_client_start(&client);
#endif
    printf("[app] client %s: %s\n", first && APP_CONFIRM ? "start_boot (confirm)" : "start",
           mfota_err_name(rc));
    if (rc < 0) {
        return 0;
    }
    rc = mfota_client_run(&client, APP_CYCLE_TIMEOUT_MS);
    printf("[app] client cycle: %s, state %s, result %s, error %s\n", mfota_err_name(rc),
           mfota_state_name((enum mfota_state)client.state),
           mfota_result_name((enum mfota_result)client.result), mfota_err_name(client.error));
    return client.has_pending != 0;
}

int main(void)
{
    struct mfota_mcuboot_port port;
    struct mfota_bootloader bl;
    struct mfota_mcuboot_image run;
    struct config cfg;
    char ver[24];
    int rc;

    initialise_monitor_handles();
    if (board_flash_open_cmdline(&flash_dev, cmdline, sizeof cmdline, BOARD_FLASH_SIZE) != 0) {
        printf("[app] cannot open the flash file\n");
        return BOARD_EXIT_FLASH;
    }
    board_flash_region(&primary, &flash_dev, BOARD_PRIMARY_OFF, BOARD_PRIMARY_SIZE);
    board_flash_region(&secondary, &flash_dev, BOARD_SECONDARY_OFF, BOARD_SECONDARY_SIZE);
    board_flash_region(&state, &flash_dev, BOARD_STATE_OFF, BOARD_STATE_SIZE);
    board_flash_region(&cfg_area, &flash_dev, BOARD_CONFIG_OFF, BOARD_CONFIG_SIZE);
    board_flash_region(&journal, &flash_dev, BOARD_JOURNAL_OFF, BOARD_JOURNAL_SIZE);
    port.primary = &primary;
    port.secondary = &secondary;
    mfota_mcuboot_bootloader(&bl, &port);

    rc = bl.running_version(bl.ctx, ver, sizeof ver);
    printf("[app] m2mfota board app %s running image %s\n", APP_VERSION_STRING,
           rc < 0 ? mfota_err_name(rc) : ver);
    rc = read_config(&cfg);
    if (rc < 0) {
        printf("[app] no config: run `m2mfota qemu-device provision` (%s)\n", mfota_err_name(rc));
        return BOARD_EXIT_IDLE;
    }
    printf("[app] imei %s server %s\n", cfg.imei, cfg.server);
#if APP_VARIANT == 2
    v2_feature(&cfg);
#endif
    rc = mfota_mcuboot_check(&primary, primary.slot_size, &run);
    if (rc < 0) {
        printf("[app] primary image: %s\n", mfota_err_name(rc));
        return BOARD_EXIT_IDLE;
    }
    if (client_cycle(&cfg, &bl, &run)) {
        printf("[app] the client left an update pending: reboot\n");
        return BOARD_EXIT_REBOOT;
    }
#if !APP_CONFIRM
    printf("[app] built not to confirm: rebooting without confirming\n");
    return BOARD_EXIT_REBOOT;
#endif
    return update_check(&bl, &run);
}
