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
 * "token"). */
#include <string.h>

#include "m2mfota/client.h"
#include "m2mfota/crc32.h"
#include "m2mfota/err.h"
#include "selftests.h"

#define SECTOR 1024u
#define SLOT_SIZE (24u * SECTOR)
#define IMAGE_SIZE 20000u
#define OUT_MAX 6144u
#define REQ_MAX 2048u

struct fake_conn {
    int is_file;              /* 1: the file server, 0: the ingestion endpoint */
    int connected;
    char req[REQ_MAX];
    size_t req_len;
    uint8_t out[OUT_MAX];
    size_t out_len, out_pos;
    unsigned calls;
};

struct world {
    struct fake_conn up, dl;
    uint8_t image[IMAGE_SIZE];
    uint8_t nor[SLOT_SIZE + 2u * SECTOR];
    unsigned programs, erases;
    const char *downlink;     /* body of the first uplink's answer */
    unsigned uplinks, requests;
    unsigned corrupt_request; /* 1-based request whose body gets a flipped byte */
    int status;               /* file server status (200, or 401) */
    int saw_downloading, saw_updating, last_result;
    char last_error[24];
    uint64_t now;
    int marked, confirmed;
    uint32_t marked_size;
};

static struct world w;
static struct mfota_client client;
static char downlink_buf[512];

/* ---- small formatting helpers (no snprintf in the suites) ---------------- */

static size_t put_str(char *o, size_t at, const char *s)
{
    size_t n = strlen(s);
    memcpy(o + at, s, n);
    return at + n;
}

static size_t put_uint(char *o, size_t at, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v);
    while (n) {
        o[at++] = tmp[--n];
    }
    return at;
}

static size_t put_hex8(char *o, size_t at, uint32_t v)
{
    static const char hex[] = "0123456789abcdef";
    int i;
    for (i = 7; i >= 0; i--) {
        o[at++] = hex[(v >> (4 * i)) & 15u];
    }
    return at;
}

static const char *find(const char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle), i;
    for (i = 0; i + k <= n; i++) {
        if (memcmp(hay + i, needle, k) == 0) {
            return hay + i;
        }
    }
    return NULL;
}

static uint64_t parse_uint(const char *p, const char **end)
{
    uint64_t v = 0;
    while (*p >= '0' && *p <= '9') {
        v = v * 10u + (uint64_t)(*p - '0');
        p++;
    }
    *end = p;
    return v;
}

/* ---- the servers --------------------------------------------------------- */

static void queue(struct fake_conn *c, const void *data, size_t len)
{
    memmove(c->out, c->out + c->out_pos, c->out_len - c->out_pos);
    c->out_len -= c->out_pos;
    c->out_pos = 0;
    if (c->out_len + len > OUT_MAX) {
        len = OUT_MAX - c->out_len; /* a client that never reads: cut (it will notice) */
    }
    memcpy(c->out + c->out_len, data, len);
    c->out_len += len;
}

