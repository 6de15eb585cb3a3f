/*
 * The board's clock and its network-less transport.
 *
 * Clock: semihosting SYS_CLOCK (centiseconds since QEMU started), so a
 * reboot -- a new QEMU -- restarts it; the client only needs it monotonic
 * within one boot.  sleep_ms busy-waits on it (the board enables no timer
 * interrupt).
 *
 * Offline transport: what the client sees on a board with no modem attached
 * (the app's start-up probe of UART1 got no answer): every connect fails
 * with MFOTA_ERR_DL_CONNECT, so the client's cycle ends with its network
 * error path.  With a modem the app's transports are two sockets of the
 * SARA-R4 driver (embedded_port/modem) on cmsdk_uart.h.
 */
#ifndef MFOTA_BOARD_HAL_H
#define MFOTA_BOARD_HAL_H

#include "m2mfota/transport.h"

/* Fill `clock` with the semihosting clock (ctx unused). */
void board_clock(struct mfota_clock *clock);

/* Fill `t` with the offline transport (ctx unused). */
void board_transport_offline(struct mfota_transport *t);

#endif /* MFOTA_BOARD_HAL_H */
