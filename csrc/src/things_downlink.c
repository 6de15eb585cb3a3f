/*
 * The FOTA command of a KPN Things downlink (docs/protocol.md §2).
 *
 * Everything a command carries is checked here, before any of it can reach
 * the download code: the device, the URL form, the token's bytes and the
 * optional integrity fields.
 */
#include "m2mfota/things.h"

#include <string.h>

#include "m2mfota/err.h"
#include "m2mfota/url.h"
#include "ascii.h"

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

enum {
    F_URL = 1,
    F_TOKEN = 2,
    F_SIZE = 4,
    F_CRC32 = 8,
    F_SHA256 = 16,
    F_VERSION = 32
};

/* bn must be "urn:dev:IMEI:<imei>:"; the URN prefix is case-insensitive. */
static int bn_is_ours(const struct mfota_senml_str *bn, const char *imei, size_t imei_len)
{
    static const char prefix[] = "urn:dev:imei:";
    char buf[sizeof prefix - 1 + MFOTA_THINGS_IMEI_MAX + 1];
    size_t n, i;
    if (bn->dlen != sizeof prefix - 1 + imei_len + 1) {
        return 0;
    }
    if (mfota_senml_str_decode(bn, buf, sizeof buf, &n) != MFOTA_OK) {
        return 0;
    }
    for (i = 0; i < sizeof prefix - 1; i++) {
        if (mfota_ascii_lower_((unsigned char)buf[i]) != prefix[i]) {
            return 0;
        }
    }
    return memcmp(buf + sizeof prefix - 1, imei, imei_len) == 0 && buf[n - 1] == ':';
}

/* Where the strings of a command go: copied into `cmd`, or (cmd NULL)
 * decoded in place in the downlink body, which escapes only ever shorten. */
struct target {
    struct mfota_fota_view *v;
    struct mfota_fota_command *cmd;
};

/* Decode a string value (at most `max` bytes) to its destination: `copy`
 * (cap max + 1, NUL-terminated) or, when that is NULL, in place. */
static int take_string(const struct mfota_senml_record *rec, char *copy, size_t max,
                       const char **out, size_t *len)
{
    char *dst = copy != NULL ? copy : (char *)(uintptr_t)rec->vs.ptr;
    if (rec->vs.dlen > max) {
        return -1;
    }
    if (copy == NULL && !rec->vs.escaped) {
        *out = rec->vs.ptr; /* already the text: nothing to write */
        *len = rec->vs.len;
        return 0;
    }
    if (mfota_senml_str_decode(&rec->vs, dst, max, len) != MFOTA_OK) {
        return -1;
    }
    if (copy != NULL) {
        dst[*len] = '\0';
    }
    *out = dst;
    return 0;
}

static int take_url(const struct mfota_senml_record *rec, struct target *t)
{
    struct mfota_url parsed;
    struct mfota_fota_view *v = t->v;
    if (rec->kind != MFOTA_SENML_KIND_STR) {
        return MFOTA_ERR_THINGS_BAD_URL;
    }
    if (take_string(rec, t->cmd ? t->cmd->url : NULL, MFOTA_URL_MAX, &v->url,
                    &v->url_len) != 0) {
        return MFOTA_ERR_URL_TOO_LONG;
    }
    return mfota_url_parse(v->url, v->url_len, &parsed);
}

static int take_token(const struct mfota_senml_record *rec, struct target *t)
{
    struct mfota_fota_view *v = t->v;
    size_t i;
    if (rec->kind != MFOTA_SENML_KIND_STR || rec->vs.dlen == 0) {
        return MFOTA_ERR_THINGS_BAD_TOKEN;
    }
    if (take_string(rec, t->cmd ? t->cmd->token : NULL, MFOTA_TOKEN_MAX, &v->token,
                    &v->token_len) != 0) {
        return MFOTA_ERR_THINGS_TOKEN_TOO_LONG;
    }
    /* it goes into an Authorization header: visible ASCII only */
    for (i = 0; v->token_len - i >= 8; i += 8) {
        uint64_t x, d;
        memcpy(&x, v->token + i, 8);
        d = x ^ (ONES * 0x7F);
        if ((((x - ONES * 0x21) & ~x) | x | ((d - ONES) & ~d)) & HIGHS) {
            break; /* some byte is <= 0x20 or >= 0x7F: find it below */
        }
    }
    for (; i < v->token_len; i++) {
        unsigned char c = (unsigned char)v->token[i];
        if (c <= 0x20 || c >= 0x7F) {
            return MFOTA_ERR_THINGS_BAD_TOKEN;
        }
    }
    return MFOTA_OK;
}

