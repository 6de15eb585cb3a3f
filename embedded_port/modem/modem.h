/*
 * m2mfota transport over a u-blox SARA-R4/R5 cellular modem (AT commands).
 *
 * One `struct mfota_modem` drives the modem on one UART; each
 * `struct mfota_modem_socket` is one TCP socket of that modem behind a
 * `struct mfota_transport`, so the client engine's uplink and download
 * transports are two sockets sharing the modem (MFOTA_MODEM_SOCKETS of
 * them at most).  AT commands used (u-blox UBX-17003787):
 *   AT, AT+CMEE=1, AT+USOCR=6, AT+USOCO=s,"ip",port, AT+USOWR=s,n (binary
 *   syntax: "@" prompt, then n <= 1024 raw bytes), AT+USORD=s,n (n <= 1024;
 *   n = 0 asks how many bytes are pending), AT+USOCL=s.
 * URCs +UUSORD (data pending) and +UUSOCL (closed by the peer) are taken
 * whenever they arrive, inside another command's response too.  Echo on
 * (ATE1, the power-up default) or off both work; the driver turns it off
 * (ATE0, before AT+CMEE=1) unless echo_off is cleared.
 *
 * Blocking behaviour: AT commands run one at a time, each bounded by its
 * timeout.  recv() issues AT+USORD only when the modem said data is
 * pending; otherwise it waits up to timeout_ms for a URC.  connect() uses
 * the synchronous AT+USOCO (SARA-R410M-01B has no async connect), bounded
 * by connect_timeout_ms.
 *
 * A modem that stops answering: the command that timed out fails with
 * MFOTA_ERR_DL_TIMEOUT and the modem is marked suspect.  Every later
 * command first probes it with "AT" (probe_timeout_ms) and, once it answers,
 * drains stale bytes and closes the sockets that could not be closed while
 * it was silent; until then operations fail fast with MFOTA_ERR_DL_TIMEOUT.
 *
 * Errors: connect -> MFOTA_ERR_DL_CONNECT (ERROR/+CME ERROR; the code is
 * kept in last_cme), send/recv -> MFOTA_ERR_DL_IO (+CME ERROR),
 * MFOTA_ERR_DL_CLOSED (the socket was closed by the peer before the bytes
 * went out), MFOTA_ERR_DL_TIMEOUT (no answer in time).  recv() returns
 * MFOTA_DONE once the peer closed (+UUSOCL) and nothing is left to read.
 *
 * RAM on Cortex-M4 (MFOTA_AT_LINE_MAX 48, MFOTA_MODEM_RX_CHUNK 64, two
 * sockets): sizeof(struct mfota_modem) = 180 bytes, sizeof(struct
 * mfota_modem_socket) = 28 bytes (tests/test_modem_build.py checks these
 * figures).  Stack: at most about 0.9 KiB (-Os, gcc -fstack-usage; the
 * deepest path is a recv() that probes a suspect modem and closes a socket
 * left over from its silence).  No heap, no static state:
 * payload bytes go straight from the UART chunk into the caller's buffer.
 */
#ifndef MFOTA_MODEM_H
#define MFOTA_MODEM_H

#include <stddef.h>
#include <stdint.h>

#include "at_parser.h"
#include "m2mfota/transport.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef MFOTA_MODEM_SOCKETS
#define MFOTA_MODEM_SOCKETS 2 /* uplink + download */
#endif
#ifndef MFOTA_MODEM_RX_CHUNK
#define MFOTA_MODEM_RX_CHUNK 64 /* bytes read from the UART per call */
#endif

/* The UART HAL a board provides.  All three are required. */
struct mfota_modem_uart {
    /* Queue or send all len bytes; 0 on success, negative (enum mfota_err)
     * if the UART failed. */
    int (*write)(void *ctx, const uint8_t *data, size_t len);
    /* Read up to cap bytes, waiting at most timeout_ms for the first one
     * (0: do not wait).  Returns how many were read (0 on timeout), or a
     * negative error. */
    int (*read)(void *ctx, uint8_t *buf, size_t cap, uint32_t timeout_ms);
    /* Monotonic milliseconds (any epoch). */
    uint64_t (*now_ms)(void *ctx);
    void *ctx;
};

struct mfota_modem_socket;

/* Counters for tests and diagnostics. */
struct mfota_modem_stats {
    uint32_t commands; /* AT commands sent (probes included) */
    uint32_t timeouts; /* commands that got no final result in time */
    uint32_t probes;   /* "AT" probes sent while the modem was suspect */
    uint32_t urcs;     /* +UUSORD/+UUSOCL received */
    uint32_t errors;   /* ERROR / +CME ERROR final results */
};

struct mfota_modem {
    const struct mfota_modem_uart *uart;
    struct mfota_at_parser parser;
    struct mfota_modem_socket *socks[MFOTA_MODEM_SOCKETS];
    uint8_t rx[MFOTA_MODEM_RX_CHUNK]; /* UART bytes read, not yet parsed */
    uint16_t rx_pos, rx_len;
    uint8_t suspect;       /* a command timed out: probe before the next one */
    uint8_t configured;    /* AT+CMEE=1 done */
    uint8_t zombies;       /* bit i: modem socket i must still be closed */
    uint8_t echo_off;      /* default 1: send ATE0 when configuring */
    int32_t last_cme;      /* last +CME ERROR code (-1: ERROR or verbose) */
    uint32_t cmd_timeout_ms;     /* default 5000 */
    uint32_t connect_timeout_ms; /* default 30000 */
    uint32_t probe_timeout_ms;   /* default 1000 */
    struct mfota_modem_stats stats;
    /* Where the running command collects its answer (driver internal). */
    struct mfota_modem_cmd *cmd;
};

/* One TCP socket; fill a struct mfota_transport with it. */
struct mfota_modem_socket {
    struct mfota_modem *modem;
    int16_t id;           /* the modem's socket number, -1: none */
    uint8_t connected;    /* AT+USOCO succeeded, not closed since */
    uint8_t peer_closed;  /* +UUSOCL seen */
    uint8_t maybe_more;   /* the last read was full: more may be pending */
    uint16_t pending;     /* bytes the last +UUSORD announced */
    uint32_t last_news;   /* now_ms (low 32 bits) of the last URC or data */
    uint32_t connects;    /* successful connects, for tests */
    uint32_t bytes_in, bytes_out;
};

/* Set up `m` over `uart` (which must outlive it).  Sends nothing: the
 * first operation probes the modem and sends ATE0 and AT+CMEE=1.  Cannot fail. */
void mfota_modem_init(struct mfota_modem *m, const struct mfota_modem_uart *uart);

/* Set up socket `s` on modem `m` and point transport `t` at it.  Returns
 * MFOTA_ERR_NOSPC when MFOTA_MODEM_SOCKETS sockets are already attached. */
int mfota_modem_socket_init(struct mfota_modem *m, struct mfota_modem_socket *s,
                            struct mfota_transport *t);

/* Send "AT" and wait for OK (probe_timeout_ms): MFOTA_OK when the modem
 * answers, MFOTA_ERR_DL_TIMEOUT when not.  For a board's start-up check. */
int mfota_modem_probe(struct mfota_modem *m);

/* Read and handle whatever the UART has (URCs) for up to timeout_ms. */
void mfota_modem_poll(struct mfota_modem *m, uint32_t timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* MFOTA_MODEM_H */
