/* libFuzzer harness for the downloader: the fuzz input is everything the
 * "server" says, handed out in pieces whose sizes the input also picks.
 *
 * Input layout: 4 bytes of settings (part size, rx buffer size, pipelining,
 * piece-size seed), then the server's answers, each ended by a 0xFD byte:
 * every request sent (whole: fake_hal assembles the downloader's pieces)
 * releases the next answer, as a server would.  A 0xFE
 * byte ends the connection there; a new connection drops answers released
 * but not read.  The sink
 * checks the contract of downloader.h and aborts on a violation: bytes in
 * order, at the offset the part is at, never past the total; part_done with
 * the CRC-32 of exactly the bytes given.  The download must end (DONE or an
 * error) within a bounded number of steps. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "m2mfota/crc32.h"
#include "m2mfota/downloader.h"
#include "m2mfota/err.h"
#include "fake_hal.h"

#define CLOSE_MARK 0xFEu
#define ANSWER_END 0xFDu

struct script {
    const uint8_t *data;
    size_t size, pos; /* answers before pos have been released by requests */
};

struct check {
    uint64_t part_start, pos, total;
    int has_total;
    uint32_t crc; /* of the current part's bytes so far */
};

static struct script sc;
static struct check ck;
static struct fake_conn conn;
static struct fake_clock clock_;

/* A request arrived (fake_hal assembles it from however many sends):
 * release the next answer into the connection's queue. */
static void release_answer(void *ctx, struct fake_conn *c, const char *req, size_t head_len,
                           const char *body, size_t body_len)
{
    size_t start = sc.pos;
    (void)ctx;
    (void)req;
    (void)head_len;
    (void)body;
    (void)body_len;
    while (sc.pos < sc.size && sc.data[sc.pos] != ANSWER_END && sc.data[sc.pos] != CLOSE_MARK) {
        sc.pos++;
    }
    fake_conn_queue(c, sc.data + start, sc.pos - start);
    if (sc.pos < sc.size && sc.data[sc.pos] == CLOSE_MARK) {
        c->closing = 1; /* the connection ends after these bytes */
        while (sc.pos < sc.size && sc.data[sc.pos] != ANSWER_END) {
            sc.pos++;
        }
    }
    if (sc.pos < sc.size) {
        sc.pos++; /* past ANSWER_END */
    }
    if (sc.pos >= sc.size) {
        c->closing = 1;                      /* the server has nothing more to say */
        c->connect_rc = MFOTA_ERR_DL_CONNECT; /* nor will it take new connections */
    }
}

static int s_data(void *ctx, uint32_t offset, const uint8_t *data, size_t len)
{
    (void)ctx;
    if (offset != ck.pos || len == 0 || (ck.has_total && offset + len > ck.total)) {
        abort();
    }
    ck.crc = mfota_crc32(ck.crc, data, len);
    ck.pos += len;
    return MFOTA_OK;
}

static int s_done(void *ctx, uint32_t offset, uint32_t len, uint32_t crc, int verified)
{
    (void)ctx;
    (void)verified;
    if (offset != ck.part_start || offset + len != ck.pos || crc != ck.crc) {
        abort();
    }
    ck.part_start = ck.pos;
    ck.crc = 0;
    return MFOTA_OK;
}

static int s_failed(void *ctx, uint32_t offset, uint32_t len, int reason)
{
    (void)ctx;
    if (offset != ck.part_start || offset + len != ck.pos || reason >= 0) {
        abort();
    }
    ck.pos = ck.part_start;
    ck.crc = 0;
    return MFOTA_OK;
}

static int s_total(void *ctx, uint32_t total, int restarted)
{
    (void)ctx;
    if (restarted) {
        ck.part_start = ck.pos = 0;
        ck.crc = 0;
    } else if (ck.pos > total || total == MFOTA_DL_TOTAL_UNKNOWN) {
        abort();
    }
    ck.total = total;
    ck.has_total = total != MFOTA_DL_TOTAL_UNKNOWN;
    return MFOTA_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char url[] = "http://10.1.2.3/f/v1/x";
    static uint8_t rx[512];
    static uint8_t tx[MFOTA_DL_SEND_CHUNK];
    static struct mfota_dl dl;
    struct mfota_transport t;
    struct mfota_clock c;
    struct mfota_dl_sink s = {s_data, s_done, s_failed, s_total, NULL};
    struct mfota_dl_config cfg;
    unsigned steps;
    int rc = MFOTA_OK;

    if (size < 4) {
        return 0;
    }
    memset(&sc, 0, sizeof sc);
    memset(&ck, 0, sizeof ck);
    sc.data = data + 4;
    sc.size = size - 4;
    fake_conn_init(&conn);
    conn.on_request = release_answer;
    conn.recv_max = 97u;               /* pieces of 1..97 bytes, sizes from the input */
    conn.lcg = 1u + data[3];
    conn.block_every = 7u;             /* now and then nothing: let timeouts happen */
    conn.clock = &clock_;
    conn.block_tick_ms = 1000u;
    if (sc.size == 0u) {
        conn.connect_rc = MFOTA_ERR_DL_CONNECT;
    }
    fake_conn_transport(&conn, &t);
    memset(&clock_, 0, sizeof clock_);
    fake_clock_hal(&clock_, &c);
    c.sleep_ms = NULL;
    mfota_dl_config_default(&cfg);
    cfg.transport = &t;
    cfg.clock = &c;
    cfg.sink = &s;
    cfg.url = url;
    cfg.url_len = sizeof url - 1u;
    cfg.token = "tok";
    cfg.token_len = 3;
    cfg.plan.part_size = 1u + data[0];
    cfg.plan.align = 1;
    cfg.rx_buf = rx;
    cfg.rx_cap = 64u + (size_t)data[1] % (sizeof rx - 63u);
    cfg.tx_buf = tx;
    cfg.tx_cap = sizeof tx;
    cfg.pipeline = (uint8_t)(data[2] & 1u);
    cfg.max_retry_after_s = 5;
    if (mfota_dl_init(&dl, &cfg) != MFOTA_OK) {
        abort();
    }
    for (steps = 0; steps < 1000000u; steps++) {
        rc = mfota_dl_step(&dl, 0);
        if (rc == MFOTA_WAIT) {
            clock_.now = mfota_dl_wake_at(&dl);
        } else if (rc != MFOTA_WOULD_BLOCK) {
            break;
        }
    }
    if (rc == MFOTA_WOULD_BLOCK || rc == MFOTA_WAIT) {
        abort(); /* the download never ended */
    }
    if (conn.double_connects != 0u) {
        abort(); /* connect() on a connection that was never closed */
    }
    if (rc == MFOTA_DONE && (!ck.has_total || ck.pos != ck.total || ck.part_start != ck.pos)) {
        abort(); /* "done" without every byte delivered and completed */
    }
    return 0;
}
