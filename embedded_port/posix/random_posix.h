/*
 * Random source for the client engine's retry jitter on POSIX hosts: a
 * xorshift32 generator seeded from /dev/urandom (or the clock when that is
 * unreadable).  Jitter only has to spread a fleet, not resist an attacker.
 */
#ifndef MFOTA_RANDOM_POSIX_H
#define MFOTA_RANDOM_POSIX_H

#include <stdint.h>

#include "m2mfota/client.h"

#ifdef __cplusplus
extern "C" {
#endif

struct mfota_posix_random {
    uint32_t state;
};

/* Seed `pr` (seed 0: from /dev/urandom) and point `r` at it. */
void mfota_posix_random_init(struct mfota_posix_random *pr, struct mfota_random *r, uint32_t seed);

#ifdef __cplusplus
}
#endif

#endif /* MFOTA_RANDOM_POSIX_H */
