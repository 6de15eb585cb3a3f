/*
 * Flash layout of the QEMU mps2-an386 board: one host file, used as NOR flash
 * through semihosting, shared by the bootloader (MCUboot) and the firmware.
 * `m2mfota qemu-device` (python/m2mfota/qemu_device.py) holds the same
 * numbers; docs/board.md draws the map.
 *
 * MCUboot's swap-using-move needs the primary slot one sector larger than the
 * secondary: the swap first moves every primary sector up by one.  The
 * bootloader itself is not in the file: QEMU loads its ELF at 0x00000000.
 */
#ifndef MFOTA_BOARD_LAYOUT_H
#define MFOTA_BOARD_LAYOUT_H

#define BOARD_SECTOR_SIZE 0x1000u  /* 4 KiB NOR sectors */
#define BOARD_PROGRAM_SIZE 8u      /* MCUboot's BOOT_MAX_ALIGN: trailer fields are 8-byte blocks */

#define BOARD_CONFIG_OFF 0x00000u  /* identity written by `qemu-device provision` */
#define BOARD_CONFIG_SIZE 0x01000u
#define BOARD_JOURNAL_OFF 0x01000u /* the download journal's two sectors */
#define BOARD_JOURNAL_SIZE 0x02000u
#define BOARD_STATE_OFF 0x03000u   /* the app's update-attempt log */
#define BOARD_STATE_SIZE 0x01000u
#define BOARD_PRIMARY_OFF 0x04000u /* 33 sectors */
#define BOARD_PRIMARY_SIZE 0x21000u
#define BOARD_SECONDARY_OFF 0x25000u /* 32 sectors */
#define BOARD_SECONDARY_SIZE 0x20000u
#define BOARD_FLASH_SIZE 0x45000u

/* Where the bootloader copies the primary image (header included) to run
 * it: code memory above the bootloader.  The app is linked at
 * BOARD_EXEC_ADDR + BOARD_IMAGE_HEADER_SIZE (its vector table). */
#define BOARD_EXEC_ADDR 0x00100000u
#define BOARD_IMAGE_HEADER_SIZE 0x200u

/* Exit statuses the host understands (semihosting SYS_EXIT_EXTENDED). */
#define BOARD_EXIT_IDLE 0    /* the app has nothing more to do */
#define BOARD_EXIT_FAULT 2   /* startup.S: a CPU fault */
#define BOARD_EXIT_REBOOT 3  /* the app asks for a reset: the host starts QEMU again */
#define BOARD_EXIT_NO_IMAGE 4 /* MCUboot found nothing bootable */
#define BOARD_EXIT_FLASH 5   /* the flash file could not be opened */

/* Config area record (little-endian), written by the host tool. */
#define BOARD_CONFIG_MAGIC 0x4643464du /* "MFCF" */
#define BOARD_CONFIG_IMEI_MAX 16u
#define BOARD_CONFIG_SECRET_MAX 64u
#define BOARD_CONFIG_SERVER_MAX 128u

#endif /* MFOTA_BOARD_LAYOUT_H */
