/*
 * Flash HAL: how the core reaches NOR flash.
 *
 * NOR flash erases a whole sector to `erased_value` (0xFF on most parts) and
 * programming only clears bits, in aligned blocks of `program_size` bytes.
 * A port fills one struct per flash region (the update slot, the journal's
 * two sectors) and keeps it alive as long as the objects that use it.
 *
 * Offsets passed to the callbacks are absolute device offsets
 * (`slot_offset` + offset inside the region).  Each callback returns 0 on
 * success or a negative value; the core stops the operation at once and
 * returns that value (MFOTA_ERR_HAL when the port has nothing better), so a
 * failing callback -- a power cut in a test -- leaves nothing half-done in
 * RAM that a later call would write out.
 */
#ifndef MFOTA_FLASH_H
#define MFOTA_FLASH_H

#include <stddef.h>
#include <stdint.h>

#include "m2mfota/config.h"

#ifdef __cplusplus
extern "C" {
#endif

struct mfota_flash {
    /* Copy `len` bytes at `off` into `buf`. */
    int (*read)(void *ctx, uint32_t off, void *buf, size_t len);
    /* Program `len` bytes at `off`; both are multiples of program_size and
     * the target bytes are erased (the writer guarantees it). */
    int (*program)(void *ctx, uint32_t off, const void *data, size_t len);
    /* Erase the one sector that starts at `off` (sector-aligned). */
    int (*erase)(void *ctx, uint32_t off);
    void *ctx;
    uint32_t program_size; /* 1..MFOTA_FLASH_PROGRAM_MAX, a power of two */
    uint32_t sector_size;  /* a multiple of program_size */
    uint8_t erased_value;  /* 0xFF on NOR */
    uint32_t slot_offset;  /* region start on the device, sector-aligned */
    uint32_t slot_size;    /* region size, a whole number of sectors */
};

/* What one update cost the flash.  The writer and the journal each keep one;
 * mfota_flash_stats_add() sums them for a report. */
struct mfota_flash_stats {
    uint32_t erases;           /* sector erases */
    uint32_t programs;         /* program calls */
    uint32_t bytes_programmed; /* bytes passed to program */
    uint32_t journal_writes;   /* journal records written */
};

/* MFOTA_OK when `f` has callbacks and a usable geometry (see the field
 * comments), else MFOTA_ERR_FLASH_GEOMETRY. */
int mfota_flash_check(const struct mfota_flash *f);

/* `acc` += `add`, field by field. */
void mfota_flash_stats_add(struct mfota_flash_stats *acc, const struct mfota_flash_stats *add);

#ifdef __cplusplus
}
#endif

#endif /* MFOTA_FLASH_H */
