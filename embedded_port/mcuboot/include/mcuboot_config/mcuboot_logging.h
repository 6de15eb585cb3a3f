/*
 * MCUboot's log macros on the semihosting console (newlib printf: the
 * bootloader has the room, and the host test reads these lines).  Debug
 * messages are compiled out; MCUBOOT_LOG_LEVEL_DEBUG=1 brings them back.
 */
#ifndef MCUBOOT_LOGGING_H
#define MCUBOOT_LOGGING_H

#include <stdio.h>

#define MCUBOOT_LOG_MODULE_DECLARE(...)
#define MCUBOOT_LOG_MODULE_REGISTER(...)

#define MCUBOOT_LOG_ERR(fmt, ...) printf("[mcuboot ERR] " fmt "\n", ##__VA_ARGS__)
#define MCUBOOT_LOG_WRN(fmt, ...) printf("[mcuboot WRN] " fmt "\n", ##__VA_ARGS__)
#define MCUBOOT_LOG_INF(fmt, ...) printf("[mcuboot INF] " fmt "\n", ##__VA_ARGS__)
#if defined(MCUBOOT_LOG_LEVEL_DEBUG) && MCUBOOT_LOG_LEVEL_DEBUG
#define MCUBOOT_LOG_DBG(fmt, ...) printf("[mcuboot DBG] " fmt "\n", ##__VA_ARGS__)
#else
#define MCUBOOT_LOG_DBG(...) do { } while (0)
#endif
#define MCUBOOT_LOG_SIM(...) do { } while (0)

#endif /* MCUBOOT_LOGGING_H */
