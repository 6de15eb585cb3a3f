/*
 * Sans-IO parser for the AT responses of a u-blox SARA-R4/R5 modem.
 *
 * Bytes from the UART go in, events come out; no I/O, no clock, no malloc,
 * so the same code runs on the MCU, in host tests and under libFuzzer.
 * It knows the shape of what the socket driver (modem.h) needs:
 *   - final result codes "OK", "ERROR", "+CME ERROR: <n>";
 *   - the "@" prompt of AT+USOWR's binary syntax (at the start of a line);
 *   - information lines "+USOCR: s", "+USOWR: s,n", "+USORD: s,n";
 *   - the binary payload of "+USORD: s,n,\"<n raw bytes>\"" (any byte
 *     value, CR and LF included: the length, not the quotes, ends it);
 *   - the URCs "+UUSORD: s,n" and "+UUSOCL: s", wherever they come;
 *   - the echo of a command (a line starting with "AT"), reported so it
 *     can be ignored: the driver works with echo on or off.
 * Lines end in CR, LF or both; empty lines are skipped.  A line longer than
 * MFOTA_AT_LINE_MAX is reported as MFOTA_AT_EV_OTHER (its start kept).
 */
#ifndef MFOTA_AT_PARSER_H
#define MFOTA_AT_PARSER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef MFOTA_AT_LINE_MAX
#define MFOTA_AT_LINE_MAX 48 /* longest line classified; the driver's are < 30 */
#endif

/* The most payload bytes one +USORD carries (UBX-17003787: 0-1024). */
#define MFOTA_AT_USORD_MAX 1024u

enum mfota_at_event_kind {
    MFOTA_AT_EV_NONE = 0,
    MFOTA_AT_EV_OK,         /* final result "OK" */
    MFOTA_AT_EV_ERROR,      /* final result "ERROR" */
    MFOTA_AT_EV_CME,        /* final "+CME ERROR: n" (a = n; verbose text: a = -1) */
    MFOTA_AT_EV_PROMPT,     /* the "@" of AT+USOWR: send the bytes now */
    MFOTA_AT_EV_USOCR,      /* "+USOCR: s" (a = s) */
    MFOTA_AT_EV_USOWR,      /* "+USOWR: s,n" (a = s, b = n) */
    MFOTA_AT_EV_USORD_LEN,  /* "+USORD: s,n" without data: n bytes pending */
    MFOTA_AT_EV_DATA_BEGIN, /* "+USORD: s,n,\"" (a = s, b = n); DATA events follow */
    MFOTA_AT_EV_DATA,       /* payload bytes: data/len point into the fed buffer */
    MFOTA_AT_EV_DATA_END,   /* the n bytes are complete */
    MFOTA_AT_EV_URC_DATA,   /* URC "+UUSORD: s,n" (a = s, b = n) */
    MFOTA_AT_EV_URC_CLOSED, /* URC "+UUSOCL: s" (a = s) */
    MFOTA_AT_EV_ECHO,       /* a line starting with "AT": the modem echoing a command */
    MFOTA_AT_EV_OTHER       /* any other line (unknown URC, info, garbage) */
};

struct mfota_at_event {
    int kind;              /* enum mfota_at_event_kind */
    int32_t a, b;          /* numbers of the line (see the kinds); -1 when absent */
    const uint8_t *data;   /* MFOTA_AT_EV_DATA: bytes inside the caller's buffer */
    size_t len;
};

/* Parser state: about MFOTA_AT_LINE_MAX + 16 bytes.  Caller-allocated. */
struct mfota_at_parser {
    char line[MFOTA_AT_LINE_MAX];
    uint16_t line_len;  /* bytes kept in line[] */
    uint8_t overlong;   /* the current line outgrew line[] */
    uint8_t in_data;    /* inside a +USORD payload */
    uint8_t closing;    /* after a payload: skip up to the closing quote */
    uint16_t data_left; /* payload bytes still to come */
};

/* Reset `p` to the start of a line (also the way to resynchronise after a
 * lost response).  Cannot fail. */
void mfota_at_parser_init(struct mfota_at_parser *p);

/* Consume bytes from data[0..len) until one event is complete.
 * *used gets how many bytes were consumed (call again with the rest);
 * *ev gets the event, MFOTA_AT_EV_NONE when all len bytes were consumed
 * without completing one.  An MFOTA_AT_EV_DATA event points into `data`
 * and is valid until the caller reuses that buffer.  Never fails: bytes that
 * make no sense end up in MFOTA_AT_EV_OTHER lines.  Returns ev->kind. */
int mfota_at_parser_feed(struct mfota_at_parser *p, const uint8_t *data, size_t len,
                         size_t *used, struct mfota_at_event *ev);

#ifdef __cplusplus
}
#endif

#endif /* MFOTA_AT_PARSER_H */
