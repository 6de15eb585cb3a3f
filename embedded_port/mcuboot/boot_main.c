/*
 * The board's bootloader: MCUboot's boot_go() over the semihosted flash file,
 * then a loader that copies the chosen image (header included) from the
 * primary slot into code memory at BOARD_EXEC_ADDR and jumps to it -- the
 * board's flash is a file, so nothing can execute in place.
 *
 * The flash file's path is the semihosting command line (QEMU:
 * -semihosting-config enable=on,target=native,arg=PATH).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board_layout.h"
#include "bootutil/bootutil.h"
#include "bootutil/fault_injection_hardening.h"
#include "bootutil/image.h"
#include "flash_map_backend/flash_map_backend.h"
#include "semihost_flash.h"

extern void initialise_monitor_handles(void);

static struct board_flash flash_dev;
static char cmdline[256];

/* Set VTOR and MSP from the image's vector table and branch to its reset
 * handler; never returns.  Interrupts stay as the reset left them (the
 * bootloader enables none). */
static void __attribute__((noreturn)) jump(uint32_t vtor)
{
    const volatile uint32_t *vt = (const volatile uint32_t *)(uintptr_t)vtor;
    uint32_t sp = vt[0], pc = vt[1];
    *(volatile uint32_t *)0xE000ED08u = vtor; /* SCB->VTOR */
    __asm__ volatile("dsb\n\tisb\n\tmsr msp, %0\n\tbx %1" : : "r"(sp), "r"(pc) : "memory");
    __builtin_unreachable();
}

int main(void)
{
    struct boot_rsp rsp;
    uint32_t len;
    FIH_DECLARE(fih_rc, FIH_FAILURE);

    initialise_monitor_handles();
    if (board_flash_open_cmdline(&flash_dev, cmdline, sizeof cmdline, BOARD_FLASH_SIZE) != 0) {
        printf("[boot] cannot open the flash file '%s'\n", cmdline);
        return BOARD_EXIT_FLASH;
    }
    board_flash_map_init(&flash_dev);
    printf("[boot] MCUboot (swap-using-move, ECDSA P-256/tinycrypt)\n");

    memset(&rsp, 0, sizeof rsp);
    FIH_CALL(boot_go, fih_rc, &rsp);
    if (FIH_NOT_EQ(fih_rc, FIH_SUCCESS)) {
        printf("[boot] no bootable image\n");
        return BOARD_EXIT_NO_IMAGE;
    }
    len = (uint32_t)rsp.br_hdr->ih_hdr_size + rsp.br_hdr->ih_img_size;
    if (rsp.br_hdr->ih_hdr_size != BOARD_IMAGE_HEADER_SIZE || len > BOARD_PRIMARY_SIZE) {
        printf("[boot] image header size %u, not %u\n", (unsigned)rsp.br_hdr->ih_hdr_size,
               (unsigned)BOARD_IMAGE_HEADER_SIZE);
        return BOARD_EXIT_NO_IMAGE;
    }
    if (board_flash_read(&flash_dev, rsp.br_image_off, (void *)(uintptr_t)BOARD_EXEC_ADDR, len) !=
        0) {
        printf("[boot] reading the image failed\n");
        return BOARD_EXIT_FLASH;
    }
    printf("[boot] starting image %u.%u.%u+%u (%u bytes, %u writes %u erases)\n",
           (unsigned)rsp.br_hdr->ih_ver.iv_major, (unsigned)rsp.br_hdr->ih_ver.iv_minor,
           (unsigned)rsp.br_hdr->ih_ver.iv_revision, (unsigned)rsp.br_hdr->ih_ver.iv_build_num,
           (unsigned)len, (unsigned)flash_dev.programs, (unsigned)flash_dev.erases);
    fflush(stdout);
    jump(BOARD_EXEC_ADDR + BOARD_IMAGE_HEADER_SIZE);
}