static int take_size(const struct mfota_senml_record *rec, struct target *t)
{
    int64_t v;
    /* 2^53: the largest size a double sender surely wrote exactly */
    if (rec->kind != MFOTA_SENML_KIND_NUM || mfota_senml_num_to_int(rec->v, &v) != MFOTA_OK ||
        v < 0 || v > INT64_C(9007199254740992)) {
        return MFOTA_ERR_THINGS_BAD_SIZE;
    }
    t->v->size = (uint64_t)v;
    t->v->has_size = 1;
    return MFOTA_OK;
}

static int take_crc32(const struct mfota_senml_record *rec, struct target *t)
{
    char hex[9];
    const char *p;
    size_t n, i;
    uint32_t crc = 0;
    if (rec->kind != MFOTA_SENML_KIND_STR || rec->vs.dlen == 0 ||
        take_string(rec, hex, 8, &p, &n) != 0) {
        return MFOTA_ERR_THINGS_BAD_CRC32;
    }
    for (i = 0; i < n; i++) {
        int h = mfota_ascii_hexval_(hex[i]);
        if (h < 0) {
            return MFOTA_ERR_THINGS_BAD_CRC32;
        }
        crc = (crc << 4) | (uint32_t)h;
    }
    t->v->crc32 = crc;
    t->v->has_crc32 = 1;
    return MFOTA_OK;
}

static int take_sha256(const struct mfota_senml_record *rec, struct target *t)
{
    char hex[65];
    const char *p;
    size_t n, i;
    if (rec->kind != MFOTA_SENML_KIND_STR || rec->vs.dlen != 64 ||
        take_string(rec, hex, 64, &p, &n) != 0) {
        return MFOTA_ERR_THINGS_BAD_SHA256;
    }
    for (i = 0; i < 32; i++) {
        int hi = mfota_ascii_hexval_(hex[2 * i]), lo = mfota_ascii_hexval_(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return MFOTA_ERR_THINGS_BAD_SHA256;
        }
        t->v->sha256[i] = (uint8_t)(hi << 4 | lo);
    }
    t->v->has_sha256 = 1;
    return MFOTA_OK;
}

static int take_version(const struct mfota_senml_record *rec, struct target *t)
{
    struct mfota_fota_view *v = t->v;
    size_t i;
    if (rec->kind != MFOTA_SENML_KIND_STR || rec->vs.dlen == 0 ||
        take_string(rec, t->cmd ? t->cmd->version : NULL, MFOTA_THINGS_VERSION_MAX, &v->version,
                    &v->version_len) != 0) {
        return MFOTA_ERR_THINGS_BAD_VERSION;
    }
    for (i = 0; i < v->version_len; i++) {
        unsigned char c = (unsigned char)v->version[i];
        if (c <= 0x20 || c >= 0x7F) {
            return MFOTA_ERR_THINGS_BAD_VERSION;
        }
    }
    v->has_version = 1;
    return MFOTA_OK;
}

static const struct {
    const char *name;
    size_t len;
    unsigned flag;
    int (*take)(const struct mfota_senml_record *, struct target *);
} fields[] = {
    {"url", 3, F_URL, take_url},          {"token", 5, F_TOKEN, take_token},
    {"size", 4, F_SIZE, take_size},       {"crc32", 5, F_CRC32, take_crc32},
    {"sha256", 6, F_SHA256, take_sha256}, {"version", 7, F_VERSION, take_version},
};

static int extract(const char *body, size_t len, const char *imei, size_t imei_len,
                   struct target *cmd, size_t *err_offset)
{
    struct mfota_senml_dec dec;
    struct mfota_senml_record rec;
    unsigned seen = 0;
    size_t i;
    int rc;

