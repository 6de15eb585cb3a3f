/* Self-test of the ranged download on a scripted in-memory server: the same
 * downloader, parser and planner code on the host and on the Cortex-M4.
 *
 * The fake transport parses each request's Range, queues the KPN-style
 * answer (200 + Content-Range + Digest) and hands it out in odd-sized
 * pieces, answering "would block" every third call; a fake clock advances
 * only when the caller sleeps.  Faults: a corrupted part, a dropped
 * connection, a 503 with Retry-After, Connection: close every 100 requests,
 * a trickle (one byte per recv, the clock moving on each time).
 * Driven through mfota_dl_step(), with and without pipelining. */
#include <string.h>

#include "m2mfota/crc32.h"
#include "m2mfota/downloader.h"
#include "m2mfota/err.h"
#include "m2mfota/http_request.h"
#include "m2mfota/http_response.h"
#include "fake_hal.h"
#include "selftests.h"

#define FILE_SIZE 20000u

struct fake {
    uint8_t file[FILE_SIZE];
    struct fake_conn conn;
    struct fake_clock clock;
    unsigned requests, conn_requests, seen_connects;
    unsigned corrupt_at_request, drop_at_request, busy_at_request;
};

struct got {
    uint8_t data[FILE_SIZE];
    uint64_t done;
    unsigned failed;
    int bad; /* a sink contract violation */
};

static struct fake srv;
/* Options of the next run_download(): one byte per recv, each advancing the
 * clock this much (0: off); and the config's timeout / max_time / retries. */
static uint32_t opt_trickle_ms, opt_timeout_ms, opt_max_time_ms, opt_max_retries;
static int opt_refuse_when_closing; /* sends fail once the server said Connection: close */
/* tx_cap of the next run (0: sizeof tx), and whether the loop scribbles over
 * tx between steps, as the client engine does with its shared scratch. */
static size_t opt_tx_cap;
static int opt_scribble_tx;
static struct mfota_dl_config last_cfg; /* of the last run_download() */
static struct got sink_state;
static uint8_t rx[700];
static uint8_t tx[MFOTA_DL_SEND_CHUNK];
static struct mfota_dl dl;

static size_t put_num(char *o, size_t at, uint64_t v, int hex)
{
    return hex ? fake_put_hex8(o, at, (uint32_t)v) : fake_put_uint(o, at, v);
}

/* Queue the answer to one request (fake_hal hands over whole requests,
 * however the downloader split them into sends). */
static void answer(void *ctx, struct fake_conn *c, const char *req, size_t len,
                   const char *body, size_t body_len)
{
    char out[512];
    const char *r;
    uint64_t first, last;
    size_t o = 0;
    uint32_t crc;
    int close_now;

    (void)ctx;
    (void)body;
    (void)body_len;
    if (c->connects != srv.seen_connects) {
        srv.seen_connects = c->connects; /* a new connection */
        srv.conn_requests = 0;
    }
    r = fake_find(req, len, "Range:bytes=");
    srv.requests++;
    srv.conn_requests++;
    close_now = srv.conn_requests >= 100;
    if (c->closing || r == NULL) {
        return; /* never answered: the connection is going away */
    }
    c->closing = close_now;
    if (srv.requests == srv.busy_at_request) {
        o = fake_put_str(out, o,
                         "HTTP/1.1 503 Busy\r\nRetry-After: 2\r\nContent-Length: 0\r\n\r\n");
        fake_conn_queue(c, out, o);
        return;
    }
    first = fake_parse_uint(r + 12, &r);
    last = fake_parse_uint(r + 1, &r);
    if (last >= FILE_SIZE) {
        last = FILE_SIZE - 1u;
    }
    crc = mfota_crc32(0, srv.file + first, (size_t)(last - first + 1u));
    o = fake_put_str(out, o, "HTTP/1.1 200 OK\r\nContent-Range: bytes ");
    o = put_num(out, o, first, 0);
    o = fake_put_str(out, o, "-");
    o = put_num(out, o, last, 0);
    o = fake_put_str(out, o, "/");
    o = put_num(out, o, FILE_SIZE, 0);
    o = fake_put_str(out, o, "\r\nContent-Length: ");
    o = put_num(out, o, last - first + 1u, 0);
    o = fake_put_str(out, o, "\r\nDigest: crc32=");
    o = put_num(out, o, crc, 1);
    o = fake_put_str(out, o, close_now ? "\r\nConnection: close\r\n\r\n" : "\r\n\r\n");
    memcpy(out + o, srv.file + first, (size_t)(last - first + 1u));
    if (srv.requests == srv.corrupt_at_request) {
        out[o + 3] ^= 0x40;
    }
    o += (size_t)(last - first + 1u);
    if (srv.requests == srv.drop_at_request) {
        o -= 10; /* the connection will end 10 bytes short */
        c->closing = 1;
    }
    fake_conn_queue(c, out, o);
}

