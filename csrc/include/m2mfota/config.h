/*
 * m2mfota compile-time configuration.
 *
 * Every option has a default here.  A port overrides options by defining
 * MFOTA_CONFIG_FILE as the name of its own header (for example
 * -DMFOTA_CONFIG_FILE='"my_mfota_config.h"'); that header is included first,
 * so anything it defines wins over the defaults below.  Bad combinations stop
 * the build with #error rather than surfacing as field failures.
 */
#ifndef MFOTA_CONFIG_H
#define MFOTA_CONFIG_H

#ifdef MFOTA_CONFIG_FILE
#include MFOTA_CONFIG_FILE
#endif

/* 1 when compiling for a microcontroller (Arm M-profile, bare-metal
 * RISC-V): some defaults below then favour size over host conveniences. */
#if (defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M') || \
    (defined(__riscv) && !defined(__linux__))
#define MFOTA_TARGET_MCU_ 1
#else
#define MFOTA_TARGET_MCU_ 0
#endif

/* ---- CRC-32 ------------------------------------------------------------ */

/* Portable CRC-32 kernels, by the constant memory they cost:
 *   MFOTA_CRC32_BITWISE  no table, ~8 shifts per bit: smallest, slowest
 *   MFOTA_CRC32_NIBBLE   16-entry table, 64 bytes of const data
 *   MFOTA_CRC32_BYTE     256-entry table, 1 KiB of const data
 *   MFOTA_CRC32_SLICE8   8 x 256-entry tables, 8 KiB of const data: fastest */
#define MFOTA_CRC32_BITWISE 1
#define MFOTA_CRC32_NIBBLE 2
#define MFOTA_CRC32_BYTE 3
#define MFOTA_CRC32_SLICE8 4

/* The kernel mfota_crc32() uses when no hardware kernel applies.  Default:
 * the nibble table on microcontrollers (about 1 KiB less flash than the
 * byte table for 11 instead of 8 instructions per byte on a Cortex-M4: still
 * MB/s, and small beside the SHA-256 the client runs over the same bytes;
 * docs/checksums.md), the byte table elsewhere. */
#ifndef MFOTA_CRC32_VARIANT
#if MFOTA_TARGET_MCU_
#define MFOTA_CRC32_VARIANT MFOTA_CRC32_NIBBLE
#else
#define MFOTA_CRC32_VARIANT MFOTA_CRC32_BYTE
#endif
#endif

/* 1: compile every portable kernel so tests and benchmarks can reach each one
 * through mfota_crc32_with().  Hosts turn this on; an MCU build leaves it off
 * so only the chosen table lands in flash. */
#ifndef MFOTA_CRC32_ALL_VARIANTS
#define MFOTA_CRC32_ALL_VARIANTS 0
#endif

/* 1: compile the hardware kernels of the target CPU (x86-64 PCLMULQDQ /
 * VPCLMULQDQ, AArch64 CRC32 instructions) and pick one at run time from the
 * CPU's feature bits.  Ignored on CPUs without such kernels. */
#ifndef MFOTA_CRC32_HW
#if defined(__x86_64__) || defined(__aarch64__)
#define MFOTA_CRC32_HW 1
#else
#define MFOTA_CRC32_HW 0
#endif
#endif

/* ---- SHA-256 ----------------------------------------------------------- */

/* 1: on x86-64, use the SHA-NI instructions when the CPU has them (probed
 * at run time).  Ignored on other CPUs. */
#ifndef MFOTA_SHA256_HW
#if defined(__x86_64__)
#define MFOTA_SHA256_HW 1
#else
#define MFOTA_SHA256_HW 0
#endif
#endif

/* ---- URLs and tokens -------------------------------------------------- */

/* Longest URL a downlink may carry (bytes). */
#ifndef MFOTA_URL_MAX
#define MFOTA_URL_MAX 256
#endif

