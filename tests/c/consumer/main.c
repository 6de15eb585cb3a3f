/* Uses the public API only, through the include path m2mfota::core exports. */
#include <stdio.h>
#include <string.h>

#include "m2mfota/m2mfota.h"

int main(void)
{
    static const char abc_sha256[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    uint8_t digest[32];
    char hex[65];
    uint32_t crc = mfota_crc32(0, "12345", 5);
    crc = mfota_crc32(crc, "6789", 4);
    mfota_sha256("abc", 3, digest);
    mfota_sha256_hex(digest, hex);
    printf("crc32 %08lx (%s), sha256 %s\n", (unsigned long)crc,
           mfota_crc32_impl_name(mfota_crc32_active()), hex);
    return crc == 0xCBF43926u && strcmp(hex, abc_sha256) == 0 ? 0 : 1;
}
