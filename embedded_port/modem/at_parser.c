#include "at_parser.h"

#include <string.h>

void mfota_at_parser_init(struct mfota_at_parser *p)
{
    memset(p, 0, sizeof *p);
}

static int starts(const char *line, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    return n >= k && memcmp(line, prefix, k) == 0;
}

/* Parse up to two comma-separated decimal numbers from s[0..n) after any
 * spaces.  Values saturate at INT32_MAX; a missing number is -1.  Returns
 * the index just past the last digit read (or of the stop character). */
static size_t numbers(const char *s, size_t n, int32_t *a, int32_t *b)
{
    size_t i = 0;
    int32_t *out[2];
    int k;
    out[0] = a;
    out[1] = b;
    *a = *b = -1;
    while (i < n && s[i] == ' ') {
        i++;
    }
    for (k = 0; k < 2; k++) {
        uint32_t v = 0;
        size_t start = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            v = v > 0x7FFFFFFFu / 10u ? 0x7FFFFFFFu : v * 10u + (uint32_t)(s[i] - '0');
            if (v > 0x7FFFFFFFu) {
                v = 0x7FFFFFFFu;
            }
            i++;
        }
        if (i == start) {
            break;
        }
        *out[k] = (int32_t)v;
        if (k == 0) {
            if (i < n && s[i] == ',') {
                i++;
            } else {
                break;
            }
        }
    }
    return i;
}

static int classify(struct mfota_at_parser *p, struct mfota_at_event *ev)
{
    const char *s = p->line;
    size_t n = p->line_len;
    ev->a = ev->b = -1;
    if (p->overlong) {
        return MFOTA_AT_EV_OTHER;
    }
    if (n == 2 && memcmp(s, "OK", 2) == 0) {
        return MFOTA_AT_EV_OK;
    }
    if (n == 5 && memcmp(s, "ERROR", 5) == 0) {
        return MFOTA_AT_EV_ERROR;
    }
    if (starts(s, n, "+CME ERROR:")) {
        size_t at = numbers(s + 11, n - 11, &ev->a, &ev->b);
        if (11 + at != n) { /* verbose text (AT+CMEE=2) or trailing junk */
            ev->a = -1;
        }
        ev->b = -1;
        return MFOTA_AT_EV_CME;
    }
    if (n >= 2 && (s[0] == 'A' || s[0] == 'a') && (s[1] == 'T' || s[1] == 't')) {
        return MFOTA_AT_EV_ECHO;
    }
    if (starts(s, n, "+USOCR:")) {
        numbers(s + 7, n - 7, &ev->a, &ev->b);
        return MFOTA_AT_EV_USOCR;
    }
    if (starts(s, n, "+USOWR:")) {
        numbers(s + 7, n - 7, &ev->a, &ev->b);
        return MFOTA_AT_EV_USOWR;
    }
    if (starts(s, n, "+USORD:")) {
        numbers(s + 7, n - 7, &ev->a, &ev->b);
        return MFOTA_AT_EV_USORD_LEN;
    }
    if (starts(s, n, "+UUSORD:")) {
        numbers(s + 8, n - 8, &ev->a, &ev->b);
        return MFOTA_AT_EV_URC_DATA;
    }
    if (starts(s, n, "+UUSOCL:")) {
        numbers(s + 8, n - 8, &ev->a, &ev->b);
        ev->b = -1;
        return MFOTA_AT_EV_URC_CLOSED;
    }
    return MFOTA_AT_EV_OTHER;
}

/* Called when a '"' was just appended: is the line the head of a +USORD
 * payload, "+USORD: s,n,\"" or (SARA-R4 with nothing to read) "+USORD: s,\""? */
static int payload_head(struct mfota_at_parser *p, struct mfota_at_event *ev)
{
    const char *s = p->line;
    size_t n = p->line_len, at;
    if (!starts(s, n, "+USORD:")) {
        return 0;
    }
    at = 7 + numbers(s + 7, n - 7, &ev->a, &ev->b);
    if (ev->a < 0) {
        return 0;
    }
    if (ev->b < 0) {
        /* "+USORD: s," then the quote: an empty payload. */
        if (at + 1 != n || s[at - 1] != ',') {
            return 0;
        }
        ev->b = 0;
        return 1;
    }
    if (at + 2 != n || s[at] != ',' || ev->b > (int32_t)MFOTA_AT_USORD_MAX) {
        return 0;
    }
    return 1;
}

int mfota_at_parser_feed(struct mfota_at_parser *p, const uint8_t *data, size_t len,
                         size_t *used, struct mfota_at_event *ev)
{
    size_t i = 0;
    ev->kind = MFOTA_AT_EV_NONE;
    ev->a = ev->b = -1;
    ev->data = NULL;
    ev->len = 0;
    if (p->in_data) {
        if (p->data_left == 0) {
            p->in_data = 0;
            p->closing = 1;
            *used = 0;
            ev->kind = MFOTA_AT_EV_DATA_END;
            return ev->kind;
        }
        if (len == 0) {
            *used = 0;
            return ev->kind;
        }
        ev->len = len < p->data_left ? len : p->data_left;
        ev->data = data;
        p->data_left = (uint16_t)(p->data_left - ev->len);
        *used = ev->len;
        ev->kind = MFOTA_AT_EV_DATA;
        return ev->kind;
    }
    while (i < len) {
        uint8_t c = data[i++];
        if (p->closing) {
            p->closing = 0;
            if (c == '"') {
                continue;
            }
            /* Tolerate a payload without its closing quote. */
        }
        if (c == '\r' || c == '\n') {
            if (p->line_len == 0 && !p->overlong) {
                continue;
            }
            ev->kind = classify(p, ev);
            p->line_len = 0;
            p->overlong = 0;
            break;
        }
        if (c == '@' && p->line_len == 0 && !p->overlong) {
            ev->kind = MFOTA_AT_EV_PROMPT;
            break;
        }
        if (p->line_len < sizeof p->line) {
            p->line[p->line_len++] = (char)c;
        } else {
            p->overlong = 1;
        }
        if (c == '"' && !p->overlong && payload_head(p, ev)) {
            p->in_data = 1;
            p->data_left = (uint16_t)ev->b;
            p->line_len = 0;
            ev->kind = MFOTA_AT_EV_DATA_BEGIN;
            break;
        }
    }
    if (ev->kind == MFOTA_AT_EV_NONE) {
        ev->a = ev->b = -1;
    }
    *used = i;
    return ev->kind;
}
