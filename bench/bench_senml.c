/*
 * SenML decoding: m2mfota versus cJSON, in one run, on the same bytes.
 *
 * Two messages: a typical FOTA downlink (3 records: base name, url, token)
 * and a 20-record uplink.  Both decoders parse the bytes and look up the
 * same fields (for the downlink: check the device's base name and find the
 * url and token strings; for the uplink: resolve every record's name and
 * value).  The downlink is also timed through the full extractor
 * (mfota_things_parse_downlink: URL and token validation, copies), which
 * does more work than the cJSON loop.
 *
 * Heap allocations are counted for both: cJSON through cJSON_InitHooks, and
 * every malloc/calloc/realloc the rest of the program makes through the
 * linker's --wrap (see bench/CMakeLists.txt).
 *
 * Allocations are counted over one call of each (the calls are identical).
 *
 * Usage: bench_senml [iterations-scale]   (default 1; the smoke test uses less)
 */
#define _POSIX_C_SOURCE 199309L
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "m2mfota/err.h"
#include "m2mfota/senml.h"
#include "m2mfota/things.h"

/* ---- allocation counting --------------------------------------------------- */

static unsigned long cjson_allocs, wrapped_allocs;

static void *counting_malloc(size_t n)
{
    cjson_allocs++;
    return malloc(n);
}

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);

void *__wrap_malloc(size_t n)
{
    wrapped_allocs++;
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
    wrapped_allocs++;
    return __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
    wrapped_allocs++;
    return __real_realloc(p, n);
}

/* ---- the messages ------------------------------------------------------------- */

static const char imei[] = "356938035643809";

static const char downlink[] =
    "[{\"bn\":\"urn:dev:IMEI:356938035643809:\"},"
    "{\"n\":\"url\",\"vs\":\"http://10.151.236.136/f/v1/c5801012-31c8-4346-9963-cf317f1b5aa3\"},"
    "{\"n\":\"token\",\"vs\":\"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIzNTY5MzgwMzU2NDM4MDkiLCJ"
    "maWxlIjoiYzU4MDEwMTItMzFjOC00MzQ2LTk5NjMtY2YzMTdmMWI1YWEzIiwiZXhwIjoxNzAwMDAwMDAwfQ."
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c\"}]";

static char uplink[4096];
static size_t uplink_len;

static void make_uplink(void)
{
    struct mfota_senml_entry e[20];
    static const char *names[16] = {
        "temperature", "humidity", "pressure", "battery", "rssi", "rsrp", "rsrq", "snr",
        "lat", "lon", "alt", "speed", "uptime", "resets", "tx.bytes", "rx.bytes"};
    static const char *units[16] = {"Cel", "%RH", "Pa", "V", "dBW", "dBW", "dB", "dB",
                                    "lat", "lon", "m", "m/s", "s", "", "B", "B"};
    int i;
    memset(e, 0, sizeof e);
    e[0].n = "firmware";
    e[0].n_len = 8;
    e[0].kind = MFOTA_SENML_KIND_STR;
    e[0].vs = "1.4.2";
    e[0].vs_len = 5;
    e[0].bn = "urn:dev:IMEI:356938035643809:";
    e[0].bn_len = strlen(e[0].bn);
    e[0].has_bt = 1;
    e[0].bt = 1700000000;
    e[1].n = "fota.state";
    e[1].n_len = 10;
    e[1].kind = MFOTA_SENML_KIND_STR;
    e[1].vs = "downloading";
    e[1].vs_len = 11;
    e[2].n = "fota.progress";
    e[2].n_len = 13;
    e[2].u = "%";
    e[2].u_len = 1;
    e[2].kind = MFOTA_SENML_KIND_NUM;
    e[2].v = 42;
    e[3].n = "fota.result";
    e[3].n_len = 11;
    e[3].kind = MFOTA_SENML_KIND_NUM;
    e[3].v = 0;
    for (i = 0; i < 16; i++) {
        e[4 + i].n = names[i];
        e[4 + i].n_len = strlen(names[i]);
        if (units[i][0]) {
            e[4 + i].u = units[i];
            e[4 + i].u_len = strlen(units[i]);
        }
        e[4 + i].kind = MFOTA_SENML_KIND_NUM;
        e[4 + i].v = (i % 3 == 0) ? (double)(i * 1000 + 7) : 21.5 + i * 0.37;
        e[4 + i].has_t = i % 2;
        e[4 + i].t = -(double)i;
    }
    if (mfota_senml_encode(e, 20, uplink, sizeof uplink, &uplink_len) != MFOTA_OK) {
        fprintf(stderr, "cannot build the uplink\n");
        exit(1);
    }
}

