/* senml.h */
#define MFOTA_SENML_VERSION ...
#define MFOTA_SENML_NUM_MAX ...
#define MFOTA_SENML_STRICT ...
#define MFOTA_SENML_LENIENT_V_STRING ...
#define MFOTA_SENML_THINGSML ...
#define MFOTA_SENML_STR_MAX ...
#define MFOTA_SENML_RECORDS_MAX ...
#define MFOTA_SENML_EXT_DEPTH_MAX ...
#define MFOTA_SENML_F_BN ...
#define MFOTA_SENML_F_BT ...
#define MFOTA_SENML_F_BU ...
#define MFOTA_SENML_F_BV ...
#define MFOTA_SENML_F_BS ...
#define MFOTA_SENML_F_BVER ...
#define MFOTA_SENML_F_N ...
#define MFOTA_SENML_F_U ...
#define MFOTA_SENML_F_V ...
#define MFOTA_SENML_F_VS ...
#define MFOTA_SENML_F_VB ...
#define MFOTA_SENML_F_VD ...
#define MFOTA_SENML_F_S ...
#define MFOTA_SENML_F_T ...
#define MFOTA_SENML_F_UT ...
enum mfota_senml_kind {
    MFOTA_SENML_KIND_NONE = 0,
    MFOTA_SENML_KIND_NUM = 1,
    MFOTA_SENML_KIND_STR = 2,
    MFOTA_SENML_KIND_BOOL = 3,
    MFOTA_SENML_KIND_DATA = 4
};
struct mfota_senml_str {
    const char *ptr;
    size_t len;
    size_t dlen;
    uint8_t escaped;
};
struct mfota_senml_record {
    struct mfota_senml_str bn;
    struct mfota_senml_str n;
    struct mfota_senml_str u;
    struct mfota_senml_str vs;
    double v;
    double s;
    double t;
    double ut;
    uint32_t fields;
    size_t offset;
    uint8_t kind;
    uint8_t vb;
    uint8_t has_s, has_t, has_ut;
};
struct mfota_senml_dec {
    ...;
};
void mfota_senml_dec_init(struct mfota_senml_dec *dec, const char *json, size_t len,
                          unsigned mode);
int mfota_senml_dec_next(struct mfota_senml_dec *dec, struct mfota_senml_record *rec);
size_t mfota_senml_dec_offset(const struct mfota_senml_dec *dec);
int mfota_senml_str_decode(const struct mfota_senml_str *s, char *out, size_t cap,
                           size_t *out_len);
int mfota_senml_str_eq(const struct mfota_senml_str *s, const char *text, size_t len);
int mfota_senml_record_name(const struct mfota_senml_record *rec, char *out, size_t cap,
                            size_t *out_len);
struct mfota_senml_entry {
    const char *bn;
    size_t bn_len;
    const char *n;
    size_t n_len;
    const char *u;
    size_t u_len;
    const char *vs;
    size_t vs_len;
    double bt, v, s, t, ut;
    uint8_t has_bt, has_s, has_t, has_ut;
    uint8_t kind;
    uint8_t vb;
};
struct mfota_senml_enc {
    ...;
};
void mfota_senml_enc_init(struct mfota_senml_enc *enc, char *buf, size_t cap);
int mfota_senml_enc_record(struct mfota_senml_enc *enc, const struct mfota_senml_entry *e);
int mfota_senml_enc_finish(struct mfota_senml_enc *enc, size_t *needed);
int mfota_senml_encode(const struct mfota_senml_entry *entries, size_t count, char *buf,
                       size_t cap, size_t *needed);
int mfota_senml_parse_double(const char *s, size_t len, double *out);
size_t mfota_senml_format_double(double v, char *out, size_t cap);
