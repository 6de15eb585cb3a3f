/* libFuzzer harness for the downloader: the fuzz input is everything the
 * "server" says, handed out in pieces whose sizes the input also picks.
 *
 * Input layout: 4 bytes of settings (part size, rx buffer size, pipelining,
 * piece-size seed), then the server's answers, each ended by a 0xFD byte:
 * every request sent releases the next answer, as a server would.  A 0xFE
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

#define CLOSE_MARK 0xFEu
#define ANSWER_END 0xFDu

struct script {
    const uint8_t *data;
    size_t size, pos;
    size_t limit; /* bytes before this index have been released by requests */
    uint32_t seed;
    int connected, closed;
    uint64_t now;
};

struct check {
    uint64_t part_start, pos, total;
    int has_total;
    uint32_t crc; /* of the current part's bytes so far */
};

static struct script sc;
static struct check ck;

static int t_connect(void *ctx, const char *host, uint16_t port)
{
    (void)ctx;
    (void)host;
    (void)port;
    if (sc.pos >= sc.size) {
        return MFOTA_ERR_DL_CONNECT;
    }
    sc.connected = 1;
    sc.closed = 0;
    if (sc.pos < sc.limit) {
        sc.pos = sc.limit; /* answers to the old connection's requests are gone */
    }
    return MFOTA_OK;
}

static int t_send(void *ctx, const uint8_t *data, size_t len, size_t *sent)
{
    size_t i = sc.limit > sc.pos ? sc.limit : sc.pos;
    (void)ctx;
    (void)data;
    if (!sc.connected) {
        return MFOTA_ERR_DL_CLOSED;
    }
    while (i < sc.size && sc.data[i] != ANSWER_END) {
        i++;
    }
    sc.limit = i < sc.size ? i + 1u : sc.size; /* one more answer may be read */
    *sent = len;
    return MFOTA_OK;
}

static int t_recv(void *ctx, uint8_t *buf, size_t cap, size_t *got, uint32_t timeout_ms)
{
    size_t n = 0;
    (void)ctx;
    (void)timeout_ms;
    *got = 0;
    sc.seed = sc.seed * 1103515245u + 12345u;
    if ((sc.seed >> 16) % 7u == 0u) {
        sc.now += 1000u; /* nothing this time: let timeouts happen */
        return MFOTA_WOULD_BLOCK;
    }
    while (sc.pos < sc.limit && sc.data[sc.pos] == ANSWER_END) {
        sc.pos++;
    }
    if (sc.closed || sc.pos >= sc.size) {
        return MFOTA_DONE;
    }
    if (sc.pos >= sc.limit) {
        sc.now += 1000u; /* no answer due: the server is silent */
        return MFOTA_WOULD_BLOCK;
    }
    if (sc.data[sc.pos] == CLOSE_MARK) {
        sc.pos++;
        sc.closed = 1;
        return MFOTA_DONE;
    }
    while (n < cap && n < 1u + (sc.seed >> 20) % 97u && sc.pos < sc.limit &&
           sc.data[sc.pos] != CLOSE_MARK && sc.data[sc.pos] != ANSWER_END) {
        buf[n++] = sc.data[sc.pos++];
    }
    *got = n;
    return MFOTA_OK;
}

static void t_close(void *ctx)
{
    (void)ctx;
    sc.connected = 0;
}

static uint64_t c_now(void *ctx)
{
    (void)ctx;
    return sc.now;
}

static int s_data(void *ctx, uint64_t offset, const uint8_t *data, size_t len)
{
    (void)ctx;
    if (offset != ck.pos || len == 0 || (ck.has_total && offset + len > ck.total)) {
        abort();
    }
    ck.crc = mfota_crc32(ck.crc, data, len);
    ck.pos += len;
    return MFOTA_OK;
}

static int s_done(void *ctx, uint64_t offset, uint64_t len, uint32_t crc, int verified)
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

static int s_failed(void *ctx, uint64_t offset, uint64_t len, int reason)
{
    (void)ctx;
    if (offset != ck.part_start || offset + len != ck.pos || reason >= 0) {
        abort();
    }
    ck.pos = ck.part_start;
    ck.crc = 0;
    return MFOTA_OK;
}

static int s_total(void *ctx, uint64_t total, int restarted)
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
    static struct mfota_dl dl;
    struct mfota_transport t = {t_connect, t_send, t_recv, t_close, NULL};
    struct mfota_clock c = {c_now, NULL, NULL};
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
    sc.seed = data[3];
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
    cfg.pipeline = (uint8_t)(data[2] & 1u);
    cfg.max_retry_after_s = 5;
    if (mfota_dl_init(&dl, &cfg) != MFOTA_OK) {
        abort();
    }
    for (steps = 0; steps < 1000000u; steps++) {
        rc = mfota_dl_step(&dl, 0);
        if (rc == MFOTA_WAIT) {
            sc.now = mfota_dl_wake_at(&dl);
        } else if (rc != MFOTA_WOULD_BLOCK) {
            break;
        }
    }
    if (rc == MFOTA_WOULD_BLOCK || rc == MFOTA_WAIT) {
        abort(); /* the download never ended */
    }
    if (rc == MFOTA_DONE && (!ck.has_total || ck.pos != ck.total || ck.part_start != ck.pos)) {
        abort(); /* "done" without every byte delivered and completed */
    }
    return 0;
}
