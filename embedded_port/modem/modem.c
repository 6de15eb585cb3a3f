#include "modem.h"

#include <string.h>

#include "m2mfota/err.h"

/* After a silence, late bytes of the timed-out command may still come:
 * they are read and dropped for this long once the modem answers again. */
#define DRAIN_MS 100u
/* recv() asks AT+USORD=s,0 once a socket had no news (URC, data) for this
 * long: a URC lost while the modem was silent must not stall it for ever. */
#define QUERY_AFTER_MS 500u

/* The running command: what the event handler fills in. */
struct mfota_modem_cmd {
    int expect;        /* the information event wanted (MFOTA_AT_EV_*), 0: none */
    int final;         /* MFOTA_AT_EV_OK / _ERROR / _CME once the command ended */
    int prompt;        /* the "@" came */
    int got_info;
    int32_t a, b;
    uint8_t *dst;      /* +USORD payload destination */
    size_t cap, got;
};

/* ---- command text without snprintf ---------------------------------------- */

struct line {
    char b[48];
    size_t n;
    int overflow;
};

static void put(struct line *l, const char *s)
{
    while (*s) {
        if (l->n + 1 >= sizeof l->b) {
            l->overflow = 1;
            return;
        }
        l->b[l->n++] = *s++;
    }
}

