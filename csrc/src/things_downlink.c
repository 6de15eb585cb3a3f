/*
 * The FOTA command of a KPN Things downlink (docs/protocol.md §2).
 *
 * Everything a command carries is checked here, before any of it can reach
 * the download code: the device, the URL form, the token's bytes and the
 * optional integrity fields.
 */
#include "m2mfota/things.h"

#include <stddef.h>
#include <string.h>

#include "m2mfota/err.h"
#include "m2mfota/url.h"
#include "ascii.h"

/* The command's records, in the order of their flag bits (1 << index):
 * each name with its length in front. */
enum { I_URL, I_TOKEN, I_SIZE, I_CRC32, I_SHA256, I_VERSION };
static const char names[] = "\3url\5token\4size\5crc32\6sha256\7version";
#define F_URL (1u << I_URL)
#define F_TOKEN (1u << I_TOKEN)

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

/* The text fields (url, token, version): where the view keeps the string
 * and its length, the command's buffer, the longest value. */
struct text_field {
    uint16_t view_ptr, view_len, cmd_buf, max;
};
#define TEXT_(f, m)                                                                    \
    {(uint16_t)offsetof(struct mfota_fota_view, f), (uint16_t)offsetof(struct mfota_fota_view, f##_len), \
     (uint16_t)offsetof(struct mfota_fota_command, f), (uint16_t)(m)}
static const struct text_field text_fields[3] = {
    TEXT_(url, MFOTA_URL_MAX), TEXT_(token, MFOTA_TOKEN_MAX),
    TEXT_(version, MFOTA_THINGS_VERSION_MAX),
};
#undef TEXT_

/* take()'s errors follow the field order (_TOKEN_TOO_LONG sits between
 * _BAD_TOKEN and _BAD_SIZE): arithmetic instead of a table. */
typedef char bad_codes_in_field_order_[
    (MFOTA_ERR_THINGS_BAD_TOKEN == MFOTA_ERR_THINGS_BAD_URL - I_TOKEN &&
     MFOTA_ERR_THINGS_BAD_SIZE == MFOTA_ERR_THINGS_BAD_URL - I_SIZE - 1 &&
     MFOTA_ERR_THINGS_BAD_CRC32 == MFOTA_ERR_THINGS_BAD_URL - I_CRC32 - 1 &&
     MFOTA_ERR_THINGS_BAD_SHA256 == MFOTA_ERR_THINGS_BAD_URL - I_SHA256 - 1 &&
     MFOTA_ERR_THINGS_BAD_VERSION == MFOTA_ERR_THINGS_BAD_URL - I_VERSION - 1) ? 1 : -1];

/* Check the record of command field `i` and store it in the view (and the
 * command).  Each field has its own error, so a server learns what it got
 * wrong. */
static int take(const struct mfota_senml_record *rec, struct target *t, unsigned i)
{
    struct mfota_fota_view *v = t->v;
    struct mfota_url parsed;
    int err = MFOTA_ERR_THINGS_BAD_URL - (int)i - (i >= I_SIZE);
    char hex[65], *copy = hex;
    const char *p, **out = &p;
    size_t n, *out_len = &n, max = i == I_CRC32 ? 8u : 64u, k;
    uint32_t acc = 0;
    if (i == I_SIZE) {
        int64_t size;
        if (rec->kind != MFOTA_SENML_KIND_NUM) {
            return err;
        }
        /* Sizes are 32-bit (an image is below 4 GiB): a larger one, whole
         * or not, is refused as too large for any slot, never truncated. */
        if (rec->v >= MFOTA_SENML_NUM(INT64_C(4294967296))) {
            return MFOTA_ERR_DL_TOO_LARGE;
        }
        if (mfota_senml_num_to_int(rec->v, &size) != MFOTA_OK || size < 0) {
            return err;
        }
        v->size = (uint32_t)size;
        v->has_size = 1;
        return MFOTA_OK;
    }
    /* an empty url is left to the URL parser, which says what is wrong */
    if (rec->kind != MFOTA_SENML_KIND_STR || (rec->vs.dlen == 0 && i != I_URL) ||
        (i == I_SHA256 && rec->vs.dlen != 64)) {
        return err;
    }
    if (i == I_URL || i == I_TOKEN || i == I_VERSION) {
        /* the three text fields, from a table: where each goes, its bound */
        const struct text_field *f = &text_fields[i == I_VERSION ? 2 : i];
        copy = t->cmd ? (char *)t->cmd + f->cmd_buf : NULL;
        out = (const char **)(void *)((char *)v + f->view_ptr);
        out_len = (size_t *)(void *)((char *)v + f->view_len);
        max = f->max;
    }
    if (take_string(rec, copy, max, out, out_len) != 0) {
        return i == I_URL     ? MFOTA_ERR_URL_TOO_LONG
               : i == I_TOKEN ? MFOTA_ERR_THINGS_TOKEN_TOO_LONG
                              : err;
    }
    switch (i) {
    case I_URL:
        return mfota_url_parse(v->url, v->url_len, &parsed);
    case I_CRC32:
    case I_SHA256:
        for (k = 0; k < n; k++) {
            int h = mfota_ascii_hexval_(p[k]);
            if (h < 0) {
                return err;
            }
            acc = acc << 4 | (uint32_t)h;
            if (i == I_SHA256 && (k & 1u)) {
                v->sha256[k >> 1] = (uint8_t)acc;
            }
        }
        if (i == I_CRC32) {
            v->crc32 = acc;
            v->has_crc32 = 1;
        } else {
            v->has_sha256 = 1;
        }
        return MFOTA_OK;
    default: /* token (into an Authorization header) and version */
        if (!mfota_ascii_visible_(*out, *out_len)) {
            return err;
        }
        if (i == I_VERSION) {
            v->has_version = 1;
        }
        return MFOTA_OK;
    }
}

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
        {
            const char *name = names;
            unsigned k;
            for (k = 0; *name != 0; k++, name += 1 + *name) {
                if (mfota_senml_str_eq(&rec.n, name + 1, (size_t)*name)) {
                    if (seen & (1u << k)) {
                        return MFOTA_ERR_THINGS_DUPLICATE;
                    }
                    seen |= 1u << k;
                    if ((rc = take(&rec, cmd, k)) != MFOTA_OK) {
                        return rc;
                    }
                    break;
                }
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
/* Both structs end with size, crc32, sha256 and the has_ flags, laid out
 * alike (checked here), so mfota_things_command_set() copies them at once. */
#define TAIL_LEN_(s) (offsetof(struct s, has_version) + 1u - offsetof(struct s, size))
#define SAME_AT_(m)                                                                    \
    (offsetof(struct mfota_fota_command, m) - offsetof(struct mfota_fota_command, size) == \
     offsetof(struct mfota_fota_view, m) - offsetof(struct mfota_fota_view, size))
typedef char command_tail_like_view_[(TAIL_LEN_(mfota_fota_command) ==
                                          TAIL_LEN_(mfota_fota_view) &&
                                      SAME_AT_(crc32) && SAME_AT_(sha256) && SAME_AT_(has_size) &&
                                      SAME_AT_(has_crc32) && SAME_AT_(has_sha256))
                                         ? 1
                                         : -1];
#undef SAME_AT_

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
    /* size .. has_version: the same fields in the same order, one copy */
    memcpy(&cmd->size, &v->size, TAIL_LEN_(mfota_fota_view));
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
