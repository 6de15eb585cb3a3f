/*
 * Flash area IDs of the board (see flash_map_backend.h): MCUboot asks for
 * areas by these numbers.
 */
#ifndef MFOTA_BOARD_SYSFLASH_H
#define MFOTA_BOARD_SYSFLASH_H

#define FLASH_AREA_BOOTLOADER 0
#define FLASH_AREA_IMAGE_PRIMARY(x) (((x) == 0) ? 1 : 255)
#define FLASH_AREA_IMAGE_SECONDARY(x) (((x) == 0) ? 2 : 255)
#define FLASH_AREA_IMAGE_SCRATCH 3

#define PRIMARY_ID 1
#define SECONDARY_ID 2

#endif /* MFOTA_BOARD_SYSFLASH_H */
