/*
 * MCUboot configuration of the m2mfota QEMU board (mps2-an386, semihosted
 * NOR flash): one image, swap-using-move (power-fail safe, no scratch area),
 * ECDSA P-256 signatures checked with tinycrypt, the primary slot validated
 * on every boot, the swap status kept in the slot trailers.
 */
#ifndef MCUBOOT_CONFIG_H
#define MCUBOOT_CONFIG_H

#include "board_layout.h"

#define MCUBOOT_SIGN_EC256
#define MCUBOOT_USE_TINYCRYPT
#define MCUBOOT_VALIDATE_PRIMARY_SLOT
#define MCUBOOT_SWAP_USING_MOVE 1
#define MCUBOOT_IMAGE_NUMBER 1
/* 33 sectors in the primary slot: 64 leaves room for a bigger layout. */
#define MCUBOOT_MAX_IMG_SECTORS 64
#define MCUBOOT_USE_FLASH_AREA_GET_SECTORS
#define MCUBOOT_BOOT_MAX_ALIGN 8
#define MCUBOOT_HAVE_LOGGING 1
/* Fault-injection hardening needs a hardware RNG for its delays; QEMU has
 * none and the threat (glitching) does not exist in an emulator. */
#define MCUBOOT_FIH_PROFILE_OFF

/* No watchdog on the board. */
#define MCUBOOT_WATCHDOG_FEED() do { } while (0)
#define MCUBOOT_CPU_IDLE() do { } while (0)

#endif /* MCUBOOT_CONFIG_H */
