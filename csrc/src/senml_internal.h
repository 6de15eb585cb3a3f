/* Shared between the SenML decoder and encoder; not public API. */
#ifndef MFOTA_SENML_INTERNAL_H
#define MFOTA_SENML_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* 1 when byte c may appear in an RFC 8428 (4.5.1) name: letters, digits
 * and - . / : _ ; with `first` set, when it may start one (letters and
 * digits only). */
int mfota_senml_name_char_(unsigned c, int first);

/* Length of the valid UTF-8 sequence at p (lead byte >= 0x80, `avail`
 * bytes readable), or 0: no overlong forms, surrogates or code points
 * above U+10FFFF. */
size_t mfota_senml_utf8_seq_(const unsigned char *p, size_t avail);

/* JSON's two-character escapes, one table for the decoder and the encoder:
 * "\\" + mfota_senml_esc_from_[k] stands for the byte mfota_senml_esc_to_[k]
 * (k < 8; both NUL-terminated). */
extern const char mfota_senml_esc_from_[9], mfota_senml_esc_to_[9];

#endif /* MFOTA_SENML_INTERNAL_H */
