/*
 * The FOTA client engine: one caller-allocated object runs one update end to
 * end (docs/protocol.md §1-§5).
 *
 *   status uplink -> its HTTP response -> downlink (FOTA command) -> validate
 *   -> journal resume check -> ranged download streamed into the flash writer
 *   (part_done -> commit, part_failed -> abort) -> whole-image verification
 *   (size / crc32 / sha256 of the downlink) -> bootloader check_image (for
 *   MCUboot: header, TLVs, hash, signature) -> bootloader mark_pending ->
 *   final uplink (state "updating", result).
 *
 * Protocol failures end an update with an LwM2M /5 result (fota.result) and
 * a short reason (fota.error) that go up in the final uplink; they are never
 * returned as errors.  Only a failing HAL (flash, journal, bootloader: a
 * power cut) or a misuse of the API makes a call return a negative code.
 * Any negative return of a flash, key-value or bootloader callback
 * (mark_pending, confirm) ends the cycle at once, never retried: step() and
 * run() return MFOTA_ERR_HAL, and c->hal_error keeps the port's own value
 * (a -EIO is not mistaken for an m2mfota code).  Nothing is written to
 * flash after it; re-initialise the client, as after a reboot.
 *
 * Two connections may be open at once: the download keeps its file-server
 * connection while a progress uplink goes to the ingestion endpoint.  The
 * engine therefore takes two transport instances (`uplink_transport`,
 * `download_transport`); a port whose modem has one socket may pass the same
 * instance twice only when it tolerates connect() while connected (not
 * recommended: every progress uplink then costs a reconnect).
 *
 * Non-blocking use: mfota_client_step() makes progress until the transport
 * would block (MFOTA_WOULD_BLOCK) or a timer is pending (MFOTA_WAIT; the
 * wake-up time is mfota_client_wake_at(), on the clock HAL).  Nothing busy-
 * waits: waiting happens in the transport's recv() timeout or the clock's
 * sleep_ms().  mfota_client_run() is the blocking loop on top.
 *
 * Delta files (MFOTA_DELTA, docs/delta.md): the file's first bytes decide.
 * "MFDP" starts a delta file: its header is checked, the running image
 * (cfg.delta_source) is hashed and compared with the header before anything
 * is written (MFOTA_ERR_DELTA_SOURCE otherwise), and the patch is applied
 * into the update slot as it arrives.  The downlink's size/crc32/sha256
 * describe the file and are checked on the file; the rebuilt image is
 * checked against the header's target size and SHA-256 (MFOTA_ERR_DELTA_*)
 * and then by the bootloader's check_image like any image.  Anything else
 * is an image.  A delta update never resumes at an offset: after a failed
 * part, a lost connection or a reboot it starts again from the file's first
 * byte (the journal marks the download MFOTA_JOURNAL_DELTA), so re-download
 * is at most the delta file; the source is only ever read.  Delta errors end
 * the update with their own fota.error ("delta_source", ...); the engine
 * falls back to nothing: the campaign decides.
 *
 * Memory: struct mfota_client holds every buffer (one for the uplink request
 * and the downlink body, which are never in use together; the receive
 * buffers; journal and writer); its size is fixed at compile time by
 * config.h (docs/client.md).  The token of the command in force is held
 * once: download requests are sent in pieces from it.
 */
#ifndef MFOTA_CLIENT_H
#define MFOTA_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "m2mfota/backoff.h"
#include "m2mfota/bootloader.h"
#include "m2mfota/config.h"
#include "m2mfota/delta.h"
#include "m2mfota/downloader.h"
#include "m2mfota/flash.h"
#include "m2mfota/flash_writer.h"
#include "m2mfota/fota_state.h"
#include "m2mfota/http_response.h"
#include "m2mfota/image_verify.h"
#include "m2mfota/journal.h"
#include "m2mfota/report_policy.h"
#include "m2mfota/things.h"
#include "m2mfota/transport.h"
#include "m2mfota/url.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Random numbers for retry jitter (a hardware RNG, or anything that differs
 * between devices: the jitter only has to spread a fleet). */
