/* Python-written transports and clocks (python/m2mfota/hal.py): ctx is the
 * handle of an m2mfota._bridge.Bridge. */
extern "Python" int _py_tr_connect(void *ctx, const char *host, uint16_t port);
extern "Python" int _py_tr_send(void *ctx, const uint8_t *data, size_t len, size_t *sent);
extern "Python" int _py_tr_recv(void *ctx, uint8_t *buf, size_t cap, size_t *got,
                                uint32_t timeout_ms);
extern "Python" void _py_tr_close(void *ctx);
extern "Python" uint64_t _py_clock_now_ms(void *ctx);
extern "Python" void _py_clock_sleep_ms(void *ctx, uint32_t ms);