    for (i = 0; i < len; i++) {
        if (body[i] != ' ' && body[i] != '\t' && body[i] != '\r' && body[i] != '\n') {
            break;
        }
    }
    if (i == len) {
        return MFOTA_ERR_THINGS_NOT_FOTA; /* an uplink answered without a downlink */
    }
    mfota_senml_dec_init(&dec, body, len, MFOTA_SENML_LENIENT_V_STRING);
    while ((rc = mfota_senml_dec_next(&dec, &rec)) == MFOTA_OK) {
        *err_offset = rec.offset;
        if ((rec.fields & MFOTA_SENML_F_BN) && !bn_is_ours(&rec.bn, imei, imei_len)) {
            return MFOTA_ERR_THINGS_WRONG_DEVICE;
        }
        if (!(rec.fields & MFOTA_SENML_F_N)) {
            continue;
        }
        for (i = 0; i < sizeof fields / sizeof fields[0]; i++) {
            if (mfota_senml_str_eq(&rec.n, fields[i].name, fields[i].len)) {
                if (seen & fields[i].flag) {
                    return MFOTA_ERR_THINGS_DUPLICATE;
                }
                seen |= fields[i].flag;
                rc = fields[i].take(&rec, cmd);
                if (rc != MFOTA_OK) {
                    return rc;
                }
                break;
            }
        }
    }
    if (rc != MFOTA_DONE) {
        *err_offset = mfota_senml_dec_offset(&dec);
        return rc;
    }
    *err_offset = len;
    if (!(seen & (F_URL | F_TOKEN))) {
        return MFOTA_ERR_THINGS_NOT_FOTA;
    }
    if (!(seen & F_URL)) {
        return MFOTA_ERR_THINGS_NO_URL;
    }
    if (!(seen & F_TOKEN)) {
        return MFOTA_ERR_THINGS_NO_TOKEN;
    }
    *err_offset = 0;
    return MFOTA_OK;
}

static int parse(const char *body, size_t len, const char *imei, size_t imei_len,
                 struct target *t, size_t *err_offset)
{
    size_t off = 0;
    int rc;
    memset(t->v, 0, sizeof *t->v);
    if ((body == NULL && len != 0) || imei == NULL || imei_len == 0 ||
        imei_len > MFOTA_THINGS_IMEI_MAX) {
        rc = MFOTA_ERR_INVAL;
    } else {
        rc = extract(body, len, imei, imei_len, t, &off);
    }
    if (rc != MFOTA_OK) {
        memset(t->v, 0, sizeof *t->v);
    }
    if (err_offset) {
        *err_offset = rc == MFOTA_OK ? 0 : off;
    }
    return rc;
}

int mfota_things_parse_downlink_inplace(char *body, size_t len, const char *imei,
                                        size_t imei_len, struct mfota_fota_view *view,
                                        size_t *err_offset)
{
    struct target t;
    t.v = view;
    t.cmd = NULL;
    return parse(body, len, imei, imei_len, &t, err_offset);
}

/* memmove: the view may point into the destination itself. */
static void set_str(char *dst, size_t *dst_len, const char *src, size_t len)
{
    if (len != 0u) {
        memmove(dst, src, len);
    }
    dst[len] = '\0';
    *dst_len = len;
}

void mfota_things_command_set(struct mfota_fota_command *cmd, const struct mfota_fota_view *v)
{
    set_str(cmd->url, &cmd->url_len, v->url, v->url_len);
    set_str(cmd->token, &cmd->token_len, v->token, v->token_len);
    set_str(cmd->version, &cmd->version_len, v->version, v->version_len);
    cmd->size = v->size;
    cmd->crc32 = v->crc32;
    memcpy(cmd->sha256, v->sha256, sizeof cmd->sha256);
    cmd->has_size = v->has_size;
    cmd->has_crc32 = v->has_crc32;
    cmd->has_sha256 = v->has_sha256;
    cmd->has_version = v->has_version;
}

int mfota_things_parse_downlink(const char *body, size_t len, const char *imei,
                                size_t imei_len, struct mfota_fota_command *cmd,
                                size_t *err_offset)
{
    struct mfota_fota_view v;
    struct target t;
    int rc;
    /* the struct is large (the token buffer): clear what says "present" */
    cmd->url[0] = cmd->token[0] = cmd->version[0] = '\0';
    t.v = &v;
    t.cmd = cmd;
    rc = parse(body, len, imei, imei_len, &t, err_offset);
    if (rc != MFOTA_OK) {
        memset(cmd, 0, sizeof *cmd);
        return rc;
    }
    mfota_things_command_set(cmd, &v);
    return MFOTA_OK;
}
