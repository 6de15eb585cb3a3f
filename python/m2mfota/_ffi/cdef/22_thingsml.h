/* thingsml.h */
#define MFOTA_THINGSML_INDEX_MIN ...
#define MFOTA_THINGSML_INDEX_MAX ...
struct mfota_thingsml_measure {
    const char *name;
    const char *unit;
    size_t name_len;
    size_t unit_len;
};
const struct mfota_thingsml_measure *mfota_thingsml_lookup(long index);
