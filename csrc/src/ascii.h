/* Internal: the small ASCII helpers the HTTP, SenML, KPN and MCUboot code
 * share, so each rule (what a header token is, how hex reads) lives once. */
#ifndef MFOTA_ASCII_H
#define MFOTA_ASCII_H

#include <stddef.h>
#include <stdint.h>

/* ASCII lowercase of c; any other byte unchanged (no locale, unlike tolower). */
int mfota_ascii_lower_(int c);

/* Value 0..15 of a hex digit in either case, or -1. */
int mfota_ascii_hexval_(int c);

/* 1 when c is an RFC 9110 token character (header names), else 0. */
int mfota_ascii_is_tchar_(int c);

/* 1 when each of the n bytes at p is visible ASCII (0x21..0x7E): no space,
 * control byte or non-ASCII byte, so the text is safe in a request line,
 * a header or a log line. */
int mfota_ascii_visible_(const char *p, size_t n);

/* Divide *v by 10 in place and return the remainder, with 32-bit
 * operations only (no 64-bit division helper gets linked). */
uint32_t mfota_ascii_divmod10_(uint64_t *v);

/* Write v in decimal to out (no NUL; at most 20 bytes) and return the count. */
size_t mfota_ascii_put_uint_(char *out, uint64_t v);

#endif /* MFOTA_ASCII_H */
