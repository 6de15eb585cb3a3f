/* MCUboot's flash map for the board: see flash_map_backend.h. */
#include "flash_map_backend/flash_map_backend.h"

#include <stddef.h>

#include "board_layout.h"
#include "semihost_flash.h"

/* MCUboot's flash-area API has no context argument: the one device lives
 * here, set by board_flash_map_init(). */
static struct board_flash *board_dev;

static const struct flash_area areas[] = {
    {PRIMARY_ID, 0, 0, BOARD_PRIMARY_OFF, BOARD_PRIMARY_SIZE},
    {SECONDARY_ID, 0, 0, BOARD_SECONDARY_OFF, BOARD_SECONDARY_SIZE},
};

void board_flash_map_init(struct board_flash *dev)
{
    board_dev = dev;
}

static const struct flash_area *find(int id)
{
    size_t i;
    for (i = 0; i < sizeof areas / sizeof areas[0]; i++) {
        if (areas[i].fa_id == id) {
            return &areas[i];
        }
    }
    return NULL;
}

int flash_area_open(uint8_t id, const struct flash_area **fap)
{
    /* The areas are constant and stateless: nested opens need no count. */
    *fap = find(id);
    return *fap != NULL && board_dev != NULL ? 0 : -1;
}

void flash_area_close(const struct flash_area *fap)
{
    (void)fap;
}

static int inside(const struct flash_area *fap, uint32_t off, uint32_t len)
{
    return off <= fap->fa_size && len <= fap->fa_size - off;
}

int flash_area_read(const struct flash_area *fap, uint32_t off, void *dst, uint32_t len)
{
    if (!inside(fap, off, len)) {
        return -1;
    }
    return board_flash_read(board_dev, fap->fa_off + off, dst, len) == 0 ? 0 : -1;
}

int flash_area_write(const struct flash_area *fap, uint32_t off, const void *src, uint32_t len)
{
    if (!inside(fap, off, len)) {
        return -1;
    }
    return board_flash_program(board_dev, fap->fa_off + off, src, len) == 0 ? 0 : -1;
}

int flash_area_erase(const struct flash_area *fap, uint32_t off, uint32_t len)
{
    uint32_t s;
    if (!inside(fap, off, len) || off % BOARD_SECTOR_SIZE != 0u || len % BOARD_SECTOR_SIZE != 0u) {
        return -1;
    }
    for (s = 0; s < len; s += BOARD_SECTOR_SIZE) {
        if (board_flash_erase(board_dev, fap->fa_off + off + s) != 0) {
            return -1;
        }
    }
    return 0;
}

uint32_t flash_area_align(const struct flash_area *fap)
{
    (void)fap;
    return BOARD_PROGRAM_SIZE;
}

uint8_t flash_area_erased_val(const struct flash_area *fap)
{
    (void)fap;
    return 0xFF;
}

int flash_area_get_sectors(int fa_id, uint32_t *count, struct flash_sector *sectors)
{
    const struct flash_area *fa = find(fa_id);
    uint32_t n, i;
    if (fa == NULL) {
        return -1;
    }
    n = fa->fa_size / BOARD_SECTOR_SIZE;
    if (n > *count) {
        return -1; /* *count is the room MCUboot has (BOOT_MAX_IMG_SECTORS) */
    }
    for (i = 0; i < n; i++) {
        sectors[i].fs_off = i * BOARD_SECTOR_SIZE;
        sectors[i].fs_size = BOARD_SECTOR_SIZE;
    }
    *count = n;
    return 0;
}

int flash_area_get_sector(const struct flash_area *fap, uint32_t off, struct flash_sector *fs)
{
    if (off >= fap->fa_size) {
        return -1;
    }
    fs->fs_off = off - off % BOARD_SECTOR_SIZE;
    fs->fs_size = BOARD_SECTOR_SIZE;
    return 0;
}

int flash_area_id_from_multi_image_slot(int image_index, int slot)
{
    if (image_index != 0) {
        return -1;
    }
    return slot == 0 ? PRIMARY_ID : slot == 1 ? SECONDARY_ID : -1;
}

int flash_area_id_from_image_slot(int slot)
{
    return flash_area_id_from_multi_image_slot(0, slot);
}

int flash_area_id_to_multi_image_slot(int image_index, int area_id)
{
    if (image_index != 0) {
        return -1;
    }
    return area_id == PRIMARY_ID ? 0 : area_id == SECONDARY_ID ? 1 : -1;
}

int flash_device_base(uint8_t fd_id, uintptr_t *ret)
{
    /* The flash is a host file, not memory-mapped: MCUboot reads it only
     * through flash_area_read (MCUBOOT_HASH_STORAGE_DIRECTLY stays off). */
    (void)fd_id;
    *ret = 0;
    return 0;
}