/* ---- the work, done both ways ------------------------------------------------------ */

static volatile double sink;

/* m2mfota: check bn, find url and token (slices of the input). */
static int m_downlink(void)
{
    struct mfota_senml_dec dec;
    struct mfota_senml_record rec;
    const char *url = NULL, *token = NULL;
    size_t url_len = 0, token_len = 0;
    int rc;
    mfota_senml_dec_init(&dec, downlink, sizeof downlink - 1, MFOTA_SENML_LENIENT_V_STRING);
    while ((rc = mfota_senml_dec_next(&dec, &rec)) == MFOTA_OK) {
        if ((rec.fields & MFOTA_SENML_F_BN) &&
            !mfota_senml_str_eq(&rec.bn, "urn:dev:IMEI:356938035643809:", 29)) {
            return -1;
        }
        if (rec.kind != MFOTA_SENML_KIND_STR) {
            continue;
        }
        if (mfota_senml_str_eq(&rec.n, "url", 3)) {
            url = rec.vs.ptr;
            url_len = rec.vs.len;
        } else if (mfota_senml_str_eq(&rec.n, "token", 5)) {
            token = rec.vs.ptr;
            token_len = rec.vs.len;
        }
    }
    sink = (double)(url_len + token_len);
    return rc == MFOTA_DONE && url && token ? 0 : -1;
}

static int m_downlink_full(void)
{
    static struct mfota_fota_command cmd;
    int rc = mfota_things_parse_downlink(downlink, sizeof downlink - 1, imei, sizeof imei - 1,
                                         &cmd, NULL);
    sink = (double)cmd.token_len;
    return rc;
}

static int c_downlink(void)
{
    cJSON *root = cJSON_ParseWithLength(downlink, sizeof downlink - 1), *rec;
    const char *url = NULL, *token = NULL;
    int ok = root && cJSON_IsArray(root);
    if (ok) {
        cJSON_ArrayForEach(rec, root)
        {
            cJSON *bn = cJSON_GetObjectItemCaseSensitive(rec, "bn");
            cJSON *n = cJSON_GetObjectItemCaseSensitive(rec, "n");
            cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, "vs");
            if (!v) {
                v = cJSON_GetObjectItemCaseSensitive(rec, "v");
            }
            if (bn && (!cJSON_IsString(bn) ||
                       strcmp(bn->valuestring, "urn:dev:IMEI:356938035643809:") != 0)) {
                ok = 0;
                break;
            }
            if (!cJSON_IsString(n) || !cJSON_IsString(v)) {
                continue;
            }
            if (strcmp(n->valuestring, "url") == 0) {
                url = v->valuestring;
            } else if (strcmp(n->valuestring, "token") == 0) {
                token = v->valuestring;
            }
        }
    }
    ok = ok && url && token;
    sink = ok ? (double)(strlen(url) + strlen(token)) : 0;
    cJSON_Delete(root);
    return ok ? 0 : -1;
}

/* uplink: every record's resolved name and value */
static int m_uplink(void)
{
    struct mfota_senml_dec dec;
    struct mfota_senml_record rec;
    double acc = 0;
    size_t names = 0;
    int rc;
    mfota_senml_dec_init(&dec, uplink, uplink_len, MFOTA_SENML_STRICT);
    while ((rc = mfota_senml_dec_next(&dec, &rec)) == MFOTA_OK) {
        names += rec.bn.len + rec.n.len;
        if (rec.kind == MFOTA_SENML_KIND_NUM) {
            acc += rec.v;
        }
        if (rec.has_t) {
            acc += rec.t;
        }
    }
    sink = acc + (double)names;
    return rc == MFOTA_DONE ? 0 : -1;
}

