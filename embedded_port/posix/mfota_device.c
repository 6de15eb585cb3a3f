/*
 * mfota-device: the POSIX reference device.
 *
 * The same client engine a firmware runs, with POSIX ports: sockets for the
 * two transports, a file as the flash update slot, a file as the journal's
 * two sectors, a file-backed or MCUboot bootloader.  One run:
 *
 *   uplink (running version) -> downlink -> update -> "reboot" (the engine
 *   again, as the new version: taken from the downlink's `version`, or read
 *   from the image's MCUboot header) -> confirm + uplink with that version.
 *
 *   mfota-device --imei 350000000000001 --secret s3cret --version 1.0.0 \
 *                --server http://127.0.0.1:8080 --slot slot.bin --journal journal.bin
 *
 * With --modem HOST:PORT both transports are sockets of a SARA-R4 modem (AT
 * commands, embedded_port/modem) whose UART is a TCP connection to HOST:PORT,
 * e.g. `m2mfota modem-sim`: the same driver a board links.
 *
 * Exit status: 0 updated and reported, 3 no update was offered, 1 the
 * update failed (its fota.result is printed), 2 usage, 4 a HAL failed.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "m2mfota/m2mfota.h"
#include "modem.h"
#include "random_posix.h"
#include "sig_verify_posix.h"
#include "transport_posix.h"
#include "uart_posix.h"

#define MAX_KEYS 4

/* ---- a file as NOR flash ------------------------------------------------- */

struct file_flash {
    int fd;
};

static int ff_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    struct file_flash *f = (struct file_flash *)ctx;
    ssize_t n = pread(f->fd, buf, len, (off_t)off);
    return n == (ssize_t)len ? 0 : MFOTA_ERR_HAL;
}

/* Programming only clears bits, as on NOR: AND the new bytes in. */
static int ff_program(void *ctx, uint32_t off, const void *data, size_t len)
{
    struct file_flash *f = (struct file_flash *)ctx;
    uint8_t old[64];
    const uint8_t *src = (const uint8_t *)data;
    size_t done = 0;
    while (done < len) {
        size_t n = len - done < sizeof old ? len - done : sizeof old, i;
        if (pread(f->fd, old, n, (off_t)(off + done)) != (ssize_t)n) {
            return MFOTA_ERR_HAL;
        }
        for (i = 0; i < n; i++) {
            old[i] &= src[done + i];
        }
        if (pwrite(f->fd, old, n, (off_t)(off + done)) != (ssize_t)n) {
            return MFOTA_ERR_HAL;
        }
        done += n;
    }
    return 0;
}

static uint32_t g_sector = 4096; /* set from the command line before use */

static int ff_erase(void *ctx, uint32_t off)
{
    struct file_flash *f = (struct file_flash *)ctx;
    uint8_t ff[256];
    uint32_t done = 0;
    memset(ff, 0xFF, sizeof ff);
    while (done < g_sector) {
        if (pwrite(f->fd, ff, sizeof ff, (off_t)(off + done)) != (ssize_t)sizeof ff) {
            return MFOTA_ERR_HAL;
        }
        done += (uint32_t)sizeof ff;
    }
    return 0;
}

/* Open (or create) `path` as a flash region of `size` bytes; new bytes are
 * erased (0xFF). */
static int open_flash(const char *path, uint32_t size, struct file_flash *ff,
                      struct mfota_flash *fl)
{
    struct stat st;
    uint8_t erased[256];
    off_t have;
    ff->fd = open(path, O_RDWR | O_CREAT, 0644);
    if (ff->fd < 0 || fstat(ff->fd, &st) != 0) {
        fprintf(stderr, "mfota-device: %s: %s\n", path, strerror(errno));
        return -1;
    }
    memset(erased, 0xFF, sizeof erased);
    for (have = st.st_size; have < (off_t)size;) {
        size_t n = (size_t)((off_t)size - have) < sizeof erased ? (size_t)((off_t)size - have)
                                                                 : sizeof erased;
        if (pwrite(ff->fd, erased, n, have) != (ssize_t)n) {
            fprintf(stderr, "mfota-device: %s: %s\n", path, strerror(errno));
            return -1;
        }
        have += (off_t)n;
    }
    memset(fl, 0, sizeof *fl);
    fl->read = ff_read;
    fl->program = ff_program;
    fl->erase = ff_erase;
    fl->ctx = ff;
    fl->program_size = 8;
    fl->sector_size = g_sector;
    fl->erased_value = 0xFF;
    fl->slot_offset = 0;
    fl->slot_size = size;
    return 0;
}

