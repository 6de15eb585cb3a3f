/*
 * The board's firmware application (one source, built as v1, v2 and a v2
 * that never confirms; see embedded_port/board/CMakeLists.txt).
 *
 * It runs from code memory where the bootloader copied it and reaches the
 * flash file through semihosting.  On every boot it
 *   1. reads its identity (IMEI, secret, server) from the config area;
 *   2. probes the SARA-R4 modem on UART1 (cmsdk_uart.h).  A modem that does
 *      not answer means a board with no modem attached: the client then
 *      gets the offline transport (board_hal.h) and its cycle ends on the
 *      network error;
 *   3. runs one m2mfota client cycle over two sockets of that modem (the
 *      uplink and the download): the mfota_client_config is built from the
 *      config area, the secondary slot, the journal sectors and
 *      mfota_mcuboot_bootloader() with the trusted key, so the client checks
 *      the downloaded image's ECDSA signature itself (tinycrypt) before it
 *      marks it pending.  mfota_client_start_boot() on the first boot of a
 *      test-swapped image -- it confirms it -- else mfota_client_start().
 *      Built with MFOTA_DELTA=1 (the board's CMake option MFOTA_BOARD_DELTA),
 *      the client also takes a delta file instead of an image: its source
 *      is the primary slot, whose first bytes are the running image as it
 *      was uploaded (the signed file), so the engine hashes exactly what
 *      the delta was made against and rebuilds the new image into the
 *      secondary slot, where it is checked like a downloaded one;
 *   4. when the cycle left an image pending, asks the host for a reboot
 *      (exit status BOARD_EXIT_REBOOT); otherwise idles (BOARD_EXIT_IDLE).
 * The v2 built with APP_CONFIRM=0 stands for a firmware that dies before it
 * confirms: on its test boot it asks for a reboot at once, so MCUboot
 * reverts it.  Every decision is one "[app] ..." line on the console.
 *
 * An update that was tried and did not stick (MCUboot reverted it) is
 * remembered in the state sector (the SHA-256 of each image marked
 * pending).  When the server offers that image again, the bootloader's
 * check_image refuses it with MFOTA_ERR_BOOT_STATE, so the client reports
 * LwM2M /5 result 8 ("update failed") instead of trying it forever.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board_hal.h"
#include "cmsdk_uart.h"
#include "board_layout.h"
#include "m2mfota/client.h"
#include "m2mfota/fota_state.h"
#include "m2mfota/crc32.h"
#include "m2mfota/err.h"
#include "m2mfota/mcuboot.h"
#include "modem.h"
#include "semihost_flash.h"
#include "sig_verify_tinycrypt.h"

#ifndef APP_VERSION_STRING
#error "APP_VERSION_STRING: the build sets it"
#endif
#ifndef APP_CONFIRM
#define APP_CONFIRM 1
#endif

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
#define APP_CYCLE_TIMEOUT_MS 300000u /* an NB-IoT download, or every modem fault on a loaded host, fits */
#endif
#ifndef APP_MODEM_BAUD
#define APP_MODEM_BAUD 115200u
#endif
#ifndef APP_PART_SIZE
#define APP_PART_SIZE 16384u
#endif

static struct board_flash flash_dev;
static struct mfota_flash primary, secondary, state, cfg_area, journal;
static struct mfota_client client;
static struct mfota_transport uplink, download;
static struct mfota_clock clock_hal;
static struct board_uart uart;
static struct mfota_modem_uart uart_hal;
static struct mfota_modem modem;
static struct mfota_modem_socket up_sock, dl_sock;
static struct mfota_sig_verifier verifier;
static struct mfota_sig_key trusted_key;
static struct mfota_bootloader mcuboot_bl; /* mfota_mcuboot_bootloader(), wrapped below */
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

