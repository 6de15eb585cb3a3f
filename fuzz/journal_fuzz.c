/* libFuzzer harness: the journal loader on arbitrary flash contents (two
 * 1 KiB sectors).  Whatever it finds, a record it returns must be
 * self-consistent, and a write after the load must then be the newest. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "m2mfota/err.h"
#include "m2mfota/journal.h"

#define SECTOR 1024u

static uint8_t mem[2u * SECTOR];

static int rd(void *ctx, uint32_t off, void *buf, size_t len)
{
    (void)ctx;
    memcpy(buf, mem + off, len);
    return 0;
}

static int prog(void *ctx, uint32_t off, const void *data, size_t len)
{
    size_t i;
    (void)ctx;
    for (i = 0; i < len; i++) {
        if (mem[off + i] != 0xFFu) {
            abort(); /* the journal must never program a byte that is not erased */
        }
        mem[off + i] = ((const uint8_t *)data)[i];
    }
    return 0;
}

static int er(void *ctx, uint32_t off)
{
    (void)ctx;
    memset(mem + off, 0xFF, SECTOR);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct mfota_flash region = {rd, prog, er, NULL, 8, SECTOR, 0xFF, 0, 2u * SECTOR};
    struct mfota_journal j;
    struct mfota_journal_record rec, again;
    int rc;

    memset(mem, 0xFF, sizeof mem);
    memcpy(mem, data, size < sizeof mem ? size : sizeof mem);
    if (mfota_journal_init_flash(&j, &region) != MFOTA_OK) {
        abort();
    }
    rc = mfota_journal_load(&j, &rec);
    if (rc == MFOTA_OK) {
        if (rec.offset > rec.total_size || rec.sha.length != rec.offset) {
            abort();
        }
    } else if (rc != MFOTA_ERR_JOURNAL_EMPTY) {
        abort();
    } else {
        mfota_journal_record_init(&rec, "u", 1, NULL, 0, 10);
    }
    rec.requests = 4242u;
    if (mfota_journal_write(&j, &rec) != MFOTA_OK || mfota_journal_load(&j, &again) != MFOTA_OK ||
        again.requests != 4242u || again.seq != rec.seq) {
        abort();
    }
    return 0;
}