static void answer_uplink(struct fake_conn *c, const char *body, size_t body_len)
{
    char head[128];
    size_t n = 0;
    const char *r;
    w.uplinks++;
    if (find(body, body_len, "\"downloading\"")) {
        w.saw_downloading = 1;
    }
    if (find(body, body_len, "\"updating\"")) {
        w.saw_updating = 1;
    }
    r = find(body, body_len, "\"fota.result\",\"v\":");
    if (r != NULL) {
        const char *e;
        w.last_result = (int)parse_uint(r + 18, &e);
    }
    r = find(body, body_len, "\"fota.error\",\"vs\":\"");
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
    if (w.uplinks == 1 && w.downlink != NULL) {
        size_t dl = strlen(w.downlink);
        n = put_str(head, n, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ");
        n = put_uint(head, n, dl);
        n = put_str(head, n, "\r\n\r\n");
        queue(c, head, n);
        queue(c, w.downlink, dl);
    } else {
        n = put_str(head, n, "HTTP/1.1 204 No Content\r\n\r\n");
        queue(c, head, n);
    }
}

static void answer_file(struct fake_conn *c, const char *req, size_t len)
{
    char head[256];
    size_t n = 0;
    const char *r = find(req, len, "bytes="), *e;
    uint64_t first = 0, last = IMAGE_SIZE - 1u;
    uint8_t body[4096];
    size_t blen;
    w.requests++;
    if (w.status != 200) {
        n = put_str(head, n, "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n");
        queue(c, head, n);
        return;
    }
    if (r != NULL) {
        first = parse_uint(r + 6, &e);
        last = parse_uint(e + 1, &e);
        if (last >= IMAGE_SIZE) {
            last = IMAGE_SIZE - 1u;
        }
    }
    blen = (size_t)(last - first + 1u);
    memcpy(body, w.image + first, blen);
    n = put_str(head, n, "HTTP/1.1 200 OK\r\nContent-Length: ");
    n = put_uint(head, n, blen);
    n = put_str(head, n, "\r\nContent-Range: bytes ");
    n = put_uint(head, n, first);
    n = put_str(head, n, "-");
    n = put_uint(head, n, last);
    n = put_str(head, n, "/");
    n = put_uint(head, n, IMAGE_SIZE);
    n = put_str(head, n, "\r\nDigest: crc32=");
    n = put_hex8(head, n, mfota_crc32(0, body, blen));
    n = put_str(head, n, "\r\n\r\n");
    if (w.requests == w.corrupt_request) {
        body[blen / 2u] ^= 0x40u; /* the Digest still covers the true bytes */
    }
    queue(c, head, n);
    queue(c, body, blen);
}

/* A request is complete: its head ended, and for a POST its body is in. */
static void maybe_answer(struct fake_conn *c)
{
    const char *end = find(c->req, c->req_len, "\r\n\r\n"), *cl, *e;
    size_t head_len, body_len = 0;
    if (end == NULL) {
        return;
    }
    head_len = (size_t)(end - c->req) + 4u;
    cl = find(c->req, head_len, "Content-Length:");
    if (cl != NULL) {
        cl += 15;
        while (*cl == ' ') {
            cl++;
        }
        body_len = (size_t)parse_uint(cl, &e);
    }
    if (c->req_len < head_len + body_len) {
        return;
    }
    if (c->is_file) {
        answer_file(c, c->req, head_len);
    } else {
        answer_uplink(c, c->req + head_len, body_len);
    }
    memmove(c->req, c->req + head_len + body_len, c->req_len - head_len - body_len);
    c->req_len -= head_len + body_len;
}

static int t_connect(void *ctx, const char *host, uint16_t port)
{
    struct fake_conn *c = (struct fake_conn *)ctx;
    (void)host;
    (void)port;
    c->connected = 1;
    c->req_len = c->out_len = c->out_pos = 0;
    return MFOTA_OK;
}

static int t_send(void *ctx, const uint8_t *data, size_t len, size_t *sent)
{
    struct fake_conn *c = (struct fake_conn *)ctx;
    size_t n = len > 300u ? 300u : len; /* short writes */
    if (!c->connected) {
        return MFOTA_ERR_DL_CLOSED;
    }
    if (c->req_len + n > REQ_MAX) {
        return MFOTA_ERR_DL_IO;
    }
    memcpy(c->req + c->req_len, data, n);
    c->req_len += n;
    *sent = n;
    maybe_answer(c);
    return MFOTA_OK;
}

static int t_recv(void *ctx, uint8_t *buf, size_t cap, size_t *got, uint32_t timeout_ms)
{
    struct fake_conn *c = (struct fake_conn *)ctx;
    size_t n;
    (void)timeout_ms;
    if (!c->connected) {
        return MFOTA_ERR_DL_CLOSED;
    }
    if (++c->calls % 3u == 0u || c->out_pos == c->out_len) {
        return MFOTA_WOULD_BLOCK;
    }
    n = c->out_len - c->out_pos;
    if (n > cap) {
        n = cap;
    }
    if (n > 333u) {
        n = 333u; /* odd pieces */
    }
    memcpy(buf, c->out + c->out_pos, n);
    c->out_pos += n;
    if (c->out_pos == c->out_len) {
        c->out_pos = c->out_len = 0;
    }
    *got = n;
    return MFOTA_OK;
}

static void t_close(void *ctx)
{
    struct fake_conn *c = (struct fake_conn *)ctx;
    c->connected = 0;
}

static uint64_t c_now(void *ctx)
{
    (void)ctx;
    return w.now;
}

static void c_sleep(void *ctx, uint32_t ms)
{
    (void)ctx;
    w.now += ms;
}

/* ---- RAM NOR flash and a bootloader -------------------------------------- */

static int f_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    (void)ctx;
    memcpy(buf, w.nor + off, len);
    return 0;
}