/* Longest bearer token a downlink may carry (bytes); KPN's JWTs can be long. */
#ifndef MFOTA_TOKEN_MAX
#define MFOTA_TOKEN_MAX 1024
#endif

/* ---- SenML and KPN Things messages ----------------------------------- */

/* 1: the decoder honours the MFOTA_SENML_THINGSML mode (KPN ThingsML "i_"
 * indexes, thingsml.h).  0: the mode bit is ignored, so "i_" is an unknown
 * must-understand field (MFOTA_ERR_SENML_MUST_UNDERSTAND, as plain SenML
 * says) and the measurement table (about 1.1 KiB) stays out of the image.
 * The client never decodes ThingsML (KPN downlinks are plain SenML).
 * Default: 0 on microcontrollers, else 1. */
#ifndef MFOTA_THINGSML
#define MFOTA_THINGSML (!MFOTA_TARGET_MCU_)
#endif

/* 1: the decoder handles every RFC 8428 field: base time, unit, value and
 * sum (bt, bu, bv, bs) are resolved into each record, and an array or
 * object as the value of an unknown extension field is skipped (up to
 * MFOTA_SENML_EXT_DEPTH_MAX levels).  0: the decoder a device needs for KPN
 * downlinks (bn, bver, n, u, v, vs, vb, vd, s, t, ut): a record with bt,
 * bu, bv or bs, an unknown field with an array or object value, or a key
 * written with escapes ("\u0076" for "v") is refused with
 * MFOTA_ERR_UNSUPPORTED at that field (never ignored, since a base field
 * changes what later records mean), and about 1 KiB of code stays out of
 * the image.  Its encoder writes what a status uplink holds (bn, n, u, a
 * number or string value) and refuses an entry with bt, s, t, ut or a
 * boolean or data value with MFOTA_ERR_UNSUPPORTED (about 190 B less).
 * Default: 0 on microcontrollers, else 1. */
#ifndef MFOTA_SENML_FULL
#define MFOTA_SENML_FULL (!MFOTA_TARGET_MCU_)
#endif

/* 1: the decoder's fast paths: JSON strings and tokens checked eight bytes
 * per step with 64-bit word tricks, SenML's one- and two-letter keys taken
 * without the general string scan (fast on 64-bit hosts); 0: a byte at a
 * time through one path, which on a 32-bit MCU is about 0.5 KiB less
 * code.  Same results either way.  Default: 0 on microcontrollers, else 1. */
#ifndef MFOTA_WORD_SCAN
#define MFOTA_WORD_SCAN (!MFOTA_TARGET_MCU_)
#endif

/* Longest string (bytes after decoding escapes) the SenML decoder accepts.
 * It must hold the longest token a downlink may carry. */
#ifndef MFOTA_SENML_STR_MAX
#define MFOTA_SENML_STR_MAX 2048
#endif

/* Most records one pack may hold; the decoder itself needs no memory per
 * record, the limit only bounds the work an untrusted pack can cause. */
#ifndef MFOTA_SENML_RECORDS_MAX
#define MFOTA_SENML_RECORDS_MAX 1024
#endif

/* Deepest nesting of arrays/objects the decoder skips in the value of an
 * unknown extension field (RFC 8428 4.4 says to ignore such fields, whatever
 * their value); 1 allows [1,2] or {"a":1} but not [[1]].  Deeper is
 * MFOTA_ERR_SENML_DEPTH.  It bounds the skipping work; the decoder keeps one
 * bit per level, so at most 32. */
#ifndef MFOTA_SENML_EXT_DEPTH_MAX
#define MFOTA_SENML_EXT_DEPTH_MAX 8
#endif

