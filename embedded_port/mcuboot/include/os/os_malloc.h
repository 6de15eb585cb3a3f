/* MCUboot's loader.c includes this for the split-image code (split_go),
 * which the board never calls: --gc-sections drops it, so no heap is used. */
#ifndef MFOTA_BOARD_OS_MALLOC_H
#define MFOTA_BOARD_OS_MALLOC_H
#include <stdlib.h>
#endif
