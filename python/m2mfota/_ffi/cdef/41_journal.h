/* journal.h */
#define MFOTA_JOURNAL_RECORD_SIZE ...
#define MFOTA_JOURNAL_HAS_VALIDATOR ...
#define MFOTA_JOURNAL_HAS_CRC32 ...
#define MFOTA_JOURNAL_HAS_SHA256 ...
#define MFOTA_JOURNAL_COMPLETE ...
#define MFOTA_JOURNAL_DELTA ...
struct mfota_journal_record {
    uint32_t seq;
    uint32_t flags;
    uint32_t total_size;
    uint32_t offset;
    uint32_t crc32;
    uint32_t requests;
    uint32_t expect_crc32;
    uint8_t url_hash[32];
    uint8_t validator_hash[32];
    uint8_t expect_sha256[32];
    struct mfota_sha256 sha;
};
struct mfota_kv {
    int (*get)(void *ctx, void *buf, size_t cap);
    int (*set)(void *ctx, const void *buf, size_t len);
    void *ctx;
};
extern "Python" int mfota_py_kv_get(void *ctx, void *buf, size_t cap);
extern "Python" int mfota_py_kv_set(void *ctx, const void *buf, size_t len);
struct mfota_journal {
    const struct mfota_flash *flash;
    const struct mfota_kv *kv;
    struct mfota_journal_record rec;
    uint32_t interval_sectors;
    uint32_t stride;
    uint32_t next_pos;
    uint8_t have_rec;
    uint8_t need_erase;
    struct mfota_flash_stats stats;
};
int mfota_journal_init_flash(struct mfota_journal *j, const struct mfota_flash *region);
int mfota_journal_init_kv(struct mfota_journal *j, const struct mfota_kv *kv);
int mfota_journal_load(struct mfota_journal *j, struct mfota_journal_record *out);
int mfota_journal_write(struct mfota_journal *j, struct mfota_journal_record *rec);
void mfota_journal_record_init(struct mfota_journal_record *rec, const char *url, size_t url_len,
                               const char *validator, size_t validator_len, uint32_t total_size);
int mfota_journal_begin(struct mfota_journal *j, struct mfota_journal_record *want, int *resumed);
int mfota_journal_restart(struct mfota_journal *j);
