/*
 * libFuzzer harness for the SenML decoder, the number conversions and the
 * encoder: every accepted pack must re-encode to a pack that decodes to the
 * same records, and every accepted number must format and re-parse exactly.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "m2mfota/err.h"
#include "m2mfota/senml.h"

#define MAX_RECORDS 64

static char strings[MAX_RECORDS][4][MFOTA_SENML_STR_MAX];
static struct mfota_senml_entry entries[MAX_RECORDS];
static char out[MAX_RECORDS * 4 * (MFOTA_SENML_STR_MAX * 6 + 64)];

static void check_number(const uint8_t *data, size_t size)
{
    double v, back;
    char text[MFOTA_SENML_NUM_MAX];
    size_t n;
    if (size > 64 || mfota_senml_parse_double((const char *)data, size, &v) != MFOTA_OK) {
        return;
    }
    n = mfota_senml_format_double(v, text, sizeof text);
    if (n == 0 || mfota_senml_parse_double(text, n, &back) != MFOTA_OK ||
        memcmp(&v, &back, sizeof v) != 0) {
        abort();
    }
}

static void decode_strings(const struct mfota_senml_record *rec, size_t i)
{
    const struct mfota_senml_str *s[3];
    size_t k, len;
    s[0] = &rec->n;
    s[1] = &rec->u;
    s[2] = &rec->vs;
    memset(&entries[i], 0, sizeof entries[i]);
    if (mfota_senml_record_name(rec, strings[i][0], MFOTA_SENML_STR_MAX, &len) == MFOTA_OK) {
        entries[i].n = strings[i][0];
        entries[i].n_len = len;
    } else {
        entries[i].n = "x";
        entries[i].n_len = 1;
    }
    for (k = 1; k < 3; k++) {
        if (s[k]->ptr == NULL) {
            continue;
        }
        if (mfota_senml_str_decode(s[k], strings[i][k], MFOTA_SENML_STR_MAX, &len) != MFOTA_OK ||
            len != s[k]->dlen || !mfota_senml_str_eq(s[k], strings[i][k], len)) {
            abort();
        }
        if (k == 1) {
            entries[i].u = strings[i][k];
            entries[i].u_len = len;
        } else {
            entries[i].vs = strings[i][k];
            entries[i].vs_len = len;
        }
    }
    entries[i].kind = rec->kind;
    entries[i].v = rec->v;
    entries[i].vb = rec->vb;
    entries[i].has_s = rec->has_s;
    entries[i].s = rec->s;
    entries[i].has_t = rec->has_t;
    entries[i].t = rec->t;
    entries[i].has_ut = rec->has_ut;
    entries[i].ut = rec->ut;
}

/* Whatever the encoder accepts, the strict decoder must read back. */
static void check_encoder(const uint8_t *data, size_t size)
{
    struct mfota_senml_entry e;
    struct mfota_senml_dec dec;
    struct mfota_senml_record rec;
    static char buf[4096 * 6 + 256];
    size_t needed, split;
    int rc;
    if (size < 10) {
        return;
    }
    memset(&e, 0, sizeof e);
    split = 9 + data[0] % (size - 9);
    memcpy(&e.v, data + 1, sizeof e.v);
    e.kind = (uint8_t)(data[0] % 5);
    e.n = (const char *)data + 9;
    e.n_len = split - 9;
    e.vs = (const char *)data + split;
    e.vs_len = size - split;
    e.vb = (uint8_t)(data[0] & 1);
    if (data[0] & 0x80) {
        e.bn = "urn:dev:x:";
        e.bn_len = 10;
    }
    rc = mfota_senml_encode(&e, 1, buf, sizeof buf, &needed);
    if (rc != MFOTA_OK) {
        return;
    }
    mfota_senml_dec_init(&dec, buf, needed, MFOTA_SENML_STRICT);
    rc = mfota_senml_dec_next(&dec, &rec);
    if (rc != MFOTA_OK && !(rc == MFOTA_ERR_SENML_NO_VALUE && e.kind == MFOTA_SENML_KIND_NONE)) {
        abort();
    }
    if (rc == MFOTA_OK &&
        (rec.kind != e.kind || !mfota_senml_str_eq(&rec.n, e.n, e.n_len) ||
         ((e.kind == MFOTA_SENML_KIND_STR || e.kind == MFOTA_SENML_KIND_DATA) &&
          !mfota_senml_str_eq(&rec.vs, e.vs, e.vs_len)) ||
         (e.kind == MFOTA_SENML_KIND_NUM && memcmp(&rec.v, &e.v, sizeof e.v) != 0) ||
         mfota_senml_dec_next(&dec, &rec) != MFOTA_DONE)) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mfota_senml_dec dec;
    struct mfota_senml_record rec;
    size_t count = 0, needed, i;
    unsigned mode;
    int rc;

    check_number(data, size);
    check_encoder(data, size);
    for (mode = 0; mode < 2; mode++) {
        size_t kept = 0;
        mfota_senml_dec_init(&dec, (const char *)data, size, mode);
        while ((rc = mfota_senml_dec_next(&dec, &rec)) == MFOTA_OK) {
            if (rec.offset >= size) {
                abort();
            }
            if ((rec.kind != MFOTA_SENML_KIND_NONE || rec.has_s) && kept < MAX_RECORDS) {
                decode_strings(&rec, kept++);
            }
        }
        if (rc != MFOTA_DONE) {
            if (rc >= 0 || mfota_senml_dec_offset(&dec) > size) {
                abort();
            }
            continue;
        }
        if (mfota_senml_dec_next(&dec, &rec) != MFOTA_DONE) {
            abort();
        }
        /* re-encode what was read (resolved, so no base fields) and decode it */
        rc = mfota_senml_encode(entries, kept, out, sizeof out, &needed);
#if !MFOTA_SENML_FULL
        if (rc == MFOTA_ERR_UNSUPPORTED) {
            /* the subset encoder refuses s, t, ut, vb and vd: only then */
            for (i = 0; i < kept; i++) {
                if (entries[i].has_s || entries[i].has_t || entries[i].has_ut ||
                    entries[i].kind == MFOTA_SENML_KIND_BOOL ||
                    entries[i].kind == MFOTA_SENML_KIND_DATA) {
                    break;
                }
            }
            if (i == kept) {
                abort();
            }
            continue;
        }
#endif
        if (rc != MFOTA_OK) {
            abort();
        }
        mfota_senml_dec_init(&dec, out, needed, MFOTA_SENML_STRICT);
        count = 0;
        while ((rc = mfota_senml_dec_next(&dec, &rec)) == MFOTA_OK) {
            i = count++;
            if (i >= kept || rec.kind != entries[i].kind || rec.n.dlen != entries[i].n_len ||
                !mfota_senml_str_eq(&rec.n, entries[i].n, entries[i].n_len) ||
                (rec.kind == MFOTA_SENML_KIND_NUM &&
                 memcmp(&rec.v, &entries[i].v, sizeof rec.v) != 0)) {
                abort();
            }
        }
        if (rc != MFOTA_DONE || count != kept) {
            abort();
        }
    }
    return 0;
}
