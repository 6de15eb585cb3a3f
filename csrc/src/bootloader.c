#include "m2mfota/bootloader.h"

int mfota_bootloader_accept_raw(void *ctx, uint32_t image_size, char *version, size_t cap)
{
    (void)ctx;
    (void)image_size;
    if (version != NULL && cap > 0u) {
        version[0] = '\0';
    }
    return 0;
}
