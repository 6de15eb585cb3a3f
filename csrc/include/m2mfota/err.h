/*
 * The single error enum of m2mfota.
 *
 * 0 is success, errors are negative, and non-error statuses (such as "give me
 * more input") are positive, so `if (rc < 0)` is always the error test.
 * Each module owns a numeric range so codes stay stable as modules grow:
 *   -1..-99     generic          -100..-199  SenML / KPN messages
 *   -200..-299  HTTP / download  -300..-399  flash / journal
 *   -400..-499  image / boot     -500..-599  client engine
 */
#ifndef MFOTA_ERR_H
#define MFOTA_ERR_H

enum mfota_err {
    /* ---- statuses (>= 0) ---- */
    MFOTA_OK = 0,
    MFOTA_NEED_MORE = 1, /* the parser consumed everything; feed more bytes */
    MFOTA_DONE = 2,      /* the stream or iteration reached its end */
    MFOTA_WOULD_BLOCK = 3, /* a non-blocking HAL has no progress to report yet: call again */
    MFOTA_WAIT = 4,        /* nothing to do before a time the caller can read (e.g. Retry-After) */

    /* ---- generic (-1..-99) ---- */
    MFOTA_ERR_INVAL = -1,     /* an argument is out of its documented domain */
    MFOTA_ERR_NOSPC = -2,     /* a caller buffer is too small */
    MFOTA_ERR_STATE = -3,     /* call not allowed in the object's state */
    MFOTA_ERR_HAL = -4,       /* a HAL callback reported failure */
    MFOTA_ERR_UNSUPPORTED = -5, /* feature compiled out or not on this CPU */

    /* ---- SenML / KPN messages (-100..-199) ---- */
    MFOTA_ERR_SENML_SYNTAX = -100,          /* malformed JSON (bad token, unterminated string, bad escape) */
    MFOTA_ERR_SENML_TYPE = -101,            /* a field, record or pack has the wrong JSON type */
    MFOTA_ERR_SENML_DUPLICATE = -102,       /* a field appears twice in one record */
    MFOTA_ERR_SENML_RANGE = -103,           /* a number out of range (overflows a double or the fixed point, bad bver) */
    MFOTA_ERR_SENML_NAME = -104,            /* resolved name empty where required or with a forbidden character */
    MFOTA_ERR_SENML_NESTING = -105,         /* an array or object where SenML has none (a known field, a record) */
    MFOTA_ERR_SENML_TRAILING = -106,        /* bytes other than whitespace after the pack */
    MFOTA_ERR_SENML_MUST_UNDERSTAND = -107, /* an unknown field whose name ends in '_' (RFC 8428 4.4) */
    MFOTA_ERR_SENML_BVER = -108,            /* bver newer than MFOTA_SENML_VERSION */
    MFOTA_ERR_SENML_NO_VALUE = -109,        /* a record that is not base-only has no value and no sum */
    MFOTA_ERR_SENML_TWO_VALUES = -110,      /* a record with more than one of v, vs, vb, vd */
    MFOTA_ERR_SENML_STR_TOO_LONG = -111,    /* a string longer than MFOTA_SENML_STR_MAX after decoding */
    MFOTA_ERR_SENML_TOO_MANY = -112,        /* more than MFOTA_SENML_RECORDS_MAX records */
    MFOTA_ERR_SENML_ENCODING = -113,        /* invalid UTF-8 or a lone UTF-16 surrogate escape */
    MFOTA_ERR_SENML_DEPTH = -114,           /* an unknown field's value nested deeper than MFOTA_SENML_EXT_DEPTH_MAX */
    MFOTA_ERR_SENML_INEXACT = -115,         /* integer build (MFOTA_SENML_FLOAT 0): a number with more decimals than MFOTA_SENML_FRAC_DIGITS */
    MFOTA_ERR_THINGS_NOT_FOTA = -140,       /* downlink carries neither url nor token: no FOTA command */
    MFOTA_ERR_THINGS_NO_URL = -141,         /* downlink has a token but no url */
    MFOTA_ERR_THINGS_NO_TOKEN = -142,       /* downlink has a url but no token */
    MFOTA_ERR_THINGS_WRONG_DEVICE = -143,   /* bn names another device (or is not urn:dev:IMEI:<imei>:) */
    MFOTA_ERR_THINGS_BAD_URL = -144,        /* url is not a string (URL syntax errors come as MFOTA_ERR_URL_*) */
    MFOTA_ERR_THINGS_BAD_TOKEN = -145,      /* token not a string, empty, or with a control character or space */
    MFOTA_ERR_THINGS_TOKEN_TOO_LONG = -146, /* token longer than MFOTA_TOKEN_MAX */
    MFOTA_ERR_THINGS_BAD_SIZE = -147,       /* size is not a whole number >= 0 (4 GiB or more: DL_TOO_LARGE) */
    MFOTA_ERR_THINGS_BAD_CRC32 = -148,      /* crc32 is not a string of 1..8 hex digits */
    MFOTA_ERR_THINGS_BAD_SHA256 = -149,     /* sha256 is not a string of 64 hex digits */
    MFOTA_ERR_THINGS_BAD_VERSION = -150,    /* version is not a printable string up to MFOTA_THINGS_VERSION_MAX */
    MFOTA_ERR_THINGS_DUPLICATE = -151,      /* a command field (url, token...) appears in two records */
    /* -160..-165 belonged to a second HTTP response framer, now gone: not reused. */

