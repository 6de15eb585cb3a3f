/* err.h */
const char *mfota_err_name(int err);
