/* Self-test of the whole client engine on scripted in-memory servers: the
 * same engine code on the host and on the Cortex-M4.
 *
 * Two fake transports: the ingestion endpoint answers the first uplink with
 * a FOTA command (later ones with 204) and records what each uplink said;
 * the file server answers ranged GETs KPN-style (200 + Content-Range +
 * Digest), in odd-sized pieces with "would block" in between, and can
 * corrupt one part.  A RAM NOR flash (program ANDs, erase to 0xFF) holds the
 * slot and the journal; a fake clock advances only when the engine sleeps.
 * Cases: a full update (+ the boot report), a corrupted part that is
 * re-fetched, a bad downlink (result 7, nothing written), a 401 (result 4
 * "token"), a delta file (applied against a source flash when MFOTA_DELTA
 * is 1, refused with "delta_unsupported" when it is 0, as on the MCU) and
 * one made for another source (result 6 "delta_source", nothing written). */
#include <string.h>

#include "m2mfota/client.h"
#include "m2mfota/crc32.h"
#include "m2mfota/err.h"
#include "m2mfota/http_request.h"
#include "m2mfota/sha256.h"
#include "delta_vectors.h"
#include "fake_hal.h"
#include "selftests.h"

#define SECTOR 1024u
#define SLOT_SIZE (24u * SECTOR)
#define IMAGE_SIZE 20000u

struct world {
    struct fake_conn up, dl;
    struct fake_nor flash;
    struct fake_clock clock;
    uint8_t image[IMAGE_SIZE];
    uint8_t nor[SLOT_SIZE + 2u * SECTOR];
    uint32_t file_size;       /* bytes of image[] the file server serves */
    struct fake_nor src;      /* the running image a delta file is made against */
    uint8_t src_mem[2u * SECTOR];
    const char *downlink;     /* body of the first uplink's answer */
    unsigned uplinks, requests;
    unsigned corrupt_request; /* 1-based request whose body gets a flipped byte */
    int status;               /* file server status (200, or 401) */
    int saw_downloading, saw_updating, last_result;
    char last_error[24];
    struct fake_boot boot;
    char phases[MFOTA_PHASE_COUNT_]; /* phases seen at events */
    int busy_first, retry_same;      /* answer the first uplink 503; was the retry the same */
    char first_uplink[FAKE_REQ_MAX];
    size_t first_uplink_len;
};

static struct world w;
static struct mfota_client client;
static char downlink_buf[MFOTA_CLIENT_DOWNLINK_MAX];

/* ---- the servers --------------------------------------------------------- */