/* How SenML numbers are held (docs/senml-and-messages.md, "Numbers"):
 *   1  exact IEEE doubles: correctly rounded parsing, shortest round-trip
 *      formatting.  Hosts and the Python bindings (the emulator needs them).
 *   0  integers and decimal fixed point: a number is an int64_t counting
 *      10^-MFOTA_SENML_FRAC_DIGITS units.  No double arithmetic, so a 32-bit
 *      MCU links no soft-float; a number it cannot hold exactly is
 *      MFOTA_ERR_SENML_INEXACT (too many decimals) or MFOTA_ERR_SENML_RANGE
 *      (too large), never a rounded value.
 * Default: 0 on microcontrollers (Arm M-profile, bare-metal RISC-V), else 1. */
#ifndef MFOTA_SENML_FLOAT
#if MFOTA_TARGET_MCU_
#define MFOTA_SENML_FLOAT 0
#else
#define MFOTA_SENML_FLOAT 1
#endif
#endif

/* MFOTA_SENML_FLOAT 0: decimals kept after the point (0..9).  3 holds
 * millisecond times and milli-units; the range is then +-9.2e15. */
#ifndef MFOTA_SENML_FRAC_DIGITS
#define MFOTA_SENML_FRAC_DIGITS 3
#endif

/* Significant decimal digits the number parser keeps exactly; later digits
 * only act as a sticky bit.  800 (> 767, the most digits a double's halfway
 * point has) makes every conversion correctly rounded; the exact fallback
 * then needs about (3.33 * digits + 1100) / 8 bytes of stack, twice.  A port
 * short of stack may lower it: inputs with more digits than this that lie
 * within one part in 10^digits of a rounding boundary may then round wrongly. */
#ifndef MFOTA_SENML_NUM_DIGITS_MAX
#define MFOTA_SENML_NUM_DIGITS_MAX 800
#endif

/* Longest firmware version string a downlink's `version` record may carry. */
#ifndef MFOTA_THINGS_VERSION_MAX
#define MFOTA_THINGS_VERSION_MAX 32
#endif

/* Longest IMEI (or other device id) put in the base name urn:dev:IMEI:<id>: */
#ifndef MFOTA_THINGS_IMEI_MAX
#define MFOTA_THINGS_IMEI_MAX 32
#endif

/* Record names of the project's update-status conventions (docs/protocol.md §5). */
#ifndef MFOTA_THINGS_NAME_FIRMWARE
#define MFOTA_THINGS_NAME_FIRMWARE "firmware"
#endif
#ifndef MFOTA_THINGS_NAME_STATE
#define MFOTA_THINGS_NAME_STATE "fota.state"
#endif
#ifndef MFOTA_THINGS_NAME_PROGRESS
#define MFOTA_THINGS_NAME_PROGRESS "fota.progress"
#endif
#ifndef MFOTA_THINGS_NAME_RESULT
#define MFOTA_THINGS_NAME_RESULT "fota.result"
#endif
#ifndef MFOTA_THINGS_NAME_ERROR
#define MFOTA_THINGS_NAME_ERROR "fota.error"
#endif

/* ---- HTTP and ranged download ----------------------------------------- */

/* Bound on a response's status line plus header block (bytes).  A server that
 * sends more gets MFOTA_ERR_HTTP_TOO_LONG instead of eating RAM or time. */
#ifndef MFOTA_HTTP_HEADER_MAX
#define MFOTA_HTTP_HEADER_MAX 4096
#endif

/* Bytes of one header line the parser keeps (it lives in the parser state).
 * Longer lines are skipped when the header is one m2mfota ignores, and are
 * MFOTA_ERR_HTTP_TOO_LONG when it is one it needs. */
#ifndef MFOTA_HTTP_LINE_MAX
#define MFOTA_HTTP_LINE_MAX 192
#endif

/* 1: write "Name: value" with the optional space after the colon; 0 (default):
 * "Name:value", valid HTTP (the whitespace is optional) and 3 bytes less
 * airtime per request. */
#ifndef MFOTA_HTTP_HEADER_SPACE
#define MFOTA_HTTP_HEADER_SPACE 0
#endif

/* Room for one request: request line, Host, Authorization with the longest
 * token, Range. */