static int s_data(void *ctx, uint32_t offset, const uint8_t *data, size_t len)
{
    struct got *g = ctx;
    if (offset != g->done + 0u && offset < g->done) {
        g->bad = 1;
    }
    if (offset + len > FILE_SIZE) {
        g->bad = 1;
        return MFOTA_ERR_NOSPC;
    }
    memcpy(g->data + offset, data, len);
    return MFOTA_OK;
}

static int s_done(void *ctx, uint32_t offset, uint32_t len, uint32_t crc, int verified)
{
    struct got *g = ctx;
    if (offset != g->done || !verified || crc != mfota_crc32(0, g->data + offset, (size_t)len)) {
        g->bad = 1;
    }
    g->done = offset + len;
    return MFOTA_OK;
}

static int s_failed(void *ctx, uint32_t offset, uint32_t len, int reason)
{
    struct got *g = ctx;
    (void)len;
    (void)reason;
    if (offset != g->done) {
        g->bad = 1;
    }
    g->failed++;
    return MFOTA_OK;
}

/* One download through step(); returns its final code. */
static int run_download(int pipeline, unsigned corrupt, unsigned drop, unsigned busy,
                        unsigned *waits)
{
    static const char url[] = "http://10.0.0.1:8080/f/v1/c5801012-31c8-4346-9963-cf317f1b5aa3";
    static const char token[] = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.c2ln";
    /* static: last_cfg points at them after the run */
    static struct mfota_transport t;
    static struct mfota_clock c;
    static struct mfota_dl_sink s = {s_data, s_done, s_failed, NULL, NULL};
    struct mfota_dl_config cfg;
    unsigned i, guard;
    int rc;

    memset(&srv, 0, sizeof srv);
    for (i = 0; i < FILE_SIZE; i++) {
        srv.file[i] = (uint8_t)(i * 7u + (i >> 8));
    }
    fake_conn_init(&srv.conn);
    srv.conn.on_request = answer;
    srv.conn.send_room = 528u;  /* more than a few answers queued: send blocks */
    srv.conn.block_every = 3u;
    srv.conn.recv_max = 300u;   /* random pieces of 1..300 bytes */
    srv.conn.lcg = 12345u;
    srv.conn.refuse_when_closing = opt_refuse_when_closing;
    if (opt_trickle_ms != 0u) {
        srv.conn.recv_max = 1u; /* busy, never idle, never done */
        srv.conn.clock = &srv.clock;
        srv.conn.recv_tick_ms = opt_trickle_ms;
    }
    fake_conn_transport(&srv.conn, &t);
    fake_clock_hal(&srv.clock, &c);
    c.sleep_ms = NULL; /* step() only: the loop below moves the clock */
    srv.corrupt_at_request = corrupt;
    srv.drop_at_request = drop;
    srv.busy_at_request = busy;
    memset(&sink_state, 0, sizeof sink_state);
    s.ctx = &sink_state;
    mfota_dl_config_default(&cfg);
    cfg.transport = &t;
    cfg.clock = &c;
    cfg.sink = &s;
    cfg.url = url;
    cfg.url_len = sizeof url - 1u;
    cfg.token = token;
    cfg.token_len = sizeof token - 1u;
    cfg.plan.part_size = 128;
    cfg.plan.align = 128;
    cfg.pipeline = (uint8_t)pipeline;
    if (opt_refuse_when_closing) {
        cfg.plan.per_connection = 150; /* more than the server serves */
    }
    cfg.rx_buf = rx;
    cfg.rx_cap = sizeof rx;
    cfg.tx_buf = tx;
    cfg.tx_cap = opt_tx_cap != 0u ? opt_tx_cap : sizeof tx;
    if (opt_timeout_ms != 0u) {
        cfg.timeout_ms = opt_timeout_ms;
        cfg.max_time_ms = opt_max_time_ms;
        cfg.max_retries = opt_max_retries;
    }
    last_cfg = cfg;
    rc = mfota_dl_init(&dl, &cfg);
    if (rc != MFOTA_OK) {
        return rc;
    }
    *waits = 0;
    for (guard = 0; guard < 200000u; guard++) {
        rc = mfota_dl_step(&dl, 0);
        if (opt_scribble_tx) {
            memset(tx, 0xA5, sizeof tx);
        }
        if (rc == MFOTA_WAIT) {
            (*waits)++;
            srv.clock.now = mfota_dl_wake_at(&dl); /* the event loop sleeps until then */
        } else if (rc != MFOTA_WOULD_BLOCK) {
            break;
        }
    }
    return rc;
}

