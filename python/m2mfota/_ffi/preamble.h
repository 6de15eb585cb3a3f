/* The C side of the cffi module: the public API plus Python-only helpers. */
#include "m2mfota/m2mfota.h"

/* cdef/20_senml.h declares SenML numbers as doubles (the emulator needs
 * them); CMake builds the module with MFOTA_SENML_FLOAT=1. */
#if !MFOTA_SENML_FLOAT
#error "the Python bindings need MFOTA_SENML_FLOAT 1 (doubles)"
#endif
#include "transport_posix.h"
#include "random_posix.h"
#include "at_parser.h"
#include "modem.h"
#include "uart_posix.h"
