/* Flash writer and journal on a RAM-backed NOR model, with simulated power
 * cuts: the same code and the same checks on the host and on the emulated
 * Cortex-M4.  The image check uses an independent byte compare and a CRC-32
 * of the known image. */
#include <string.h>

#include "m2mfota/crc32.h"
#include "m2mfota/err.h"
#include "m2mfota/flash_writer.h"
#include "m2mfota/image_verify.h"
#include "m2mfota/journal.h"
#include "fake_hal.h"
#include "selftest.h"

#define SECTOR 1024u
#define PROG 8u
#define SLOT_SECTORS 8u
#define SLOT_SIZE (SLOT_SECTORS * SECTOR)
#define DEV_SIZE (SLOT_SIZE + 2u * SECTOR)
#define IMAGE_SIZE (5u * SECTOR + 300u)
#define PART SECTOR

/* The NOR model of tests/c/fake_hal.h: erase to 0xFF, program only erased
 * bytes in aligned blocks; after `cut_after` program/erase calls the next
 * one is torn (half done) and everything fails until power comes back. */
static uint8_t nor_mem[DEV_SIZE];
static uint16_t erase_count[DEV_SIZE / SECTOR];
static struct fake_nor nor;
static struct mfota_flash slot_hal, journal_hal;
static uint8_t image[IMAGE_SIZE];

static const char url[] = "http://10.151.236.136/f/v1/selftest";

static void nor_reset(void)
{
    fake_nor_init(&nor, nor_mem, sizeof nor_mem, SECTOR, PROG);
    nor.error = MFOTA_ERR_HAL;
    memset(erase_count, 0, sizeof erase_count);
    nor.sector_erases = erase_count;
    fake_nor_hal(&nor, &slot_hal, 0, SLOT_SIZE);
    fake_nor_hal(&nor, &journal_hal, SLOT_SIZE, 2u * SECTOR);
}

/* One boot: open the journal, resume or start, download the rest in parts
 * (the part at `bad_part` arrives corrupt once), verify.  Returns the first
 * error, and the offset it started from in *start. */
static int run_update(uint32_t bad_part, uint32_t *start, int *resumed, struct mfota_flash_stats *st)
{
    static struct mfota_journal j;
    static struct mfota_flash_writer w;
    static unsigned boots;
    struct mfota_journal_record own, *rec;
    struct mfota_image_expect exp;
    uint32_t off;
    int rc, bad_done = 0;

    rc = mfota_journal_init_flash(&j, &journal_hal);
    if (rc < 0) {
        return rc;
    }
    /* Every other boot keeps no record of its own, as the client engine:
     * the wanted download is the journal's record in force itself. */
    rec = (boots++ & 1u) ? &j.rec : &own;
    mfota_journal_record_init(rec, url, sizeof url - 1u, NULL, 0, IMAGE_SIZE);
    rc = mfota_journal_begin(&j, rec, resumed);
    if (rc < 0) {
        return rc;
    }
    rc = mfota_flash_writer_init(&w, &slot_hal, &j);
    if (rc == MFOTA_OK) {
        rc = mfota_flash_writer_begin(&w, IMAGE_SIZE, *resumed ? rec : NULL);
    }
    if (rc < 0) {
        return rc;
    }
    off = *start = w.run.offset;
    while (off < IMAGE_SIZE) {
        uint32_t n = IMAGE_SIZE - off < PART ? IMAGE_SIZE - off : PART;
        uint32_t crc = mfota_crc32(0, image + off, n);
        uint32_t half = n / 2u;
        if (off == bad_part && !bad_done) {
            uint8_t flipped = (uint8_t)(image[off + half] ^ 0x10u);
            bad_done = 1;
            rc = mfota_flash_writer_write(&w, off, image + off, half);
            if (rc == MFOTA_OK) {
                rc = mfota_flash_writer_write(&w, off + half, &flipped, 1);
            }
            if (rc == MFOTA_OK) {
                rc = mfota_flash_writer_write(&w, off + half + 1u, image + off + half + 1u,
                                              n - half - 1u);
            }
            if (rc == MFOTA_OK) {
                rc = mfota_flash_writer_part_commit(&w, off, n, &crc);
                if (rc != MFOTA_ERR_FLASH_PART_CRC) {
                    return rc == MFOTA_OK ? MFOTA_ERR_STATE : rc;
                }
                rc = mfota_flash_writer_part_abort(&w, off, &off);
            }
            if (rc < 0) {
                return rc;
            }
            continue;
        }
        /* Odd-sized pieces, as a TCP stream would deliver them. */
        rc = mfota_flash_writer_write(&w, off, image + off, half / 3u);
        if (rc == MFOTA_OK) {
            rc = mfota_flash_writer_write(&w, off + half / 3u, image + off + half / 3u, n - half / 3u);
        }
        if (rc == MFOTA_OK) {
            rc = mfota_flash_writer_part_commit(&w, off, n, &crc);
        }
        if (rc < 0) {
            return rc;
        }
        off += n;
    }
    memset(&exp, 0, sizeof exp);
    exp.flags = MFOTA_EXPECT_SIZE | MFOTA_EXPECT_CRC32;
    exp.size = IMAGE_SIZE;
    exp.crc32 = mfota_crc32(0, image, IMAGE_SIZE);
    rc = mfota_image_verify_writer(&w, &exp, NULL);
    if (st != NULL) {
        *st = w.stats;
        mfota_flash_stats_add(st, &j.stats);
    }
    return rc;
}

