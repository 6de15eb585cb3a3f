/*
 * m2mfota transport and clock HALs over POSIX sockets (Linux, macOS, BSD).
 *
 * A port outside the core: a host tool, a test or a Linux-based gateway
 * fills a struct mfota_transport with it.  IPv4 literals connect directly;
 * names go through getaddrinfo().  TCP_NODELAY is set (a request is one
 * small segment that should leave at once); recv() waits with poll().
 */
#ifndef MFOTA_TRANSPORT_POSIX_H
#define MFOTA_TRANSPORT_POSIX_H

#include <stdint.h>

#include "m2mfota/transport.h"

#ifdef __cplusplus
extern "C" {
#endif

struct mfota_posix_transport {
    int fd;                      /* -1 when not connected */
    uint32_t connect_timeout_ms; /* 0: the OS default */
    uint32_t connects;           /* successful connects, for tests */
    int awaiting_reply;          /* sent since the last recv: poll before reading */
};

/* Set up `pt` (not connected) and point `t` at it.  Cannot fail. */
void mfota_posix_transport_init(struct mfota_posix_transport *pt, struct mfota_transport *t);

/* CLOCK_MONOTONIC milliseconds and nanosleep(); ctx unused (NULL). */
void mfota_posix_clock_init(struct mfota_clock *c);

#ifdef __cplusplus
}
#endif

#endif /* MFOTA_TRANSPORT_POSIX_H */
