/*
 * On-target check of the semihosted NOR flash HAL: a fixed list of
 * operations on the flash file the command line names, one line per
 * operation with its result ("op P 0x00001000 16 -> 0").  The host test runs
 * the same list on the reference model (m2mfota.flash.NorFlash) and compares
 * results and final file contents.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "board_layout.h"
#include "m2mfota/err.h"
#include "semihost_flash.h"

extern void initialise_monitor_handles(void);

static struct board_flash dev;
static char cmdline[256];
static uint8_t buf[BOARD_SECTOR_SIZE];

static void fill(uint32_t seed, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        buf[i] = (uint8_t)((seed + i * 7u) ^ (i >> 3));
    }
}

static void prog(uint32_t off, size_t len, uint32_t seed)
{
    fill(seed, len);
    printf("op P 0x%08lx %u -> %d\n", (unsigned long)off, (unsigned)len,
           board_flash_program(&dev, off, buf, len));
}

static void erase(uint32_t off)
{
    printf("op E 0x%08lx 0 -> %d\n", (unsigned long)off, board_flash_erase(&dev, off));
}

int main(void)
{
    initialise_monitor_handles();
    if (board_flash_open_cmdline(&dev, cmdline, sizeof cmdline, BOARD_FLASH_SIZE) != 0) {
        return 3;
    }
    erase(0x1000);
    prog(0x1000, 16, 1);
    prog(0x1000, 8, 2);     /* not erased: refused, nothing written */
    prog(0x1004, 8, 3);     /* misaligned */
    prog(0x1010, 8, 4);
    erase(0x1800);          /* misaligned */
    prog(BOARD_FLASH_SIZE - 8u, 8, 5);
    prog(BOARD_FLASH_SIZE, 8, 6); /* outside */
    erase(BOARD_FLASH_SIZE);      /* outside */
    erase(0x2000);
    prog(0x2000, BOARD_SECTOR_SIZE, 7);
    erase(0x2000);
    prog(0x2ff8, 8, 8);
    printf("op R 0x00001000 16 -> %d\n", board_flash_read(&dev, 0x1000, buf, 16));
    printf("op R 0x%08lx 16 -> %d\n", (unsigned long)(BOARD_FLASH_SIZE - 8u),
           board_flash_read(&dev, BOARD_FLASH_SIZE - 8u, buf, 16));
    return 0;
}
