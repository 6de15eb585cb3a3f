/* The C side of the cffi module: the public API plus Python-only helpers. */
#include "m2mfota/m2mfota.h"
#include "transport_posix.h"
#include "random_posix.h"
#include "at_parser.h"
#include "modem.h"
#include "uart_posix.h"
