/*
 * A minimal bare-metal m2mfota client: every HAL the engine needs, stubbed
 * where a port fills it in, and the engine driven with mfota_client_step()
 * from a main loop (no RTOS, no blocking call).
 *
 * Each stub is marked "PORT:" with what a real board does instead.  As
 * shipped the stubs are self-contained so the example runs anywhere (host,
 * or QEMU's mps2-an386 with semihosting): the flash is a RAM array with NOR
 * semantics, the clock a counter the loop advances, and the transport a
 * loopback that answers the status uplink with "204 No Content" -- what KPN
 * Things answers when no update is due.  One cycle therefore runs: status
 * uplink -> response -> no FOTA command -> cycle done, state idle.
 *
 * The porting guide (docs/porting.md) gives each HAL's full contract.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "m2mfota/bootloader.h"
#include "m2mfota/client.h"
#include "m2mfota/err.h"
#include "m2mfota/flash.h"
#include "m2mfota/fota_state.h"
#include "m2mfota/journal.h"
#include "m2mfota/transport.h"

#ifdef EXAMPLE_SEMIHOSTING
extern void initialise_monitor_handles(void); /* newlib rdimon: printf over semihosting */
#endif

/* ---- flash: the update slot ------------------------------------------------
 * PORT: call the MCU's flash driver (erase a sector, program a double word,
 * read through the memory map or SPI).  Offsets are absolute device offsets
 * (slot_offset + offset in the slot).  Return 0, or a negative value: any
 * failure ends the cycle with MFOTA_ERR_HAL and the port's value lands in
 * client.hal_error.  Here: a RAM array that behaves like NOR (erase to 0xFF,
 * programming only clears bits). */
#define SLOT_OFFSET 0x00080000u /* where the slot would sit in the MCU's flash */
#define SECTOR_SIZE 4096u
#define SLOT_SIZE (16u * SECTOR_SIZE)
#define PROGRAM_SIZE 8u /* e.g. STM32L4: double-word programming */

static uint8_t slot_mem[SLOT_SIZE];

static int slot_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    (void)ctx;
    memcpy(buf, &slot_mem[off - SLOT_OFFSET], len);
    return 0;
}

static int slot_program(void *ctx, uint32_t off, const void *data, size_t len)
{
    const uint8_t *src = (const uint8_t *)data;
    size_t i;
    (void)ctx;
    for (i = 0; i < len; i++) {
        slot_mem[off - SLOT_OFFSET + i] &= src[i]; /* NOR: 1 -> 0 only */
    }
    return 0;
}

static int slot_erase(void *ctx, uint32_t off)
{
    (void)ctx;
    memset(&slot_mem[off - SLOT_OFFSET], 0xFF, SECTOR_SIZE);
    return 0;
}

/* ---- journal: a key-value store --------------------------------------------
 * PORT: one value in the port's key-value store (NVS, EEPROM emulation, a
 * file).  `set` must replace the value atomically (old or new after a power
 * cut, never a mix); `get` returns its length, 0 when there is none.  The
 * alternative is a flash region of two erase sectors (journal_flash). */
static uint8_t kv_value[MFOTA_JOURNAL_RECORD_SIZE + 16];
static size_t kv_len;

static int kv_get(void *ctx, void *buf, size_t cap)
{
    (void)ctx;
    if (kv_len > cap) {
        return MFOTA_ERR_NOSPC;
    }
    memcpy(buf, kv_value, kv_len);
    return (int)kv_len;
}

static int kv_set(void *ctx, const void *buf, size_t len)
{
    (void)ctx;
    if (len > sizeof kv_value) {
        return MFOTA_ERR_NOSPC;
    }
    memcpy(kv_value, buf, len);
    kv_len = len;
    return 0;
}

/* ---- clock -------------------------------------------------------------------
 * PORT: a monotonic millisecond counter (SysTick, an RTC, the RTOS tick).
 * sleep_ms is only used by the blocking mfota_client_run(); this example
 * uses step() and leaves it NULL.  Here: a counter the main loop advances. */
static uint64_t now;

static uint64_t clock_now_ms(void *ctx)
{
    (void)ctx;
    return now;
}

