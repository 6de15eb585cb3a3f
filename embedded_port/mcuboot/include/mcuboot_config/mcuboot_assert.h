/* MCUboot's assert: the C library's. */
#ifndef MCUBOOT_ASSERT_H
#define MCUBOOT_ASSERT_H
#include <assert.h>
#endif
