/*
 * NOR flash backed by a host file through Arm semihosting (newlib's rdimon:
 * open/lseek/read/write become SYS_OPEN/SYS_SEEK/SYS_READ/SYS_WRITE on the
 * host).  The board has no flash of its own; this file is it.
 *
 * NOR rules, the same as the reference model python/m2mfota/flash.py
 * (NorFlash): a sector erases to 0xFF; programming is in whole
 * BOARD_PROGRAM_SIZE blocks and REFUSES (MFOTA_ERR_FLASH_NOT_ERASED, nothing
 * written) any block whose bytes are not all erased -- stricter than a chip,
 * which would AND, so that a driver bug shows up instead of corrupting data.
 * Misaligned or out-of-range operations fail with MFOTA_ERR_FLASH_BOUNDS.
 *
 * Every program/erase is one host write() before the callback returns, so
 * killing QEMU is a power cut between two flash operations and the next QEMU
 * run (a reboot) sees every completed one.
 */
#ifndef MFOTA_SEMIHOST_FLASH_H
#define MFOTA_SEMIHOST_FLASH_H

#include <stdint.h>

#include "m2mfota/flash.h"

#include "board_layout.h"

/* One flash device: about 4.1 KiB of RAM, most of it the sector buffer. */
struct board_flash {
    int fd;         /* semihosting file handle, -1 when closed */
    uint32_t size;  /* device size in bytes */
    uint32_t programs, erases; /* operation counters, for the logs */
    int trace;      /* print "[flash] P|E <offset>" before each program/erase */
    /* One sector: an erase is a single host write, and a program checks
     * every target byte before writing any. */
    uint8_t scratch[BOARD_SECTOR_SIZE];
};

/* Open the host file `path` (which must exist and hold at least `size`
 * bytes) read-write as the flash device `dev` (caller-allocated, kept alive
 * while any region uses it).  MFOTA_OK, or MFOTA_ERR_HAL when the host
 * refuses the file or it is too short. */
int board_flash_open(struct board_flash *dev, const char *path, uint32_t size);

/* Fill `region` with the HAL callbacks on `dev` for the window
 * [off, off + size) (sector-aligned).  Callback offsets are device offsets,
 * as flash.h specifies. */
void board_flash_region(struct mfota_flash *region, struct board_flash *dev, uint32_t off,
                        uint32_t size);

/* The three callbacks (ctx: struct board_flash *), for ports that build
 * their own struct. */
int board_flash_read(void *ctx, uint32_t off, void *buf, size_t len);
int board_flash_program(void *ctx, uint32_t off, const void *data, size_t len);
int board_flash_erase(void *ctx, uint32_t off);

/* The semihosting command line (QEMU: -semihosting-config arg=...), which
 * the host uses to pass the flash file's path.  NUL-terminated in `buf`;
 * its length, or -1. */
int board_cmdline(char *buf, uint32_t cap);

/* Open the flash the command line names: "PATH" or "PATH trace".  With
 * "trace" every program/erase first prints one "[flash] P|E <hex offset>"
 * line straight to the host (SYS_WRITE0, unbuffered), so the host can cut
 * the power at a chosen flash operation (qemu-device
 * --power-cut-after-ops).  `buf` (cap bytes) keeps the command line.
 * MFOTA_OK or MFOTA_ERR_HAL. */
int board_flash_open_cmdline(struct board_flash *dev, char *buf, uint32_t cap, uint32_t size);

#endif /* MFOTA_SEMIHOST_FLASH_H */
