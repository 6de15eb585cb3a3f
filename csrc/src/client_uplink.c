/*
 * The client's uplink: one HTTP POST of a status pack to the ingestion
 * endpoint over the uplink transport, and the framing of its response (whose
 * body is the downlink).  A connection per uplink: uplinks are rare (state
 * changes, throttled progress), and a long-idle connection through a mobile
 * network's NAT would be cut anyway.
 */
#include <string.h>

#include "client_internal.h"
#include "m2mfota/err.h"

uint64_t mfota_client_now_(const struct mfota_client *c)
{
    return c->cfg_.clock->now_ms(c->cfg_.clock->ctx);
}

/* The server's host, NUL-terminated in scratch_ (free between its uses). */
static const char *server_host(struct mfota_client *c)
{
    char *host = (char *)c->scratch_;
    memcpy(host, c->server_.host, c->server_.host_len);
    host[c->server_.host_len] = '\0';
    return host;
}

/* Write the armed status uplink into io_. */
static int build(struct mfota_client *c)
{
    struct mfota_things_status st;
    struct mfota_senml_entry e[5];
    size_t n, needed = 0;
    int rc;
    st.firmware = c->cfg_.version;
    st.state = mfota_state_name((enum mfota_state)c->up_state_);
    st.progress = c->up_progress_;
    st.result = c->status_result_;
    st.error = c->status_reason_;
    n = mfota_things_status_entries(&st, e);
    /* At most MFOTA_CLIENT_UPLINK_MAX, though io_ may be larger: the bound
     * the configuration promised. */
    rc = mfota_things_build_uplink(c->io_, MFOTA_CLIENT_UPLINK_MAX, &needed, c->cfg_.imei, strlen(c->cfg_.imei), c->cfg_.secret,
                                   c->cfg_.secret_len, server_host(c), e, n);
    c->up_len_ = rc == MFOTA_OK ? needed : 0u;
    return rc;
}

static void rearm(struct mfota_client *c)
{
    c->up_st_ = 0;
    c->up_sent_ = 0;
    c->up_deadline_ = 0; /* armed when the attempt's connect starts */
}

int mfota_client_uplink_begin_(struct mfota_client *c, int state, int progress, int result,
                               const char *reason)
{
    c->up_state_ = (uint8_t)state;
    c->up_progress_ = (int8_t)progress;
    c->status_result_ = result;
    c->status_reason_ = reason;
    /* The buffer is the uplink's now: a downlink kept in it is gone. */
    c->pending_len_ = 0;
    rearm(c);
    return build(c);
}

enum { US_CONNECT = 0, US_SEND, US_RECV, US_RESP };

static int attempt_failed(struct mfota_client *c, int rc)
{
    const struct mfota_transport *t = c->cfg_.uplink_transport;
    t->close(t->ctx);
    rearm(c);
    return rc;
}

/* One deadline bounds a whole attempt -- connect, request, response -- so a
 * peer that trickles a byte now and then cannot hold the cycle forever. */
static int blocked(struct mfota_client *c)
{
    if (mfota_client_now_(c) >= c->up_deadline_) {
        return attempt_failed(c, MFOTA_ERR_CLIENT_UPLINK);
    }
    return MFOTA_WOULD_BLOCK;
}

int mfota_client_uplink_step_(struct mfota_client *c, uint32_t io_wait_ms)
{
    const struct mfota_transport *t = c->cfg_.uplink_transport;
    int rc;
    if (c->up_deadline_ == 0u) {
        /* A new attempt: an earlier one's response may have overwritten the
         * request (one buffer); writing it again gives the same bytes. */
        if (c->up_len_ == 0u && build(c) != MFOTA_OK) {
            return MFOTA_ERR_CLIENT_REFUSED; /* cannot happen: it was written once */
        }
        c->up_deadline_ = mfota_client_now_(c) + c->cfg_.io_timeout_ms;
    }
    for (;;) {
        switch (c->up_st_) {
        case US_CONNECT:
            rc = t->connect(t->ctx, server_host(c), c->server_.port);
            if (rc == MFOTA_WOULD_BLOCK) {
                return blocked(c);
            }
            if (rc != MFOTA_OK) {
                return attempt_failed(c, MFOTA_ERR_CLIENT_UPLINK);
            }
            c->up_sent_ = 0;
            c->up_st_ = US_SEND;
            break;
        case US_SEND:
            while (c->up_sent_ < c->up_len_) {
                size_t sent = 0;
                rc = t->send(t->ctx, (const uint8_t *)c->io_ + c->up_sent_,
                             c->up_len_ - c->up_sent_, &sent);
                if (rc == MFOTA_WOULD_BLOCK) {
                    return blocked(c);
                }
                if (rc != MFOTA_OK || sent == 0u) {
                    return attempt_failed(c, MFOTA_ERR_CLIENT_UPLINK);
                }
                c->up_sent_ += sent;
            }
            mfota_http_response_init(&c->up_resp_);
            c->up_len_ = 0; /* the response's body is gathered over the request */
            c->up_st_ = US_RECV;
            break;
        case US_RECV: {
            size_t got = 0, used = 0;
            uint64_t now = mfota_client_now_(c), left;
            if (now >= c->up_deadline_) {
                return attempt_failed(c, MFOTA_ERR_CLIENT_UPLINK);
            }
            left = c->up_deadline_ - now; /* bounds the recv() wait */
            rc = t->recv(t->ctx, c->scratch_, sizeof c->scratch_, &got,
                         left < io_wait_ms ? (uint32_t)left : io_wait_ms);
            if (rc == MFOTA_WOULD_BLOCK) {
                return blocked(c);
            }
            if (rc == MFOTA_DONE) {
                rc = mfota_http_response_collect_eof(&c->up_resp_);
                if (rc != MFOTA_DONE) {
                    return attempt_failed(c, MFOTA_ERR_CLIENT_UPLINK);
                }
                c->up_st_ = US_RESP;
                break;
            }
            if (rc != MFOTA_OK || got > sizeof c->scratch_) {
                return attempt_failed(c, MFOTA_ERR_CLIENT_UPLINK);
            }
            /* The same hardened parser as the download's: bounded header
             * block and lines, no control bytes, bounded 1xx responses. */
            rc = mfota_http_response_collect(&c->up_resp_, c->scratch_, got, &used,
                                             (uint8_t *)c->io_, MFOTA_CLIENT_DOWNLINK_MAX);
            if (rc < 0) {
                return attempt_failed(c, MFOTA_ERR_CLIENT_UPLINK);
            }
            if (rc == MFOTA_DONE) {
                c->up_st_ = US_RESP;
            }
            break;
        }
        default: /* US_RESP */
            t->close(t->ctx);
            rearm(c);
            c->uplink_http_status = c->up_resp_.status;
            if (c->up_resp_.status >= 200 && c->up_resp_.status < 300) {
                return MFOTA_DONE;
            }
            /* 4xx: this uplink will never be accepted (a wrong secret, a
             * device the server does not know); 5xx: try again later. */
            if (c->up_resp_.status >= 400 && c->up_resp_.status < 500 &&
                c->up_resp_.status != 408 && c->up_resp_.status != 429) {
                return MFOTA_ERR_CLIENT_REFUSED;
            }
            return MFOTA_ERR_CLIENT_UPLINK;
        }
    }
}
