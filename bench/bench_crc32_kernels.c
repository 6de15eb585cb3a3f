/*
 * CRC-32 throughput of every kernel this build and CPU offer, against zlib's
 * crc32() in the same run, without Python's call overhead.
 *
 *     cmake -S . -B build/host -DCMAKE_BUILD_TYPE=Release && cmake --build build/host
 *     build/host/bench/mfota_bench_crc32          (--quick: one call per size)
 *
 * Best of REPEATS measurements of at least MIN_SECONDS each, GB/s = 10^9 B/s.
 */
#define _POSIX_C_SOURCE 199309L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "m2mfota/crc32.h"

#define REPEATS 9
#define MIN_SECONDS 0.02
#define MAX_SIZE (4u << 20)

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* kind < 0: zlib; otherwise an m2mfota kernel. */
static uint32_t run_once(int kind, const unsigned char *buf, size_t size)
{
    if (kind < 0) {
        return (uint32_t)crc32(0uL, buf, (uInt)size);
    }
    return mfota_crc32_with((enum mfota_crc32_impl)kind, 0u, buf, size, NULL);
}

/* Seconds per call, best of `repeats` measurements of `calls` calls. */
static double best_time(int kind, const unsigned char *buf, size_t size, long calls, int repeats)
{
    double best = 1e30;
    volatile uint32_t sink = 0;
    int r;
    for (r = 0; r < repeats; r++) {
        long i;
        double t = now();
        for (i = 0; i < calls; i++) {
            sink ^= run_once(kind, buf, size);
        }
        t = (now() - t) / (double)calls;
        if (t < best) {
            best = t;
        }
    }
    (void)sink;
    return best;
}

static long calibrate(int kind, const unsigned char *buf, size_t size, double min_seconds)
{
    long calls = 1;
    while (calls < (1L << 26) && best_time(kind, buf, size, calls, 1) * (double)calls < min_seconds) {
        calls *= 2;
    }
    return calls;
}

int main(int argc, char **argv)
{
    static const size_t sizes[] = {64, 4096, 256u << 10, MAX_SIZE};
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    int repeats = quick ? 1 : REPEATS;
    double min_seconds = quick ? 0.0 : MIN_SECONDS;
    unsigned char *buf = malloc(MAX_SIZE);
    uint32_t x = 12345u;
    size_t i, s;
    int kind, failures = 0;

    if (!buf) {
        return 2;
    }
    for (i = 0; i < MAX_SIZE; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (unsigned char)(x >> 24);
    }
    printf("active kernel: %s\n", mfota_crc32_impl_name(mfota_crc32_active()));
    printf("%10s %-8s %9s %9s\n", "size", "kernel", "GB/s", "vs zlib");
    for (s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t size = sizes[s];
        uint32_t want = run_once(-1, buf, size);
        double zlib_gbps = (double)size /
                           best_time(-1, buf, size, calibrate(-1, buf, size, min_seconds), repeats) /
                           1e9;
        printf("%10lu %-8s %9.2f %8.2fx\n", (unsigned long)size, "zlib", zlib_gbps, 1.0);
        for (kind = 0; kind < MFOTA_CRC32_IMPL_COUNT_; kind++) {
            double gbps;
            if (!mfota_crc32_available((enum mfota_crc32_impl)kind)) {
                continue;
            }
            if (run_once(kind, buf, size) != want) {
                printf("FAIL %s at %lu bytes\n", mfota_crc32_impl_name((enum mfota_crc32_impl)kind),
                       (unsigned long)size);
                failures++;
                continue;
            }
            gbps = (double)size /
                   best_time(kind, buf, size, calibrate(kind, buf, size, min_seconds), repeats) / 1e9;
            printf("%10lu %-8s %9.2f %8.2fx\n", (unsigned long)size,
                   mfota_crc32_impl_name((enum mfota_crc32_impl)kind), gbps, gbps / zlib_gbps);
        }
    }
    free(buf);
    return failures ? 1 : 0;
}
