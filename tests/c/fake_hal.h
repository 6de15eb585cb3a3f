/* One set of fake HALs for the C tests (self-tests on host and QEMU,
 * libFuzzer harnesses): a NOR flash in RAM with torn operations at a power
 * cut, a scripted transport that sees whole requests, and a manual clock.
 *
 * Nothing here allocates: every fake is a caller-owned struct, its buffers
 * the caller's, so a test can keep them static (the M4 runner has no heap).
 * A bootloader that records what the engine asks of it completes the set.
 * The tests' small text helpers (no snprintf in the suites) are here too. */
#ifndef MFOTA_FAKE_HAL_H
#define MFOTA_FAKE_HAL_H

#include <stddef.h>
#include <stdint.h>

#include "m2mfota/bootloader.h"
#include "m2mfota/flash.h"
#include "m2mfota/transport.h"

/* ---- NOR flash --------------------------------------------------------------
 * Erase sets a sector to 0xFF; program only clears bits and must hit erased,
 * aligned bytes (else `violations` counts it and the call fails).  With
 * cut_after = N (-1: never) the first N programs/erases happen and the next
 * is torn -- a program writes only the first half of its blocks, an erase
 * erases only the first half of the sector -- and fails, as does every
 * operation after it until fake_nor_power_on(): the model of the Python
 * NorFlash (python/m2mfota/flash.py).  A failing call returns `error`
 * (FAKE_HAL_EIO, a port's own code, unless the test sets another). */
struct fake_nor {
    uint8_t *mem;
    size_t size;
    uint32_t sector_size, program_size;
    unsigned reads, programs, erases, violations;
    long ops, cut_after;
    uint16_t *sector_erases; /* NULL, or size / sector_size counters */
    int powered;
    int error;
};

/* `mem` (size bytes, a whole number of sectors) is erased; no cut armed. */
void fake_nor_init(struct fake_nor *n, uint8_t *mem, size_t size, uint32_t sector_size,
                   uint32_t program_size);

/* Restore power after a cut and arm the next one (-1: none); ops restart
 * from 0. */
void fake_nor_power_on(struct fake_nor *n, long cut_after);

/* A HAL for the region [offset, offset + size) of the device. */
void fake_nor_hal(struct fake_nor *n, struct mfota_flash *out, uint32_t offset, uint32_t size);

/* Error a fake returns for a violation, a cut or a dead device. */
#define FAKE_HAL_EIO (-5)

/* ---- scripted transport -----------------------------------------------------
 * Bytes the engine sends collect in `req` until a request is complete (its
 * head ended and, with a Content-Length, its body is in); then on_request()
 * is called with it, once per request however it was split into sends, and
 * typically queues an answer with fake_conn_queue().  recv() hands queued
 * bytes out in pieces of at most recv_max (random sizes 1..recv_max when
 * lcg is seeded), answering "would block" every block_every-th call (0:
 * never) and when nothing is queued, or MFOTA_DONE (the peer closed) once
 * `closing` is set and the queue is empty.  A connect() clears the queue and
 * the partial request unless keep_queue.  With `script` set, recv() reads
 * that byte stream instead of the queue, shared by all connections (a
 * fuzzer's input); connect() fails once it is used up.  With `clock` set,
 * time moves recv_tick_ms per piece handed out and block_tick_ms per "would
 * block". */
#define FAKE_REQ_MAX 2048u
#define FAKE_OUT_MAX 8192u

struct fake_clock;

struct fake_conn {
    int connected, closing, keep_queue;
    char req[FAKE_REQ_MAX];
    size_t req_len;
    uint8_t out[FAKE_OUT_MAX];
    size_t out_len, out_pos;
    size_t send_max, recv_max;   /* 0: no limit */
    size_t send_room;            /* send() would block while fewer bytes are free in out */
    unsigned block_every;
    uint32_t lcg;
    const uint8_t *script;
    size_t script_len, script_pos;
    struct fake_clock *clock;
    uint32_t recv_tick_ms, block_tick_ms;
    unsigned calls, sends, connects, requests;
    unsigned double_connects;    /* connect() while connected: an engine bug */
    char host[64];               /* of the last connect() */
    uint16_t port;
    int connect_rc;              /* what connect() returns (MFOTA_OK) */
    int refuse_when_closing;     /* send() fails once `closing` is set (the peer is gone) */
    void (*on_request)(void *ctx, struct fake_conn *c, const char *req, size_t head_len,
                       const char *body, size_t body_len);
    void *ctx;
    /* the last complete request, for tests of the bytes on the wire */
    char last_req[FAKE_REQ_MAX];
    size_t last_req_len;
};

void fake_conn_init(struct fake_conn *c);
void fake_conn_transport(struct fake_conn *c, struct mfota_transport *out);
/* Append to the bytes recv() hands out (cut at FAKE_OUT_MAX: a client that
 * never reads notices). */
void fake_conn_queue(struct fake_conn *c, const void *data, size_t len);

/* ---- manual clock -------------------------------------------------------------
 * Time moves only when the engine sleeps, or by `tick` per now_ms() call. */
struct fake_clock {
    uint64_t now;
    uint32_t tick;
};

void fake_clock_hal(struct fake_clock *k, struct mfota_clock *out);

/* ---- bootloader ---------------------------------------------------------------
 * Records mark_pending() (marked, its size and permanent flag) and confirm();
 * has no running version and accepts any image as raw
 * (mfota_bootloader_accept_raw: the tests' images carry no MCUboot header).
 * Both calls return `rc` (0 unless the test sets an error). */
struct fake_boot {
    int marked, permanent, confirmed;
    uint32_t marked_size;
    int rc;
};

/* Nothing marked or confirmed yet; rc 0. */
void fake_boot_init(struct fake_boot *b);
void fake_boot_hal(struct fake_boot *b, struct mfota_bootloader *out);

/* ---- text helpers ---------------------------------------------------------------- */

/* Write at o + at, return the new end. */
size_t fake_put_str(char *o, size_t at, const char *s);
size_t fake_put_uint(char *o, size_t at, uint64_t v);
size_t fake_put_hex8(char *o, size_t at, uint32_t v);
/* The first `needle` in hay[0..n), or NULL. */
const char *fake_find(const char *hay, size_t n, const char *needle);
/* Decimal digits at p; *end after them. */
uint64_t fake_parse_uint(const char *p, const char **end);

#endif /* MFOTA_FAKE_HAL_H */