static int f_program(void *ctx, uint32_t off, const void *data, size_t len)
{
    const uint8_t *d = (const uint8_t *)data;
    size_t i;
    (void)ctx;
    for (i = 0; i < len; i++) {
        w.nor[off + i] &= d[i];
    }
    w.programs++;
    return 0;
}

static int f_erase(void *ctx, uint32_t off)
{
    (void)ctx;
    memset(w.nor + off, 0xFF, SECTOR);
    w.erases++;
    return 0;
}

static int b_mark(void *ctx, uint32_t size, int permanent)
{
    (void)ctx;
    (void)permanent;
    w.marked = 1;
    w.marked_size = size;
    return 0;
}

static int b_confirm(void *ctx)
{
    (void)ctx;
    w.confirmed = 1;
    return 0;
}

static uint32_t r_next(void *ctx)
{
    (void)ctx;
    return 12345u;
}

static struct mfota_transport up_t, dl_t;
static struct mfota_clock clk;
static struct mfota_random rnd;
static struct mfota_flash slot, journal;
static struct mfota_bootloader bl;

static void setup(const char *downlink, const char *version)
{
    struct mfota_client_config cfg;
    uint32_t i, x = 2463534242u;
    memset(&w.up, 0, sizeof w.up);
    memset(&w.dl, 0, sizeof w.dl);
    w.dl.is_file = 1;
    w.downlink = downlink;
    w.uplinks = w.requests = 0;
    w.corrupt_request = 0;
    w.status = 200;
    w.saw_downloading = w.saw_updating = 0;
    w.last_result = -1;
    w.marked = w.confirmed = 0;
    w.programs = w.erases = 0;
    memset(w.nor, 0xFF, sizeof w.nor); /* a fresh device: empty slot and journal */
    for (i = 0; i < IMAGE_SIZE; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        w.image[i] = (uint8_t)x;
    }
    up_t.connect = dl_t.connect = t_connect;
    up_t.send = dl_t.send = t_send;
    up_t.recv = dl_t.recv = t_recv;
    up_t.close = dl_t.close = t_close;
    up_t.ctx = &w.up;
    dl_t.ctx = &w.dl;
    clk.now_ms = c_now;
    clk.sleep_ms = c_sleep;
    clk.ctx = NULL;
    rnd.next = r_next;
    rnd.ctx = NULL;
    memset(&slot, 0, sizeof slot);
    slot.read = f_read;
    slot.program = f_program;
    slot.erase = f_erase;
    slot.program_size = 8;
    slot.sector_size = SECTOR;
    slot.erased_value = 0xFF;
    slot.slot_offset = 0;
    slot.slot_size = SLOT_SIZE;
    journal = slot;
    journal.slot_offset = SLOT_SIZE;
    journal.slot_size = 2u * SECTOR;
    bl.mark_pending = b_mark;
    bl.confirm = b_confirm;
    bl.running_version = NULL;
    bl.check_image = mfota_bootloader_accept_raw; /* raw test images */
    bl.ctx = NULL;
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
    cfg.part_size = 2048;
    cfg.retry_base_ms = 10;
    cfg.retry_max_ms = 100;
    mfota_client_init(&client, &cfg);
}

