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

/* Decode a string value into dst[0..cap) and NUL-terminate it. */
static int take_string(const struct mfota_senml_record *rec, char *dst, size_t cap,
                       size_t *len)
{
    if (rec->vs.dlen >= cap ||
        mfota_senml_str_decode(&rec->vs, dst, cap - 1, len) != MFOTA_OK) {
        return -1;
    }
    dst[*len] = '\0';
    return 0;
}

static int take_url(const struct mfota_senml_record *rec, struct mfota_fota_command *cmd)
{
    struct mfota_url parsed;
    if (rec->kind != MFOTA_SENML_KIND_STR) {
        return MFOTA_ERR_THINGS_BAD_URL;
    }
    if (rec->vs.dlen > MFOTA_URL_MAX) {
        return MFOTA_ERR_URL_TOO_LONG;
    }
    if (take_string(rec, cmd->url, sizeof cmd->url, &cmd->url_len) != 0) {
        return MFOTA_ERR_URL_TOO_LONG;
    }
    return mfota_url_parse(cmd->url, cmd->url_len, &parsed);
}

static int take_token(const struct mfota_senml_record *rec, struct mfota_fota_command *cmd)
{
    size_t i;
    if (rec->kind != MFOTA_SENML_KIND_STR || rec->vs.dlen == 0) {
        return MFOTA_ERR_THINGS_BAD_TOKEN;
    }
    if (rec->vs.dlen > MFOTA_TOKEN_MAX ||
        take_string(rec, cmd->token, sizeof cmd->token, &cmd->token_len) != 0) {
        return MFOTA_ERR_THINGS_TOKEN_TOO_LONG;
    }
    /* it goes into an Authorization header: visible ASCII only */
    for (i = 0; cmd->token_len - i >= 8; i += 8) {
        uint64_t x, d;
        memcpy(&x, cmd->token + i, 8);
        d = x ^ (ONES * 0x7F);
        if ((((x - ONES * 0x21) & ~x) | x | ((d - ONES) & ~d)) & HIGHS) {
            break; /* some byte is <= 0x20 or >= 0x7F: find it below */
        }
    }
    for (; i < cmd->token_len; i++) {
        unsigned char c = (unsigned char)cmd->token[i];
        if (c <= 0x20 || c >= 0x7F) {
            return MFOTA_ERR_THINGS_BAD_TOKEN;
        }
    }
    return MFOTA_OK;
}

static int take_size(const struct mfota_senml_record *rec, struct mfota_fota_command *cmd)
{
    int64_t v;
    /* 2^53: the largest size a double sender surely wrote exactly */
    if (rec->kind != MFOTA_SENML_KIND_NUM || mfota_senml_num_to_int(rec->v, &v) != MFOTA_OK ||
        v < 0 || v > INT64_C(9007199254740992)) {
        return MFOTA_ERR_THINGS_BAD_SIZE;
    }
    cmd->size = (uint64_t)v;
    cmd->has_size = 1;
    return MFOTA_OK;
}

static int take_crc32(const struct mfota_senml_record *rec, struct mfota_fota_command *cmd)
{
    char hex[9];
    size_t n, i;
    uint32_t crc = 0;
    if (rec->kind != MFOTA_SENML_KIND_STR || rec->vs.dlen == 0 || rec->vs.dlen > 8 ||
        take_string(rec, hex, sizeof hex, &n) != 0) {
        return MFOTA_ERR_THINGS_BAD_CRC32;
    }
    for (i = 0; i < n; i++) {
        int h = mfota_ascii_hexval_(hex[i]);
        if (h < 0) {
            return MFOTA_ERR_THINGS_BAD_CRC32;
        }
        crc = (crc << 4) | (uint32_t)h;
    }
    cmd->crc32 = crc;
    cmd->has_crc32 = 1;
    return MFOTA_OK;
}

static int take_sha256(const struct mfota_senml_record *rec, struct mfota_fota_command *cmd)
{
    char hex[65];
    size_t n, i;
    if (rec->kind != MFOTA_SENML_KIND_STR || rec->vs.dlen != 64 ||
        take_string(rec, hex, sizeof hex, &n) != 0) {
        return MFOTA_ERR_THINGS_BAD_SHA256;
    }
    for (i = 0; i < 32; i++) {
        int hi = mfota_ascii_hexval_(hex[2 * i]), lo = mfota_ascii_hexval_(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return MFOTA_ERR_THINGS_BAD_SHA256;
        }
        cmd->sha256[i] = (uint8_t)(hi << 4 | lo);
    }
    cmd->has_sha256 = 1;
    return MFOTA_OK;
}

static int take_version(const struct mfota_senml_record *rec, struct mfota_fota_command *cmd)
{
    size_t i;
    if (rec->kind != MFOTA_SENML_KIND_STR || rec->vs.dlen == 0 ||
        rec->vs.dlen > MFOTA_THINGS_VERSION_MAX ||
        take_string(rec, cmd->version, sizeof cmd->version, &cmd->version_len) != 0) {
        return MFOTA_ERR_THINGS_BAD_VERSION;
    }
    for (i = 0; i < cmd->version_len; i++) {
        unsigned char c = (unsigned char)cmd->version[i];
        if (c <= 0x20 || c >= 0x7F) {
            return MFOTA_ERR_THINGS_BAD_VERSION;
        }
    }
    cmd->has_version = 1;
    return MFOTA_OK;
}

static const struct {
    const char *name;
    size_t len;
    unsigned flag;
    int (*take)(const struct mfota_senml_record *, struct mfota_fota_command *);
} fields[] = {
    {"url", 3, F_URL, take_url},          {"token", 5, F_TOKEN, take_token},
    {"size", 4, F_SIZE, take_size},       {"crc32", 5, F_CRC32, take_crc32},
    {"sha256", 6, F_SHA256, take_sha256}, {"version", 7, F_VERSION, take_version},
};

static int extract(const char *body, size_t len, const char *imei, size_t imei_len,
                   struct mfota_fota_command *cmd, size_t *err_offset)
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

int mfota_things_parse_downlink(const char *body, size_t len, const char *imei,
                                size_t imei_len, struct mfota_fota_command *cmd,
                                size_t *err_offset)
{
    size_t off = 0;
    int rc;
    /* the struct is large (the token buffer): clear what says "present" */
    cmd->url_len = cmd->token_len = cmd->version_len = 0;
    cmd->url[0] = cmd->token[0] = cmd->version[0] = '\0';
    cmd->size = 0;
    cmd->crc32 = 0;
    memset(cmd->sha256, 0, sizeof cmd->sha256);
    cmd->has_size = cmd->has_crc32 = cmd->has_sha256 = cmd->has_version = 0;
    if ((body == NULL && len != 0) || imei == NULL || imei_len == 0 ||
        imei_len > MFOTA_THINGS_IMEI_MAX) {
        rc = MFOTA_ERR_INVAL;
    } else {
        rc = extract(body, len, imei, imei_len, cmd, &off);
    }
    if (rc != MFOTA_OK) {
        memset(cmd, 0, sizeof *cmd);
    }
    if (err_offset) {
        *err_offset = rc == MFOTA_OK ? 0 : off;
    }
    return rc;
}