/* ---- a bootloader that keeps its state in a side file ---------------------- */

struct file_boot {
    char path[512];
};

static int fb_write(struct file_boot *b, const char *text)
{
    FILE *f = fopen(b->path, "w");
    if (f == NULL) {
        return MFOTA_ERR_HAL;
    }
    fputs(text, f);
    return fclose(f) == 0 ? 0 : MFOTA_ERR_HAL;
}

static int fb_mark_pending(void *ctx, uint32_t image_size, int permanent)
{
    char text[64];
    snprintf(text, sizeof text, "%s %lu\n", permanent ? "permanent" : "test",
             (unsigned long)image_size);
    return fb_write((struct file_boot *)ctx, text);
}

static int fb_confirm(void *ctx)
{
    return fb_write((struct file_boot *)ctx, "confirmed\n");
}

/* ---- events ------------------------------------------------------------------ */

/* What the event callback sees: the client itself is read for the HTTP
 * status behind an uplink event (the event carries the error name only). */
struct event_ctx {
    int last_pct;
    const struct mfota_client *client;
};

static void on_event(void *ctx, const struct mfota_client_event *ev)
{
    struct event_ctx *ec = (struct event_ctx *)ctx;
    int *last_pct = &ec->last_pct;
    unsigned status = ec->client->uplink_http_status;
    switch (ev->kind) {
    case MFOTA_CLIENT_EV_STATE:
        printf("state %s\n", mfota_state_name((enum mfota_state)ev->state));
        break;
    case MFOTA_CLIENT_EV_PROGRESS:
        if (ev->total && (int)(ev->done * 100u / ev->total) / 10 != *last_pct / 10) {
            *last_pct = (int)(ev->done * 100u / ev->total);
            printf("progress %llu/%llu\n", (unsigned long long)ev->done,
                   (unsigned long long)ev->total);
        }
        break;
    case MFOTA_CLIENT_EV_ERROR:
        printf("error %s %s\n", mfota_err_name(ev->error), ev->reason ? ev->reason : "-");
        break;
    case MFOTA_CLIENT_EV_DOWNLINK:
        printf("downlink %s\n", ev->error ? mfota_err_name(ev->error) : "accepted");
        break;
    case MFOTA_CLIENT_EV_UPLINK:
        /* A refused uplink (a 4xx answer: unknown device, wrong secret) is
         * not retried, and otherwise only shows up as fota.result 4: print
         * the server's own status first, then the error name. */
        if (ev->error == MFOTA_ERR_CLIENT_REFUSED) {
            printf("uplink refused: %u %s%s\n", status, mfota_err_name(ev->error),
                   status == 401u ? " (unknown IMEI or wrong secret?)" : "");
        } else if (ev->error != 0 && status != 0u) {
            printf("uplink failed: %u %s\n", status, mfota_err_name(ev->error));
        } else if (ev->error != 0) {
            printf("uplink failed: %s (no HTTP answer)\n", mfota_err_name(ev->error));
        }
        break;
    default:
        break;
    }
    fflush(stdout);
}

/* ---- main ------------------------------------------------------------------------ */

static void usage(void)
{
    fputs("usage: mfota-device --imei ID --secret S --version V --server http://IP:PORT\n"
          "                    --slot FILE --journal FILE [--slot-size BYTES (1 MiB)]\n"
          "                    [--sector BYTES (4096)] [--part-size BYTES (4096)]\n"
          "                    [--bootloader mcuboot|file (mcuboot)] [--key FILE]...\n"
          "                    [--timeout SECONDS (120)]\n"
          "                    [--progress-step PERCENT (engine default)]\n"
          "                    [--progress-interval SECONDS (engine default)]\n"
          "                    [--modem IP:PORT (a SARA-R4 UART over TCP; default: sockets)]\n"
          "  mcuboot: only an MCUboot image whose hash (and, with --key, signature\n"
          "           by one of the keys: imgtool getpub -e pem) verifies is marked\n"
          "  file:    raw images, nothing checked beyond the download; the\n"
          "           request goes to SLOT.boot\n",
          stderr);
}

