/*
 * The example's m2mfota configuration: a firmware overrides config.h's
 * defaults in its own header, named by MFOTA_CONFIG_FILE (CMakeLists.txt
 * sets it for the core and the application alike, so both see one
 * struct layout).  Anything not defined here keeps its default.
 */
#ifndef EXAMPLE_CONFIG_H
#define EXAMPLE_CONFIG_H

/* 64 bytes of CRC table instead of 1 KiB: flash matters more than speed at
 * cellular data rates. */
#define MFOTA_CRC32_VARIANT MFOTA_CRC32_NIBBLE

/* KPN's tokens fit in 1024 bytes; a port that knows its tokens are shorter
 * saves RAM twice (the command in force and a pending one). */
#define MFOTA_TOKEN_MAX 1024

#endif /* EXAMPLE_CONFIG_H */
