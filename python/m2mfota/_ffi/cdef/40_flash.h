/* flash.h, flash_writer.h */
#define MFOTA_FLASH_PROGRAM_MAX ...
struct mfota_flash {
    int (*read)(void *ctx, uint32_t off, void *buf, size_t len);
    int (*program)(void *ctx, uint32_t off, const void *data, size_t len);
    int (*erase)(void *ctx, uint32_t off);
    void *ctx;
    uint32_t program_size;
    uint32_t sector_size;
    uint8_t erased_value;
    uint32_t slot_offset;
    uint32_t slot_size;
};
struct mfota_flash_stats {
    uint32_t erases;
    uint32_t programs;
    uint32_t bytes_programmed;
    uint32_t journal_writes;
};
int mfota_flash_check(const struct mfota_flash *f);
void mfota_flash_stats_add(struct mfota_flash_stats *acc, const struct mfota_flash_stats *add);

/* Python-written flash HALs: ctx is an ffi.new_handle of the adapter. */
extern "Python" int mfota_py_flash_read(void *ctx, uint32_t off, void *buf, size_t len);
extern "Python" int mfota_py_flash_program(void *ctx, uint32_t off, const void *data, size_t len);
extern "Python" int mfota_py_flash_erase(void *ctx, uint32_t off);

struct mfota_flash_snapshot {
    uint32_t offset;
    uint32_t crc32;
    struct mfota_sha256 sha;
};
struct mfota_journal;
struct mfota_journal_record;
struct mfota_flash_writer {
    const struct mfota_flash *flash;
    struct mfota_journal *journal;
    uint32_t size;
    uint32_t flushed;
    uint32_t erased_end;
    struct mfota_flash_snapshot run;
    struct mfota_flash_snapshot committed;
    struct mfota_flash_snapshot boundary;
    struct mfota_flash_snapshot mark;
    uint32_t parts_unverified;
    uint32_t buf_len;
    uint8_t verify;
    uint8_t failed;
    uint8_t begun;
    struct mfota_flash_stats stats;
    ...;
};
int mfota_flash_writer_init(struct mfota_flash_writer *w, const struct mfota_flash *flash,
                            struct mfota_journal *journal);
int mfota_flash_writer_begin(struct mfota_flash_writer *w, uint32_t size,
                             const struct mfota_journal_record *resume);
int mfota_flash_writer_write(struct mfota_flash_writer *w, uint32_t offset, const void *data,
                             size_t len);
int mfota_flash_writer_part_commit(struct mfota_flash_writer *w, uint32_t offset, uint32_t len,
                                   const uint32_t *crc);
int mfota_flash_writer_part_abort(struct mfota_flash_writer *w, uint32_t first_offset,
                                  uint32_t *refetch);
int mfota_flash_writer_flush(struct mfota_flash_writer *w);
