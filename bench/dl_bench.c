/* Driver of bench_download.py: download a URL with the C downloader over
 * the POSIX transport into memory, `reps` times, and print one JSON line per
 * run (seconds, counters, CRC-32 of the data).  Host-only (uses stdio and
 * malloc, which the core does not). */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "m2mfota/crc32.h"
#include "m2mfota/downloader.h"
#include "m2mfota/err.h"
#include "transport_posix.h"

struct mem {
    uint8_t *buf;
    uint64_t cap;
};

static int on_data(void *ctx, uint32_t offset, const uint8_t *data, size_t len)
{
    struct mem *m = ctx;
    if (offset + len > m->cap) {
        return MFOTA_ERR_NOSPC;
    }
    memcpy(m->buf + offset, data, len);
    return MFOTA_OK;
}

static int on_done(void *ctx, uint32_t offset, uint32_t len, uint32_t crc, int verified)
{
    (void)ctx, (void)offset, (void)len, (void)crc, (void)verified;
    return MFOTA_OK;
}

static int on_total(void *ctx, uint32_t total, int restarted)
{
    struct mem *m = ctx;
    (void)restarted;
    return total <= m->cap ? MFOTA_OK : MFOTA_ERR_NOSPC;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    static uint8_t rx[65536];
    static uint8_t tx[MFOTA_DL_SEND_CHUNK];
    struct mem m;
    struct mfota_transport t;
    struct mfota_posix_transport pt;
    struct mfota_clock clk;
    struct mfota_dl_sink sink;
    struct mfota_dl_config cfg;
    static struct mfota_dl dl;
    int reps, i, rc;

    if (argc < 6 || argc > 8) {
        fprintf(stderr,
                "usage: dl_bench URL TOKEN PART_SIZE MAX_BYTES REPS [PIPELINE [PER_CONNECTION]]\n");
        return 2;
    }
    m.cap = strtoull(argv[4], NULL, 10);
    m.buf = malloc((size_t)m.cap);
    if (m.buf == NULL) {
        return 2;
    }
    /* Touch every page now: page faults are not the downloader's cost (on a
     * device the sink writes to flash). */
    memset(m.buf, 0, (size_t)m.cap);
    reps = atoi(argv[5]);
    sink.data = on_data;
    sink.part_done = on_done;
    sink.part_failed = NULL;
    sink.total = on_total;
    sink.ctx = &m;
    mfota_posix_clock_init(&clk);
    for (i = 0; i < reps; i++) {
        double t0, t1;
        mfota_posix_transport_init(&pt, &t);
        mfota_dl_config_default(&cfg);
        cfg.transport = &t;
        cfg.clock = &clk;
        cfg.sink = &sink;
        cfg.url = argv[1];
        cfg.url_len = strlen(argv[1]);
        cfg.token = argv[2];
        cfg.token_len = strlen(argv[2]);
        cfg.plan.part_size = (uint32_t)atoi(argv[3]);
        cfg.plan.align = cfg.plan.part_size;
        if (argc >= 7) {
            cfg.pipeline = (uint8_t)atoi(argv[6]);
        }
        if (argc >= 8) {
            cfg.plan.per_connection = (uint32_t)atoi(argv[7]);
        }
        cfg.rx_buf = rx;
        cfg.rx_cap = sizeof rx;
        cfg.tx_buf = tx;
        cfg.tx_cap = sizeof tx;
        rc = mfota_dl_init(&dl, &cfg);
        t0 = now_s();
        if (rc == MFOTA_OK) {
            rc = mfota_dl_run(&dl);
        }
        t1 = now_s();
        if (rc != MFOTA_OK) {
            fprintf(stderr, "download failed: %s\n", mfota_err_name(rc));
            return 1;
        }
        printf("{\"seconds\": %.6f, \"bytes\": %" PRIu32 ", \"requests\": %" PRIu32
               ", \"connections\": %" PRIu32 ", \"retries\": %" PRIu32
               ", \"request_bytes\": %" PRIu32 ", \"crc32\": %" PRIu32 "}\n",
               t1 - t0, dl.stats.bytes_done, dl.stats.requests, dl.stats.connections,
               dl.stats.retries, dl.stats.request_bytes,
               mfota_crc32(0, m.buf, (size_t)dl.stats.bytes_done));
        fflush(stdout);
    }
    free(m.buf);
    return 0;
}