static int c_uplink(void)
{
    cJSON *root = cJSON_ParseWithLength(uplink, uplink_len), *rec;
    double acc = 0, bt = 0;
    size_t names = 0, bn_len = 0;
    int ok = root && cJSON_IsArray(root);
    if (ok) {
        cJSON_ArrayForEach(rec, root)
        {
            cJSON *bn = cJSON_GetObjectItemCaseSensitive(rec, "bn");
            cJSON *btj = cJSON_GetObjectItemCaseSensitive(rec, "bt");
            cJSON *n = cJSON_GetObjectItemCaseSensitive(rec, "n");
            cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, "v");
            cJSON *t = cJSON_GetObjectItemCaseSensitive(rec, "t");
            if (cJSON_IsString(bn)) {
                bn_len = strlen(bn->valuestring);
            }
            if (cJSON_IsNumber(btj)) {
                bt = btj->valuedouble;
            }
            if (cJSON_IsString(n)) {
                names += bn_len + strlen(n->valuestring);
            }
            if (cJSON_IsNumber(v)) {
                acc += v->valuedouble;
            }
            acc += bt + (cJSON_IsNumber(t) ? t->valuedouble : 0);
        }
    }
    sink = acc + (double)names;
    cJSON_Delete(root);
    return ok ? 0 : -1;
}

/* ---- timing ----------------------------------------------------------------- */

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

struct result {
    double ns;
    double allocs;
};

/* Time every function in interleaved rounds (so a busy neighbour slows all
 * of them alike) and keep each one's best round. */
#define ROUNDS 7
static void measure(int (*const fns[])(void), struct result *res, size_t n, long iters)
{
    size_t f;
    int round;
    long i;
    for (f = 0; f < n; f++) {
        unsigned long before = cjson_allocs + wrapped_allocs;
        if (fns[f]() != 0) {
            fprintf(stderr, "decoding failed\n");
            exit(1);
        }
        res[f].allocs = (double)(cjson_allocs + wrapped_allocs - before);
        res[f].ns = 1e300;
    }
    for (round = 0; round < ROUNDS; round++) {
        for (f = 0; f < n; f++) {
            double t0 = now_ns(), dt;
            for (i = 0; i < iters; i++) {
                fns[f]();
            }
            dt = (now_ns() - t0) / (double)iters;
            if (dt < res[f].ns) {
                res[f].ns = dt;
            }
        }
    }
}

int main(int argc, char **argv)
{
    cJSON_Hooks hooks = {counting_malloc, free};
    double scale = argc > 1 ? atof(argv[1]) : 1.0;
    long iters = (long)(200000 * scale) + 1;
    struct result md, mf, cd, mu, cu;

    static int (*const down[])(void) = {c_downlink, m_downlink, m_downlink_full};
    static int (*const up[])(void) = {c_uplink, m_uplink};
    struct result d[3], u[2];

    cJSON_InitHooks(&hooks);
    make_uplink();
    measure(down, d, 3, iters);
    measure(up, u, 2, iters / 4 + 1);
    cd = d[0];
    md = d[1];
    mf = d[2];
    cu = u[0];
    mu = u[1];

    printf("SenML decoding, m2mfota vs cJSON %s (best of %d interleaved rounds)\n", cJSON_Version(), ROUNDS);
    printf("%-34s %6s %12s %14s %8s\n", "message", "bytes", "ns/message", "allocs/message",
           "speedup");
    printf("%-34s %6zu %12.1f %14.2f %8s\n", "downlink 3 rec: cJSON", sizeof downlink - 1, cd.ns,
           cd.allocs, "1.00x");
    printf("%-34s %6zu %12.1f %14.2f %7.2fx\n", "downlink 3 rec: m2mfota decoder",
           sizeof downlink - 1, md.ns, md.allocs, cd.ns / md.ns);
    printf("%-34s %6zu %12.1f %14.2f %7.2fx\n", "downlink 3 rec: m2mfota extractor",
           sizeof downlink - 1, mf.ns, mf.allocs, cd.ns / mf.ns);
    printf("%-34s %6zu %12.1f %14.2f %8s\n", "uplink 20 rec: cJSON", uplink_len, cu.ns,
           cu.allocs, "1.00x");
    printf("%-34s %6zu %12.1f %14.2f %7.2fx\n", "uplink 20 rec: m2mfota decoder", uplink_len,
           mu.ns, mu.allocs, cu.ns / mu.ns);
    printf("RATIO downlink=%.2f downlink_full=%.2f uplink=%.2f m2mfota_allocs=%.0f\n",
           cd.ns / md.ns, cd.ns / mf.ns, cu.ns / mu.ns, md.allocs + mf.allocs + mu.allocs);
    return 0;
}