/* ---- random: retry jitter ----------------------------------------------------
 * PORT: the hardware RNG, or anything that differs between devices (the
 * jitter only spreads a fleet's retries).  Here: xorshift32. */
static uint32_t rng_state = 0x2545f491u;

static uint32_t random_next(void *ctx)
{
    (void)ctx;
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* ---- transport: one TCP connection -------------------------------------------
 * PORT: a socket of the modem (embedded_port/modem/ drives a SARA-R4 with AT
 * commands) or of lwIP.  Non-blocking: answer MFOTA_WOULD_BLOCK instead of
 * waiting, and step() returns MFOTA_WOULD_BLOCK until the next call.  Map
 * failures to MFOTA_ERR_DL_CONNECT / MFOTA_ERR_DL_IO / MFOTA_ERR_DL_CLOSED.
 * Here: a loopback that answers whatever request with 204 No Content, and
 * makes the first recv() of each connection wait once, as a radio link
 * would. */
struct loopback {
    int connected;
    int request_seen;
    int waited;
    size_t answered;
};

static const char answer_204[] = "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n";

static int lb_connect(void *ctx, const char *host, uint16_t port)
{
    struct loopback *lb = (struct loopback *)ctx;
    (void)host;
    (void)port;
    memset(lb, 0, sizeof *lb);
    lb->connected = 1;
    return MFOTA_OK;
}

static int lb_send(void *ctx, const uint8_t *data, size_t len, size_t *sent)
{
    struct loopback *lb = (struct loopback *)ctx;
    (void)data;
    if (!lb->connected) {
        return MFOTA_ERR_DL_CLOSED;
    }
    lb->request_seen = 1;
    *sent = len;
    return MFOTA_OK;
}

static int lb_recv(void *ctx, uint8_t *buf, size_t cap, size_t *got, uint32_t timeout_ms)
{
    struct loopback *lb = (struct loopback *)ctx;
    size_t left = sizeof answer_204 - 1 - lb->answered;
    (void)timeout_ms;
    if (!lb->connected) {
        return MFOTA_ERR_DL_CLOSED;
    }
    if (!lb->request_seen || !lb->waited) {
        lb->waited = lb->request_seen;
        return MFOTA_WOULD_BLOCK; /* nothing yet: the main loop gets control back */
    }
    if (left == 0) {
        return MFOTA_WOULD_BLOCK; /* keep-alive: the server says nothing more */
    }
    *got = left < cap ? left : cap;
    memcpy(buf, answer_204 + lb->answered, *got);
    lb->answered += *got;
    return MFOTA_OK;
}

static void lb_close(void *ctx)
{
    ((struct loopback *)ctx)->connected = 0;
}

/* ---- bootloader ----------------------------------------------------------------
 * PORT: with MCUboot, fill the struct with mfota_mcuboot_bootloader()
 * (mcuboot.h): it checks the image's hash and signature and writes the
 * trailer.  Another bootloader: mark_pending asks it to boot the slot at the
 * next reset (as a test unless `permanent`), confirm keeps the running image,
 * check_image refuses an image it would not boot.  Here: raw images, nothing
 * to check (mfota_bootloader_accept_raw says so explicitly). */
static int boot_mark_pending(void *ctx, uint32_t image_size, int permanent)
{
    (void)ctx;
    (void)image_size;
    (void)permanent;
    return 0;
}

static int boot_confirm(void *ctx)
{
    (void)ctx;
    return 0;
}

/* ---- events ----------------------------------------------------------------------
 * PORT: log, drive an LED, or hand a downlink that came another way to
 * mfota_client_downlink().  Runs inside step(). */
static unsigned uplinks_seen;

static void on_event(void *ctx, const struct mfota_client_event *ev)
{
    (void)ctx;
    if (ev->kind == MFOTA_CLIENT_EV_UPLINK && ev->error == 0) {
        uplinks_seen++;
    }
}

/* ---- the application ----------------------------------------------------------- */

/* The engine's context holds every buffer: static, never on the stack. */
static struct mfota_client client;

int main(void)
{
    static const uint8_t secret[] = "device-shared-secret";
    static struct loopback up_link, dl_link;
    struct mfota_flash slot;
    struct mfota_kv journal;
    struct mfota_clock clock;
    struct mfota_random rnd;
    struct mfota_transport uplink, download;
    struct mfota_bootloader boot;
    struct mfota_client_config cfg;
    unsigned long steps = 0;
    int rc;

#ifdef EXAMPLE_SEMIHOSTING
    initialise_monitor_handles();
#endif
    memset(slot_mem, 0xFF, sizeof slot_mem); /* a blank part reads erased */

    memset(&slot, 0, sizeof slot);
    slot.read = slot_read;
    slot.program = slot_program;
    slot.erase = slot_erase;
    slot.program_size = PROGRAM_SIZE;
    slot.sector_size = SECTOR_SIZE;
    slot.erased_value = 0xFF;
    slot.slot_offset = SLOT_OFFSET;
    slot.slot_size = SLOT_SIZE;

    journal.get = kv_get;
    journal.set = kv_set;
    journal.ctx = NULL;

    clock.now_ms = clock_now_ms;
    clock.sleep_ms = NULL; /* step() only */
    clock.ctx = NULL;

    rnd.next = random_next;
    rnd.ctx = NULL;

    /* Two transports: a progress uplink may go out while the download's
     * connection stays open. */
    uplink.connect = lb_connect;
    uplink.send = lb_send;
    uplink.recv = lb_recv;
    uplink.close = lb_close;
    uplink.ctx = &up_link;
    download = uplink;
    download.ctx = &dl_link;

    memset(&boot, 0, sizeof boot);
    boot.mark_pending = boot_mark_pending;
    boot.confirm = boot_confirm;
    boot.check_image = mfota_bootloader_accept_raw;

    mfota_client_config_default(&cfg);
    cfg.imei = "350000000000001";          /* PORT: AT+CGSN */
    cfg.secret = secret;                   /* PORT: provisioned per device */
    cfg.secret_len = sizeof secret - 1;
    cfg.version = "1.0.0";                 /* PORT: the running firmware's version */
    cfg.server = "http://10.151.236.1:80"; /* PORT: KPN Things ingestion (an IPv4 literal) */
    cfg.uplink_transport = &uplink;
    cfg.download_transport = &download;
    cfg.clock = &clock;
    cfg.random = &rnd;
    cfg.slot = &slot;
    cfg.journal_kv = &journal;
    cfg.bootloader = &boot;
    cfg.on_event = on_event;

    rc = mfota_client_init(&client, &cfg);
    if (rc < 0) {
        printf("mfota_client_init: %s\n", mfota_err_name(rc));
        return 1;
    }
    /* PORT: after booting into a new image call mfota_client_start_boot()
     * instead: it confirms the image and reports the new version. */
    rc = mfota_client_start(&client);
    if (rc < 0) {
        printf("mfota_client_start: %s\n", mfota_err_name(rc));
        return 1;
    }

    /* The main loop: step() never waits (io_wait_ms 0); the loop decides
     * how to idle.  PORT: sleep (WFI) until the modem's interrupt or the
     * wake-up time, and do the application's other work in between. */
    for (;;) {
        rc = mfota_client_step(&client, 0);
        steps++;
        if (rc == MFOTA_DONE) {
            break;
        }
        if (rc == MFOTA_WAIT) {
            now = mfota_client_wake_at(&client); /* a timer (backoff, Retry-After) */
        } else if (rc == MFOTA_WOULD_BLOCK) {
            now += 1; /* waiting for the transport: here, one tick */
        } else if (rc < 0) {
            /* A HAL failed: the cycle is abandoned.  PORT: log hal_error,
             * re-initialise the client (the journal resumes the download). */
            printf("step: %s (port value %d)\n", mfota_err_name(rc), client.hal_error);
            return 1;
        }
        if (steps > 100000ul) {
            printf("step: no end after %lu steps\n", steps);
            return 1;
        }
    }

    printf("bare-metal example: cycle done after %lu steps: state=%s result=%s uplinks=%u\n",
           steps, mfota_state_name((enum mfota_state)client.state),
           mfota_result_name((enum mfota_result)client.result), uplinks_seen);
    return client.state == MFOTA_STATE_IDLE && uplinks_seen == 1 ? 0 : 1;
}