struct mfota_random {
    uint32_t (*next)(void *ctx);
    void *ctx;
};

/* Event kinds handed to the application's callback. */
enum mfota_client_event_kind {
    MFOTA_CLIENT_EV_STATE = 1,    /* state changed (ev->state) */
    MFOTA_CLIENT_EV_PROGRESS = 2, /* a part was committed (ev->done of ev->total) */
    MFOTA_CLIENT_EV_ERROR = 3,    /* a failure: ev->error, ev->reason; the update may go on (retry) */
    MFOTA_CLIENT_EV_DONE = 4,     /* the cycle ended: ev->result, ev->reason */
    MFOTA_CLIENT_EV_DOWNLINK = 5, /* a FOTA command arrived (ev->error: 0 accepted, else why not) */
    MFOTA_CLIENT_EV_UPLINK = 6    /* an uplink went out (ev->error: 0, or why it failed) */
};

struct mfota_client_event {
    int kind;            /* enum mfota_client_event_kind */
    int state;           /* enum mfota_state */
    int result;          /* enum mfota_result */
    int error;           /* enum mfota_err behind an error, else 0 */
    const char *reason;  /* fota.error string or NULL; static */
    uint32_t done;       /* bytes verified and written */
    uint32_t total;      /* image size, 0 while unknown (images are below 4 GiB) */
};

/* Counters over the client's life (a cycle adds to them). */
struct mfota_client_stats {
    uint32_t uplinks;         /* uplinks answered 2xx */
    uint32_t uplink_failures; /* uplink attempts that failed */
    uint32_t downlinks;       /* FOTA commands received */
    uint32_t requests;        /* file-server requests (parts + retries) */
    uint32_t connections;     /* file-server connections opened */
    uint32_t retries;         /* failed download attempts repeated (downloader + engine) */
    uint32_t restarts;        /* downloads started over (file changed, superseded) */
    uint32_t resumes;         /* downloads resumed from the journal at an offset > 0 */
    uint32_t unverified_parts;/* parts without a Digest */
    uint64_t bytes;           /* file bytes received, discarded ones included */
    uint32_t erases;          /* flash sector erases (slot + journal) */
    uint32_t programs;        /* flash program calls (slot + journal) */
    uint32_t journal_writes;  /* journal records written */
};

struct mfota_client_config {
    /* identity; strings must outlive the client */
    const char *imei;             /* NUL-terminated */
    const uint8_t *secret;        /* shared secret for Things-Message-Token */
    size_t secret_len;
    const char *version;          /* running firmware version, NUL-terminated */
    const char *server;           /* ingestion endpoint base URL, "http://10.1.2.3:8080" */
    /* HALs; must outlive the client */
    const struct mfota_transport *uplink_transport;
    const struct mfota_transport *download_transport;
    const struct mfota_clock *clock;
    const struct mfota_random *random;      /* may be NULL: no jitter */
    const struct mfota_flash *slot;         /* the update slot */
    const struct mfota_flash *journal_flash;/* two sectors, or NULL */
    const struct mfota_kv *journal_kv;      /* or a key-value store, or NULL: no journal */
    const struct mfota_bootloader *bootloader; /* check_image and mark_pending required */
    /* The running image a delta file is applied against, read only: a flash
     * HAL whose slot_offset is the image's first byte (MCUboot: the primary
     * slot, whose start is the signed file as uploaded; raw: the running
     * slot).  NULL: delta files are refused (MFOTA_ERR_DELTA_UNSUPPORTED).
     * Ignored when MFOTA_DELTA is 0.  Must outlive the client. */
    const struct mfota_flash *delta_source;
    /* May be NULL.  Runs inside step(): of this API it may only call
     * mfota_client_downlink() (and read the client). */
    void (*on_event)(void *ctx, const struct mfota_client_event *ev);
    void *event_ctx;
    /* behaviour */
    uint32_t part_size;           /* wanted part size (rounded up to the slot's sector) */
    uint32_t io_timeout_ms;       /* deadline of one exchange: a download part's connect, and its
                                   * request + complete response; an uplink's connect + request +
                                   * complete response.  Bytes trickling in do not extend it. */
    uint8_t progress_step_percent;/* report_policy.h */
    uint32_t progress_interval_ms;
    uint32_t retry_base_ms;       /* backoff.h: engine-level retries of uplinks and downloads */
    uint32_t retry_max_ms;
    uint16_t max_retries;
    uint8_t check_mcuboot;        /* 1: the slot carries MCUboot's trailer: erase an old install request when a download starts */
    uint8_t permanent;            /* 1: ask the bootloader for a permanent swap, not a test */
};

