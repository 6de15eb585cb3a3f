#!/usr/bin/env bash
# Code size on Cortex-M4 (arm-none-eabi-gcc -Os, Thumb-2, soft-float ABI) of
# each SenML / KPN Things entry point with everything it pulls in: the core is
# compiled with -ffunction-sections and linked with --gc-sections against an
# entry stub that references only that feature, then measured with
# arm-none-eabi-size.  The MCU number build (MFOTA_SENML_FLOAT 0, the default
# there); pass CFLAGS_EXTRA=-DMFOTA_SENML_FLOAT=1 for doubles.  newlib-nano's memcpy & co and libgcc's soft-float
# routines are included in the figures.
# Usage: bash bench/size_senml.sh
set -euo pipefail
cd "$(dirname "$0")/.."
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
CFLAGS="-std=c99 -mcpu=cortex-m4 -mthumb -Os -ffunction-sections -fdata-sections -Icsrc/include -Icsrc/src ${CFLAGS_EXTRA:-}"
mkdir "$TMP/core"
for src in csrc/src/*.c; do
  arm-none-eabi-gcc $CFLAGS -c "$src" -o "$TMP/core/$(basename "$src" .c).o"
done
stub() { # name, body
  printf '#include "m2mfota/m2mfota.h"\nvoid entry(void);\nvolatile unsigned long sink;\n%s\n' "$2" > "$TMP/$1.c"
  arm-none-eabi-gcc $CFLAGS -c "$TMP/$1.c" -o "$TMP/$1_stub.o"
  arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb --specs=nano.specs -nostartfiles -Wl,--gc-sections \
      -Wl,-e,entry "$TMP/$1_stub.o" "$TMP"/core/*.o -o "$TMP/$1.elf"
  arm-none-eabi-size "$TMP/$1.elf" | awk -v n="$1" 'NR==2 {printf "%-20s %6d bytes (text %d, data %d)\n", n, $1 + $2, $1, $2}'
}
stub decoder 'void entry(void) { struct mfota_senml_dec d; struct mfota_senml_record r; char o[8]; size_t n;
  mfota_senml_dec_init(&d, (const char *)&sink, 8, 0);
  while (mfota_senml_dec_next(&d, &r) == 0) { sink += mfota_senml_str_eq(&r.n, "a", 1);
    sink += (unsigned long)mfota_senml_str_decode(&r.vs, o, 8, &n); sink += (unsigned long)r.v; } }'
stub encoder 'void entry(void) { struct mfota_senml_entry e = {0}; char o[64]; size_t n;
  e.v = (mfota_senml_num)sink; e.kind = 1; sink += (unsigned long)mfota_senml_encode(&e, 1, o, 64, &n); }'
stub downlink_extractor 'void entry(void) { static struct mfota_fota_command c;
  sink += (unsigned long)mfota_things_parse_downlink((const char *)&sink, 8, "1", 1, &c, 0); }'
stub uplink_builder 'void entry(void) { struct mfota_senml_entry e[5]; struct mfota_things_status s = {0}; char o[512]; size_t n;
  sink += (unsigned long)mfota_things_build_uplink(o, 512, &n, "1", 1, (const unsigned char *)"s", 1, "m.m", e,
      mfota_things_status_entries(&s, e)); }'
stub response_framer 'void entry(void) { struct mfota_http_response r; uint8_t b[64]; size_t u;
  mfota_http_response_init(&r); sink += (unsigned long)mfota_http_response_collect(&r, (const uint8_t *)&sink, 8, &u, b, 64);
  sink += (unsigned long)mfota_http_response_collect_eof(&r); }'