/* The secondary slot's image SHA-256 (its hash TLV), for the attempt log. */
static int secondary_sha(uint32_t image_size, uint8_t sha[32])
{
    struct mfota_mcuboot_image img;
    int rc = mfota_mcuboot_check(&secondary, image_size, &img);
    if (rc == MFOTA_OK) {
        memcpy(sha, img.sha256, 32);
    }
    return rc;
}

/* The client's bootloader: MCUboot's, plus the attempt log.  check_image
 * refuses an image this board already marked pending once (it did not
 * stick: MCUboot reverted it), an image/boot error the client reports
 * as result 8. */
static int wrapped_check(void *ctx, uint32_t image_size, char *ver, size_t cap)
{
    uint8_t sha[32];
    uint32_t free_off;
    int rc = mcuboot_bl.check_image(mcuboot_bl.ctx, image_size, ver, cap);
    (void)ctx;
    if (rc < 0) {
        printf("[app] downloaded image refused: %s\n", mfota_err_name(rc));
        return rc;
    }
    if (secondary_sha(image_size, sha) == MFOTA_OK && attempted(sha, &free_off)) {
        printf("[app] update to %s failed before: the bootloader reverted it (result 8)\n",
               ver != NULL ? ver : "?");
        return MFOTA_ERR_BOOT_STATE;
    }
    return MFOTA_OK;
}

/* Trailer first: a cut before the attempt record costs one more try, the
 * other order could report a failure that never happened. */
static int wrapped_mark_pending(void *ctx, uint32_t image_size, int permanent)
{
    uint8_t sha[32];
    uint32_t free_off;
    int rc = mcuboot_bl.mark_pending(mcuboot_bl.ctx, image_size, permanent);
    (void)ctx;
    if (rc < 0) {
        return rc;
    }
    if (secondary_sha(image_size, sha) == MFOTA_OK && !attempted(sha, &free_off)) {
        rc = record_attempt(sha, free_off);
        if (rc < 0) {
            printf("[app] attempt log: %s\n", mfota_err_name(rc));
        }
    }
    return MFOTA_OK;
}

static int wrapped_confirm(void *ctx)
{
    (void)ctx;
    return mcuboot_bl.confirm(mcuboot_bl.ctx);
}

static int wrapped_running_version(void *ctx, char *buf, size_t cap)
{
    (void)ctx;
    return mcuboot_bl.running_version(mcuboot_bl.ctx, buf, cap);
}

/* The client's events as console lines: the host (qemu-demo) draws its
 * live display from them.  Progress comes once per part, not per byte. */
static void on_event(void *ctx, const struct mfota_client_event *ev)
{
    (void)ctx;
    if (ev->kind == MFOTA_CLIENT_EV_STATE) {
        printf("[app] state %s\n", mfota_state_name((enum mfota_state)ev->state));
    } else if (ev->kind == MFOTA_CLIENT_EV_PROGRESS) {
        printf("[app] progress %lu/%lu\n", (unsigned long)ev->done, (unsigned long)ev->total);
    }
}

/* Step 2 of the file comment: 1 when the modem answers (the two sockets
 * are then `uplink` and `download`), 0 when the offline transport is used. */
static int attach_modem(void)
{
    int rc;
    board_uart_init(&uart, BOARD_UART1_BASE, APP_MODEM_BAUD, &clock_hal, &uart_hal);
    mfota_modem_init(&modem, &uart_hal);
    /* The first answer (the probe, then ATE0 and AT+CMEE=1) takes about a
     * second on a loaded host, QEMU moving UART bytes one at a time; a
     * board with no modem pays this timeout once per boot. */
    modem.probe_timeout_ms = 2500;
    rc = mfota_modem_probe(&modem);
    modem.probe_timeout_ms = 1000;
    if (rc < 0) {
        printf("[app] no modem on UART1 (%s): offline\n", mfota_err_name(rc));
        board_transport_offline(&uplink);
        board_transport_offline(&download);
        return 0;
    }
    mfota_modem_socket_init(&modem, &up_sock, &uplink);
    mfota_modem_socket_init(&modem, &dl_sock, &download);
    printf("[app] modem on UART1 answers: 2 sockets\n");
    return 1;
}