    /* ---- HTTP / download (-200..-299) ---- */
    MFOTA_ERR_URL_SCHEME = -200,   /* URL does not start with "http://" */
    MFOTA_ERR_URL_HOST = -201,     /* empty, malformed or userinfo-carrying host */
    MFOTA_ERR_URL_PORT = -202,     /* port not a number in 1..65535 */
    MFOTA_ERR_URL_PATH = -203,     /* no path, or a fragment */
    MFOTA_ERR_URL_CHAR = -204,     /* control character, space, CR/LF or non-ASCII byte */
    MFOTA_ERR_URL_TOO_LONG = -205, /* longer than MFOTA_URL_MAX */
    MFOTA_ERR_HTTP_SYNTAX = -210,      /* malformed status line, header line or line ending */
    MFOTA_ERR_HTTP_TOO_LONG = -211,    /* header block or a needed header line over its bound */
    MFOTA_ERR_HTTP_LENGTH = -212,      /* bad or conflicting Content-Length */
    MFOTA_ERR_HTTP_RANGE = -213,       /* bad Content-Range, or one that disagrees with the body */
    MFOTA_ERR_HTTP_CHUNK = -214,       /* malformed chunked framing */
    MFOTA_ERR_HTTP_DIGEST = -215,      /* malformed crc32 value in Digest */
    MFOTA_ERR_HTTP_CRC = -216,         /* body CRC-32 differs from the Digest (message complete) */
    MFOTA_ERR_HTTP_SHORT_BODY = -217,  /* connection ended before the announced body end */
    MFOTA_ERR_HTTP_ENCODING = -218,    /* a transfer coding other than chunked */
    MFOTA_ERR_HTTP_REQUEST_SIZE = -219, /* request would not fit MFOTA_HTTP_REQUEST_MAX */
    MFOTA_ERR_DL_UNAUTHORIZED = -220,  /* 401: token expired or wrong, a new downlink is needed */
    MFOTA_ERR_DL_FORBIDDEN = -221,     /* 403: token refused for this file */
    MFOTA_ERR_DL_NOT_FOUND = -222,     /* 404/410: the file is gone */
    MFOTA_ERR_DL_UNSATISFIABLE = -223, /* 416 that a restart cannot fix */
    MFOTA_ERR_DL_BUSY = -224,          /* 429/503 beyond the retry or Retry-After bound */
    MFOTA_ERR_DL_STATUS = -225,        /* any other unexpected HTTP status */
    MFOTA_ERR_DL_RANGE_IGNORED = -226, /* whole file sent without Content-Range, not at offset 0 */
    MFOTA_ERR_DL_BUDGET = -227,        /* the per-download request budget is spent */
    MFOTA_ERR_DL_TOTAL_CHANGED = -228, /* file size or validator changed and no restart possible */
    MFOTA_ERR_DL_TIMEOUT = -229,       /* a connect, or a part's request and response, passed its deadline */
    MFOTA_ERR_DL_CONNECT = -230,       /* the transport could not connect */
    MFOTA_ERR_DL_CLOSED = -231,        /* connection dropped (reset, or closed between messages) */
    MFOTA_ERR_DL_WRONG_RANGE = -232,   /* Content-Range is not the range requested */
    MFOTA_ERR_DL_IO = -233,            /* transport send/recv failure */
    MFOTA_ERR_DL_TOO_LARGE = -234,     /* file, or a body of unknown size, larger than max_size */
    MFOTA_ERR_DL_DEADLINE = -235,      /* the download's max_time passed */

    /* ---- flash / journal (-300..-399) ---- */
    MFOTA_ERR_FLASH_GEOMETRY = -300,   /* HAL geometry unusable (sizes, alignment, slot) */
    MFOTA_ERR_FLASH_BOUNDS = -301,     /* write outside the slot or past the image size */
    MFOTA_ERR_FLASH_ORDER = -302,      /* offset is not the next byte the writer expects */
    MFOTA_ERR_FLASH_VERIFY = -303,     /* read-back differs from what was programmed */
    MFOTA_ERR_FLASH_PART_CRC = -304,   /* a part's bytes do not match its CRC-32 */
    MFOTA_ERR_FLASH_NOT_ERASED = -305, /* about to program a byte that is not erased */
    MFOTA_ERR_JOURNAL_EMPTY = -310,    /* no valid journal record in the store */
    MFOTA_ERR_JOURNAL_REGION = -311,   /* journal region too small or misaligned */

