/*
 * MFOTA_NOINLINE_: keep a small static function out of line.
 *
 * At -Os GCC still copies a small function into every caller when its
 * estimate says the copy is cheap; for a helper called from many error
 * paths (close the connection, record the error, change state) the copies
 * cost hundreds of bytes on Cortex-M more than the calls do.  Only where a
 * measured build (tools/size_client.py) got smaller: it is a size hint, never
 * needed for correctness, and empty for compilers without the attribute.
 */
#ifndef MFOTA_NOINLINE_H
#define MFOTA_NOINLINE_H

#if defined(__GNUC__)
#define MFOTA_NOINLINE_ __attribute__((noinline))
#else
#define MFOTA_NOINLINE_
#endif

#endif /* MFOTA_NOINLINE_H */