/* Where the engine is in a cycle: one named phase, changed only along the
 * transitions of the table in client.c (docs/client.md draws it).  Waiting
 * and restarting are phases of their own; an update is running exactly in
 * DOWNLOAD, PROGRESS, DL_WAIT, DL_RESUME, DL_RESTART and VERIFY. */
enum mfota_phase {
    MFOTA_PHASE_IDLE = 0,     /* no cycle: after init or abort */
    MFOTA_PHASE_START_UPLINK, /* the cycle's status uplink is in flight */
    MFOTA_PHASE_START_WAIT,   /* waiting to retry it */
    MFOTA_PHASE_DOWNLOAD,     /* the download runs */
    MFOTA_PHASE_PROGRESS,     /* a progress uplink between two parts; the download is paused */
    MFOTA_PHASE_DL_WAIT,      /* waiting to retry the download */
    MFOTA_PHASE_DL_RESUME,    /* no download running: the next step starts one after the
                               * last committed part */
    MFOTA_PHASE_DL_RESTART,   /* the flash writer lost bytes: the next step starts a
                               * download at the offset it named */
    MFOTA_PHASE_VERIFY,       /* the image is complete: verify it, hand it to the bootloader */
    MFOTA_PHASE_FINAL_UPLINK, /* the update's result goes up */
    MFOTA_PHASE_FINAL_WAIT,   /* waiting to retry that uplink */
    MFOTA_PHASE_DONE,         /* the cycle ended: c->result, c->state tell how */
    MFOTA_PHASE_FAILED,       /* a HAL failed: only re-initialising leaves it (abort,
                               * start and downlink are refused) */
    MFOTA_PHASE_COUNT_
};

/* The engine's delta state (client_delta.c); private. */
struct mfota_client_delta {
    uint8_t kind;          /* MFOTA_DELTA_KIND_* of the file being downloaded */
#if MFOTA_DELTA
    int pending_err;       /* an applier error held until its part's CRC is known */
    uint32_t file_size;    /* the delta file's size (the download's total) */
    uint32_t file_pos;     /* file bytes fed so far */
    uint32_t file_crc;     /* CRC-32 of file bytes [0, file_pos) */
    struct mfota_sha256 file_sha; /* SHA-256 of the same bytes */
    struct mfota_delta_header hdr;
    struct mfota_delta_reader rd;
    struct mfota_delta ap;
    struct mfota_flash source_hal; /* cfg.delta_source, errors through client_hal.c */
#else
    uint8_t matched;       /* leading file bytes that match "MFDP" (all of them: refused) */
#endif
};

/* Private: a port's flash HAL as the engine's modules see it (client_hal.c):
 * `hal` calls `port` and turns its negative returns into MFOTA_ERR_HAL. */
struct mfota_client_flash_ {
    struct mfota_flash hal;
    const struct mfota_flash *port;
    struct mfota_client *client;
};

