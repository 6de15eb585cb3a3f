/*
 * KPN ThingsML: the measurement table behind SenML's "i_" field.
 *
 * ThingsML is KPN's compressed SenML: a record may carry "i_" (an integer
 * index into a table KPN publishes) instead of a name "n"; the index names
 * the measurement and implies its unit.  KPN's device SDK
 * (thingsml-c-library) writes records such as {"i_":-24,"v":21.5} for a
 * temperature in degrees Celsius.  The SenML decoder resolves them when it
 * is given MFOTA_SENML_THINGSML (see senml.h).
 */
#ifndef MFOTA_THINGSML_H
#define MFOTA_THINGSML_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Lowest and highest index of the table. */
#define MFOTA_THINGSML_INDEX_MIN (-24)
#define MFOTA_THINGSML_INDEX_MAX 14

/* One measurement of the table.  `name` and `unit` are NUL-terminated static
 * strings (unit "" when the measurement has none); the lengths spare callers
 * a strlen. */
struct mfota_thingsml_measure {
    const char *name;
    const char *unit;
    size_t name_len;
    size_t unit_len;
};

/* The measurement at `index`, or NULL when the table has none there.  The
 * returned entry is static: never freed, valid for the program's lifetime. */
const struct mfota_thingsml_measure *mfota_thingsml_lookup(long index);

#ifdef __cplusplus
}
#endif

#endif /* MFOTA_THINGSML_H */
