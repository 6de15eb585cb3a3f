/*
 * Transport and clock HALs: how the downloader reaches the network and time.
 *
 * A port fills these structs of function pointers with its own context
 * (a modem AT driver, lwIP, POSIX sockets: embedded_port/posix/).  Every
 * function returns an int from enum mfota_err.  A non-blocking transport
 * answers MFOTA_WOULD_BLOCK instead of waiting; the downloader then returns
 * MFOTA_WOULD_BLOCK from its step() and calls again later.
 */
#ifndef MFOTA_TRANSPORT_H
#define MFOTA_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mfota_transport {
    /* Open a TCP connection to host (NUL-terminated: an IPv4 literal, or a
     * name if the port resolves names) and port.  MFOTA_OK when connected;
     * MFOTA_WOULD_BLOCK while a non-blocking connect is in progress (the
     * downloader calls connect again with the same arguments until OK or an
     * error); MFOTA_ERR_DL_CONNECT (or another negative code) on failure.
     * One connection at a time: close() comes before the next connect(). */
    int (*connect)(void *ctx, const char *host, uint16_t port);

    /* Send up to len bytes; *sent gets how many were taken (0 < *sent <= len
     * on MFOTA_OK).  MFOTA_WOULD_BLOCK when none could be taken now;
     * MFOTA_ERR_DL_CLOSED / MFOTA_ERR_DL_IO on failure. */
    int (*send)(void *ctx, const uint8_t *data, size_t len, size_t *sent);

    /* Receive up to cap bytes, waiting at most timeout_ms (0: do not wait).
     * MFOTA_OK with 0 < *got <= cap; MFOTA_DONE when the peer closed the
     * connection in order; MFOTA_WOULD_BLOCK when nothing came in time;
     * MFOTA_ERR_DL_CLOSED (reset) / MFOTA_ERR_DL_IO on failure. */
    int (*recv)(void *ctx, uint8_t *buf, size_t cap, size_t *got, uint32_t timeout_ms);

    /* Close the connection (if any).  Must be safe to call when not connected. */
    void (*close)(void *ctx);

    void *ctx;
};

struct mfota_clock {
    /* Monotonic milliseconds (any epoch). */
    uint64_t (*now_ms)(void *ctx);
    /* Sleep about ms milliseconds (a blocking caller's wait for Retry-After;
     * an RTOS port yields here).  May be NULL when only step() is used. */
    void (*sleep_ms)(void *ctx, uint32_t ms);
    void *ctx;
};

#ifdef __cplusplus
}
#endif

#endif /* MFOTA_TRANSPORT_H */
