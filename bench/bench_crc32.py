#!/usr/bin/env python3
"""CRC-32 throughput: m2mfota.crc32 against zlib, zlib-ng and ISA-L, in one run.

    python bench/bench_crc32.py                # the README table
    python bench/bench_crc32.py --repeats 3 --min-time 0.001 --json   # quick
    python bench/bench_crc32.py --profile      # where a call's time goes
    python bench/bench_crc32.py --baseline DIR # an older build in the same run
    python bench/bench_crc32.py --baseline DIR --summary   # the README's table

``--baseline DIR`` takes another build of m2mfota installed with ``pip install
--no-deps --target DIR .`` (an older commit, say) and times its crc32 in the
same loop as a column of its own, so a before/after comparison sees the same
machine noise.  It is not a peer: the ratio stays against zlib, zlib-ng and
ISA-L.

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
import importlib.abc
import importlib.machinery
import importlib.util
import json
import platform
import random
import sys
import time
import timeit
import types
import zlib
from pathlib import Path
from typing import Any, Callable

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


#: the clock of every measurement: wall time, or with --clock cpu the
#: process's CPU time, which leaves out the time other processes of a busy
#: machine hold the core (every call here is single-threaded compute).
CLOCK: Callable[[], float] = time.perf_counter


def time_calls(fn: Callable[[bytes], int], data: bytes, calls: int) -> float:
    """Seconds per call over `calls` back-to-back calls."""
    clock = CLOCK
    start = clock()
    for _ in range(calls):
        fn(data)
    return (clock() - start) / calls


def calibrate(fn: Callable[[bytes], int], data: bytes, min_time: float) -> int:
    """Calls per measurement so that one measurement lasts about min_time."""
    calls = 1
    while True:
        elapsed = time_calls(fn, data, calls) * calls
        if elapsed >= min_time or calls >= 1 << 24:
            return calls
        calls *= 2 if elapsed <= 0 else max(2, min(100, int(min_time / elapsed) + 1))


BASELINE = "m2mfota_baseline"


class _BaselineFinder(importlib.abc.MetaPathFinder):
    """Imports ``m2mfota_baseline.X`` from another m2mfota build: its compiled
    module as it is, its Python modules with their ``m2mfota`` imports
    pointed at the baseline too."""

    def __init__(self, pkg: Path) -> None:
        self.pkg = pkg

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != BASELINE and not fullname.startswith(BASELINE + "."):
            return None
        rel = fullname.split(".")[1:]
        if len(rel) == 1:
            # A compiled module (_native, _fast...) is loaded as it is.
            so = next(self.pkg.glob(rel[0] + ".*.so"), None) or next(
                self.pkg.glob(rel[0] + ".*.pyd"), None)
            if so is not None:
                return importlib.util.spec_from_file_location(fullname, so)
        if not rel:
            return importlib.machinery.ModuleSpec(fullname, None, is_package=True)
        source = self.pkg.joinpath(*rel).with_suffix(".py")
        return importlib.util.spec_from_loader(fullname, _RewritingLoader(source))


class _RewritingLoader(importlib.abc.Loader):
    def __init__(self, source: Path) -> None:
        self.source = source

    def create_module(self, spec: Any) -> None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        text = self.source.read_text(encoding="utf-8")
        text = text.replace("from m2mfota.", f"from {BASELINE}.").replace(
            "from m2mfota import", f"from {BASELINE} import")
        exec(compile(text, str(self.source), "exec"), module.__dict__)


def baseline_crc32(directory: str) -> Callable[[bytes], int]:
    """crc32 of the m2mfota build installed in `directory` (pip --target)."""
    pkg = Path(directory) / "m2mfota"
    if not (pkg / "_checksums.py").is_file():
        raise SystemExit(f"--baseline: no m2mfota build in {directory}")
    sys.meta_path.insert(0, _BaselineFinder(pkg))
    sys.modules.setdefault(BASELINE, types.ModuleType(BASELINE)).__path__ = []
    return importlib.import_module(f"{BASELINE}._checksums").crc32


def run(sizes: tuple[int, ...], repeats: int, min_time: float,
        baseline: Callable[[bytes], int] | None = None) -> dict:
    libs: dict[str, Callable[[bytes], int]] = {"m2mfota": m2mfota.crc32, **peers()}
    if baseline is not None:
        libs["m2mfota (baseline)"] = baseline
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
        peer = max((n for n in libs if not n.startswith("m2mfota")), key=lambda n: gbps[n])
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
        "clock": "cpu" if CLOCK is time.process_time else "wall",
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
    print(f"best of {result['repeats']} x >= {result['min_time']} s ({result['clock']} clock) "
          "per size and library, GB/s")
    print()
    header = ["size", *names, "m2mfota / best peer"]
    if "m2mfota (baseline)" in names:
        header.append("baseline / best peer")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---:" for _ in header) + "|")
    for row in result["rows"]:
        cells = [human_size(row["size"]), *(f"{row['gbps'][n]:.2f}" for n in names)]
        cells.append(f"{row['ratio']:.2f}x ({row['best_peer']})")
        if "m2mfota (baseline)" in names:
            base = row["gbps"]["m2mfota (baseline)"] / row["gbps"][row["best_peer"]]
            cells.append(f"{base:.2f}x")
        print("| " + " | ".join(cells) + " |")
    print()
    offsets = ", ".join(f"{human_size(r['size'])}: {r['address_mod_64']}" for r in result["rows"])
    print(f"buffer address mod 64: {offsets}")


def print_summary(result: dict) -> None:
    """The README's before/after table: m2mfota / best peer for the
    --baseline build and for this one, from the same run."""
    if "m2mfota (baseline)" not in result["rows"][0]["gbps"]:
        raise SystemExit("--summary needs --baseline DIR (the build to compare with)")
    print(f"CPU: {result['cpu']}; m2mfota kernel: {result['kernel']}; best of "
          f"{result['repeats']} x >= {result['min_time']} s ({result['clock']} clock)")
    print()
    print("| size | before (baseline build) | now |")
    print("|---:|---:|---:|")
    for row in result["rows"]:
        base = row["gbps"]["m2mfota (baseline)"] / row["gbps"][row["best_peer"]]
        print(f"| {human_size(row['size'])} | {base:.2f}x | {row['ratio']:.2f}x |")


def profile_steps(baseline: Callable[[bytes], int] | None = None
                  ) -> dict[str, tuple[str, dict[str, Any]]]:
    """The layers of one m2mfota.crc32 call, each timed alone: name ->
    (statement, its globals).  ``d`` is the bytes, ``n`` its length."""
    from m2mfota import _fast
    from m2mfota._native import lib

    f = lib.mfota_crc32
    steps: dict[str, tuple[str, dict[str, Any]]] = {
        "empty Python function call": ("g(d)", {"g": lambda data, value=0: value}),
        "len(d)": ("len(d)", {}),
        "ffi.from_buffer(bytearray)": ("fb(b)", {"fb": ffi.from_buffer}),
        "lib.mfota_crc32(0, d, n): attribute lookup + cffi call": (
            "lib.mfota_crc32(0, d, n)", {"lib": lib}),
        "f(0, d, n): cffi call, function bound to a local": ("f(0, d, n)", {"f": f}),
        "f(0, d, len(d))": ("f(0, d, len(d))", {"f": f}),
        "fast(d, 0): m2mfota._fast entry point (METH_FASTCALL)": (
            "fast(d, 0)", {"fast": _fast.crc32}),
        "fast(b, 0): the same with a bytearray": ("fast(b, 0)", {"fast": _fast.crc32}),
        "m2mfota.crc32(bytes)": ("c(d)", {"c": m2mfota.crc32}),
        "m2mfota.crc32(bytearray)": ("c(b)", {"c": m2mfota.crc32}),
        "m2mfota.crc32(memoryview)": ("c(m)", {"c": m2mfota.crc32}),
    }
    if baseline is not None:
        steps["baseline crc32(bytes)"] = ("c(d)", {"c": baseline})
        steps["baseline crc32(bytearray)"] = ("c(b)", {"c": baseline})
    for name, fn in peers().items():
        steps[f"{name}.crc32(bytes)"] = ("c(d)", {"c": fn})
    return steps


def profile(sizes: tuple[int, ...], repeats: int, number: int,
            baseline: Callable[[bytes], int] | None = None) -> dict:
    """Nanoseconds per call of each layer (best of `repeats` x `number` calls;
    the steps take turns, as the libraries do in run())."""
    rows = []
    for size in sizes:
        data = random.Random(size).randbytes(size)
        env = {"d": data, "n": len(data), "b": bytearray(data), "m": memoryview(data)}
        steps = profile_steps(baseline)
        timers = {name: timeit.Timer(stmt, timer=CLOCK, globals={**env, **g})
                  for name, (stmt, g) in steps.items()}
        best = {name: float("inf") for name in steps}
        for _ in range(repeats):
            for name, timer in timers.items():
                best[name] = min(best[name], timer.timeit(number) / number)
        rows.append({"size": size, "ns": {name: t * 1e9 for name, t in best.items()}})
    return {"cpu": cpu_model(), "python": platform.python_version(),
            "kernel": crc32_active(), "repeats": repeats, "number": number, "rows": rows}


def print_profile(result: dict) -> None:
    sizes = [human_size(r["size"]) for r in result["rows"]]
    print(f"CPU: {result['cpu']}; Python {result['python']}; m2mfota kernel: {result['kernel']}")
    print(f"ns per call, best of {result['repeats']} x {result['number']} calls")
    print()
    print("| step | " + " | ".join(sizes) + " |")
    print("|---|" + "|".join("---:" for _ in sizes) + "|")
    for name in result["rows"][0]["ns"]:
        print(f"| {name} | " + " | ".join(f"{r['ns'][name]:.0f}" for r in result["rows"]) + " |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=15, help="measurements per size and library")
    ap.add_argument("--min-time", type=float, default=0.05, help="seconds per measurement")
    ap.add_argument(
        "--sizes", type=int, nargs="+", default=list(SIZES), help="buffer sizes in bytes"
    )
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--baseline", metavar="DIR",
                    help="also time the m2mfota build installed in DIR (pip --target)")
    ap.add_argument("--summary", action="store_true",
                    help="print only the before/after ratio table (needs --baseline)")
    ap.add_argument("--profile", action="store_true",
                    help="time each layer of a call instead (default sizes 64 and 4096)")
    ap.add_argument("--calls", type=int, default=20000, help="calls per --profile measurement")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="time measurements by the wall clock or by the process's CPU time")
    args = ap.parse_args(argv)
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    if args.repeats < 1 or args.min_time < 0 or args.calls < 1 or any(s <= 0 for s in args.sizes):
        ap.error("--repeats >= 1, --min-time >= 0, --calls >= 1, sizes > 0")
    baseline = baseline_crc32(args.baseline) if args.baseline else None
    if args.profile:
        sizes = tuple(args.sizes) if args.sizes != list(SIZES) else (64, 4096)
        result = profile(sizes, args.repeats, args.calls, baseline)
        show: Callable[[dict], None] = print_profile
    else:
        if args.summary and baseline is None:
            ap.error("--summary needs --baseline DIR")
        result = run(tuple(args.sizes), args.repeats, args.min_time, baseline)
        show = print_summary if args.summary else print_table
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
    else:
        show(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
