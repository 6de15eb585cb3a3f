/*
 * Polled driver for the Arm CMSDK APB UART (the UARTs of QEMU's
 * mps2-an386), as the modem driver's UART HAL (struct mfota_modem_uart).
 *
 * Registers (Arm CMSDK technical reference, "APB UART"): DATA 0x000, STATE
 * 0x004 (bit 0 TX buffer full, bit 1 RX buffer full, bits 2/3 TX/RX
 * overrun, write 1 to clear), CTRL 0x008 (bit 0 TX enable, bit 1 RX
 * enable), BAUDDIV 0x010 (PCLK / baud, at least 16).  The UART has a
 * one-byte buffer each way and no FIFO; the driver enables no interrupt.
 *
 * On QEMU the receive side cannot overrun: QEMU only takes a byte from the
 * host chardev once the guest has read the previous one, so the host end
 * (the modem simulator's TCP socket) is flow-controlled.  On silicon a
 * board would add an RX interrupt and a ring buffer (docs/modem.md).
 *
 * Timeouts come from the board clock (board_hal.h: semihosting SYS_CLOCK,
 * 10 ms ticks).  Reading the clock is a semihosting trap, so an empty-buffer
 * wait checks it only every BOARD_UART_CLOCK_EVERY polls.
 */
#ifndef MFOTA_CMSDK_UART_H
#define MFOTA_CMSDK_UART_H

#include <stddef.h>
#include <stdint.h>

#include "m2mfota/transport.h"
#include "modem.h"

#define BOARD_UART0_BASE 0x40004000u /* QEMU: -serial #1 */
#define BOARD_UART1_BASE 0x40005000u /* QEMU: -serial #2, the modem */
#define BOARD_UART_PCLK_HZ 25000000u  /* mps2-an386 peripheral clock */
#ifndef BOARD_UART_CLOCK_EVERY
#define BOARD_UART_CLOCK_EVERY 64u
#endif

/* One UART; caller-allocated (16 bytes), kept alive while the HAL is used. */
struct board_uart {
    uintptr_t base;
    const struct mfota_clock *clock; /* timeouts; must outlive the UART */
    uint32_t rx_bytes, tx_bytes;     /* counters for the logs */
};

/* Set up the UART at `base` for `baud` (8N1; QEMU ignores the rate, silicon
 * does not), enable TX and RX, clear stale overruns, and fill `hal` with
 * write/read/now_ms over it (hal->ctx = uart).  `clock` supplies now_ms.
 * Cannot fail. */
void board_uart_init(struct board_uart *uart, uintptr_t base, uint32_t baud,
                     const struct mfota_clock *clock, struct mfota_modem_uart *hal);

/* The HAL functions (ctx: struct board_uart *), documented in modem.h:
 * write blocks until every byte is in the TX buffer (it never fails);
 * read returns the bytes received, waiting at most timeout_ms for the
 * first, 0 on timeout. */
int board_uart_write(void *ctx, const uint8_t *data, size_t len);
int board_uart_read(void *ctx, uint8_t *buf, size_t cap, uint32_t timeout_ms);
uint64_t board_uart_now_ms(void *ctx);

#endif /* MFOTA_CMSDK_UART_H */
