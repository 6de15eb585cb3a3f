#include "fake_hal.h"

#include <string.h>

#include "m2mfota/err.h"

/* ---- NOR flash ------------------------------------------------------------------ */

void fake_nor_init(struct fake_nor *n, uint8_t *mem, size_t size, uint32_t sector_size,
                   uint32_t program_size)
{
    memset(n, 0, sizeof *n);
    n->mem = mem;
    n->size = size;
    n->sector_size = sector_size;
    n->program_size = program_size;
    n->powered = 1;
    n->cut_after = -1;
    n->error = FAKE_HAL_EIO;
    memset(mem, 0xFF, size);
}

void fake_nor_power_on(struct fake_nor *n, long cut_after)
{
    n->powered = 1;
    n->cut_after = cut_after;
    n->ops = 0;
}

/* The operation about to happen is the one the power cut tears. */
static int cut_now(struct fake_nor *n)
{
    if (n->cut_after >= 0 && n->ops >= n->cut_after) {
        n->powered = 0;
        return 1;
    }
    n->ops++;
    return 0;
}

static int nor_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    struct fake_nor *n = (struct fake_nor *)ctx;
    if (!n->powered || (size_t)off + len > n->size) {
        n->violations += n->powered ? 1u : 0u;
        return n->error;
    }
    n->reads++;
    memcpy(buf, n->mem + off, len);
    return 0;
}

static int nor_program(void *ctx, uint32_t off, const void *data, size_t len)
{
    struct fake_nor *n = (struct fake_nor *)ctx;
    const uint8_t *d = (const uint8_t *)data;
    size_t i;
    if (!n->powered) {
        return n->error;
    }
    if (off % n->program_size || len % n->program_size || (size_t)off + len > n->size) {
        n->violations++;
        return n->error;
    }
    for (i = 0; i < len; i++) {
        if (n->mem[off + i] != 0xFFu) {
            n->violations++; /* the writer skipped an erase */
            return n->error;
        }
    }
    if (cut_now(n)) {
        len = len / n->program_size / 2u * n->program_size;
    }
    for (i = 0; i < len; i++) {
        n->mem[off + i] &= d[i];
    }
    if (!n->powered) {
        return n->error;
    }
    n->programs++;
    return 0;
}

static int nor_erase(void *ctx, uint32_t off)
{
    struct fake_nor *n = (struct fake_nor *)ctx;
    size_t len = n->sector_size;
    if (!n->powered) {
        return n->error;
    }
    if (off % n->sector_size || (size_t)off + n->sector_size > n->size) {
        n->violations++;
        return n->error;
    }
    if (cut_now(n)) {
        len /= 2u;
    }
    memset(n->mem + off, 0xFF, len);
    if (!n->powered) {
        return n->error;
    }
    n->erases++;
    if (n->sector_erases != NULL) {
        n->sector_erases[off / n->sector_size]++;
    }
    return 0;
}

void fake_nor_hal(struct fake_nor *n, struct mfota_flash *out, uint32_t offset, uint32_t size)
{
    memset(out, 0, sizeof *out);
    out->read = nor_read;
    out->program = nor_program;
    out->erase = nor_erase;
    out->ctx = n;
    out->program_size = n->program_size;
    out->sector_size = n->sector_size;
    out->erased_value = 0xFF;
    out->slot_offset = offset;
    out->slot_size = size;
}

/* ---- bootloader ------------------------------------------------------------------ */

void fake_boot_init(struct fake_boot *b)
{
    memset(b, 0, sizeof *b);
}

static int boot_mark(void *ctx, uint32_t size, int permanent)
{
    struct fake_boot *b = (struct fake_boot *)ctx;
    b->marked = 1;
    b->marked_size = size;
    b->permanent = permanent;
    return b->rc;
}

static int boot_confirm(void *ctx)
{
    struct fake_boot *b = (struct fake_boot *)ctx;
    b->confirmed = 1;
    return b->rc;
}

void fake_boot_hal(struct fake_boot *b, struct mfota_bootloader *out)
{
    memset(out, 0, sizeof *out);
    out->mark_pending = boot_mark;
    out->confirm = boot_confirm;
    out->running_version = NULL;
    out->check_image = mfota_bootloader_accept_raw;
    out->ctx = b;
}

/* ---- scripted transport ------------------------------------------------------------ */

void fake_conn_init(struct fake_conn *c)
{
    memset(c, 0, sizeof *c);
    c->connect_rc = MFOTA_OK;
}

void fake_conn_queue(struct fake_conn *c, const void *data, size_t len)
{
    memmove(c->out, c->out + c->out_pos, c->out_len - c->out_pos);
    c->out_len -= c->out_pos;
    c->out_pos = 0;
    if (c->out_len + len > FAKE_OUT_MAX) {
        len = FAKE_OUT_MAX - c->out_len;
    }
    memcpy(c->out + c->out_len, data, len);
    c->out_len += len;
}

/* Hand every complete request in req to on_request(). */
static void take_requests(struct fake_conn *c)
{
    for (;;) {
        const char *end = fake_find(c->req, c->req_len, "\r\n\r\n"), *cl, *e;
        size_t head_len, body_len = 0;
        if (end == NULL) {
            return;
        }
        head_len = (size_t)(end - c->req) + 4u;
        cl = fake_find(c->req, head_len, "Content-Length:");
        if (cl != NULL) {
            cl += 15;
            while (*cl == ' ') {
                cl++;
            }
            body_len = (size_t)fake_parse_uint(cl, &e);
        }
        if (c->req_len < head_len + body_len) {
            return;
        }
        c->requests++;
        memcpy(c->last_req, c->req, head_len + body_len);
        c->last_req_len = head_len + body_len;
        if (c->on_request != NULL) {
            c->on_request(c->ctx, c, c->req, head_len, c->req + head_len, body_len);
        }
        memmove(c->req, c->req + head_len + body_len, c->req_len - head_len - body_len);
        c->req_len -= head_len + body_len;
    }
}

