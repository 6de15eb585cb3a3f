#!/usr/bin/env python3
"""CRC-32 throughput: m2mfota.crc32 against zlib, zlib-ng and ISA-L, in one run.

    python bench/bench_crc32.py                # the README table
    python bench/bench_crc32.py --repeats 3 --min-time 0.001 --json   # quick

For each buffer size, every library hashes the same bytes object; each
measurement times enough calls to last at least --min-time seconds, and the
best of --repeats measurements counts (the libraries take turns, so a noisy
neighbour hurts them alike).  Throughput is in GB/s (10^9 bytes per second),
and the ratio is m2mfota over the best peer at that size.

Every call goes through Python, so at 64 bytes the table measures call
overhead more than the CRC kernels.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
import zlib
from typing import Callable

import m2mfota
from m2mfota._checksums import crc32_active
from m2mfota._native import ffi

SIZES = (64, 4 << 10, 256 << 10, 4 << 20)


def peers() -> dict[str, Callable[[bytes], int]]:
    """The libraries to compare against (all but zlib from PyPI: zlib-ng, isal)."""
    from isal import isal_zlib
    from zlib_ng import zlib_ng

    return {"zlib": zlib.crc32, "zlib-ng": zlib_ng.crc32, "isal": isal_zlib.crc32}


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def time_calls(fn: Callable[[bytes], int], data: bytes, calls: int) -> float:
    """Seconds per call over `calls` back-to-back calls."""
    start = time.perf_counter()
    for _ in range(calls):
        fn(data)
    return (time.perf_counter() - start) / calls


def calibrate(fn: Callable[[bytes], int], data: bytes, min_time: float) -> int:
    """Calls per measurement so that one measurement lasts about min_time."""
    calls = 1
    while True:
        elapsed = time_calls(fn, data, calls) * calls
        if elapsed >= min_time or calls >= 1 << 24:
            return calls
        calls *= 2 if elapsed <= 0 else max(2, min(100, int(min_time / elapsed) + 1))


def run(sizes: tuple[int, ...], repeats: int, min_time: float) -> dict:
    libs: dict[str, Callable[[bytes], int]] = {"m2mfota": m2mfota.crc32, **peers()}
    rows = []
    for size in sizes:
        data = random.Random(size).randbytes(size)
        want = zlib.crc32(data)
        for name, fn in libs.items():
            if fn(data) != want:
                raise SystemExit(f"{name} computes a wrong CRC-32 at {size} bytes")
        calls = {name: calibrate(fn, data, min_time) for name, fn in libs.items()}
        best = {name: float("inf") for name in libs}
        for _ in range(repeats):
            for name, fn in libs.items():
                best[name] = min(best[name], time_calls(fn, data, calls[name]))
        gbps = {name: size / best[name] / 1e9 for name in libs}
        peer = max((n for n in libs if n != "m2mfota"), key=lambda n: gbps[n])
        rows.append(
            {
                "size": size,
                # Peers' kernels do not align their loads, so their speed
                # depends on where the buffer happens to start.
                "address_mod_64": int(ffi.cast("uintptr_t", ffi.from_buffer(data))) % 64,
                "gbps": gbps,
                "best_peer": peer,
                "ratio": gbps["m2mfota"] / gbps[peer],
            }
        )
    return {
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "kernel": crc32_active(),
        "repeats": repeats,
        "min_time": min_time,
        "rows": rows,
    }


def human_size(n: int) -> str:
    for unit, shift in (("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift} {unit}"
    return f"{n} B"


def print_table(result: dict) -> None:
    names = list(result["rows"][0]["gbps"])
    print(f"CPU: {result['cpu']}; Python {result['python']}; m2mfota kernel: {result['kernel']}")
    print(f"best of {result['repeats']} x >= {result['min_time']} s per size and library, GB/s")
    print()
    header = ["size", *names, "m2mfota / best peer"]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---:" for _ in header) + "|")
    for row in result["rows"]:
        cells = [human_size(row["size"]), *(f"{row['gbps'][n]:.2f}" for n in names)]
        cells.append(f"{row['ratio']:.2f}x ({row['best_peer']})")
        print("| " + " | ".join(cells) + " |")
    print()
    offsets = ", ".join(f"{human_size(r['size'])}: {r['address_mod_64']}" for r in result["rows"])
    print(f"buffer address mod 64: {offsets}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=15, help="measurements per size and library")
    ap.add_argument("--min-time", type=float, default=0.05, help="seconds per measurement")
    ap.add_argument(
        "--sizes", type=int, nargs="+", default=list(SIZES), help="buffer sizes in bytes"
    )
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args(argv)
    if args.repeats < 1 or args.min_time < 0 or any(s <= 0 for s in args.sizes):
        ap.error("--repeats >= 1, --min-time >= 0, sizes > 0")
    result = run(tuple(args.sizes), args.repeats, args.min_time)
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