struct mfota_client {
    /* ---- read-only for the caller ---- */
    int state;                    /* enum mfota_state */
    int result;                   /* enum mfota_result of the last update (0: none / pending) */
    int error;                    /* enum mfota_err behind a failed result, else 0 */
    const char *reason;           /* fota.error of the last failure, or NULL */
    struct mfota_client_stats stats;     /* finished downloads included; the running one
                                          * too with mfota_client_stats() */
    uint32_t done, total;         /* bytes committed, image size (32-bit: below 4 GiB) */
    int hal_error;                /* the port's own negative value behind the MFOTA_ERR_HAL that
                                   * ended the cycle (e.g. -EIO), for logs; 0: none */
    /* (hal_error before the bytes below: the two statuses then fill what
     * would be padding, and the struct does not grow.) */
    char pending_version[MFOTA_THINGS_VERSION_MAX + 1]; /* version handed to the bootloader */
    uint8_t has_pending;          /* an image was marked pending in this cycle */
    /* The literal HTTP status of the ingestion endpoint's last answer, 0
     * until one came: the error name (MFOTA_ERR_CLIENT_REFUSED) says a 4xx
     * refused the uplink, the status says which (401: unknown IMEI or wrong
     * secret). */
    uint16_t uplink_http_status;
    uint16_t download_http_status; /* the file server's last answer (404: file gone), 0: none */
    /* ---- private ---- */
    struct mfota_client_config cfg_;     /* its slot / journal HALs point at the copies below */
    struct mfota_client_flash_ flash_w_[2]; /* client_hal.c: the slot's, the journal's */
    const struct mfota_kv *port_kv_;
    struct mfota_kv kv_hal_;
    struct mfota_url server_;           /* host and port slices of cfg_.server */
    struct mfota_fota_command cmd_;      /* the command in force: the one copy of its token
                                          * (the downloader sends requests from it) */
    struct mfota_image_expect expect_;   /* what the command in force promised */
    struct mfota_dl dl_;
    struct mfota_dl_sink sink_;
    struct mfota_flash_writer writer_;
    struct mfota_journal journal_;       /* its rec: the command in force's identity and
                                          * progress, with or without a journal HAL */
    struct mfota_report_policy report_;
    struct mfota_backoff backoff_;
    struct mfota_http_response up_resp_; /* the uplink's response; its body goes to io_ */
    uint64_t wake_at_;
    uint64_t up_deadline_;               /* the uplink attempt fails at this clock time */
    uint32_t restart_at_;                /* where DL_RESTART starts the download */
    uint32_t requests_used_;             /* budget spent by earlier downloads of this file */
    int hal_err_;
    int status_result_;                  /* the status uplink's fota.result, -1: none */
    const char *status_reason_;          /* its fota.error, or NULL */
    size_t up_len_, up_sent_;            /* up_len_ 0: the request is not in io_ (rebuilt
                                          * when an attempt starts) */
    size_t pending_len_;                 /* a downlink handed over during step(), in io_ */
    uint8_t phase_;                      /* enum mfota_phase */
    uint8_t up_st_;                      /* the uplink attempt: connect, send, receive */
    uint8_t up_state_;                   /* the status uplink's fota.state (enum mfota_state) */
    int8_t up_progress_;                 /* its fota.progress, -1: none */
    uint8_t writer_begun_, in_step_;
    struct mfota_client_delta delta_;    /* client_delta.c */
    /* The uplink request, then its response's body (the downlink): a
     * request is rebuilt for each attempt, so one buffer serves both. */
    char io_[MFOTA_CLIENT_IO_MAX];
    /* Scratch, never kept between two uses: the uplink response arrives
     * through it, the download's requests leave through it (its tx_buf),
     * and a host waits in it, NUL-terminated, for connect() and the uplink's
     * Host line. */
    uint8_t scratch_[MFOTA_CLIENT_SCRATCH_MAX];
    uint8_t rx_[MFOTA_CLIENT_RX_MAX];           /* the download's receive buffer */
};

/* Defaults from config.h for the behaviour fields; identity and HAL
 * pointers NULL. */
void mfota_client_config_default(struct mfota_client_config *cfg);

/* Check `cfg` and bind the client to it (the struct is copied; its strings
 * and HALs must outlive the client; the client points into itself, so it
 * must not be moved or copied once initialised).  Sets up the journal
 * (nothing read yet) and the writer.  MFOTA_ERR_INVAL for a missing
 * identity/HAL (a bootloader without check_image included: raw images need
 * mfota_bootloader_accept_raw) or a server that is not http://host[:port];
 * MFOTA_ERR_URL_* for a bad server URL;
 * flash and journal set-up errors pass through. */