static void put_u(struct line *l, uint32_t v)
{
    char d[10];
    int i = 0;
    do {
        d[i++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0);
    while (i > 0) {
        if (l->n + 1 >= sizeof l->b) {
            l->overflow = 1;
            return;
        }
        l->b[l->n++] = d[--i];
    }
}

/* ---- events --------------------------------------------------------------- */

static struct mfota_modem_socket *find(struct mfota_modem *m, int32_t id)
{
    int i;
    for (i = 0; i < MFOTA_MODEM_SOCKETS; i++) {
        if (m->socks[i] != NULL && m->socks[i]->id >= 0 && m->socks[i]->id == id) {
            return m->socks[i];
        }
    }
    return NULL;
}

/* Returns 1 when the event is a URC (wakes a wait for one). */
static int handle(struct mfota_modem *m, const struct mfota_at_event *ev)
{
    struct mfota_modem_cmd *c = m->cmd;
    struct mfota_modem_socket *s;
    switch (ev->kind) {
    case MFOTA_AT_EV_URC_DATA:
        m->stats.urcs++;
        s = find(m, ev->a);
        if (s != NULL && ev->b >= 0) {
            s->pending = ev->b > 0xFFFF ? 0xFFFF : (uint16_t)ev->b;
            s->last_news = (uint32_t)m->uart->now_ms(m->uart->ctx);
        }
        return 1;
    case MFOTA_AT_EV_URC_CLOSED:
        m->stats.urcs++;
        s = find(m, ev->a);
        if (s != NULL) {
            s->peer_closed = 1;
        }
        return 1;
    case MFOTA_AT_EV_OK:
    case MFOTA_AT_EV_ERROR:
    case MFOTA_AT_EV_CME:
        if (c != NULL && c->final == 0) {
            c->final = ev->kind;
            if (ev->kind != MFOTA_AT_EV_OK) {
                m->stats.errors++;
                m->last_cme = ev->kind == MFOTA_AT_EV_CME ? ev->a : -1;
            }
        }
        return 0;
    case MFOTA_AT_EV_PROMPT:
        if (c != NULL) {
            c->prompt = 1;
        }
        return 0;
    case MFOTA_AT_EV_USOCR:
    case MFOTA_AT_EV_USOWR:
    case MFOTA_AT_EV_USORD_LEN:
    case MFOTA_AT_EV_DATA_BEGIN:
        if (c != NULL && c->final == 0 && c->expect == ev->kind) {
            c->got_info = 1;
            c->a = ev->a;
            c->b = ev->b;
        }
        return 0;
    case MFOTA_AT_EV_DATA:
        if (c != NULL && c->final == 0 && c->dst != NULL && c->got_info) {
            size_t n = ev->len < c->cap - c->got ? ev->len : c->cap - c->got;
            memcpy(c->dst + c->got, ev->data, n);
            c->got += n;
        }
        return 0;
    default: /* echo, other lines, DATA_END */
        return 0;
    }
}

/* Feed UART bytes to the parser until the running command is done (or, with
 * no command, until a URC came), or until `deadline`: MFOTA_OK, or
 * MFOTA_ERR_DL_TIMEOUT, or MFOTA_ERR_DL_IO when the UART fails. */
static int pump(struct mfota_modem *m, uint64_t deadline, int want_prompt)
{
    const struct mfota_modem_uart *u = m->uart;
    int woke = 0;
    for (;;) {
        struct mfota_modem_cmd *c = m->cmd;
        uint64_t now;
        int n;
        for (;;) {
            struct mfota_at_event ev;
            size_t used = 0;
            int kind = mfota_at_parser_feed(&m->parser, m->rx + m->rx_pos,
                                            (size_t)(m->rx_len - m->rx_pos), &used, &ev);
            m->rx_pos = (uint16_t)(m->rx_pos + used);
            if (kind == MFOTA_AT_EV_NONE) {
                break;
            }
            woke |= handle(m, &ev);
            if (c != NULL ? (c->final != 0 || (want_prompt && c->prompt)) : woke) {
                return MFOTA_OK;
            }
        }
        now = u->now_ms(u->ctx);
        n = u->read(u->ctx, m->rx, sizeof m->rx,
                    now >= deadline ? 0u
                                    : (deadline - now > 0xFFFFFFFFu ? 0xFFFFFFFFu
                                                                    : (uint32_t)(deadline - now)));
        if (n < 0) {
            return MFOTA_ERR_DL_IO;
        }
        m->rx_pos = 0;
        m->rx_len = (uint16_t)((size_t)n > sizeof m->rx ? sizeof m->rx : (size_t)n);
        if (n == 0 && u->now_ms(u->ctx) >= deadline) {
            return MFOTA_ERR_DL_TIMEOUT;
        }
    }
}

static int write_line(struct mfota_modem *m, const struct line *l)
{
    const struct mfota_modem_uart *u = m->uart;
    if (l->overflow) {
        return MFOTA_ERR_INVAL;
    }
    m->stats.commands++;
    if (u->write(u->ctx, (const uint8_t *)l->b, l->n) < 0 ||
        u->write(u->ctx, (const uint8_t *)"\r", 1) < 0) {
        return MFOTA_ERR_DL_IO;
    }
    return MFOTA_OK;
}

/* The modem stopped answering: forget the half-parsed response so the
 * probe's "OK" is not taken for payload bytes. */
static void lost(struct mfota_modem *m)
{
    m->stats.timeouts++;
    m->suspect = 1;
    m->rx_pos = m->rx_len = 0;
    mfota_at_parser_init(&m->parser);
}

static int ready(struct mfota_modem *m);

/* Send one command and wait for its final result (or its "@" prompt). */
static int exec(struct mfota_modem *m, struct mfota_modem_cmd *c, const struct line *l,
                uint32_t timeout_ms, int want_prompt)
{
    const struct mfota_modem_uart *u = m->uart;
    int rc = ready(m);
    if (rc != MFOTA_OK) {
        return rc;
    }
    c->final = c->prompt = c->got_info = 0;
    c->got = 0;
    m->cmd = c;
    rc = write_line(m, l);
    if (rc == MFOTA_OK) {
        rc = pump(m, u->now_ms(u->ctx) + timeout_ms, want_prompt);
    }
    m->cmd = NULL;
    if (rc == MFOTA_ERR_DL_TIMEOUT) {
        lost(m);
    }
    return rc;
}

static void close_on_modem(struct mfota_modem *m, int16_t id)
{
    struct mfota_modem_cmd c;
    struct line l;
    if (id < 0) {
        return;
    }
    memset(&c, 0, sizeof c);
    memset(&l, 0, sizeof l);
    put(&l, "AT+USOCL=");
    put_u(&l, (uint32_t)id);
    /* ERROR is fine (the peer closed it already); a silent modem leaves it
     * for ready() to close later. */
    if (exec(m, &c, &l, m->cmd_timeout_ms, 0) != MFOTA_OK && id < 8) {
        m->zombies = (uint8_t)(m->zombies | (1u << id));
    }
}

/* Before any command: a suspect modem must answer "AT" first; then stale
 * bytes are dropped, AT+CMEE=1 set once, and leftover sockets closed. */
static int ready(struct mfota_modem *m)
{
    const struct mfota_modem_uart *u = m->uart;
    struct mfota_modem_cmd c;
    struct line l;
    int rc, i;
    if (m->cmd != NULL) {
        return MFOTA_ERR_STATE; /* not re-entrant */
    }
    memset(&c, 0, sizeof c);
    memset(&l, 0, sizeof l);
    if (m->suspect) {
        m->stats.probes++;
        put(&l, "AT");
        m->cmd = &c;
        rc = write_line(m, &l);
        if (rc == MFOTA_OK) {
            rc = pump(m, u->now_ms(u->ctx) + m->probe_timeout_ms, 0);
        }
        m->cmd = NULL;
        if (rc != MFOTA_OK) {
            if (rc == MFOTA_ERR_DL_TIMEOUT) {
                m->rx_pos = m->rx_len = 0;
                mfota_at_parser_init(&m->parser);
            }
            return rc;
        }
        /* Alive.  Let late answers of the lost command arrive and drop them
         * (URCs among them still count). */
        for (i = 0; i < 16 && pump(m, u->now_ms(u->ctx) + DRAIN_MS, 0) == MFOTA_OK; i++) {
        }
        mfota_at_parser_init(&m->parser);
        m->rx_pos = m->rx_len = 0;
        m->suspect = 0;
    }
    if (!m->configured) {
        /* Echo off unless asked to keep it (on a 115200 baud UART each
         * echoed AT+USORD costs as much as 15 payload bytes), then numeric
         * +CME ERROR codes.  An ERROR answer is fine: the parser copes. */
        for (i = m->echo_off ? 0 : 1; i < 2; i++) {
            memset(&c, 0, sizeof c);
            l.n = 0;
            put(&l, i == 0 ? "ATE0" : "AT+CMEE=1");
            m->cmd = &c;
            rc = write_line(m, &l);
            if (rc == MFOTA_OK) {
                rc = pump(m, u->now_ms(u->ctx) + m->cmd_timeout_ms, 0);
            }
            m->cmd = NULL;
            if (rc != MFOTA_OK) {
                if (rc == MFOTA_ERR_DL_TIMEOUT) {
                    lost(m);
                }
                return rc;
            }
        }
        m->configured = 1;
    }
    for (i = 0; i < 8 && m->zombies != 0; i++) {
        if (m->zombies & (1u << i)) {
            m->zombies = (uint8_t)(m->zombies & ~(1u << i));
            close_on_modem(m, (int16_t)i);
            if (m->suspect) {
                return MFOTA_ERR_DL_TIMEOUT;
            }
        }
    }
    return MFOTA_OK;
}

/* ---- the transport ---------------------------------------------------------- */

static void forget(struct mfota_modem_socket *s)
{
    s->id = -1;
    s->connected = 0;
    s->peer_closed = 0;
    s->maybe_more = 0;
    s->pending = 0;
}

/* The modem handed out s->id again, so a sibling that still holds that
 * number (closed by its peer, not yet close()d) has lost it: URCs for the
 * number are s's now. */
static void forget_stale(struct mfota_modem *m, const struct mfota_modem_socket *s)
{
    int i;
    for (i = 0; i < MFOTA_MODEM_SOCKETS; i++) {
        struct mfota_modem_socket *o = m->socks[i];
        if (o != NULL && o != s && o->id == s->id) {
            o->id = -1;
            o->pending = 0;
            o->maybe_more = 0;
        }
    }
}

static int host_ok(const char *host)
{
    size_t n = 0;
    for (; host[n] != '\0'; n++) {
        if ((unsigned char)host[n] <= ' ' || host[n] == '"' || (unsigned char)host[n] >= 0x7F ||
            n >= 63) {
            return 0;
        }
    }
    return n > 0;
}

static int t_connect(void *ctx, const char *host, uint16_t port)
{
    struct mfota_modem_socket *s = ctx;
    struct mfota_modem *m = s->modem;
    struct mfota_modem_cmd c;
    struct line l;
    int rc;
    if (s->connected) {
        return MFOTA_ERR_STATE;
    }
    if (!host_ok(host) || port == 0) {
        return MFOTA_ERR_DL_CONNECT;
    }
    memset(&c, 0, sizeof c);
    memset(&l, 0, sizeof l);
    if (s->id < 0) {
        put(&l, "AT+USOCR=6");
        c.expect = MFOTA_AT_EV_USOCR;
        rc = exec(m, &c, &l, m->cmd_timeout_ms, 0);
        if (rc != MFOTA_OK) {
            return rc;
        }
        if (c.final != MFOTA_AT_EV_OK || !c.got_info || c.a < 0 || c.a > 0x7FFF) {
            return MFOTA_ERR_DL_CONNECT;
        }
        s->id = (int16_t)c.a;
        forget_stale(m, s);
    }
    s->peer_closed = 0;
    s->pending = 0;
    s->maybe_more = 0;
    l.n = 0;
    put(&l, "AT+USOCO=");
    put_u(&l, (uint32_t)s->id);
    put(&l, ",\"");
    put(&l, host);
    put(&l, "\",");
    put_u(&l, port);
    memset(&c, 0, sizeof c);
    rc = exec(m, &c, &l, m->connect_timeout_ms, 0);
    if (rc == MFOTA_OK && c.final == MFOTA_AT_EV_OK) {
        s->connected = 1;
        s->connects++;
        s->last_news = (uint32_t)m->uart->now_ms(m->uart->ctx);
        return MFOTA_OK;
    }
    if (rc == MFOTA_ERR_DL_TIMEOUT) {
        if (s->id < 8) {
            m->zombies = (uint8_t)(m->zombies | (1u << s->id));
        }
        forget(s);
        return rc;
    }
    /* Refused: give the socket back so the next try starts clean. */
    close_on_modem(m, s->id);
    forget(s);
    return MFOTA_ERR_DL_CONNECT;
}

static int t_send(void *ctx, const uint8_t *data, size_t len, size_t *sent)
{
    struct mfota_modem_socket *s = ctx;
    struct mfota_modem *m = s->modem;
    const struct mfota_modem_uart *u = m->uart;
    struct mfota_modem_cmd c;
    struct line l;
    size_t n = len < MFOTA_AT_USORD_MAX ? len : MFOTA_AT_USORD_MAX;
    int rc;
    *sent = 0;
    if (!s->connected || s->id < 0) {
        return MFOTA_ERR_DL_CLOSED;
    }
    if (s->peer_closed) {
        return MFOTA_ERR_DL_CLOSED;
    }
    if (n == 0) {
        return MFOTA_ERR_INVAL;
    }
    memset(&c, 0, sizeof c);
    memset(&l, 0, sizeof l);
    put(&l, "AT+USOWR=");
    put_u(&l, (uint32_t)s->id);
    put(&l, ",");
    put_u(&l, (uint32_t)n);
    c.expect = MFOTA_AT_EV_USOWR;
    rc = exec(m, &c, &l, m->cmd_timeout_ms, 1);
    if (rc != MFOTA_OK) {
        return rc;
    }
    if (!c.prompt) { /* ERROR or +CME ERROR instead of "@" */
        return s->peer_closed ? MFOTA_ERR_DL_CLOSED : MFOTA_ERR_DL_IO;
    }
    /* Binary syntax: exactly n raw bytes, no terminator, no echo. */
    m->cmd = &c;
    if (u->write(u->ctx, data, n) < 0) {
        m->cmd = NULL;
        return MFOTA_ERR_DL_IO;
    }
    rc = c.final != 0 ? MFOTA_OK : pump(m, u->now_ms(u->ctx) + m->cmd_timeout_ms, 0);
    m->cmd = NULL;
    if (rc == MFOTA_ERR_DL_TIMEOUT) {
        lost(m);
    }
    if (rc != MFOTA_OK) {
        return rc;
    }
    if (c.final != MFOTA_AT_EV_OK) {
        return s->peer_closed ? MFOTA_ERR_DL_CLOSED : MFOTA_ERR_DL_IO;
    }
    *sent = (c.got_info && c.b > 0 && (size_t)c.b <= n) ? (size_t)c.b : n;
    s->bytes_out += (uint32_t)*sent;
    return MFOTA_OK;
}

/* AT+USORD=s,want into buf: MFOTA_OK with *got (possibly 0), or an error. */
static int read_some(struct mfota_modem_socket *s, uint8_t *buf, size_t want, size_t *got)
{
    struct mfota_modem *m = s->modem;
    struct mfota_modem_cmd c;
    struct line l;
    int rc;
    memset(&c, 0, sizeof c);
    memset(&l, 0, sizeof l);
    put(&l, "AT+USORD=");
    put_u(&l, (uint32_t)s->id);
    put(&l, ",");
    put_u(&l, (uint32_t)want);
    c.expect = want ? MFOTA_AT_EV_DATA_BEGIN : MFOTA_AT_EV_USORD_LEN;
    c.dst = buf;
    c.cap = want;
    /* A +UUSORD arriving from here on tells what is left after this read. */
    s->pending = 0;
    s->maybe_more = 0;
    rc = exec(m, &c, &l, m->cmd_timeout_ms, 0);
    if (rc != MFOTA_OK) {
        return rc;
    }
    if (c.final != MFOTA_AT_EV_OK) {
        return MFOTA_ERR_DL_IO;
    }
    if (want == 0) {
        if (c.got_info && c.b > 0) {
            s->pending = c.b > 0xFFFF ? 0xFFFF : (uint16_t)c.b;
        }
        *got = 0;
        return MFOTA_OK;
    }
    *got = c.got_info && c.b >= 0 && (size_t)c.b < c.got ? (size_t)c.b : c.got;
    s->maybe_more = (uint8_t)(*got == want);
    return MFOTA_OK;
}

static int t_recv(void *ctx, uint8_t *buf, size_t cap, size_t *got, uint32_t timeout_ms)
{
    struct mfota_modem_socket *s = ctx;
    struct mfota_modem *m = s->modem;
    const struct mfota_modem_uart *u = m->uart;
    uint64_t start = u->now_ms(u->ctx), deadline = start + timeout_ms, now;
    int queried = 0, rc;
    *got = 0;
    if (!s->connected) {
        return MFOTA_ERR_DL_CLOSED;
    }
    if (s->id < 0) { /* the modem reused the number after the peer closed */
        return s->peer_closed ? MFOTA_DONE : MFOTA_ERR_DL_CLOSED;
    }
    if (cap == 0) {
        return MFOTA_ERR_INVAL;
    }
    if (m->suspect) {
        rc = ready(m);
        if (rc != MFOTA_OK) {
            return rc;
        }
    }
    /* URCs already on the line first. */
    (void)pump(m, start, 0);
    for (;;) {
        if (s->pending > 0 || s->maybe_more) {
            size_t want = cap < MFOTA_AT_USORD_MAX ? cap : MFOTA_AT_USORD_MAX;
            rc = read_some(s, buf, want, got);
            if (rc == MFOTA_ERR_DL_IO && s->peer_closed) {
                return MFOTA_DONE;
            }
            if (rc != MFOTA_OK) {
                return rc;
            }
            if (*got > 0) {
                s->bytes_in += (uint32_t)*got;
                s->last_news = (uint32_t)u->now_ms(u->ctx);
                return MFOTA_OK;
            }
            /* Nothing after all: wait for the next URC (a modem that keeps
             * announcing bytes it does not deliver cannot hold us here). */
            if (u->now_ms(u->ctx) >= deadline) {
                return MFOTA_WOULD_BLOCK;
            }
            continue;
        }
        if (s->peer_closed) {
            return MFOTA_DONE;
        }
        now = u->now_ms(u->ctx);
        if (now >= deadline) {
            if (!queried && (uint32_t)((uint32_t)now - s->last_news) >= QUERY_AFTER_MS) {
                /* Long without news: ask, in case a URC was lost.  Counted
                 * across calls, so short recv() timeouts still get here. */
                queried = 1;
                s->last_news = (uint32_t)now;
                rc = read_some(s, buf, 0, got);
                if (rc == MFOTA_OK && s->pending > 0) {
                    continue;
                }
                if (rc != MFOTA_OK && rc != MFOTA_ERR_DL_IO) {
                    return rc;
                }
            }
            return MFOTA_WOULD_BLOCK;
        }
        rc = pump(m, deadline, 0);
        if (rc == MFOTA_ERR_DL_IO) {
            return rc;
        }
    }
}

static void t_close(void *ctx)
{
    struct mfota_modem_socket *s = ctx;
    struct mfota_modem *m = s->modem;
    if (s->id >= 0) {
        if (ready(m) == MFOTA_OK) {
            close_on_modem(m, s->id);
        } else if (s->id < 8) {
            m->zombies = (uint8_t)(m->zombies | (1u << s->id));
        }
    }
    forget(s);
}

/* ---- setup ------------------------------------------------------------------ */

void mfota_modem_init(struct mfota_modem *m, const struct mfota_modem_uart *uart)
{
    memset(m, 0, sizeof *m);
    m->uart = uart;
    mfota_at_parser_init(&m->parser);
    m->suspect = 1; /* unknown until it answered "AT" once */
    m->last_cme = 0;
    m->cmd_timeout_ms = 5000;
    m->connect_timeout_ms = 30000;
    m->probe_timeout_ms = 1000;
    m->echo_off = 1;
}

int mfota_modem_socket_init(struct mfota_modem *m, struct mfota_modem_socket *s,
                            struct mfota_transport *t)
{
    int i;
    memset(s, 0, sizeof *s);
    s->modem = m;
    forget(s);
    for (i = 0; i < MFOTA_MODEM_SOCKETS; i++) {
        if (m->socks[i] == NULL) {
            m->socks[i] = s;
            t->connect = t_connect;
            t->send = t_send;
            t->recv = t_recv;
            t->close = t_close;
            t->ctx = s;
            return MFOTA_OK;
        }
    }
    return MFOTA_ERR_NOSPC;
}

int mfota_modem_probe(struct mfota_modem *m)
{
    m->suspect = 1;
    return ready(m);
}

void mfota_modem_poll(struct mfota_modem *m, uint32_t timeout_ms)
{
    const struct mfota_modem_uart *u = m->uart;
    if (m->cmd == NULL) {
        (void)pump(m, u->now_ms(u->ctx) + timeout_ms, 0);
    }
}