static const char *good_downlink(void)
{
    size_t n = 0;
    n = put_str(downlink_buf, n, "[{\"bn\":\"urn:dev:IMEI:350000000000001:\"},"
                                 "{\"n\":\"url\",\"vs\":\"http://10.0.0.2/f/v1/abc\"},"
                                 "{\"n\":\"token\",\"vs\":\"tok\"},{\"n\":\"size\",\"v\":");
    n = put_uint(downlink_buf, n, IMAGE_SIZE);
    n = put_str(downlink_buf, n, "},{\"n\":\"crc32\",\"vs\":\"");
    n = put_hex8(downlink_buf, n, mfota_crc32(0, w.image, IMAGE_SIZE));
    n = put_str(downlink_buf, n, "\"},{\"n\":\"version\",\"vs\":\"2.0.0\"}]");
    downlink_buf[n] = '\0';
    return downlink_buf;
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
            w.now = mfota_client_wake_at(&client);
        }
        steps++;
    }
    SELFTEST_CHECK(failures, rc == MFOTA_DONE, "update cycle ends");
    SELFTEST_CHECK(failures, client.has_pending && w.marked && w.marked_size == IMAGE_SIZE,
                   "image marked pending");
    SELFTEST_CHECK(failures, memcmp(w.nor, w.image, IMAGE_SIZE) == 0, "slot holds the image");
    SELFTEST_CHECK(failures, strcmp(client.pending_version, "2.0.0") == 0, "pending version");
    SELFTEST_CHECK(failures, w.saw_downloading && w.saw_updating && w.last_result == 0,
                   "uplinks: downloading, updating, result 0");
    SELFTEST_CHECK(failures, w.requests == (IMAGE_SIZE + 2047u) / 2048u, "one request per part");
    report(failures, &before, "client update over step()");

    /* The reboot: confirm, then report the new version with result 1. */
    setup(NULL, "2.0.0");
    rc = mfota_client_start_boot(&client);
    if (rc == MFOTA_OK) {
        rc = mfota_client_run(&client, 60000u);
    }
    SELFTEST_CHECK(failures, rc == MFOTA_OK && w.confirmed && w.last_result == 1,
                   "boot report confirms and says success");
    report(failures, &before, "client boot report");

    /* A corrupted part is fetched again; the image is still right. */
    setup(NULL, "1.0.0");
    w.downlink = good_downlink();
    w.corrupt_request = 3;
    rc = mfota_client_start(&client);
    if (rc == MFOTA_OK) {
        rc = mfota_client_run(&client, 600000u);
    }
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
    rc = mfota_client_start(&client);
    if (rc == MFOTA_OK) {
        rc = mfota_client_run(&client, 60000u);
    }
    SELFTEST_CHECK(failures, rc == MFOTA_OK && client.result == MFOTA_RESULT_INVALID_URI,
                   "bad downlink: result 7");
    SELFTEST_CHECK(failures, w.last_result == 7 && strcmp(w.last_error, "bad_url") == 0,
                   "bad downlink reported");
    SELFTEST_CHECK(failures, w.programs == 0 && w.erases == 0 && w.requests == 0,
                   "bad downlink: nothing fetched or written");
    report(failures, &before, "client bad downlink");

    /* The file server refuses the token: result 4 "token". */
    setup(NULL, "1.0.0");
    w.downlink = good_downlink();
    w.status = 401;
    rc = mfota_client_start(&client);
    if (rc == MFOTA_OK) {
        rc = mfota_client_run(&client, 60000u);
    }
    SELFTEST_CHECK(failures, rc == MFOTA_OK && client.result == MFOTA_RESULT_CONNECTION_LOST &&
                                 !client.has_pending,
                   "401: result 4");
    SELFTEST_CHECK(failures, w.last_result == 4 && strcmp(w.last_error, "token") == 0,
                   "401 reported as token");
    report(failures, &before, "client token refused");
    return failures;
}
