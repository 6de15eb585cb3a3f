/*
 * tinycrypt's ECC code keeps a pointer to default_CSPRNG for signing and key
 * generation.  The board only verifies signatures, which uses no randomness,
 * so the hook reports failure (0) instead of pulling in an RNG the emulated
 * board does not have.
 */
#include <stdint.h>

int default_CSPRNG(uint8_t *dest, unsigned int size);

int default_CSPRNG(uint8_t *dest, unsigned int size)
{
    (void)dest;
    (void)size;
    return 0;
}
