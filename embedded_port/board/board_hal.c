#include "board_hal.h"

#include "m2mfota/err.h"

#define SYS_CLOCK 0x10

static uint64_t now_ms(void *ctx)
{
    register uint32_t r0 __asm__("r0") = SYS_CLOCK;
    register uint32_t r1 __asm__("r1") = 0;
    (void)ctx;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return (uint64_t)r0 * 10u;
}

static void sleep_ms(void *ctx, uint32_t ms)
{
    uint64_t until = now_ms(ctx) + ms;
    while (now_ms(ctx) < until) {
    }
}

void board_clock(struct mfota_clock *clock)
{
    clock->now_ms = now_ms;
    clock->sleep_ms = sleep_ms;
    clock->ctx = 0;
}

static int off_connect(void *ctx, const char *host, uint16_t port)
{
    (void)ctx;
    (void)host;
    (void)port;
    return MFOTA_ERR_DL_CONNECT;
}

static int off_send(void *ctx, const uint8_t *data, size_t len, size_t *sent)
{
    (void)ctx;
    (void)data;
    (void)len;
    *sent = 0;
    return MFOTA_ERR_DL_CLOSED;
}

static int off_recv(void *ctx, uint8_t *buf, size_t cap, size_t *got, uint32_t timeout_ms)
{
    (void)ctx;
    (void)buf;
    (void)cap;
    (void)timeout_ms;
    *got = 0;
    return MFOTA_ERR_DL_CLOSED;
}

static void off_close(void *ctx)
{
    (void)ctx;
}

void board_transport_offline(struct mfota_transport *t)
{
    t->connect = off_connect;
    t->send = off_send;
    t->recv = off_recv;
    t->close = off_close;
    t->ctx = 0;
}