static int check_clean_update(void)
{
    int failures = 0, resumed = 0;
    uint32_t start = 1, s;
    struct mfota_flash_stats st;
    nor_reset();
    SELFTEST_CHECK(failures, run_update(0xFFFFFFFFu, &start, &resumed, &st) == MFOTA_OK, "clean run");
    SELFTEST_CHECK(failures, start == 0 && !resumed, "clean start");
    SELFTEST_CHECK(failures, memcmp(nor_mem, image, IMAGE_SIZE) == 0, "clean image");
    for (s = 0; s < SLOT_SECTORS; s++) {
        SELFTEST_CHECK(failures, erase_count[s] == (s * SECTOR < IMAGE_SIZE ? 1u : 0u),
                       "each used slot sector erased once");
    }
    SELFTEST_CHECK(failures, st.journal_writes <= (IMAGE_SIZE + SECTOR - 1u) / SECTOR,
                   "journal writes <= sectors");
    SELFTEST_CHECK(failures, nor.violations == 0, "no NOR violation");
    return failures;
}

static int check_failed_part(void)
{
    int failures = 0, resumed = 0;
    uint32_t start = 1;
    nor_reset();
    SELFTEST_CHECK(failures, run_update(2u * SECTOR, &start, &resumed, NULL) == MFOTA_OK,
                   "run with a failed part");
    SELFTEST_CHECK(failures, memcmp(nor_mem, image, IMAGE_SIZE) == 0, "image after a failed part");
    SELFTEST_CHECK(failures, erase_count[2] == 2u && erase_count[3] == 1u,
                   "only the failed part's sector erased again");
    SELFTEST_CHECK(failures, nor.violations == 0, "no NOR violation");
    return failures;
}

static int check_cut_everywhere(void)
{
    int failures = 0, resumed = 0;
    long k, total;
    uint32_t start = 0;
    int resumes = 0;

    nor_reset();
    (void)run_update(0xFFFFFFFFu, &start, &resumed, NULL);
    total = nor.ops;
    for (k = 0; k < total; k++) {
        int rc;
        nor_reset();
        fake_nor_power_on(&nor, k);
        rc = run_update(0xFFFFFFFFu, &start, &resumed, NULL);
        SELFTEST_CHECK(failures, rc == MFOTA_ERR_HAL && !nor.powered, "the cut stops the update");
        fake_nor_power_on(&nor, -1);
        rc = run_update(0xFFFFFFFFu, &start, &resumed, NULL);
        SELFTEST_CHECK(failures, rc == MFOTA_OK, "resume after a cut finishes");
        SELFTEST_CHECK(failures, memcmp(nor_mem, image, IMAGE_SIZE) == 0, "exact image after a cut");
        SELFTEST_CHECK(failures, start % SECTOR == 0u || start == IMAGE_SIZE, "resume at a sector");
        resumes += resumed;
        if (failures) {
            printf("  cut after %ld operations\n", k);
            return failures;
        }
    }
    SELFTEST_CHECK(failures, resumes > 0 && nor.violations == 0, "cuts resumed, no NOR violation");
    printf("flash: %ld cuts tried, %d resumed from the journal\n", total, resumes);
    return failures;
}