/* A run that ended in an error: its name, and for a HAL failure the port's
 * own value (the POSIX ports return -errno or -1). */
static void print_run_error(const char *when, int rc, const struct mfota_client *c)
{
    if (rc == MFOTA_ERR_HAL && c->hal_error != 0) {
        fprintf(stderr, "mfota-device: %s%s (port error %d)\n", when, mfota_err_name(rc),
                c->hal_error);
    } else {
        fprintf(stderr, "mfota-device: %s%s\n", when, mfota_err_name(rc));
    }
}

static void strip_build_zero(char *v)
{
    /* MCUboot writes "+0" for build 0; fleet tools (and the emulator) omit it. */
    size_t n = strlen(v);
    if (n > 2 && strcmp(v + n - 2, "+0") == 0) {
        v[n - 2] = '\0';
    }
}

/* A number and nothing else.  strtoul() alone reads "abc" as 0 and "-1" as
 * ULONG_MAX (the "engine default" marker of the progress options), so a typo
 * would run with a value nobody asked for.  0 when `v` is no number. */
static int parse_number(const char *v, unsigned long *out)
{
    char *end = NULL;
    if (*v < '0' || *v > '9') {
        return 0;
    }
    errno = 0;
    *out = strtoul(v, &end, 0);
    return errno == 0 && *end == '\0';
}

