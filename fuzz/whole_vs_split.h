/* The driver shared by the harnesses that check a streaming parser: however
 * its input is split, it must decide the same.
 *
 * The input's first byte picks a chunk size; the rest is run once in one
 * piece and once in chunks of that size, and the two outcomes (a harness's
 * own struct) must agree.  A disagreement aborts, so libFuzzer saves the
 * input.  Header-only: tests/fuzzing.py compiles one harness file. */
#ifndef MFOTA_FUZZ_WHOLE_VS_SPLIT_H
#define MFOTA_FUZZ_WHOLE_VS_SPLIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Feeds data[0..size) to the parser in pieces of at most `chunk` bytes and
 * writes what it decided into *outcome. */
typedef void (*fuzz_run_fn)(const uint8_t *data, size_t size, size_t chunk, void *outcome);
/* Non-zero when two outcomes agree. */
typedef int (*fuzz_same_fn)(const void *a, const void *b);

/* The LLVMFuzzerTestOneInput body: chunk sizes 1..max_chunk; `whole` and
 * `split` are two outcome structs of the harness's type. */
static int fuzz_whole_vs_split(const uint8_t *data, size_t size, size_t max_chunk,
                               fuzz_run_fn run, fuzz_same_fn same, void *whole, void *split)
{
    size_t chunk;
    if (size < 1) {
        return 0;
    }
    chunk = (size_t)data[0] % max_chunk + 1u;
    run(data + 1, size - 1, size, whole);
    run(data + 1, size - 1, chunk, split);
    if (!same(whole, split)) {
        abort();
    }
    return 0;
}

#endif /* MFOTA_FUZZ_WHOLE_VS_SPLIT_H */