int mfota_selftest_download(void)
{
    int failures = 0, pipeline;
    unsigned waits;

    for (pipeline = 0; pipeline <= 1; pipeline++) {
        int rc = run_download(pipeline, 0, 0, 0, &waits);
        SELFTEST_CHECK(failures, rc == MFOTA_DONE, "clean download completes");
        SELFTEST_CHECK(failures, !sink_state.bad && sink_state.done == FILE_SIZE &&
                                     memcmp(sink_state.data, srv.file, FILE_SIZE) == 0,
                       "clean download is byte-identical");
        SELFTEST_CHECK(failures, dl.stats.requests == 157 && dl.stats.connections == 2 &&
                                     dl.stats.retries == 0,
                       "157 parts on ceil(157/100) connections, no retry");
        SELFTEST_CHECK(failures, strcmp(srv.conn.host, "10.0.0.1") == 0 &&
                                     srv.conn.port == 8080 && srv.conn.double_connects == 0,
                       "connects to the URL's host and port, never twice at once");
        SELFTEST_CHECK(failures, srv.conn.requests == 157, "157 whole requests on the wire");

        rc = run_download(pipeline, 7, 30, 50, &waits);
        SELFTEST_CHECK(failures, rc == MFOTA_DONE, "faulty download completes");
        SELFTEST_CHECK(failures, !sink_state.bad &&
                                     memcmp(sink_state.data, srv.file, FILE_SIZE) == 0,
                       "faults never corrupt the result");
        SELFTEST_CHECK(failures, sink_state.failed == 2 && waits == 1 &&
                                     dl.stats.waits == 1 && dl.stats.retries == 3,
                       "CRC and drop refetched, 503 waited out by the clock");
        SELFTEST_CHECK(failures, srv.clock.now >= 2000u, "Retry-After: 2 honoured");
    }
    /* The server closes after its 100th answer and refuses the request sent
     * ahead: that request is lost (it counts), the part being read is not. */
    opt_refuse_when_closing = 1;
    SELFTEST_CHECK(failures, run_download(1, 0, 0, 0, &waits) == MFOTA_DONE && !sink_state.bad &&
                                 memcmp(sink_state.data, srv.file, FILE_SIZE) == 0,
                   "a refused request sent ahead: download completes");
    SELFTEST_CHECK(failures, dl.stats.retries == 0 && dl.stats.connections == 2 &&
                                 dl.stats.requests == 158u,
                   "a refused request sent ahead costs a request, not a retry");
    opt_refuse_when_closing = 0;
    /* tx_buf is scratch: overwritten between every two steps (sends block
     * every third call, so requests are torn across steps), and as small
     * as allowed (16 bytes: the Range tail leaves in pieces), the download
     * is still byte-identical and every request arrives whole. */
    opt_scribble_tx = 1;
    opt_tx_cap = 16u;
    SELFTEST_CHECK(failures, run_download(1, 0, 0, 0, &waits) == MFOTA_DONE && !sink_state.bad &&
                                 memcmp(sink_state.data, srv.file, FILE_SIZE) == 0 &&
                                 srv.conn.requests == 157 &&
                                 strcmp(srv.conn.host, "10.0.0.1") == 0,
                   "tx_buf is scratch: overwritten between steps, 16 bytes, same download");
    opt_scribble_tx = 0;
    opt_tx_cap = 0;
    {
        /* A missing or too small tx_buf, and a host it cannot hold. */
        static const char long_host[] = "http://a-host-name-of-20-ch:80/f";
        struct mfota_dl_config bad = last_cfg;
        bad.tx_buf = NULL;
        SELFTEST_CHECK(failures, mfota_dl_init(&dl, &bad) == MFOTA_ERR_INVAL, "tx_buf required");
        bad.tx_buf = tx;
        bad.tx_cap = 15u;
        SELFTEST_CHECK(failures, mfota_dl_init(&dl, &bad) == MFOTA_ERR_INVAL,
                       "tx_cap of at least 16");
        bad.tx_cap = 20u;
        bad.url = long_host;
        bad.url_len = sizeof long_host - 1u;
        SELFTEST_CHECK(failures, mfota_dl_init(&dl, &bad) == MFOTA_ERR_URL_TOO_LONG,
                       "a host tx_buf cannot hold NUL-terminated");
        bad.tx_cap = 21u;
        SELFTEST_CHECK(failures, mfota_dl_init(&dl, &bad) == MFOTA_OK,
                       "a host tx_buf holds NUL-terminated");
    }
    /* Deadlines: a part trickling in fails at its deadline, however busy. */
    opt_trickle_ms = 100;
    opt_timeout_ms = 1000;
    opt_max_retries = 1;
    SELFTEST_CHECK(failures, run_download(0, 0, 0, 0, &waits) == MFOTA_ERR_DL_TIMEOUT &&
                                 dl.stats.retries == 1 && srv.clock.now <= 2200u,
                   "a trickling part fails at its deadline");
    opt_max_retries = 1000;
    opt_max_time_ms = 3500;
    SELFTEST_CHECK(failures, run_download(0, 0, 0, 0, &waits) == MFOTA_ERR_DL_DEADLINE &&
                                 srv.clock.now <= 3600u,
                   "max_time ends the whole download");
    opt_trickle_ms = opt_timeout_ms = opt_max_time_ms = opt_max_retries = 0;
    printf("%s download (step API, faults, pipelining, deadlines)\n", failures ? "FAIL" : "ok");
    return failures;
}