#ifndef MFOTA_HTTP_REQUEST_MAX
#define MFOTA_HTTP_REQUEST_MAX (MFOTA_URL_MAX + MFOTA_TOKEN_MAX + 112)
#endif

/* Longest host of a URL the device connects to, kept NUL-terminated for the
 * transport's connect(): an IPv4 literal (the device has no DNS,
 * docs/protocol.md) or a name of one DNS label's length.  A longer host is
 * refused with MFOTA_ERR_URL_TOO_LONG. */
#ifndef MFOTA_HOST_MAX
#define MFOTA_HOST_MAX 63
#endif

/* Room for a request's tail: "Range: bytes=<first>-<last>\r\n" with two
 * 32-bit numbers (10 digits each) and the empty line that ends the request:
 * 38 bytes. */
#define MFOTA_HTTP_RANGE_TAIL_MAX 40

/* The downloader sends each request through a buffer of this many bytes,
 * copying its pieces (request line, Host, the token from the stored command,
 * Range) in turn: a request needs no buffer as large as itself.  Larger means
 * fewer transport sends per request (an AT command each on a modem). */
#ifndef MFOTA_DL_SEND_CHUNK
#define MFOTA_DL_SEND_CHUNK 128
#endif

/* Part size when the caller gives none; a flash erase sector is the natural
 * choice (the planner rounds part sizes up to the caller's alignment). */
#ifndef MFOTA_DL_PART_SIZE
#define MFOTA_DL_PART_SIZE 4096u
#endif

/* KPN's limits: requests per download (retries count) and per connection. */
#ifndef MFOTA_DL_REQUEST_BUDGET
#define MFOTA_DL_REQUEST_BUDGET 19999u
#endif
#ifndef MFOTA_DL_REQUESTS_PER_CONNECTION
#define MFOTA_DL_REQUESTS_PER_CONNECTION 100u
#endif

/* Requests of the budget the planner keeps free for retries when it sizes
 * parts (it raises the part size so the file fits in the rest). */
#ifndef MFOTA_DL_RETRY_RESERVE
#define MFOTA_DL_RETRY_RESERVE 999u
#endif

/* Failed attempts in a row on one part before the downloader gives up. */
#ifndef MFOTA_DL_MAX_RETRIES
#define MFOTA_DL_MAX_RETRIES 5u
#endif

/* Longest Retry-After the downloader waits out (seconds); longer is
 * MFOTA_ERR_DL_BUSY so the engine can report and try later. */
#ifndef MFOTA_DL_MAX_RETRY_AFTER_S
#define MFOTA_DL_MAX_RETRY_AFTER_S 300u
#endif

/* Restarts from 0 allowed when the file changes under the download. */
#ifndef MFOTA_DL_MAX_RESTARTS
#define MFOTA_DL_MAX_RESTARTS 2u
#endif

/* 1: keep one request ahead on the connection (HTTP/1.1 pipelining) once the
 * total is known; 0: strictly one request, one answer. */
#ifndef MFOTA_DL_PIPELINE
#define MFOTA_DL_PIPELINE 1
#endif

/* Deadline (ms) of one exchange when the caller gives none: a connect, and
 * then each part's request and complete response, must finish within it
 * (a trickling peer cannot stretch it).  Also the client's io_timeout_ms. */
#ifndef MFOTA_DL_TIMEOUT_MS
#define MFOTA_DL_TIMEOUT_MS 30000u
#endif

/* Largest file the downloader accepts when the caller gives no bound (the
 * client uses the slot size): a total, or a body that ignored Range and has
 * no length, beyond it ends the download with MFOTA_ERR_DL_TOO_LARGE. */
#ifndef MFOTA_DL_MAX_SIZE
#define MFOTA_DL_MAX_SIZE 0x1000000u
#endif

/* ---- delta updates (detools patches) ---------------------------------- */