static int t_connect(void *ctx, const char *host, uint16_t port)
{
    struct fake_conn *c = (struct fake_conn *)ctx;
    size_t n = strlen(host);
    if (n >= sizeof c->host) {
        n = sizeof c->host - 1u;
    }
    memcpy(c->host, host, n);
    c->host[n] = '\0';
    c->port = port;
    if (c->connect_rc != MFOTA_OK) {
        return c->connect_rc;
    }
    if (c->script != NULL && c->script_pos >= c->script_len) {
        return MFOTA_ERR_DL_CONNECT;
    }
    if (c->connected) {
        c->double_connects++;
    }
    c->connects++;
    c->connected = 1;
    c->closing = 0;
    c->req_len = 0;
    if (!c->keep_queue) {
        c->out_len = c->out_pos = 0;
    }
    return MFOTA_OK;
}

static int t_send(void *ctx, const uint8_t *data, size_t len, size_t *sent)
{
    struct fake_conn *c = (struct fake_conn *)ctx;
    size_t n = c->send_max != 0u && len > c->send_max ? c->send_max : len;
    if (!c->connected || (c->closing && c->refuse_when_closing)) {
        return MFOTA_ERR_DL_CLOSED;
    }
    if (c->send_room != 0u && FAKE_OUT_MAX - (c->out_len - c->out_pos) < c->send_room) {
        return MFOTA_WOULD_BLOCK; /* answers pile up unread: push back */
    }
    if (c->req_len + n > FAKE_REQ_MAX) {
        return MFOTA_ERR_DL_IO;
    }
    memcpy(c->req + c->req_len, data, n);
    c->req_len += n;
    c->sends++;
    *sent = n;
    take_requests(c);
    return MFOTA_OK;
}

static void tick(struct fake_conn *c, uint32_t ms)
{
    if (c->clock != NULL) {
        c->clock->now += ms;
    }
}

static int t_recv(void *ctx, uint8_t *buf, size_t cap, size_t *got, uint32_t timeout_ms)
{
    struct fake_conn *c = (struct fake_conn *)ctx;
    const uint8_t *src = c->script != NULL ? c->script : c->out;
    size_t *pos = c->script != NULL ? &c->script_pos : &c->out_pos;
    size_t end = c->script != NULL ? c->script_len : c->out_len, n;
    (void)timeout_ms;
    *got = 0;
    if (!c->connected) {
        return MFOTA_ERR_DL_CLOSED;
    }
    if (*pos == end && (c->closing || c->script != NULL)) {
        return MFOTA_DONE;
    }
    if ((c->block_every != 0u && ++c->calls % c->block_every == 0u) || *pos == end) {
        tick(c, c->block_tick_ms);
        return MFOTA_WOULD_BLOCK;
    }
    n = c->recv_max != 0u ? c->recv_max : cap;
    if (c->lcg != 0u) {
        c->lcg = c->lcg * 1103515245u + 12345u;
        n = 1u + (size_t)((c->lcg >> 16) % n);
    }
    if (n > cap) {
        n = cap;
    }
    if (n > end - *pos) {
        n = end - *pos;
    }
    memcpy(buf, src + *pos, n);
    *pos += n;
    if (c->script == NULL && c->out_pos == c->out_len) {
        c->out_pos = c->out_len = 0;
    }
    tick(c, c->recv_tick_ms);
    *got = n;
    return MFOTA_OK;
}

static void t_close(void *ctx)
{
    struct fake_conn *c = (struct fake_conn *)ctx;
    c->connected = 0;
}

void fake_conn_transport(struct fake_conn *c, struct mfota_transport *out)
{
    out->connect = t_connect;
    out->send = t_send;
    out->recv = t_recv;
    out->close = t_close;
    out->ctx = c;
}

/* ---- manual clock ------------------------------------------------------------------- */

static uint64_t k_now(void *ctx)
{
    struct fake_clock *k = (struct fake_clock *)ctx;
    k->now += k->tick;
    return k->now;
}

static void k_sleep(void *ctx, uint32_t ms)
{
    struct fake_clock *k = (struct fake_clock *)ctx;
    k->now += ms;
}

void fake_clock_hal(struct fake_clock *k, struct mfota_clock *out)
{
    out->now_ms = k_now;
    out->sleep_ms = k_sleep;
    out->ctx = k;
}

/* ---- text helpers --------------------------------------------------------------------- */

size_t fake_put_str(char *o, size_t at, const char *s)
{
    size_t n = strlen(s);
    memcpy(o + at, s, n);
    return at + n;
}

size_t fake_put_uint(char *o, size_t at, uint64_t v)
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

size_t fake_put_hex8(char *o, size_t at, uint32_t v)
{
    static const char hex[] = "0123456789abcdef";
    int i;
    for (i = 7; i >= 0; i--) {
        o[at++] = hex[(v >> (4 * i)) & 15u];
    }
    return at;
}

const char *fake_find(const char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle), i;
    for (i = 0; i + k <= n; i++) {
        if (memcmp(hay + i, needle, k) == 0) {
            return hay + i;
        }
    }
    return NULL;
}

uint64_t fake_parse_uint(const char *p, const char **end)
{
    uint64_t v = 0;
    while (*p >= '0' && *p <= '9') {
        v = v * 10u + (uint64_t)(*p - '0');
        p++;
    }
    *end = p;
    return v;
}
