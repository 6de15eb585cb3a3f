#define _POSIX_C_SOURCE 200809L

#include "uart_posix.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "m2mfota/err.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

static int u_write(void *ctx, const uint8_t *data, size_t len)
{
    struct mfota_posix_uart *pu = ctx;
    size_t done = 0;
    while (done < len) {
        ssize_t n = send(pu->fd, data + done, len - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return MFOTA_ERR_HAL;
        }
        done += (size_t)n;
    }
    pu->bytes_written += (uint32_t)len;
    return MFOTA_OK;
}

static int u_read(void *ctx, uint8_t *buf, size_t cap, uint32_t timeout_ms)
{
    struct mfota_posix_uart *pu = ctx;
    struct pollfd p;
    ssize_t n;
    int rc;
    p.fd = pu->fd;
    p.events = POLLIN;
    p.revents = 0;
    do {
        rc = poll(&p, 1, timeout_ms > 0x7FFFFFFFu ? 0x7FFFFFFF : (int)timeout_ms);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        return MFOTA_ERR_HAL;
    }
    if (rc == 0) {
        return 0;
    }
    do {
        n = recv(pu->fd, buf, cap, 0);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
        /* The simulator went away: a UART does not "close", so report a HAL
         * failure rather than a quiet line. */
        return MFOTA_ERR_HAL;
    }
    pu->bytes_read += (uint32_t)n;
    return (int)n;
}

static uint64_t u_now(void *ctx)
{
    struct timespec ts;
    (void)ctx;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int mfota_posix_uart_open(struct mfota_posix_uart *pu, const char *host, uint16_t port,
                          struct mfota_modem_uart *u)
{
    struct sockaddr_in sin;
    int one = 1;
    pu->fd = -1;
    pu->bytes_written = pu->bytes_read = 0;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
        return MFOTA_ERR_HAL;
    }
    pu->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (pu->fd < 0) {
        return MFOTA_ERR_HAL;
    }
    if (connect(pu->fd, (const struct sockaddr *)&sin, sizeof sin) != 0) {
        close(pu->fd);
        pu->fd = -1;
        return MFOTA_ERR_HAL;
    }
    /* A UART sends each byte as it comes: no Nagle batching of commands. */
    setsockopt(pu->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    u->write = u_write;
    u->read = u_read;
    u->now_ms = u_now;
    u->ctx = pu;
    return MFOTA_OK;
}

void mfota_posix_uart_close(struct mfota_posix_uart *pu)
{
    if (pu->fd >= 0) {
        close(pu->fd);
        pu->fd = -1;
    }
}