static void answer_uplink(struct fake_conn *c, const char *body, size_t body_len)
{
    char head[128];
    size_t n = 0;
    const char *r;
    w.uplinks++;
    if (fake_find(body, body_len, "\"downloading\"")) {
        w.saw_downloading = 1;
    }
    if (fake_find(body, body_len, "\"updating\"")) {
        w.saw_updating = 1;
    }
    r = fake_find(body, body_len, "\"fota.result\",\"v\":");
    if (r != NULL) {
        const char *e;
        w.last_result = (int)fake_parse_uint(r + 18, &e);
    }
    r = fake_find(body, body_len, "\"fota.error\",\"vs\":\"");
    w.last_error[0] = '\0';
    if (r != NULL) {
        size_t i = 0;
        r += 19;
        while (r[i] != '"' && i + 1 < sizeof w.last_error) {
            w.last_error[i] = r[i];
            i++;
        }
        w.last_error[i] = '\0';
    }
    if (w.uplinks == 1) {
        memcpy(w.first_uplink, c->last_req, c->last_req_len);
        w.first_uplink_len = c->last_req_len;
    }
    if (w.uplinks == 1 && w.busy_first) {
        /* A 503 whose body lands where the request was: the retry must
         * write the request again. */
        static const char busy[] = "HTTP/1.1 503 Busy\r\nContent-Length: 400\r\n\r\n";
        static char filler[400];
        memset(filler, 'x', sizeof filler);
        fake_conn_queue(c, busy, sizeof busy - 1u);
        fake_conn_queue(c, filler, sizeof filler);
        c->closing = 1;
    } else if (w.uplinks == 2 && w.busy_first) {
        w.retry_same = c->last_req_len == w.first_uplink_len &&
                       memcmp(c->last_req, w.first_uplink, w.first_uplink_len) == 0;
        n = fake_put_str(head, n, "HTTP/1.1 204 No Content\r\n\r\n");
        fake_conn_queue(c, head, n);
    } else if (w.uplinks == 1 && w.downlink != NULL) {
        size_t dl = strlen(w.downlink);
        n = fake_put_str(head, n, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ");
        n = fake_put_uint(head, n, dl);
        n = fake_put_str(head, n, "\r\n\r\n");
        fake_conn_queue(c, head, n);
        fake_conn_queue(c, w.downlink, dl);
    } else {
        n = fake_put_str(head, n, "HTTP/1.1 204 No Content\r\n\r\n");
        fake_conn_queue(c, head, n);
    }
}

static void answer_file(struct fake_conn *c, const char *req, size_t len)
{
    char head[256];
    size_t n = 0;
    const char *r = fake_find(req, len, "bytes="), *e;
    uint64_t first = 0, last = w.file_size - 1u;
    uint8_t body[4096];
    size_t blen;
    w.requests++;
    if (w.status != 200) {
        n = fake_put_str(head, n, "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n");
        fake_conn_queue(c, head, n);
        return;
    }
    if (r != NULL) {
        first = fake_parse_uint(r + 6, &e);
        last = fake_parse_uint(e + 1, &e);
        if (last >= w.file_size) {
            last = w.file_size - 1u;
        }
    }
    blen = (size_t)(last - first + 1u);
    memcpy(body, w.image + first, blen);
    n = fake_put_str(head, n, "HTTP/1.1 200 OK\r\nContent-Length: ");
    n = fake_put_uint(head, n, blen);
    n = fake_put_str(head, n, "\r\nContent-Range: bytes ");
    n = fake_put_uint(head, n, first);
    n = fake_put_str(head, n, "-");
    n = fake_put_uint(head, n, last);
    n = fake_put_str(head, n, "/");
    n = fake_put_uint(head, n, w.file_size);
    n = fake_put_str(head, n, "\r\nDigest: crc32=");
    n = fake_put_hex8(head, n, mfota_crc32(0, body, blen));
    n = fake_put_str(head, n, "\r\n\r\n");
    if (w.requests == w.corrupt_request) {
        body[blen / 2u] ^= 0x40u; /* the Digest still covers the true bytes */
    }
    fake_conn_queue(c, head, n);
    fake_conn_queue(c, body, blen);
}

static void on_uplink(void *ctx, struct fake_conn *c, const char *req, size_t head_len,
                      const char *body, size_t body_len)
{
    (void)ctx;
    (void)req;
    (void)head_len;
    answer_uplink(c, body, body_len);
}

static void on_file(void *ctx, struct fake_conn *c, const char *req, size_t head_len,
                    const char *body, size_t body_len)
{
    (void)ctx;
    (void)body;
    (void)body_len;
    answer_file(c, req, head_len);
}

/* ---- a bootloader ----------------------------------------------------------- */

static uint32_t r_next(void *ctx)
{
    (void)ctx;
    return 12345u;
}

static struct mfota_transport up_t, dl_t;
static struct mfota_clock clk;
static struct mfota_random rnd;
static struct mfota_flash slot, journal, source;
static struct mfota_bootloader bl;

static void on_event(void *ctx, const struct mfota_client_event *ev)
{
    (void)ctx;
    (void)ev;
    w.phases[mfota_client_phase(&client)] = 1;
}

static void setup(const char *downlink, const char *version)
{
    struct mfota_client_config cfg;
    uint32_t i, x = 2463534242u;
    fake_conn_init(&w.up);
    fake_conn_init(&w.dl);
    w.up.on_request = on_uplink;
    w.dl.on_request = on_file;
    w.up.send_max = w.dl.send_max = 300u; /* short writes */
    w.up.recv_max = w.dl.recv_max = 333u; /* odd pieces */
    w.up.block_every = w.dl.block_every = 3u;
    w.downlink = downlink;
    w.uplinks = w.requests = 0;
    w.corrupt_request = 0;
    w.status = 200;
    w.saw_downloading = w.saw_updating = 0;
    w.last_result = -1;
    fake_boot_init(&w.boot);
    w.file_size = IMAGE_SIZE;
    memset(w.phases, 0, sizeof w.phases);
    w.busy_first = w.retry_same = 0;
    /* a fresh device: empty slot and journal */
    fake_nor_init(&w.flash, w.nor, sizeof w.nor, SECTOR, 8u);
    for (i = 0; i < IMAGE_SIZE; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        w.image[i] = (uint8_t)x;
    }
    fake_conn_transport(&w.up, &up_t);
    fake_conn_transport(&w.dl, &dl_t);
    fake_clock_hal(&w.clock, &clk);
    rnd.next = r_next;
    rnd.ctx = NULL;
    fake_nor_hal(&w.flash, &slot, 0, SLOT_SIZE);
    fake_nor_hal(&w.flash, &journal, SLOT_SIZE, 2u * SECTOR);
    /* the running image: the delta vectors' source, factory-programmed */
    fake_nor_init(&w.src, w.src_mem, sizeof w.src_mem, SECTOR, 8u);
    for (i = 0; i < DELTA_SOURCE_SIZE; i++) {
        w.src_mem[i] = DELTA_SOURCE_BYTE(i);
    }
    fake_nor_hal(&w.src, &source, 0, sizeof w.src_mem);
    fake_boot_hal(&w.boot, &bl);
    mfota_client_config_default(&cfg);
    cfg.imei = "350000000000001";
    cfg.secret = (const uint8_t *)"s3cret";
    cfg.secret_len = 6;
    cfg.version = version;
    cfg.server = "http://10.0.0.1:8080";
    cfg.uplink_transport = &up_t;
    cfg.download_transport = &dl_t;
    cfg.clock = &clk;
    cfg.random = &rnd;
    cfg.slot = &slot;
    cfg.journal_flash = &journal;
    cfg.bootloader = &bl;
    cfg.delta_source = &source;
    cfg.part_size = 2048;
    cfg.retry_base_ms = 10;
    cfg.retry_max_ms = 100;
    cfg.on_event = on_event;
    mfota_client_init(&client, &cfg);
}

static char token_char(size_t i)
{
    return (char)('a' + (int)(i % 26u));
}

/* A command for the test image whose token is `token_len` characters. */
static const char *downlink_with_token(size_t token_len)
{
    size_t n = 0, i;
    n = fake_put_str(downlink_buf, n, "[{\"bn\":\"urn:dev:IMEI:350000000000001:\"},"
                                      "{\"n\":\"url\",\"vs\":\"http://10.0.0.2/f/v1/abc\"},"
                                      "{\"n\":\"token\",\"vs\":\"");
    for (i = 0; i < token_len; i++) {
        downlink_buf[n++] = token_char(i);
    }
    n = fake_put_str(downlink_buf, n, "\"},{\"n\":\"size\",\"v\":");
    n = fake_put_uint(downlink_buf, n, IMAGE_SIZE);
    n = fake_put_str(downlink_buf, n, "},{\"n\":\"crc32\",\"vs\":\"");
    n = fake_put_hex8(downlink_buf, n, mfota_crc32(0, w.image, IMAGE_SIZE));
    n = fake_put_str(downlink_buf, n, "\"},{\"n\":\"version\",\"vs\":\"2.0.0\"}]");
    downlink_buf[n] = '\0';
    return downlink_buf;
}

static const char *good_downlink(void)
{
    return downlink_with_token(3);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Serve a delta file: the MFDP header (written here from the format's
 * table, not by delta.c) + the heatshrink vector, with a command for it. */
static const char *delta_file_downlink(void)
{
    uint8_t *f = w.image;
    size_t n = 0;
    (void)delta_patch_none;
    memcpy(f, "MFDP", 4);
    f[4] = 1;
    f[5] = 0;
    f[6] = 84;
    f[7] = 0;
    put_le32(f + 8, DELTA_SOURCE_SIZE);
    memcpy(f + 12, delta_source_sha256, 32);
    put_le32(f + 44, DELTA_NEW_SIZE);
    memcpy(f + 48, delta_new_sha256, 32);
    put_le32(f + 80, mfota_crc32(0, f, 80));
    memcpy(f + 84, delta_patch_heatshrink, sizeof delta_patch_heatshrink);
    w.file_size = 84u + (uint32_t)sizeof delta_patch_heatshrink;
    n = fake_put_str(downlink_buf, n, "[{\"bn\":\"urn:dev:IMEI:350000000000001:\"},"
                                      "{\"n\":\"url\",\"vs\":\"http://10.0.0.2/f/v1/d\"},"
                                      "{\"n\":\"token\",\"vs\":\"t\"},{\"n\":\"size\",\"v\":");
    n = fake_put_uint(downlink_buf, n, w.file_size);
    n = fake_put_str(downlink_buf, n, "},{\"n\":\"crc32\",\"vs\":\"");
    n = fake_put_hex8(downlink_buf, n, mfota_crc32(0, w.image, w.file_size));
    n = fake_put_str(downlink_buf, n, "\"}]");
    downlink_buf[n] = '\0';
    return downlink_buf;
}

static int slot_erased(uint32_t n)
{
    uint32_t i;
    for (i = 0; i < n; i++) {
        if (w.nor[i] != 0xFFu) {
            return 0;
        }
    }
    return 1;
}

/* The transitions docs/client.md draws, written out pair by pair (not from
 * the engine's table): the engine must allow exactly these. */
#define P(x) MFOTA_PHASE_##x
static const unsigned char documented[][2] = {
    {P(IDLE), P(START_UPLINK)},        {P(START_UPLINK), P(START_WAIT)},
    {P(START_WAIT), P(START_UPLINK)},  {P(DOWNLOAD), P(PROGRESS)},
    {P(DOWNLOAD), P(DL_RESUME)},       {P(PROGRESS), P(DOWNLOAD)},
    {P(PROGRESS), P(DL_RESUME)},
    {P(DL_WAIT), P(DL_RESUME)},        {P(DL_RESUME), P(DL_WAIT)},
    {P(DL_RESUME), P(DL_RESTART)},     {P(DL_RESTART), P(DL_WAIT)},
    {P(FINAL_UPLINK), P(FINAL_WAIT)},  {P(FINAL_UPLINK), P(DONE)},
    {P(FINAL_WAIT), P(FINAL_UPLINK)},  {P(DONE), P(START_UPLINK)},
};
/* Phases in which a FOTA command may start an update, and where it leads. */
static const unsigned char takes_command[] = {
    P(IDLE),    P(START_UPLINK), P(START_WAIT), P(DL_WAIT),    P(DL_RESUME),
    P(DL_RESTART), P(VERIFY),    P(FINAL_WAIT), P(DONE),
};
static const unsigned char command_leads_to[] = {P(DOWNLOAD), P(VERIFY), P(FINAL_UPLINK),
                                                 P(DONE)};
#undef P

static int documented_allows(int from, int to)
{
    size_t i, j;
    if (to == MFOTA_PHASE_FAILED || (to == MFOTA_PHASE_IDLE && from != MFOTA_PHASE_FAILED)) {
        return 1; /* a HAL failure from anywhere; an abort from anywhere but FAILED */
    }
    for (i = 0; i < sizeof documented / sizeof documented[0]; i++) {
        if (documented[i][0] == from && documented[i][1] == to) {
            return 1;
        }
    }
    for (i = 0; i < sizeof takes_command; i++) {
        for (j = 0; j < sizeof command_leads_to; j++) {
            if (takes_command[i] == from && command_leads_to[j] == to) {
                return 1;
            }
        }
    }
    return 0;
}

static int check_transitions(void)
{
    int failures = 0, from, to, mismatches = 0, names_ok = 1;
    for (from = 0; from < MFOTA_PHASE_COUNT_; from++) {
        for (to = 0; to < MFOTA_PHASE_COUNT_; to++) {
            if (mfota_phase_transition_allowed(from, to) != documented_allows(from, to)) {
                printf("  transition %s -> %s: engine %d, documented %d\n",
                       mfota_phase_name(from), mfota_phase_name(to),
                       mfota_phase_transition_allowed(from, to), documented_allows(from, to));
                mismatches++;
            }
        }
        for (to = 0; to < from; to++) {
            names_ok &= strcmp(mfota_phase_name(from), mfota_phase_name(to)) != 0;
        }
        names_ok &= strcmp(mfota_phase_name(from), "unknown") != 0;
    }
    SELFTEST_CHECK(failures, mismatches == 0, "every documented transition allowed, no other");
    SELFTEST_CHECK(failures, !mfota_phase_transition_allowed(MFOTA_PHASE_DOWNLOAD,
                                                             MFOTA_PHASE_FINAL_UPLINK) &&
                                 !mfota_phase_transition_allowed(MFOTA_PHASE_FAILED,
                                                                 MFOTA_PHASE_START_UPLINK) &&
                                 !mfota_phase_transition_allowed(MFOTA_PHASE_FAILED,
                                                                 MFOTA_PHASE_IDLE) &&
                                 !mfota_phase_transition_allowed(MFOTA_PHASE_COUNT_,
                                                                 MFOTA_PHASE_IDLE),
                   "forbidden transitions refused");
    SELFTEST_CHECK(failures, names_ok && strcmp(mfota_phase_name(-1), "unknown") == 0,
                   "phase names distinct");
    return failures;
}

/* One cycle from its start uplink, blocking. */
static int run_cycle(uint32_t timeout_ms)
{
    int rc = mfota_client_start(&client);
    return rc == MFOTA_OK ? mfota_client_run(&client, timeout_ms) : rc;
}

static void report(int failures, int *before, const char *what)
{
    printf("%s %s\n", failures > *before ? "FAIL" : "ok", what);
    *before = failures;
}

int mfota_selftest_client(void)
{
    int failures = 0, rc, steps = 0, before = 0;

    /* A full update, driven through step() with io_wait 0. */
    setup(NULL, "1.0.0");
    w.downlink = good_downlink();
    rc = mfota_client_start(&client);
    while (rc >= 0 && rc != MFOTA_DONE && steps < 100000) {
        rc = mfota_client_step(&client, 0);
        if (rc == MFOTA_WAIT) {
            w.clock.now = mfota_client_wake_at(&client);
        }
        steps++;
    }
    SELFTEST_CHECK(failures, rc == MFOTA_DONE, "update cycle ends");
    SELFTEST_CHECK(failures,
                   client.has_pending && w.boot.marked && w.boot.marked_size == IMAGE_SIZE,
                   "image marked pending");
    SELFTEST_CHECK(failures, memcmp(w.nor, w.image, IMAGE_SIZE) == 0, "slot holds the image");
    SELFTEST_CHECK(failures, strcmp(client.pending_version, "2.0.0") == 0, "pending version");
    SELFTEST_CHECK(failures, w.saw_downloading && w.saw_updating && w.last_result == 0,
                   "uplinks: downloading, updating, result 0");
    SELFTEST_CHECK(failures, w.requests == (IMAGE_SIZE + 2047u) / 2048u, "one request per part");
    SELFTEST_CHECK(failures, w.phases[MFOTA_PHASE_START_UPLINK] && w.phases[MFOTA_PHASE_DOWNLOAD] &&
                                 w.phases[MFOTA_PHASE_VERIFY] &&
                                 w.phases[MFOTA_PHASE_FINAL_UPLINK] && w.phases[MFOTA_PHASE_DONE] &&
                                 !w.phases[MFOTA_PHASE_FAILED],
                   "events seen in the update's phases");
    SELFTEST_CHECK(failures, mfota_client_phase(&client) == MFOTA_PHASE_DONE, "phase done");
    report(failures, &before, "client update over step()");

    failures += check_transitions();
    report(failures, &before, "client phase transitions");

    /* The longest token: every request goes out in pieces from the stored
     * command, and the bytes on the wire are the formatted request's. */
    setup(NULL, "1.0.0");
    w.downlink = downlink_with_token(MFOTA_TOKEN_MAX);
    rc = run_cycle(600000u);
    SELFTEST_CHECK(failures, rc == MFOTA_OK && client.has_pending &&
                                 memcmp(w.nor, w.image, IMAGE_SIZE) == 0,
                   "update with a 1024-character token");
    {
        static char want[MFOTA_HTTP_REQUEST_MAX], token[MFOTA_TOKEN_MAX];
        struct mfota_url url;
        size_t want_len = 0, i;
        const char *u = "http://10.0.0.2/f/v1/abc";
        int ok;
        for (i = 0; i < sizeof token; i++) {
            token[i] = token_char(i);
        }
        ok = mfota_url_parse(u, strlen(u), &url) == MFOTA_OK &&
                 mfota_http_request_write(want, sizeof want, &want_len, &url,
                                          token, sizeof token, 1, 18432u,
                                          IMAGE_SIZE - 1u) == MFOTA_OK;
        SELFTEST_CHECK(failures, ok && w.dl.last_req_len == want_len &&
                                     memcmp(w.dl.last_req, want, want_len) == 0,
                       "request bytes equal the formatted request");
        SELFTEST_CHECK(failures, w.dl.sends >= 2u * w.dl.requests,
                       "each request sent in pieces");
    }
    report(failures, &before, "client long token on the wire");

    /* Escapes in the command are decoded in place in the downlink buffer:
     * the request carries the decoded URL path and token. */
    setup(NULL, "1.0.0");
    {
        static char escaped[MFOTA_CLIENT_DOWNLINK_MAX];
        const char *good = good_downlink(), *tok = fake_find(good, strlen(good), "\"abc\"");
        size_t n = 0;
        n = fake_put_str(escaped, n, "[{\"bn\":\"urn:dev:IMEI:350000000000001:\"},"
                                     "{\"n\":\"url\",\"vs\":\"http:\\/\\/10.0.0.2\\/f\\/v1\\/abc\"},"
                                     "{\"n\":\"token\",\"vs\":\"t\\u006Fk\"");
        n = fake_put_str(escaped, n, tok + 5); /* the size, crc32 and version records */
        escaped[n] = '\0';
        w.downlink = escaped;
        rc = run_cycle(600000u);
        SELFTEST_CHECK(failures, rc == MFOTA_OK && client.has_pending &&
                                     memcmp(w.nor, w.image, IMAGE_SIZE) == 0,
                       "update from a command with escapes");
        SELFTEST_CHECK(failures, fake_find(w.dl.last_req, w.dl.last_req_len,
                                           "GET /f/v1/abc HTTP/1.1\r\n") == w.dl.last_req &&
                                     fake_find(w.dl.last_req, w.dl.last_req_len,
                                               "\r\nAuthorization:Bearer tok\r\n") != NULL,
                       "escapes decoded in the request");
    }
    report(failures, &before, "client command with escapes");

    /* The uplink request and the downlink body share one buffer: a 503
     * whose body overwrote the request is retried with the same bytes. */
    setup(NULL, "1.0.0");
    w.busy_first = 1;
    rc = run_cycle(60000u);
    SELFTEST_CHECK(failures, rc == MFOTA_OK && w.uplinks == 2 && w.retry_same &&
                                 client.stats.uplink_failures == 1 && client.stats.uplinks == 1,
                   "uplink retried with the same request after a 503 body");
    report(failures, &before, "client uplink retry after a body");

    /* The reboot: confirm, then report the new version with result 1. */
    setup(NULL, "2.0.0");
    rc = mfota_client_start_boot(&client);
    if (rc == MFOTA_OK) {
        rc = mfota_client_run(&client, 60000u);
    }
    SELFTEST_CHECK(failures, rc == MFOTA_OK && w.boot.confirmed && w.last_result == 1,
                   "boot report confirms and says success");
    report(failures, &before, "client boot report");

    /* A corrupted part is fetched again; the image is still right. */
    setup(NULL, "1.0.0");
    w.downlink = good_downlink();
    w.corrupt_request = 3;
    rc = run_cycle(600000u);
    SELFTEST_CHECK(failures, rc == MFOTA_OK && client.has_pending, "corrupt part recovered");
    SELFTEST_CHECK(failures, memcmp(w.nor, w.image, IMAGE_SIZE) == 0, "image after re-fetch");
    SELFTEST_CHECK(failures, w.requests >= (IMAGE_SIZE + 2047u) / 2048u + 1u &&
                                 w.requests <= (IMAGE_SIZE + 2047u) / 2048u + 2u,
                   "the corrupt part (and one pipelined request) fetched again");
    report(failures, &before, "client corrupt part");

    /* A bad downlink: answered with result 7, nothing written. */
    setup("[{\"bn\":\"urn:dev:IMEI:350000000000001:\"},"
          "{\"n\":\"url\",\"vs\":\"ftp://10.0.0.2/f\"},{\"n\":\"token\",\"vs\":\"t\"}]",
          "1.0.0");
    rc = run_cycle(60000u);
    SELFTEST_CHECK(failures, rc == MFOTA_OK && client.result == MFOTA_RESULT_INVALID_URI,
                   "bad downlink: result 7");
    SELFTEST_CHECK(failures, w.last_result == 7 && strcmp(w.last_error, "bad_url") == 0,
                   "bad downlink reported");
    SELFTEST_CHECK(failures, w.flash.programs == 0 && w.flash.erases == 0 && w.requests == 0,
                   "bad downlink: nothing fetched or written");
    report(failures, &before, "client bad downlink");

    /* The file server refuses the token: result 4 "token". */
    setup(NULL, "1.0.0");
    w.downlink = good_downlink();
    w.status = 401;
    rc = run_cycle(60000u);
    SELFTEST_CHECK(failures, rc == MFOTA_OK && client.result == MFOTA_RESULT_CONNECTION_LOST &&
                                 !client.has_pending,
                   "401: result 4");
    SELFTEST_CHECK(failures, w.last_result == 4 && strcmp(w.last_error, "token") == 0,
                   "401 reported as token");
    report(failures, &before, "client token refused");

    /* A delta file instead of an image. */
    setup(NULL, "1.0.0");
    w.downlink = delta_file_downlink();
    rc = run_cycle(600000u);
#if MFOTA_DELTA
    {
        struct mfota_sha256 sha;
        uint8_t digest[32];
        mfota_sha256_init(&sha);
        mfota_sha256_update(&sha, w.nor, DELTA_NEW_SIZE);
        mfota_sha256_final(&sha, digest);
        SELFTEST_CHECK(failures, rc == MFOTA_OK && client.has_pending && w.boot.marked &&
                                     w.boot.marked_size == DELTA_NEW_SIZE,
                       "delta file: the rebuilt image is marked pending");
        SELFTEST_CHECK(failures, memcmp(digest, delta_new_sha256, 32) == 0,
                       "delta file: the slot holds the new image");
        SELFTEST_CHECK(failures, w.requests == 1u && w.last_result == 0,
                       "delta file: one request, result 0");
    }
#else
    SELFTEST_CHECK(failures, rc == MFOTA_OK && !client.has_pending && w.last_result == 6 &&
                                 strcmp(w.last_error, "delta_unsupported") == 0,
                   "delta file without MFOTA_DELTA: result 6 delta_unsupported");
    SELFTEST_CHECK(failures, slot_erased(SLOT_SIZE), "delta file without MFOTA_DELTA: slot untouched");
#endif
    SELFTEST_CHECK(failures, w.src.programs == 0u && w.src.erases == 0u,
                   "delta file: the source is never written");
    report(failures, &before, "client delta file");

    /* A delta file made against another image: refused before any write. */
    setup(NULL, "1.0.0");
    w.downlink = delta_file_downlink();
    w.src_mem[100] ^= 0x01u;
    rc = run_cycle(600000u);
    SELFTEST_CHECK(failures, rc == MFOTA_OK && !client.has_pending && w.last_result == 6 &&
                                 strcmp(w.last_error, MFOTA_DELTA ? "delta_source"
                                                                  : "delta_unsupported") == 0,
                   "delta file for another source: result 6");
    SELFTEST_CHECK(failures, slot_erased(SLOT_SIZE), "delta file for another source: slot untouched");
    report(failures, &before, "client delta file, wrong source");
#if !MFOTA_DELTA
    /* Pieces of 1..5 bytes split the magic at every place: a delta file is
     * still refused, and an image whose first bytes are "MFD" (the magic's
     * first three, then another) is still written whole. */
    {
        size_t piece;
        for (piece = 1u; piece <= 5u; piece++) {
            setup(NULL, "1.0.0");
            w.downlink = delta_file_downlink();
            w.dl.recv_max = piece;
            rc = run_cycle(600000u);
            SELFTEST_CHECK(failures, rc == MFOTA_OK && !client.has_pending &&
                                         w.last_result == 6 &&
                                         strcmp(w.last_error, "delta_unsupported") == 0,
                           "delta file in small pieces: refused");
            setup(NULL, "1.0.0");
            memcpy(w.image, "MFDQ", 4);
            w.downlink = good_downlink();
            w.dl.recv_max = piece;
            rc = run_cycle(600000u);
            SELFTEST_CHECK(failures, rc == MFOTA_OK && client.has_pending &&
                                         memcmp(w.nor, w.image, IMAGE_SIZE) == 0,
                           "an image starting MFD, in small pieces: written whole");
        }
    }
    report(failures, &before, "client delta magic split");
#endif
    return failures;
}
