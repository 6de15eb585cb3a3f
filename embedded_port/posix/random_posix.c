#define _POSIX_C_SOURCE 200809L

#include "random_posix.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

static uint32_t next(void *ctx)
{
    struct mfota_posix_random *pr = (struct mfota_posix_random *)ctx;
    uint32_t x = pr->state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    pr->state = x;
    return x;
}

void mfota_posix_random_init(struct mfota_posix_random *pr, struct mfota_random *r, uint32_t seed)
{
    if (seed == 0u) {
        int fd = open("/dev/urandom", O_RDONLY);
        if (fd >= 0) {
            if (read(fd, &seed, sizeof seed) != (ssize_t)sizeof seed) {
                seed = 0;
            }
            close(fd);
        }
    }
    if (seed == 0u) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        seed = (uint32_t)ts.tv_nsec ^ (uint32_t)ts.tv_sec ^ 0x9e3779b9u;
    }
    pr->state = seed ? seed : 1u;
    r->next = next;
    r->ctx = pr;
}
