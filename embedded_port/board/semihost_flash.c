#include "semihost_flash.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "board_layout.h"
#include "m2mfota/err.h"

#define SYS_WRITE0 0x04
#define SYS_GET_CMDLINE 0x15

static int host_pread(int fd, uint32_t off, void *buf, size_t len)
{
    uint8_t *p = (uint8_t *)buf;
    if (lseek(fd, (off_t)off, SEEK_SET) != (off_t)off) {
        return MFOTA_ERR_HAL;
    }
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n <= 0) {
            return MFOTA_ERR_HAL;
        }
        p += n;
        len -= (size_t)n;
    }
    return MFOTA_OK;
}

static int host_pwrite(int fd, uint32_t off, const void *buf, size_t len)
{
    const uint8_t *p = (const uint8_t *)buf;
    if (lseek(fd, (off_t)off, SEEK_SET) != (off_t)off) {
        return MFOTA_ERR_HAL;
    }
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n <= 0) {
            return MFOTA_ERR_HAL;
        }
        p += n;
        len -= (size_t)n;
    }
    return MFOTA_OK;
}

static void write0(const char *s)
{
    register uint32_t r0 __asm__("r0") = SYS_WRITE0;
    register const char *r1 __asm__("r1") = s;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
}

/* "[flash] P 0x00025000\n" before the operation: the host counts these. */
static void trace_op(const struct board_flash *dev, char kind, uint32_t off)
{
    static const char hex[] = "0123456789abcdef";
    char line[24] = "[flash] ? 0x00000000\n";
    int i;
    if (!dev->trace) {
        return;
    }
    line[8] = kind;
    for (i = 0; i < 8; i++) {
        line[12 + i] = hex[(off >> (28 - 4 * i)) & 0xFu];
    }
    write0(line);
}

int board_flash_open(struct board_flash *dev, const char *path, uint32_t size)
{
    uint8_t last;
    dev->programs = dev->erases = 0;
    dev->trace = 0;
    dev->fd = open(path, O_RDWR);
    if (dev->fd < 0) {
        return MFOTA_ERR_HAL;
    }
    dev->size = size;
    /* A short file would turn reads past its end into errors mid-boot. */
    if (host_pread(dev->fd, size - 1u, &last, 1) != MFOTA_OK) {
        close(dev->fd);
        dev->fd = -1;
        return MFOTA_ERR_HAL;
    }
    return MFOTA_OK;
}

void board_flash_region(struct mfota_flash *region, struct board_flash *dev, uint32_t off,
                        uint32_t size)
{
    memset(region, 0, sizeof *region);
    region->read = board_flash_read;
    region->program = board_flash_program;
    region->erase = board_flash_erase;
    region->ctx = dev;
    region->program_size = BOARD_PROGRAM_SIZE;
    region->sector_size = BOARD_SECTOR_SIZE;
    region->erased_value = 0xFF;
    region->slot_offset = off;
    region->slot_size = size;
}

int board_flash_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    struct board_flash *dev = (struct board_flash *)ctx;
    if (off > dev->size || len > dev->size - off) {
        return MFOTA_ERR_FLASH_BOUNDS;
    }
    return len == 0 ? MFOTA_OK : host_pread(dev->fd, off, buf, len);
}

int board_flash_program(void *ctx, uint32_t off, const void *data, size_t len)
{
    struct board_flash *dev = (struct board_flash *)ctx;
    const uint8_t *src = (const uint8_t *)data;
    size_t done = 0;
    if (off % BOARD_PROGRAM_SIZE != 0u || len % BOARD_PROGRAM_SIZE != 0u || off > dev->size ||
        len > dev->size - off) {
        return MFOTA_ERR_FLASH_BOUNDS;
    }
    /* Check every target byte first: a refused program writes nothing. */
    while (done < len) {
        size_t n = len - done < sizeof dev->scratch ? len - done : sizeof dev->scratch, i;
        int rc = host_pread(dev->fd, off + (uint32_t)done, dev->scratch, n);
        if (rc != MFOTA_OK) {
            return rc;
        }
        for (i = 0; i < n; i++) {
            if (dev->scratch[i] != 0xFFu) {
                return MFOTA_ERR_FLASH_NOT_ERASED;
            }
        }
        done += n;
    }
    dev->programs++;
    trace_op(dev, 'P', off);
    return host_pwrite(dev->fd, off, src, len);
}

int board_flash_erase(void *ctx, uint32_t off)
{
    struct board_flash *dev = (struct board_flash *)ctx;
    if (off % BOARD_SECTOR_SIZE != 0u || off >= dev->size) {
        return MFOTA_ERR_FLASH_BOUNDS;
    }
    memset(dev->scratch, 0xFF, sizeof dev->scratch);
    dev->erases++;
    trace_op(dev, 'E', off);
    return host_pwrite(dev->fd, off, dev->scratch, sizeof dev->scratch);
}

int board_cmdline(char *buf, uint32_t cap)
{
    /* SYS_GET_CMDLINE: r1 points at {buffer, size}; on return size is the
     * length and r0 is 0 on success. */
    volatile uint32_t block[2];
    register uint32_t r0 __asm__("r0") = SYS_GET_CMDLINE;
    register volatile uint32_t *r1 __asm__("r1") = block;
    if (cap == 0u) {
        return -1;
    }
    block[0] = (uint32_t)(uintptr_t)buf;
    block[1] = cap;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    if (r0 != 0u || block[1] >= cap) {
        return -1;
    }
    buf[block[1]] = '\0';
    return (int)block[1];
}

int board_flash_open_cmdline(struct board_flash *dev, char *buf, uint32_t cap, uint32_t size)
{
    char *space;
    int trace = 0, rc;
    if (board_cmdline(buf, cap) <= 0) {
        return MFOTA_ERR_HAL;
    }
    space = strchr(buf, ' ');
    if (space != NULL) {
        trace = strcmp(space + 1, "trace") == 0;
        *space = '\0';
    }
    rc = board_flash_open(dev, buf, size);
    dev->trace = trace;
    return rc;
}