/* Step 3 of the file comment.  Returns 1 when the cycle left an image
 * pending (reboot), 0 otherwise. */
static int client_cycle(const struct config *cfg, const struct mfota_mcuboot_image *run, int first)
{
    struct mfota_client_config cc;
    struct mfota_bootloader bl;
    char *plus;
    int rc, online;

    mfota_mcuboot_version_string(run, version, sizeof version);
    plus = strchr(version, '+');
    if (plus != NULL && strcmp(plus, "+0") == 0) {
        *plus = '\0'; /* the server knows "2.0.0", not "2.0.0+0" */
    }
    online = attach_modem();
    bl.check_image = wrapped_check;
    bl.mark_pending = wrapped_mark_pending;
    bl.confirm = wrapped_confirm;
    bl.running_version = wrapped_running_version;
    bl.ctx = 0;
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
    cc.bootloader = &bl;
    cc.check_mcuboot = 1;
#if MFOTA_DELTA
    cc.delta_source = &primary; /* read only: the engine never writes its source */
#endif
    cc.on_event = on_event;
    cc.part_size = APP_PART_SIZE;
    cc.io_timeout_ms = 30000;
    /* A few engine retries ride out modem faults (errors, a remote close, a
     * silent spell) within one boot; offline there is nothing to wait for. */
    cc.max_retries = online ? 6 : 0;
    cc.retry_base_ms = 500;
    cc.retry_max_ms = 4000;
    rc = mfota_client_init(&client, &cc);
    if (rc < 0) {
        printf("[app] client init: %s\n", mfota_err_name(rc));
        return 0;
    }
    rc = first ? mfota_client_start_boot(&client) : mfota_client_start(&client);
    printf("[app] client %s: %s\n", first ? "start_boot (confirm)" : "start", mfota_err_name(rc));
    if (rc < 0) {
        return 0;
    }
    rc = mfota_client_run(&client, APP_CYCLE_TIMEOUT_MS);
    printf("[app] client cycle: %s, state %s, result %s, error %s\n", mfota_err_name(rc),
           mfota_state_name((enum mfota_state)client.state),
           mfota_result_name((enum mfota_result)client.result), mfota_err_name(client.error));
    if (online) {
        printf("[app] modem: %lu commands, %lu timeouts, %lu bytes down, %lu up\n",
               (unsigned long)modem.stats.commands, (unsigned long)modem.stats.timeouts,
               (unsigned long)(up_sock.bytes_in + dl_sock.bytes_in),
               (unsigned long)(up_sock.bytes_out + dl_sock.bytes_out));
    }
    return client.has_pending != 0;
}

int main(void)
{
    struct mfota_mcuboot_port port;
    struct mfota_mcuboot_image run;
    struct config cfg;
    char ver[24];
    int rc, first;

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
    board_clock(&clock_hal);
    board_sig_verifier(&verifier);
    trusted_key.alg = MFOTA_SIG_ECDSA_P256;
    trusted_key.der = ecdsa_pub_key;
    trusted_key.der_len = ecdsa_pub_key_len;
    memset(&port, 0, sizeof port);
    port.primary = &primary;
    port.secondary = &secondary;
    port.trust.keys = &trusted_key;
    port.trust.n_keys = 1;
    port.trust.verifier = &verifier;
    mfota_mcuboot_bootloader(&mcuboot_bl, &port);

    rc = mcuboot_bl.running_version(mcuboot_bl.ctx, ver, sizeof ver);
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
    first = test_boot();
#if !APP_CONFIRM
    if (first) {
        printf("[app] built not to confirm: rebooting without confirming\n");
        return BOARD_EXIT_REBOOT;
    }
#endif
    if (client_cycle(&cfg, &run, first)) {
        printf("[app] the client left an update pending: reboot\n");
        return BOARD_EXIT_REBOOT;
    }
    return BOARD_EXIT_IDLE;
}
