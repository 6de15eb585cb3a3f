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

    /* ---- generic (-1..-99) ---- */
    MFOTA_ERR_INVAL = -1,     /* an argument is out of its documented domain */
    MFOTA_ERR_NOSPC = -2,     /* a caller buffer is too small */
    MFOTA_ERR_STATE = -3,     /* call not allowed in the object's state */
    MFOTA_ERR_HAL = -4,       /* a HAL callback reported failure */
    MFOTA_ERR_UNSUPPORTED = -5, /* feature compiled out or not on this CPU */

    /* ---- SenML / KPN messages (-100..-199) ---- */

    /* ---- HTTP / download (-200..-299) ---- */
    MFOTA_ERR_URL_SCHEME = -200,   /* URL does not start with "http://" */
    MFOTA_ERR_URL_HOST = -201,     /* empty, malformed or userinfo-carrying host */
    MFOTA_ERR_URL_PORT = -202,     /* port not a number in 1..65535 */
    MFOTA_ERR_URL_PATH = -203,     /* no path, or a fragment */
    MFOTA_ERR_URL_CHAR = -204,     /* control character, space, CR/LF or non-ASCII byte */
    MFOTA_ERR_URL_TOO_LONG = -205, /* longer than MFOTA_URL_MAX */

    /* ---- flash / journal (-300..-399) ---- */

    /* ---- image / boot (-400..-499) ---- */

    /* ---- client engine (-500..-599) ---- */
    MFOTA_ERR_RETRIES_EXHAUSTED = -500, /* a bounded retry budget ran out */

    MFOTA_ERR_LAST_ = -600
};

/* The enumerator's name as a string ("MFOTA_ERR_INVAL"), or "MFOTA_ERR_UNKNOWN"
 * for a value that is not in the enum.  The string is static. */
const char *mfota_err_name(int err);

#endif /* MFOTA_ERR_H */