/* 1: the client engine applies delta files (an "MFDP" header + a detools
 * patch, delta.h) against the running image named by cfg.delta_source;
 * costs the applier's RAM in struct mfota_client (MFOTA_DELTA_RAM_BOUND plus
 * about 250 bytes) and its code.  0: a delta file is refused with
 * MFOTA_ERR_DELTA_UNSUPPORTED (never written as an image).
 * Default: 0 on microcontrollers, else 1. */
#ifndef MFOTA_DELTA
#define MFOTA_DELTA (!MFOTA_TARGET_MCU_)
#endif

/* Largest heatshrink window exponent a patch may use: the applier keeps a
 * window of 1 << this many bytes.  detools' default is 8 (256 bytes). */
#ifndef MFOTA_DELTA_WINDOW_SZ2_MAX
#define MFOTA_DELTA_WINDOW_SZ2_MAX 8
#endif

/* Bytes of the source the applier caches, and of image bytes it collects
 * before handing them to the flash writer (one buffer each). */
#ifndef MFOTA_DELTA_BUF
#define MFOTA_DELTA_BUF 64
#endif

/* ---- flash writer, journal, image verification ------------------------ */

/* Largest program block (bytes) a flash HAL may declare; the writer keeps one
 * such block in RAM.  NOR parts program 1..32 bytes at a time (STM32L4: 8). */
#ifndef MFOTA_FLASH_PROGRAM_MAX
#define MFOTA_FLASH_PROGRAM_MAX 32
#endif

/* Stack buffer (bytes) used to read flash back for verification. */
#ifndef MFOTA_FLASH_READ_CHUNK
#define MFOTA_FLASH_READ_CHUNK 64
#endif

/* 1: before each program, read the target back and refuse (with
 * MFOTA_ERR_FLASH_NOT_ERASED) if a byte is not erased.  Costs one read per
 * program; the writer's lazy erase makes this a belt-and-braces check. */
#ifndef MFOTA_FLASH_CHECK_ERASED
#define MFOTA_FLASH_CHECK_ERASED 0
#endif

/* Default journal interval: write the journal once per this many erase
 * sectors of verified progress (a run-time field can change it). */
#ifndef MFOTA_JOURNAL_INTERVAL_SECTORS
#define MFOTA_JOURNAL_INTERVAL_SECTORS 1
#endif

/* 1: compile the MCUboot image check and trailer writer (mcuboot.c). */
#ifndef MFOTA_MCUBOOT
#define MFOTA_MCUBOOT 1
#endif

/* MCUboot's BOOT_MAX_ALIGN: trailer fields are this many bytes apart.  Only 8
 * (MCUboot's default, with the classic 16-byte magic) is supported. */
#ifndef MFOTA_MCUBOOT_MAX_ALIGN
#define MFOTA_MCUBOOT_MAX_ALIGN 8
#endif

/* ---- client engine ----------------------------------------------------- */

/* Uplink request buffer (request line, headers, token, SenML status pack). */
#ifndef MFOTA_CLIENT_UPLINK_MAX
#define MFOTA_CLIENT_UPLINK_MAX 512
#endif

/* Body of an uplink's response: the downlink with URL, token (up to
 * MFOTA_TOKEN_MAX), size, crc32, sha256 and version records. */
#ifndef MFOTA_CLIENT_DOWNLINK_MAX
#define MFOTA_CLIENT_DOWNLINK_MAX (MFOTA_URL_MAX + MFOTA_TOKEN_MAX + 512)
#endif

/* Receive buffer of the download (bytes per transport recv()). */
#ifndef MFOTA_CLIENT_RX_MAX
#define MFOTA_CLIENT_RX_MAX 512
#endif

/* Receive buffer of an uplink's response (bytes per transport recv()); the
 * body is gathered into the buffer the request went out from. */
#ifndef MFOTA_CLIENT_UPLINK_RX_MAX
#define MFOTA_CLIENT_UPLINK_RX_MAX 128
#endif