int mfota_client_init(struct mfota_client *c, const struct mfota_client_config *cfg);

/* Start a cycle: an uplink with the running version and state "idle"; a
 * FOTA command in its response starts an update.  MFOTA_ERR_STATE while a
 * cycle is running. */
int mfota_client_start(struct mfota_client *c);

/* The first cycle after booting into a new image: confirm it with the
 * bootloader HAL (so it is kept), then the same uplink as
 * mfota_client_start() with fota.result 1 (success) -- the server sees the
 * new version and closes the update.  A failing confirm returns its error. */
int mfota_client_start_boot(struct mfota_client *c);

/* A downlink body that reached the application some other way (`len`
 * bytes, copied).  Idle: starts an update (or answers a bad command with its
 * result).  During an update: a command for the same URL is ignored (the
 * update carries on); one for another URL ends the old update and starts the
 * new one.  A body without a FOTA command is ignored.  MFOTA_ERR_NOSPC when
 * the body exceeds MFOTA_CLIENT_DOWNLINK_MAX.  The body is parsed in place
 * in the client's one downlink buffer and acted on at once: only the
 * command's strings are kept (in the command in force).  May be called from
 * the event callback while a download runs: the body is then kept in that
 * buffer and acted on at the next step (MFOTA_ERR_STATE if an uplink is in
 * flight or the download waits to be retried at that moment; an uplink
 * armed before the next step drops it). */
int mfota_client_downlink(struct mfota_client *c, const char *body, size_t len);

/* Make progress.  io_wait_ms is the longest a transport recv() may wait
 * (0 for an event loop).  Returns MFOTA_DONE when the cycle is over
 * (c->result, c->state, c->has_pending tell how), MFOTA_WOULD_BLOCK when the
 * transport has nothing yet, MFOTA_WAIT when nothing is due before
 * mfota_client_wake_at(), or a negative code when a HAL failed (the cycle is
 * abandoned; re-initialise the client, as after a reboot). */
int mfota_client_step(struct mfota_client *c, uint32_t io_wait_ms);

/* Clock time (ms) before which step() has nothing to do, after MFOTA_WAIT. */
uint64_t mfota_client_wake_at(const struct mfota_client *c);

/* Blocking cycle: step() until done, sleeping with clock->sleep_ms().
 * timeout_ms (0: none) bounds the whole cycle: past it the update is
 * abandoned and MFOTA_ERR_CLIENT_TIMEOUT returned.  MFOTA_OK when the cycle
 * ended (whatever its result), else the HAL error. */
int mfota_client_run(struct mfota_client *c, uint32_t timeout_ms);

/* Counters so far, the running download included. */
void mfota_client_stats(const struct mfota_client *c, struct mfota_client_stats *out);

/* The phase the engine is in (enum mfota_phase). */
int mfota_client_phase(const struct mfota_client *c);

/* A phase's name for logs ("download", "final_wait"...); "unknown" for a
 * value outside the enum.  The string is static. */
const char *mfota_phase_name(int phase);

/* 1 when the engine may change from phase `from` to phase `to` (its
 * transition table; FAILED is reachable from every phase, IDLE from every
 * phase but FAILED, which nothing leaves but mfota_client_init()), else 0
 * (also for values outside the enum).  The engine refuses any other change
 * with MFOTA_ERR_CLIENT_PHASE, which ends the cycle. */
int mfota_phase_transition_allowed(int from, int to);

/* Abandon the cycle: close both connections; the client is idle again.
 * Ignored when called from inside step() (the event callback).  After a HAL
 * failure (phase FAILED) the connections are closed but the client stays
 * FAILED: start() keeps returning MFOTA_ERR_STATE until mfota_client_init(),
 * since a port that failed must be brought up again first. */
void mfota_client_abort(struct mfota_client *c);

#ifdef __cplusplus
}
#endif

#endif /* MFOTA_CLIENT_H */
