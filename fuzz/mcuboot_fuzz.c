/* libFuzzer harness: the MCUboot image parser on arbitrary bytes.  An image it
 * accepts must be self-consistent and lie inside the input. */
#include <stdint.h>
#include <stdlib.h>

#include "m2mfota/err.h"
#include "m2mfota/mcuboot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mfota_mcuboot_image img;
    char version[48];
    int rc = mfota_mcuboot_check_mem(data, size, &img);
    if (rc == MFOTA_OK) {
        if (img.header_size < 32u || img.total_size > size ||
            img.header_size + img.image_size + img.protect_tlv_size > img.total_size) {
            abort();
        }
        if (mfota_mcuboot_version_string(&img, version, sizeof version) <= 0) {
            abort();
        }
    } else if (rc > 0 || rc < -499) {
        abort();
    }
    return 0;
}
