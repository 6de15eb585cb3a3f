#!/usr/bin/env bash
# Install m2mfota with its test extras and run the whole test suite twice:
#  1. the normal build (includes the C/cross/QEMU builds and the fuzzers);
#  2. the same Python suite against an ASan+UBSan build of the C core.
# Usage: bash tools/run-tests.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

"$PY" -m pip install -q '.[test]'
# Run from tests/ parent but import the installed package, never the source tree.
"$PY" -m pytest -q "$@"

echo "== sanitizer run (ASan + UBSan) =="
rm -rf build/asan-site
"$PY" -m pip install -q --no-deps --target build/asan-site \
    -C cmake.define.MFOTA_SANITIZE=ON -C build-dir=build/asan -C cmake.build-type=Debug .
ASAN_LIB=$(gcc -print-file-name=libasan.so)
UBSAN_LIB=$(gcc -print-file-name=libubsan.so)
# Python itself is not built with ASan; leaks in the interpreter are not ours.
PYTHONPATH="$PWD/build/asan-site" LD_PRELOAD="$ASAN_LIB:$UBSAN_LIB" \
    ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    MFOTA_EXPECT_SANITIZED=1 "$PY" -m pytest -q -m "not external_build" "$@"
