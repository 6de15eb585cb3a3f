#!/usr/bin/env bash
# Build and run the SenML benchmark: m2mfota and the bench at -O2 (the flags
# Debian builds libcjson with), then print the table.
# Usage: bash bench/run_bench_senml.sh [iterations-scale]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD_DIR:-build/bench-senml}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" \
      -DMFOTA_BUILD_TESTS=OFF -DMFOTA_BUILD_BENCH=ON >/dev/null
cmake --build "$BUILD" --target bench_senml -j2 >/dev/null
"$BUILD/bench/bench_senml" "$@"