/* The one buffer of uplink request and downlink body: the larger of the two. */
#if MFOTA_CLIENT_UPLINK_MAX > MFOTA_CLIENT_DOWNLINK_MAX
#define MFOTA_CLIENT_IO_MAX MFOTA_CLIENT_UPLINK_MAX
#else
#define MFOTA_CLIENT_IO_MAX MFOTA_CLIENT_DOWNLINK_MAX
#endif

/* The engine's scratch buffer, the largest of its uses (never two at once):
 * an uplink response arrives through it, a download request leaves through
 * it, and a host name waits in it, NUL-terminated, for connect(). */
#if MFOTA_CLIENT_UPLINK_RX_MAX > MFOTA_DL_SEND_CHUNK
#define MFOTA_CLIENT_SCRATCH_A_ MFOTA_CLIENT_UPLINK_RX_MAX
#else
#define MFOTA_CLIENT_SCRATCH_A_ MFOTA_DL_SEND_CHUNK
#endif
#if MFOTA_CLIENT_SCRATCH_A_ > MFOTA_HOST_MAX
#define MFOTA_CLIENT_SCRATCH_MAX MFOTA_CLIENT_SCRATCH_A_
#else
#define MFOTA_CLIENT_SCRATCH_MAX (MFOTA_HOST_MAX + 1)
#endif

/* Progress uplinks: at most every this many percent and milliseconds. */
#ifndef MFOTA_CLIENT_PROGRESS_STEP
#define MFOTA_CLIENT_PROGRESS_STEP 10
#endif
#ifndef MFOTA_CLIENT_PROGRESS_INTERVAL_MS
#define MFOTA_CLIENT_PROGRESS_INTERVAL_MS 30000u
#endif

/* Engine-level retries (uplinks, a download that failed for good) with
 * jittered exponential backoff. */
#ifndef MFOTA_CLIENT_RETRY_BASE_MS
#define MFOTA_CLIENT_RETRY_BASE_MS 1000u
#endif
#ifndef MFOTA_CLIENT_RETRY_MAX_MS
#define MFOTA_CLIENT_RETRY_MAX_MS 60000u
#endif
#ifndef MFOTA_CLIENT_MAX_RETRIES
#define MFOTA_CLIENT_MAX_RETRIES 4
#endif

/* ---- checks ------------------------------------------------------------ */

#if MFOTA_CRC32_VARIANT < MFOTA_CRC32_BITWISE || MFOTA_CRC32_VARIANT > MFOTA_CRC32_SLICE8
#error "MFOTA_CRC32_VARIANT must be one of MFOTA_CRC32_BITWISE/NIBBLE/BYTE/SLICE8"
#endif
#if MFOTA_HTTP_LINE_MAX < 64
#error "MFOTA_HTTP_LINE_MAX must be at least 64 (Content-Range and Digest lines)"
#endif
#if MFOTA_HTTP_HEADER_MAX < MFOTA_HTTP_LINE_MAX
#error "MFOTA_HTTP_HEADER_MAX must be at least MFOTA_HTTP_LINE_MAX"
#endif
#if MFOTA_DL_RETRY_RESERVE >= MFOTA_DL_REQUEST_BUDGET
#error "MFOTA_DL_RETRY_RESERVE must leave requests for the parts"
#endif
#if MFOTA_DL_REQUESTS_PER_CONNECTION < 1
#error "MFOTA_DL_REQUESTS_PER_CONNECTION must be at least 1"
#endif
#if MFOTA_CRC32_HW && !(defined(__x86_64__) || defined(__aarch64__))
#error "MFOTA_CRC32_HW=1 needs an x86-64 or AArch64 target"
#endif
#if MFOTA_SENML_STR_MAX < MFOTA_TOKEN_MAX || MFOTA_SENML_STR_MAX < MFOTA_URL_MAX
#error "MFOTA_SENML_STR_MAX must hold the longest URL and token (MFOTA_URL_MAX, MFOTA_TOKEN_MAX)"
#endif
#if MFOTA_SENML_EXT_DEPTH_MAX < 1 || MFOTA_SENML_EXT_DEPTH_MAX > 32
#error "MFOTA_SENML_EXT_DEPTH_MAX must be in 1..32"
#endif
#if (MFOTA_SENML_FULL != 0 && MFOTA_SENML_FULL != 1) || (MFOTA_WORD_SCAN != 0 && MFOTA_WORD_SCAN != 1)
#error "MFOTA_SENML_FULL and MFOTA_WORD_SCAN must be 0 or 1"
#endif
#if MFOTA_SENML_FLOAT != 0 && MFOTA_SENML_FLOAT != 1
#error "MFOTA_SENML_FLOAT must be 0 (integers and fixed point) or 1 (doubles)"
#endif
#if MFOTA_SENML_FRAC_DIGITS < 0 || MFOTA_SENML_FRAC_DIGITS > 9
#error "MFOTA_SENML_FRAC_DIGITS must be in 0..9"
#endif
#if MFOTA_SENML_NUM_DIGITS_MAX < 19 || MFOTA_SENML_NUM_DIGITS_MAX > 4000
#error "MFOTA_SENML_NUM_DIGITS_MAX must be in 19..4000"
#endif