    /* ---- image / boot (-400..-499) ---- */
    MFOTA_ERR_IMAGE_SIZE = -400,         /* image size differs from the expected size */
    MFOTA_ERR_IMAGE_READBACK = -401,     /* slot CRC differs from the verified parts' CRC */
    MFOTA_ERR_IMAGE_CRC = -402,          /* image CRC-32 differs from the downlink's crc32 */
    MFOTA_ERR_IMAGE_SHA256 = -403,       /* image SHA-256 differs from the downlink's sha256 */
    MFOTA_ERR_IMAGE_INCOMPLETE = -404,   /* not every byte of the image is verified yet */
    MFOTA_ERR_MCUBOOT_MAGIC = -410,      /* no MCUboot header magic */
    MFOTA_ERR_MCUBOOT_HEADER = -411,     /* header sizes inconsistent or outside the slot */
    MFOTA_ERR_MCUBOOT_TLV = -412,        /* TLV area malformed */
    MFOTA_ERR_MCUBOOT_NO_HASH = -413,    /* no SHA-256 TLV */
    MFOTA_ERR_MCUBOOT_HASH = -414,       /* SHA-256 TLV differs from the image */
    MFOTA_ERR_MCUBOOT_TRAILER = -415,    /* trailer cannot be written (overlaps image, align) */
    MFOTA_ERR_MCUBOOT_SIG = -416,        /* no signature TLV made by a trusted key verifies */
    MFOTA_ERR_MCUBOOT_NO_SIG = -417,     /* keys are configured but the image carries no signature for them */
    MFOTA_ERR_BOOT_STATE = -420,         /* bootloader trailer in an unexpected state */
    MFOTA_ERR_DELTA_HEADER = -440,       /* bad delta file header (MFDP), or not a detools sequential patch */
    MFOTA_ERR_DELTA_COMPRESSION = -441,  /* patch compression other than none or heatshrink */
    MFOTA_ERR_DELTA_WINDOW = -442,       /* heatshrink window/lookahead beyond MFOTA_DELTA_WINDOW_SZ2_MAX */
    MFOTA_ERR_DELTA_DATA_FORMAT = -443,  /* patch uses a detools data format (arm-cortex-m4...) */
    MFOTA_ERR_DELTA_SOURCE = -444,       /* the source image is not the one the patch was made for */
    MFOTA_ERR_DELTA_CORRUPT = -445,      /* malformed patch: bad size, read outside the source, trailing bytes */
    MFOTA_ERR_DELTA_OVERRUN = -446,      /* patch writes past its image size, or the image exceeds the slot */
    MFOTA_ERR_DELTA_TRUNCATED = -447,    /* the patch ended before the image was complete */
    MFOTA_ERR_DELTA_TARGET = -448,       /* the rebuilt image differs from the delta file's target SHA-256 */
    MFOTA_ERR_DELTA_UNSUPPORTED = -449,  /* a delta file, but MFOTA_DELTA is 0 or no delta_source is configured */

    /* ---- client engine (-500..-599) ---- */
    MFOTA_ERR_RETRIES_EXHAUSTED = -500, /* a bounded retry budget ran out */
    MFOTA_ERR_CLIENT_UPLINK = -501,     /* uplink failed: connect, I/O, 5xx or a malformed response */
    MFOTA_ERR_CLIENT_REFUSED = -502,    /* the ingestion endpoint refused the uplink (4xx) */
    MFOTA_ERR_CLIENT_SIZE = -503,       /* file size differs from the downlink's size, or exceeds the slot */
    MFOTA_ERR_CLIENT_RESTART = -504,    /* internal: the download continues from another offset */
    MFOTA_ERR_CLIENT_SUPERSEDED = -505, /* a downlink for another URL replaced the update */
    MFOTA_ERR_CLIENT_TIMEOUT = -506,    /* mfota_client_run() passed its timeout */
    MFOTA_ERR_CLIENT_PHASE = -507,      /* a phase change the engine's transition table forbids */

    MFOTA_ERR_LAST_ = -600
};

/* The enumerator's name as a string ("MFOTA_ERR_INVAL"), or "MFOTA_ERR_UNKNOWN"
 * for a value that is not in the enum.  The string is static. */
const char *mfota_err_name(int err);

#endif /* MFOTA_ERR_H */