int main(int argc, char **argv)
{
    const char *imei = NULL, *secret = NULL, *version = NULL, *server = NULL;
    const char *slot_path = NULL, *journal_path = NULL, *boot = "mcuboot", *modem_at = NULL;
    const char *key_paths[MAX_KEYS];
    static uint8_t key_der[MAX_KEYS][256];
    struct mfota_sig_key keys[MAX_KEYS];
    struct mfota_sig_verifier verifier;
    size_t n_keys = 0, ki;
    unsigned long slot_size = 1024ul * 1024ul, part = 4096, timeout_s = 120;
    /* ULONG_MAX: keep the engine's default report policy */
    unsigned long progress_step = ULONG_MAX, progress_interval_s = ULONG_MAX;
    static struct mfota_client client;
    struct mfota_client_config cfg;
    struct mfota_posix_transport up_pt, dl_pt;
    struct mfota_transport up, dl;
    static struct mfota_modem modem;
    struct mfota_modem_socket up_ms, dl_ms;
    struct mfota_posix_uart uart_pu;
    struct mfota_modem_uart uart;
    struct mfota_clock clock;
    struct mfota_posix_random rnd_state;
    struct mfota_random rnd;
    struct file_flash slot_ff, journal_ff;
    struct mfota_flash slot, journal;
    struct file_boot fboot;
    struct mfota_bootloader bl;
    struct mfota_mcuboot_port port;
    char new_version[MFOTA_THINGS_VERSION_MAX + 1];
    int i, rc, numbers_ok = 1;
    unsigned long sector = 4096;
    struct event_ctx ev_ctx;

    for (i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (strcmp(k, "--imei") == 0) imei = v;
        else if (strcmp(k, "--secret") == 0) secret = v;
        else if (strcmp(k, "--version") == 0) version = v;
        else if (strcmp(k, "--server") == 0) server = v;
        else if (strcmp(k, "--slot") == 0) slot_path = v;
        else if (strcmp(k, "--journal") == 0) journal_path = v;
        else if (strcmp(k, "--slot-size") == 0) numbers_ok &= parse_number(v, &slot_size);
        else if (strcmp(k, "--sector") == 0) numbers_ok &= parse_number(v, &sector);
        else if (strcmp(k, "--part-size") == 0) numbers_ok &= parse_number(v, &part);
        else if (strcmp(k, "--bootloader") == 0) boot = v;
        else if (strcmp(k, "--timeout") == 0) numbers_ok &= parse_number(v, &timeout_s);
        else if (strcmp(k, "--key") == 0 && n_keys < MAX_KEYS) key_paths[n_keys++] = v;
        else if (strcmp(k, "--modem") == 0) modem_at = v;
        else if (strcmp(k, "--progress-step") == 0) {
            numbers_ok &= parse_number(v, &progress_step);
        } else if (strcmp(k, "--progress-interval") == 0) {
            numbers_ok &= parse_number(v, &progress_interval_s);
        }
        else {
            usage();
            return 2;
        }
    }
    if (sector <= 0xFFFFFFFFul) {
        g_sector = (uint32_t)sector;
    }
    if (!numbers_ok || sector > 0xFFFFFFFFul || i != argc || !imei || !secret || !version || !server || !slot_path || !journal_path ||
        g_sector < 256 || g_sector % 256 || slot_size % g_sector || slot_size > 0xFFFFFFFFul ||
        (strcmp(boot, "file") != 0 && strcmp(boot, "mcuboot") != 0) ||
(n_keys > 0 && strcmp(boot, "mcuboot") != 0) ||
        (progress_step != ULONG_MAX && (progress_step < 1 || progress_step > 100)) ||
        (progress_interval_s != ULONG_MAX && progress_interval_s > 86400ul)) {
        usage();
        return 2;
    }
    for (ki = 0; ki < n_keys; ki++) {
        const char *why = "";
        if (mfota_posix_load_key(key_paths[ki], key_der[ki], sizeof key_der[ki], &keys[ki], &why) !=
            0) {
            fprintf(stderr, "mfota-device: --key %s: %s\n", key_paths[ki], why);
            return 2;
        }
    }
    if (n_keys > 0 && mfota_posix_sig_verifier(&verifier) != 0) {
        fputs("mfota-device: libsodium does not start\n", stderr);
        return 4;
    }
    if (open_flash(slot_path, (uint32_t)slot_size, &slot_ff, &slot) != 0 ||
        open_flash(journal_path, 2u * g_sector, &journal_ff, &journal) != 0) {
        return 4;
    }
    if (strcmp(boot, "mcuboot") == 0) {
        /* Direct-XIP style: the slot that receives the image is the one that
         * runs it, so confirm sets image_ok in that same slot. */
        memset(&port, 0, sizeof port);
        port.primary = &slot;
        port.secondary = &slot;
        port.trust.keys = keys;
        port.trust.n_keys = n_keys;
        port.trust.verifier = n_keys > 0 ? &verifier : NULL;
        mfota_mcuboot_bootloader(&bl, &port);
    } else {
        snprintf(fboot.path, sizeof fboot.path, "%s.boot", slot_path);
        bl.mark_pending = fb_mark_pending;
        bl.confirm = fb_confirm;
        bl.running_version = NULL;
        bl.check_image = mfota_bootloader_accept_raw; /* chosen with --bootloader file */
        bl.ctx = &fboot;
    }
    if (modem_at != NULL) {
        char host[64];
        const char *colon = strrchr(modem_at, ':');
        unsigned long mport = colon ? strtoul(colon + 1, NULL, 10) : 0;
        size_t hlen = colon ? (size_t)(colon - modem_at) : 0;
        if (hlen == 0 || hlen >= sizeof host || mport == 0 || mport > 65535) {
            usage();
            return 2;
        }
        memcpy(host, modem_at, hlen);
        host[hlen] = '\0';
        if (mfota_posix_uart_open(&uart_pu, host, (uint16_t)mport, &uart) != MFOTA_OK) {
            fprintf(stderr, "mfota-device: cannot reach the modem at %s\n", modem_at);
            return 4;
        }
        mfota_modem_init(&modem, &uart);
        if (mfota_modem_socket_init(&modem, &up_ms, &up) != MFOTA_OK ||
            mfota_modem_socket_init(&modem, &dl_ms, &dl) != MFOTA_OK) {
            return 4;
        }
    } else {
        mfota_posix_transport_init(&up_pt, &up);
        mfota_posix_transport_init(&dl_pt, &dl);
        up_pt.connect_timeout_ms = dl_pt.connect_timeout_ms = 10000;
    }
    mfota_posix_clock_init(&clock);
    mfota_posix_random_init(&rnd_state, &rnd, 0);

    mfota_client_config_default(&cfg);
    cfg.imei = imei;
    cfg.secret = (const uint8_t *)secret;
    cfg.secret_len = strlen(secret);
    cfg.version = version;
    cfg.server = server;
    cfg.uplink_transport = &up;
    cfg.download_transport = &dl;
    cfg.clock = &clock;
    cfg.random = &rnd;
    cfg.slot = &slot;
    cfg.journal_flash = &journal;
    cfg.bootloader = &bl;
    cfg.on_event = on_event;
    ev_ctx.last_pct = -1;
    ev_ctx.client = &client;
    cfg.event_ctx = &ev_ctx;
    cfg.part_size = (uint32_t)part;
    cfg.io_timeout_ms = 10000;
    cfg.retry_base_ms = 200;
    cfg.retry_max_ms = 2000;
    /* The device's own report policy: how often its progress goes up. */
    if (progress_step != ULONG_MAX) {
        cfg.progress_step_percent = (uint8_t)progress_step;
    }
    if (progress_interval_s != ULONG_MAX) {
        cfg.progress_interval_ms = (uint32_t)(progress_interval_s * 1000ul);
    }

    rc = mfota_client_init(&client, &cfg);
    if (rc == MFOTA_OK) {
        printf("running %s, uplink to %s\n", version, server);
        rc = mfota_client_start(&client);
    }
    if (rc == MFOTA_OK) {
        rc = mfota_client_run(&client, (uint32_t)(timeout_s * 1000u));
    }
    if (rc != MFOTA_OK) {
        print_run_error("", rc, &client);
        return 4;
    }
    if (!client.has_pending) {
        if (client.result == MFOTA_RESULT_INITIAL && client.reason == NULL) {
            printf("no update offered\n");
            return 3;
        }
        printf("update failed: result %d (%s) %s%s%s", client.result,
               mfota_result_name((enum mfota_result)client.result),
               client.reason ? client.reason : "-", client.error ? ": " : "",
               client.error ? mfota_err_name(client.error) : "");
        /* The file server's refusal (401 token, 404 file gone) by number. */
        if (client.download_http_status >= 400u) {
            printf(" (file server answered %u)", (unsigned)client.download_http_status);
        }
        printf("\n");
        return 1;
    }
    memcpy(new_version, client.pending_version, sizeof new_version);
    if (new_version[0] == '\0') {
        struct mfota_mcuboot_image img;
        if (mfota_mcuboot_check(&slot, (uint32_t)client.total, &img) == MFOTA_OK) {
            mfota_mcuboot_version_string(&img, new_version, sizeof new_version);
        }
    }
    strip_build_zero(new_version); /* the header read here keeps "+0" */
    printf("image %s pending, rebooting\n", new_version);

    /* The "reboot": the engine starts again as the new firmware. */
    cfg.version = new_version;
    rc = mfota_client_init(&client, &cfg);
    if (rc == MFOTA_OK) {
        rc = mfota_client_start_boot(&client);
    }
    if (rc == MFOTA_OK) {
        rc = mfota_client_run(&client, (uint32_t)(timeout_s * 1000u));
    }
    if (rc != MFOTA_OK) {
        print_run_error("after reboot: ", rc, &client);
        return 4;
    }
    printf("running %s, reported result %d\n", new_version, client.result);
    if (modem_at != NULL) {
        printf("modem: %lu commands, %lu timeouts, %lu probes, %lu urcs, %lu errors\n",
               (unsigned long)modem.stats.commands, (unsigned long)modem.stats.timeouts,
               (unsigned long)modem.stats.probes, (unsigned long)modem.stats.urcs,
               (unsigned long)modem.stats.errors);
    }
    close(slot_ff.fd);
    close(journal_ff.fd);
    return client.stats.uplinks > 0 ? 0 : 1;
}
