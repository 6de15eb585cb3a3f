#define _POSIX_C_SOURCE 200809L

#include "transport_posix.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "m2mfota/err.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* macOS: SO_NOSIGPIPE would be the way; tests run on Linux */
#endif

static int wait_fd(int fd, short events, uint32_t timeout_ms)
{
    struct pollfd p;
    int rc;
    p.fd = fd;
    p.events = events;
    p.revents = 0;
    do {
        rc = poll(&p, 1, timeout_ms > 0x7FFFFFFFu ? 0x7FFFFFFF : (int)timeout_ms);
    } while (rc < 0 && errno == EINTR);
    return rc;
}

/* Non-blocking connect bounded by timeout_ms (0: block as the OS does). */
static int connect_addr(int fd, const struct sockaddr *sa, socklen_t len, uint32_t timeout_ms)
{
    int flags = fcntl(fd, F_GETFL, 0), err = 0;
    socklen_t elen = sizeof err;
    if (timeout_ms == 0) {
        return connect(fd, sa, len);
    }
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    if (connect(fd, sa, len) != 0) {
        if (errno != EINPROGRESS || wait_fd(fd, POLLOUT, timeout_ms) <= 0 ||
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err != 0) {
            fcntl(fd, F_SETFL, flags);
            return -1;
        }
    }
    fcntl(fd, F_SETFL, flags);
    return 0;
}

static int open_to(struct mfota_posix_transport *pt, const struct sockaddr *sa, socklen_t len,
                   int family)
{
    int one = 1;
    int fd = socket(family, SOCK_STREAM, 0);
    if (fd < 0) {
        return MFOTA_ERR_DL_CONNECT;
    }
    if (connect_addr(fd, sa, len, pt->connect_timeout_ms) != 0) {
        close(fd);
        return MFOTA_ERR_DL_CONNECT;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    pt->fd = fd;
    pt->connects++;
    pt->awaiting_reply = 0;
    return MFOTA_OK;
}

static int t_connect(void *ctx, const char *host, uint16_t port)
{
    struct mfota_posix_transport *pt = ctx;
    struct sockaddr_in sin;
    struct addrinfo hints, *res = NULL, *ai;
    char service[6];
    int rc = MFOTA_ERR_DL_CONNECT, i = 5;
    unsigned p = port;

    if (pt->fd >= 0) {
        return MFOTA_ERR_STATE;
    }
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    if (inet_pton(AF_INET, host, &sin.sin_addr) == 1) {
        return open_to(pt, (const struct sockaddr *)&sin, sizeof sin, AF_INET);
    }
    service[i] = '\0';
    do {
        service[--i] = (char)('0' + p % 10u);
        p /= 10u;
    } while (p != 0);
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, service + i, &hints, &res) != 0) {
        return MFOTA_ERR_DL_CONNECT;
    }
    for (ai = res; ai != NULL && rc != MFOTA_OK; ai = ai->ai_next) {
        rc = open_to(pt, ai->ai_addr, ai->ai_addrlen, ai->ai_family);
    }
    freeaddrinfo(res);
    return rc;
}

static int t_send(void *ctx, const uint8_t *data, size_t len, size_t *sent)
{
    struct mfota_posix_transport *pt = ctx;
    ssize_t n;
    *sent = 0;
    do {
        n = send(pt->fd, data, len, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return MFOTA_WOULD_BLOCK;
        }
        return (errno == EPIPE || errno == ECONNRESET) ? MFOTA_ERR_DL_CLOSED : MFOTA_ERR_DL_IO;
    }
    *sent = (size_t)n;
    pt->awaiting_reply = 1;
    return MFOTA_OK;
}

static int t_recv(void *ctx, uint8_t *buf, size_t cap, size_t *got, uint32_t timeout_ms)
{
    struct mfota_posix_transport *pt = ctx;
    int waited = 0;
    *got = 0;
    if (pt->awaiting_reply && timeout_ms > 0) {
        /* Right after a request the reply is rarely there yet: wait first
         * instead of spending a recv() on EAGAIN. */
        pt->awaiting_reply = 0;
        if (wait_fd(pt->fd, POLLIN, timeout_ms) <= 0) {
            return MFOTA_WOULD_BLOCK;
        }
        waited = 1;
    }
    for (;;) {
        /* Try first: a response is often already there, and this saves a
         * poll() per read on a busy connection. */
        ssize_t n = recv(pt->fd, buf, cap, MSG_DONTWAIT);
        if (n > 0) {
            *got = (size_t)n;
            return MFOTA_OK;
        }
        if (n == 0) {
            return MFOTA_DONE;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            return errno == ECONNRESET ? MFOTA_ERR_DL_CLOSED : MFOTA_ERR_DL_IO;
        }
        if (waited || timeout_ms == 0) {
            return MFOTA_WOULD_BLOCK;
        }
        if (wait_fd(pt->fd, POLLIN, timeout_ms) <= 0) {
            return MFOTA_WOULD_BLOCK;
        }
        waited = 1;
    }
}

static void t_close(void *ctx)
{
    struct mfota_posix_transport *pt = ctx;
    if (pt->fd >= 0) {
        close(pt->fd);
        pt->fd = -1;
    }
}

void mfota_posix_transport_init(struct mfota_posix_transport *pt, struct mfota_transport *t)
{
    pt->fd = -1;
    pt->connect_timeout_ms = 10000;
    pt->connects = 0;
    pt->awaiting_reply = 0;
    t->connect = t_connect;
    t->send = t_send;
    t->recv = t_recv;
    t->close = t_close;
    t->ctx = pt;
}

static uint64_t c_now(void *ctx)
{
    struct timespec ts;
    (void)ctx;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void c_sleep(void *ctx, uint32_t ms)
{
    struct timespec ts;
    (void)ctx;
    ts.tv_sec = (time_t)(ms / 1000u);
    ts.tv_nsec = (long)(ms % 1000u) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

void mfota_posix_clock_init(struct mfota_clock *c)
{
    c->now_ms = c_now;
    c->sleep_ms = c_sleep;
    c->ctx = NULL;
}
