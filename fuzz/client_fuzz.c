/* libFuzzer harness: the whole client engine against fuzzed servers.
 *
 * Input: a 2-byte little-endian length L, then L bytes that the ingestion
 * endpoint answers every uplink with (the downlink and its HTTP framing),
 * then the byte stream the file server sends (shared by its connections, in
 * order; the connection ends when it runs out).  The engine runs with a fake
 * clock that jumps to every wake-up time and moves 1 ms per would-block.
 *
 * Checked: no crash or sanitizer report; the engine ends (bounded steps);
 * flash is only programmed inside its regions, aligned, over erased bits;
 * an image is handed to the bootloader only when the cycle says so, and
 * then the slot's bytes match the CRC-32 the engine verified. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "m2mfota/client.h"
#include "m2mfota/crc32.h"
#include "m2mfota/err.h"

#define SECTOR 256u
#define SLOT_SIZE (32u * SECTOR)
#define MAX_STEPS 2000000u

static const uint8_t *up_data, *dl_data;
static size_t up_len, dl_len, dl_pos, up_pos;
static int up_conn, dl_conn;
static uint64_t now;
static uint8_t nor[SLOT_SIZE + 2u * SECTOR];
static int marked;
static uint32_t marked_size;
static struct mfota_client client;

static int t_connect(void *ctx, const char *host, uint16_t port)
{
    (void)host;
    (void)port;
    if (ctx == &up_conn) {
        up_conn = 1;
        up_pos = 0;
    } else {
        if (dl_pos >= dl_len) {
            return MFOTA_ERR_DL_CONNECT;
        }
        dl_conn = 1;
    }
    return MFOTA_OK;
}

static int t_send(void *ctx, const uint8_t *data, size_t len, size_t *sent)
{
    (void)data;
    if (!*(int *)ctx) {
        return MFOTA_ERR_DL_CLOSED;
    }
    *sent = len;
    return MFOTA_OK;
}

static int t_recv(void *ctx, uint8_t *buf, size_t cap, size_t *got, uint32_t timeout_ms)
{
    const uint8_t *src = ctx == &up_conn ? up_data : dl_data;
    size_t len = ctx == &up_conn ? up_len : dl_len;
    size_t *pos = ctx == &up_conn ? &up_pos : &dl_pos;
    size_t n;
    (void)timeout_ms;
    if (!*(int *)ctx) {
        return MFOTA_ERR_DL_CLOSED;
    }
    if (*pos >= len) {
        return MFOTA_DONE;
    }
    n = len - *pos;
    if (n > cap) {
        n = cap;
    }
    if (n > 97u) {
        n = 97u;
    }
    memcpy(buf, src + *pos, n);
    *pos += n;
    *got = n;
    return MFOTA_OK;
}

static void t_close(void *ctx)
{
    *(int *)ctx = 0;
}

static uint64_t c_now(void *ctx)
{
    (void)ctx;
    return now;
}

static void c_sleep(void *ctx, uint32_t ms)
{
    (void)ctx;
    now += ms;
}

static int f_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    (void)ctx;
    if ((size_t)off + len > sizeof nor) {
        abort();
    }
    memcpy(buf, nor + off, len);
    return 0;
}

static int f_program(void *ctx, uint32_t off, const void *data, size_t len)
{
    const uint8_t *d = (const uint8_t *)data;
    size_t i;
    (void)ctx;
    if ((size_t)off + len > sizeof nor || off % 8u || len % 8u) {
        abort();
    }
    for (i = 0; i < len; i++) {
        if ((nor[off + i] & d[i]) != d[i]) {
            abort(); /* programming a 0 bit back to 1: the writer skipped an erase */
        }
        nor[off + i] = d[i];
    }
    return 0;
}

static int f_erase(void *ctx, uint32_t off)
{
    (void)ctx;
    if (off % SECTOR || (size_t)off + SECTOR > sizeof nor) {
        abort();
    }
    memset(nor + off, 0xFF, SECTOR);
    return 0;
}

static int b_mark(void *ctx, uint32_t size, int permanent)
{
    (void)ctx;
    (void)permanent;
    marked = 1;
    marked_size = size;
    return 0;
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
    dl_data = up_data + up_len;
    dl_len = size - 2 - up_len;
    dl_pos = up_pos = 0;
    up_conn = dl_conn = 0;
    now = 1000;
    marked = 0;
    memset(nor, 0xFF, sizeof nor);

    up_t.connect = dl_t.connect = t_connect;
    up_t.send = dl_t.send = t_send;
    up_t.recv = dl_t.recv = t_recv;
    up_t.close = dl_t.close = t_close;
    up_t.ctx = &up_conn;
    dl_t.ctx = &dl_conn;
    clk.now_ms = c_now;
    clk.sleep_ms = c_sleep;
    clk.ctx = NULL;
    memset(&slot, 0, sizeof slot);
    slot.read = f_read;
    slot.program = f_program;
    slot.erase = f_erase;
    slot.program_size = 8;
    slot.sector_size = SECTOR;
    slot.erased_value = 0xFF;
    slot.slot_size = SLOT_SIZE;
    journal = slot;
    journal.slot_offset = SLOT_SIZE;
    journal.slot_size = 2u * SECTOR;
    bl.mark_pending = b_mark;
    bl.confirm = NULL;
    bl.running_version = NULL;
    bl.check_image = mfota_bootloader_accept_raw; /* raw test images */
    bl.ctx = NULL;

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
            now = at > now ? at : now + 1;
        } else if (rc == MFOTA_WOULD_BLOCK) {
            now += 1;
        }
    }
    if (rc < 0) {
        abort(); /* no HAL here fails: an error would be the engine's own */
    }
    if (marked != client.has_pending) {
        abort();
    }
    if (marked) {
        if (client.state != MFOTA_STATE_UPDATING || marked_size != client.total ||
            marked_size > SLOT_SIZE ||
            mfota_crc32(0, nor, marked_size) != client.writer_.committed.crc32) {
            abort();
        }
    }
    return 0;
}
