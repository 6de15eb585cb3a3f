/* embedded_port/modem/at_parser.h */
#define MFOTA_AT_EV_NONE 0
#define MFOTA_AT_EV_OK 1
#define MFOTA_AT_EV_ERROR 2
#define MFOTA_AT_EV_CME 3
#define MFOTA_AT_EV_PROMPT 4
#define MFOTA_AT_EV_USOCR 5
#define MFOTA_AT_EV_USOWR 6
#define MFOTA_AT_EV_USORD_LEN 7
#define MFOTA_AT_EV_DATA_BEGIN 8
#define MFOTA_AT_EV_DATA 9
#define MFOTA_AT_EV_DATA_END 10
#define MFOTA_AT_EV_URC_DATA 11
#define MFOTA_AT_EV_URC_CLOSED 12
#define MFOTA_AT_EV_ECHO 13
#define MFOTA_AT_EV_OTHER 14
struct mfota_at_event {
    int kind;
    int32_t a, b;
    const uint8_t *data;
    size_t len;
};
struct mfota_at_parser { ...; };
void mfota_at_parser_init(struct mfota_at_parser *p);
int mfota_at_parser_feed(struct mfota_at_parser *p, const uint8_t *data, size_t len,
                         size_t *used, struct mfota_at_event *ev);
/* embedded_port/modem/modem.h */
struct mfota_modem_uart {
    int (*write)(void *ctx, const uint8_t *data, size_t len);
    int (*read)(void *ctx, uint8_t *buf, size_t cap, uint32_t timeout_ms);
    uint64_t (*now_ms)(void *ctx);
    void *ctx;
};
struct mfota_modem_stats {
    uint32_t commands;
    uint32_t timeouts;
    uint32_t probes;
    uint32_t urcs;
    uint32_t errors;
};
struct mfota_modem {
    uint8_t suspect;
    uint8_t configured;
    uint8_t zombies;
    uint8_t echo_off;
    int32_t last_cme;
    uint32_t cmd_timeout_ms;
    uint32_t connect_timeout_ms;
    uint32_t probe_timeout_ms;
    struct mfota_modem_stats stats;
    ...;
};
struct mfota_modem_socket {
    int16_t id;
    uint8_t connected;
    uint8_t peer_closed;
    uint16_t pending;
    uint32_t connects;
    uint32_t bytes_in, bytes_out;
    ...;
};
void mfota_modem_init(struct mfota_modem *m, const struct mfota_modem_uart *uart);
int mfota_modem_socket_init(struct mfota_modem *m, struct mfota_modem_socket *s,
                            struct mfota_transport *t);
int mfota_modem_probe(struct mfota_modem *m);
void mfota_modem_poll(struct mfota_modem *m, uint32_t timeout_ms);
/* embedded_port/posix/uart_posix.h */
struct mfota_posix_uart {
    int fd;
    uint32_t bytes_written, bytes_read;
};
int mfota_posix_uart_open(struct mfota_posix_uart *pu, const char *host, uint16_t port,
                          struct mfota_modem_uart *u);
void mfota_posix_uart_close(struct mfota_posix_uart *pu);
