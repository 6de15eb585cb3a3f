/* libFuzzer harness for the whole modem driver (embedded_port/modem/modem.c)
 * against a modem that answers anything at all.
 *
 * The fuzz input is what the "modem" sends on the UART, handed out in
 * chunks whose sizes come from the input too; when it runs out the UART is
 * silent and a fake clock jumps to the caller's deadline.  The driver then
 * runs what the client engine does: connect, send, several recv(), close,
 * on two sockets.  Checked: every call returns (the clock is bounded),
 * results stay within the transport contract (*sent <= len, *got <= cap, no
 * positive status but the documented ones), and ASan/UBSan see no error. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "m2mfota/err.h"
#include "modem.h"

struct fake {
    const uint8_t *data;
    size_t size, pos;
    uint64_t now;
    uint32_t reads;
};

static int f_write(void *ctx, const uint8_t *data, size_t len)
{
    struct fake *f = ctx;
    (void)data;
    f->now += len / 16u; /* a UART takes time to send */
    return 0;
}

static int f_read(void *ctx, uint8_t *buf, size_t cap, uint32_t timeout_ms)
{
    struct fake *f = ctx;
    size_t n;
    f->reads++;
    f->now += 1;
    if (f->pos >= f->size || f->reads > 100000u) {
        f->now += timeout_ms; /* silence: the whole wait passes */
        return 0;
    }
    n = (size_t)(f->data[f->pos] % 64u) + 1u; /* the chunk size, then the chunk */
    f->pos++;
    if (n > cap) {
        n = cap;
    }
    if (n > f->size - f->pos) {
        n = f->size - f->pos;
    }
    memcpy(buf, f->data + f->pos, n);
    f->pos += n;
    return (int)n;
}

static uint64_t f_now(void *ctx)
{
    return ((struct fake *)ctx)->now;
}

static void check(int rc)
{
    if (rc > 0 && rc != MFOTA_DONE && rc != MFOTA_WOULD_BLOCK) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fake f;
    struct mfota_modem_uart u;
    struct mfota_modem m;
    struct mfota_modem_socket s1, s2;
    struct mfota_transport t1, t2;
    uint8_t buf[300];
    size_t n = 0;
    int i, rc;
    memset(&f, 0, sizeof f);
    f.data = data;
    f.size = size;
    u.write = f_write;
    u.read = f_read;
    u.now_ms = f_now;
    u.ctx = &f;
    mfota_modem_init(&m, &u);
    m.cmd_timeout_ms = 200;
    m.connect_timeout_ms = 300;
    m.probe_timeout_ms = 50;
    if (mfota_modem_socket_init(&m, &s1, &t1) != MFOTA_OK ||
        mfota_modem_socket_init(&m, &s2, &t2) != MFOTA_OK) {
        abort();
    }
    for (i = 0; i < 3; i++) {
        struct mfota_transport *t = i == 1 ? &t2 : &t1;
        int k;
        check(t->connect(t->ctx, "127.0.0.1", 8080));
        rc = t->send(t->ctx, (const uint8_t *)"GET / HTTP/1.1\r\n\r\n", 18, &n);
        check(rc);
        if (n > 18) {
            abort();
        }
        for (k = 0; k < 4; k++) {
            rc = t->recv(t->ctx, buf, sizeof buf, &n, 100);
            check(rc);
            if (n > sizeof buf || (rc == MFOTA_OK && n == 0)) {
                abort();
            }
        }
        t->close(t->ctx);
    }
    mfota_modem_poll(&m, 10);
    if (f.now > 1000000u) {
        abort(); /* each call is bounded by its timeouts: time cannot run away */
    }
    return 0;
}
