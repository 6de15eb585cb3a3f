#include "m2mfota/flash.h"

#include "m2mfota/err.h"

static int is_pow2(uint32_t v)
{
    return v != 0u && (v & (v - 1u)) == 0u;
}

int mfota_flash_check(const struct mfota_flash *f)
{
    if (f == NULL || f->read == NULL || f->program == NULL || f->erase == NULL) {
        return MFOTA_ERR_FLASH_GEOMETRY;
    }
    if (!is_pow2(f->program_size) || f->program_size > MFOTA_FLASH_PROGRAM_MAX ||
        f->sector_size == 0u || f->sector_size % f->program_size != 0u ||
        f->slot_offset % f->sector_size != 0u || f->slot_size == 0u ||
        f->slot_size % f->sector_size != 0u || f->slot_offset > UINT32_MAX - f->slot_size) {
        return MFOTA_ERR_FLASH_GEOMETRY;
    }
    return MFOTA_OK;
}

void mfota_flash_stats_add(struct mfota_flash_stats *acc, const struct mfota_flash_stats *add)
{
    acc->erases += add->erases;
    acc->programs += add->programs;
    acc->bytes_programmed += add->bytes_programmed;
    acc->journal_writes += add->journal_writes;
}