#if MFOTA_DELTA_WINDOW_SZ2_MAX < 4 || MFOTA_DELTA_WINDOW_SZ2_MAX > 15
#error "MFOTA_DELTA_WINDOW_SZ2_MAX must be in 4..15 (heatshrink's range)"
#endif
#if MFOTA_DELTA_BUF < 8 || MFOTA_DELTA_BUF > 4096
#error "MFOTA_DELTA_BUF must be in 8..4096"
#endif
#if MFOTA_FLASH_PROGRAM_MAX < 1 || MFOTA_FLASH_READ_CHUNK < 16
#error "MFOTA_FLASH_PROGRAM_MAX must be >= 1 and MFOTA_FLASH_READ_CHUNK >= 16"
#endif
#if MFOTA_JOURNAL_INTERVAL_SECTORS < 1
#error "MFOTA_JOURNAL_INTERVAL_SECTORS must be >= 1"
#endif
#if MFOTA_MCUBOOT && MFOTA_MCUBOOT_MAX_ALIGN != 8
#error "MFOTA_MCUBOOT_MAX_ALIGN: only MCUboot's default of 8 is supported"
#endif
#if MFOTA_HOST_MAX < 15 || MFOTA_HOST_MAX > MFOTA_URL_MAX
#error "MFOTA_HOST_MAX must hold an IPv4 literal and not exceed MFOTA_URL_MAX"
#endif
#if MFOTA_DL_SEND_CHUNK < 16
#error "MFOTA_DL_SEND_CHUNK must be at least 16"
#endif
#if MFOTA_CLIENT_UPLINK_RX_MAX < 16
#error "MFOTA_CLIENT_UPLINK_RX_MAX must be at least 16"
#endif
#if MFOTA_CLIENT_UPLINK_MAX < 256 || MFOTA_CLIENT_RX_MAX < 64
#error "MFOTA_CLIENT_UPLINK_MAX must be >= 256 and MFOTA_CLIENT_RX_MAX >= 64"
#endif
#if MFOTA_CLIENT_DOWNLINK_MAX < MFOTA_URL_MAX + MFOTA_TOKEN_MAX + 64
#error "MFOTA_CLIENT_DOWNLINK_MAX must hold a downlink with the longest URL and token"
#endif
#if MFOTA_CLIENT_PROGRESS_STEP < 1 || MFOTA_CLIENT_PROGRESS_STEP > 100
#error "MFOTA_CLIENT_PROGRESS_STEP must be in 1..100"
#endif

#endif /* MFOTA_CONFIG_H */