static int check_journal_torn_write(void)
{
    static struct mfota_journal j;
    struct mfota_journal_record rec, got;
    int failures = 0, i;
    nor_reset();
    SELFTEST_CHECK(failures, mfota_journal_init_flash(&j, &journal_hal) == MFOTA_OK, "journal init");
    SELFTEST_CHECK(failures, mfota_journal_load(&j, &got) == MFOTA_ERR_JOURNAL_EMPTY, "empty");
    mfota_journal_record_init(&rec, url, sizeof url - 1u, "\"v1\"", 4, 4000);
    for (i = 0; i < 12; i++) { /* enough to switch sectors (4 records each) */
        rec.requests = (uint32_t)i;
        SELFTEST_CHECK(failures, mfota_journal_write(&j, &rec) == MFOTA_OK, "journal write");
    }
    for (i = 0; i < 2; i++) {
        fake_nor_power_on(&nor, i);
        rec.requests = 1000u;
        SELFTEST_CHECK(failures, mfota_journal_write(&j, &rec) == MFOTA_ERR_HAL, "torn write");
        fake_nor_power_on(&nor, -1);
        SELFTEST_CHECK(failures, mfota_journal_init_flash(&j, &journal_hal) == MFOTA_OK, "reinit");
        SELFTEST_CHECK(failures, mfota_journal_load(&j, &got) == MFOTA_OK && got.requests == 11u,
                       "previous record survives a torn write");
    }
    rec.requests = 77u;
    SELFTEST_CHECK(failures, mfota_journal_write(&j, &rec) == MFOTA_OK, "write after tear");
    SELFTEST_CHECK(failures, mfota_journal_init_flash(&j, &journal_hal) == MFOTA_OK, "reinit");
    SELFTEST_CHECK(failures, mfota_journal_load(&j, &got) == MFOTA_OK && got.requests == 77u,
                   "newest record wins");
    {
        /* begin() with want == &j.rec: another download's record on flash
         * is not resumed over it, and the wanted one is written at once;
         * the same download is resumed with its progress. */
        static const char other[] = "http://10.151.236.136/f/v1/other";
        int resumed = -1;
        uint8_t want_hash[32];
        SELFTEST_CHECK(failures, mfota_journal_init_flash(&j, &journal_hal) == MFOTA_OK, "reinit");
        mfota_journal_record_init(&j.rec, other, sizeof other - 1u, NULL, 0, 4000);
        memcpy(want_hash, j.rec.url_hash, sizeof want_hash);
        SELFTEST_CHECK(failures, mfota_journal_begin(&j, &j.rec, &resumed) == MFOTA_OK &&
                                     resumed == 0 && j.rec.requests == 0u &&
                                     memcmp(j.rec.url_hash, want_hash, 32) == 0,
                       "begin(&j.rec): another download is not resumed");
        SELFTEST_CHECK(failures, mfota_journal_load(&j, &got) == MFOTA_OK &&
                                     memcmp(got.url_hash, want_hash, 32) == 0 &&
                                     got.seq == rec.seq + 1u,
                       "begin(&j.rec): the new download is the newest record, in sequence");
        j.rec.requests = 5u;
        SELFTEST_CHECK(failures, mfota_journal_write(&j, &j.rec) == MFOTA_OK, "write in place");
        SELFTEST_CHECK(failures, mfota_journal_init_flash(&j, &journal_hal) == MFOTA_OK, "reinit");
        mfota_journal_record_init(&j.rec, other, sizeof other - 1u, NULL, 0, 4000);
        SELFTEST_CHECK(failures, mfota_journal_begin(&j, &j.rec, &resumed) == MFOTA_OK &&
                                     resumed == 1 && j.rec.requests == 5u &&
                                     j.rec.seq == rec.seq + 2u,
                       "begin(&j.rec): the same download resumes with its progress");
    }
    return failures;
}

static int report(const char *what, int failures)
{
    printf("%s %s\n", failures ? "FAIL" : "ok", what);
    return failures;
}

int mfota_selftest_flash(void)
{
    int failures = 0;
    uint32_t i, x = 0x12345678u;
    for (i = 0; i < IMAGE_SIZE; i++) {
        x = x * 1103515245u + 12345u;
        image[i] = (uint8_t)(x >> 16);
    }
    failures += report("flash/clean-update", check_clean_update());
    failures += report("flash/failed-part", check_failed_part());
    failures += report("flash/power-cut-everywhere", check_cut_everywhere());
    failures += report("flash/journal-torn-write", check_journal_torn_write());
    return failures;
}
