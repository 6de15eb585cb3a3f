/* libFuzzer harness: the whole client engine against fuzzed servers.
 *
 * Input: a 2-byte little-endian length L, then L bytes that the ingestion
 * endpoint answers every uplink with (the downlink and its HTTP framing),
 * then the byte stream the file server sends (shared by its connections, in
 * order; the connection ends when it runs out).  The engine runs with a fake
 * clock that jumps to every wake-up time and moves 1 ms per would-block.
 *
 * Checked: no crash or sanitizer report; the engine ends (bounded steps);
 * flash is only programmed inside its regions, aligned, over erased bytes
 * (tests/c/fake_hal.c counts violations);
 * an image is handed to the bootloader only when the cycle says so, and
 * then the slot's bytes match the CRC-32 the engine verified. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "m2mfota/client.h"
#include "m2mfota/crc32.h"
#include "m2mfota/err.h"
#include "fake_hal.h"

#define SECTOR 256u
#define SLOT_SIZE (32u * SECTOR)
#define MAX_STEPS 2000000u

static const uint8_t *up_data;
static size_t up_len;
static struct fake_conn up_conn, dl_conn;
static struct fake_nor flash;
static struct fake_clock clock_;
static uint8_t nor[SLOT_SIZE + 2u * SECTOR];
static struct fake_boot boot;
static struct mfota_client client;

/* The ingestion endpoint answers every uplink with the same bytes, then
 * closes. */
static void answer_uplink(void *ctx, struct fake_conn *c, const char *req, size_t head_len,
                          const char *body, size_t body_len)
{
    (void)ctx;
    (void)req;
    (void)head_len;
    (void)body;
    (void)body_len;
    fake_conn_queue(c, up_data, up_len);
    c->closing = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mfota_transport up_t, dl_t;
    struct mfota_clock clk;
    struct mfota_flash slot, journal;
    struct mfota_bootloader bl;
    struct mfota_client_config cfg;
    uint32_t steps = 0;
    int rc;
    if (size < 2) {
        return 0;
    }
    up_len = (size_t)data[0] | (size_t)data[1] << 8;
    if (up_len > size - 2) {
        up_len = size - 2;
    }
    up_data = data + 2;
    fake_boot_init(&boot);
    fake_clock_hal(&clock_, &clk);
    clock_.now = 1000;
    fake_conn_init(&up_conn);
    up_conn.on_request = answer_uplink;
    up_conn.recv_max = 97u;
    fake_conn_init(&dl_conn);
    dl_conn.script = up_data + up_len; /* the file server's bytes, for all its connections */
    dl_conn.script_len = size - 2 - up_len;
    dl_conn.recv_max = 97u;
    fake_conn_transport(&up_conn, &up_t);
    fake_conn_transport(&dl_conn, &dl_t);
    fake_nor_init(&flash, nor, sizeof nor, SECTOR, 8u);
    fake_nor_hal(&flash, &slot, 0, SLOT_SIZE);
    fake_nor_hal(&flash, &journal, SLOT_SIZE, 2u * SECTOR);
    fake_boot_hal(&boot, &bl);

    mfota_client_config_default(&cfg);
    cfg.imei = "350000000000001";
    cfg.secret = (const uint8_t *)"k";
    cfg.secret_len = 1;
    cfg.version = "1.0.0";
    cfg.server = "http://10.0.0.1:8080";
    cfg.uplink_transport = &up_t;
    cfg.download_transport = &dl_t;
    cfg.clock = &clk;
    cfg.slot = &slot;
    cfg.journal_flash = &journal;
    cfg.bootloader = &bl;
    cfg.part_size = SECTOR;
    cfg.io_timeout_ms = 50;
    cfg.retry_base_ms = 5;
    cfg.retry_max_ms = 20;
    cfg.max_retries = 2;
    if (mfota_client_init(&client, &cfg) != MFOTA_OK) {
        abort();
    }
    rc = mfota_client_start(&client);
    while (rc >= 0 && rc != MFOTA_DONE) {
        if (++steps > MAX_STEPS) {
            abort(); /* the engine must end: every retry is bounded */
        }
        rc = mfota_client_step(&client, 0);
        if (rc == MFOTA_WAIT) {
            uint64_t at = mfota_client_wake_at(&client);
            clock_.now = at > clock_.now ? at : clock_.now + 1;
        } else if (rc == MFOTA_WOULD_BLOCK) {
            clock_.now += 1;
        }
    }
    if (rc < 0 || flash.violations != 0u || up_conn.double_connects || dl_conn.double_connects) {
        abort(); /* no HAL here fails: an error would be the engine's own */
    }
    if (boot.marked != client.has_pending) {
        abort();
    }
    if (boot.marked) {
        if (client.state != MFOTA_STATE_UPDATING || boot.marked_size != client.total ||
            boot.marked_size > SLOT_SIZE ||
            mfota_crc32(0, nor, boot.marked_size) != client.writer_.committed.crc32) {
            abort();
        }
    }
    return 0;
}
