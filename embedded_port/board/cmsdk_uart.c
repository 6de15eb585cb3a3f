#include "cmsdk_uart.h"

#define REG_DATA 0x000u
#define REG_STATE 0x004u
#define REG_CTRL 0x008u
#define REG_BAUDDIV 0x010u
#define STATE_TX_FULL 0x1u
#define STATE_RX_FULL 0x2u
#define STATE_OVERRUNS 0xCu
#define CTRL_TX_EN 0x1u
#define CTRL_RX_EN 0x2u

static volatile uint32_t *reg(const struct board_uart *u, uint32_t off)
{
    return (volatile uint32_t *)(u->base + off);
}

void board_uart_init(struct board_uart *uart, uintptr_t base, uint32_t baud,
                     const struct mfota_clock *clock, struct mfota_modem_uart *hal)
{
    uint32_t div = baud ? BOARD_UART_PCLK_HZ / baud : 16u;
    uart->base = base;
    uart->clock = clock;
    uart->rx_bytes = 0;
    uart->tx_bytes = 0;
    *reg(uart, REG_CTRL) = 0;
    *reg(uart, REG_BAUDDIV) = div < 16u ? 16u : div; /* below 16 the UART ignores it */
    *reg(uart, REG_STATE) = STATE_OVERRUNS;
    *reg(uart, REG_CTRL) = CTRL_TX_EN | CTRL_RX_EN;
    hal->write = board_uart_write;
    hal->read = board_uart_read;
    hal->now_ms = board_uart_now_ms;
    hal->ctx = uart;
}

int board_uart_write(void *ctx, const uint8_t *data, size_t len)
{
    struct board_uart *u = (struct board_uart *)ctx;
    size_t i;
    for (i = 0; i < len; i++) {
        while (*reg(u, REG_STATE) & STATE_TX_FULL) {
        }
        *reg(u, REG_DATA) = data[i];
    }
    u->tx_bytes += (uint32_t)len;
    return 0;
}

int board_uart_read(void *ctx, uint8_t *buf, size_t cap, uint32_t timeout_ms)
{
    struct board_uart *u = (struct board_uart *)ctx;
    uint64_t until = 0;
    uint32_t polls = 0;
    size_t n = 0;
    int waited = 0;
    while (n < cap) {
        if (*reg(u, REG_STATE) & STATE_RX_FULL) {
            buf[n++] = (uint8_t)(*reg(u, REG_DATA) & 0xFFu);
            polls = 0;
            continue;
        }
        if (n > 0) {
            /* The next byte of a burst may still be in flight: a few more
             * polls so one read() takes a whole response, then return. */
            if (++polls > BOARD_UART_CLOCK_EVERY) {
                break;
            }
            continue;
        }
        if (timeout_ms == 0u) {
            break;
        }
        if (++polls < BOARD_UART_CLOCK_EVERY) {
            continue;
        }
        polls = 0;
        if (!waited) {
            until = board_uart_now_ms(u) + timeout_ms;
            waited = 1;
        } else if (board_uart_now_ms(u) >= until) {
            break;
        }
    }
    u->rx_bytes += (uint32_t)n;
    return (int)n;
}

uint64_t board_uart_now_ms(void *ctx)
{
    const struct board_uart *u = (const struct board_uart *)ctx;
    return u->clock->now_ms(u->clock->ctx);
}
