/*
 * A modem UART over a TCP connection, for hosts: the modem simulator
 * (`m2mfota modem-sim`) listens on a TCP port the way QEMU's
 * `-serial tcp:...` chardev offers a board's UART.  Fills the
 * struct mfota_modem_uart of embedded_port/modem/modem.h.
 */
#ifndef MFOTA_UART_POSIX_H
#define MFOTA_UART_POSIX_H

#include <stdint.h>

#include "modem.h"

#ifdef __cplusplus
extern "C" {
#endif

struct mfota_posix_uart {
    int fd; /* -1 when closed */
    uint32_t bytes_written, bytes_read;
};

/* Connect to host (IPv4 literal) : port and point `u` at the connection.
 * MFOTA_OK, or MFOTA_ERR_HAL when the connection cannot be made. */
int mfota_posix_uart_open(struct mfota_posix_uart *pu, const char *host, uint16_t port,
                          struct mfota_modem_uart *u);

/* Close the connection.  Safe to call twice. */
void mfota_posix_uart_close(struct mfota_posix_uart *pu);

#ifdef __cplusplus
}
#endif

#endif /* MFOTA_UART_POSIX_H */
