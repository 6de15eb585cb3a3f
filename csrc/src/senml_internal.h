/* Shared between the SenML decoder and encoder; not public API. */
#ifndef MFOTA_SENML_INTERNAL_H
#define MFOTA_SENML_INTERNAL_H

#include <stdint.h>

/* RFC 8428 4.5.1 name characters, per ASCII byte: bit 0 = may appear in a
 * name, bit 1 = may start one (letters and digits). */
extern const uint8_t mfota_senml_name_class_[128];

#endif /* MFOTA_SENML_INTERNAL_H */
