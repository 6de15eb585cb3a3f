#!/usr/bin/env python3
"""Text, data and bss of the QEMU board's bootloader and app, from the link maps.

    python tools/board_sizes.py BUILD_DIR        # a build of embedded_port/board
    python tools/board_sizes.py BUILD_DIR --baseline OTHER_BUILD

With --baseline (for example a build configured with -DMFOTA_BOARD_DELTA=OFF)
it also prints what BUILD_DIR adds to each image and to each component of
the app: the code and RAM an option costs.

Reads BUILD_DIR/bootloader.map and app-v1.map (written by the linker,
-Wl,-Map) and prints Markdown tables: the totals per image, and the share of
each component (MCUboot bootutil, tinycrypt, m2mfota core, board HAL, the
image's own code, newlib/libgcc).  text = code and read-only data (flash);
data = initialised RAM, stored in flash too; bss = zeroed RAM.  The stack
(64 KiB, linker script) is not in bss.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from pathlib import Path

TEXT = {".vectors", ".text", ".ARM.extab", ".ARM.exidx", ".preinit_array", ".init_array",
        ".fini_array"}
KIND = {**dict.fromkeys(TEXT, "text"), ".data": "data", ".bss": "bss"}
COMPONENTS = (
    ("libboard_bootutil.a", "MCUboot bootutil (+ mbedtls-asn1)"),
    ("libboard_tinycrypt.a", "tinycrypt (ECDSA P-256, SHA-256)"),
    ("libm2mfota_core.a", "m2mfota core"),
    ("libboard_hal.a", "board HAL (semihosted flash, verifier)"),
)
LIBC = ("libc", "libg", "librdimon", "libgcc", "libnosys", "libm.a")

_OUT = re.compile(r"^(\.[\w.]+)\s+0x[0-9a-f]+\s+0x([0-9a-f]+)")
_OUT_NAME = re.compile(r"^(\.[\w.]+)\s*$")
_IN = re.compile(r"^\s+(?:(\S+)\s+)?0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")
_IN_NAME = re.compile(r"^\s(\S+)\s*$")


def component(path: str) -> str:
    for lib, name in COMPONENTS:
        if lib in path:
            return name
    if any(lib in path for lib in LIBC):
        return "newlib + libgcc (semihosting, printf)"
    return "the image's own code (startup, main, port)"


def parse_map(path: Path) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """Totals per kind and per component, from one GNU ld map file."""
    totals: dict[str, int] = defaultdict(int)
    parts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    text = path.read_text(errors="replace")
    body = text.split("Linker script and memory map", 1)[-1]
    current = None
    pending_out = None
    for line in body.splitlines():
        if pending_out is not None:
            m = re.match(r"^\s+0x[0-9a-f]+\s+0x([0-9a-f]+)", line)
            if m and pending_out in KIND:
                totals[KIND[pending_out]] += int(m.group(1), 16)
            current, pending_out = pending_out, None
            continue
        m = _OUT.match(line)
        if m:
            current = m.group(1)
            if current in KIND:
                totals[KIND[current]] += int(m.group(2), 16)
            continue
        m = _OUT_NAME.match(line)
        if m:
            pending_out = m.group(1)
            continue
        if line and not line[0].isspace():
            current = None
            continue
        if current not in KIND:
            continue
        m = _IN.match(line)
        if m and not line.lstrip().startswith("*fill*"):
            size = int(m.group(3), 16)
            if size and int(m.group(2), 16):
                parts[component(m.group(4))][KIND[current]] += size
    return dict(totals), {k: dict(v) for k, v in parts.items()}


def table(rows: list[tuple[str, dict[str, int]]], head: str) -> str:
    out = [f"| {head} | text | data | bss |", "|---|---:|---:|---:|"]
    for name, sizes in rows:
        out.append(f"| {name} | {sizes.get('text', 0)} | {sizes.get('data', 0)} | "
                   f"{sizes.get('bss', 0)} |")
    return "\n".join(out)


def difference(rows: list[tuple[str, dict[str, int], dict[str, int]]], head: str) -> str:
    """Rows of (name, baseline sizes, sizes): both, and what the second adds."""
    out = [f"| {head} | text | data | bss | text + | data + | bss + |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    for name, base, new in rows:
        sizes = [new.get(k, 0) for k in ("text", "data", "bss")]
        adds = [new.get(k, 0) - base.get(k, 0) for k in ("text", "data", "bss")]
        out.append(f"| {name} | " + " | ".join(str(v) for v in sizes) + " | "
                   + " | ".join(f"{v:+d}" for v in adds) + " |")
    return "\n".join(out)


def _maps(build_dir: Path) -> dict[str, Path] | None:
    paths = {"bootloader": build_dir / "bootloader.map", "app v1": build_dir / "app-v1.map"}
    for path in paths.values():
        if not path.is_file():
            print(f"board_sizes: no {path} (build embedded_port/board first)", file=sys.stderr)
            return None
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir", type=Path, help="a build of embedded_port/board")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="another build: also print what build_dir adds to it")
    args = parser.parse_args(argv)
    maps = _maps(args.build_dir)
    base_maps = _maps(args.baseline) if args.baseline is not None else None
    if maps is None or (args.baseline is not None and base_maps is None):
        return 2
    totals = []
    for label, path in maps.items():
        total, parts = parse_map(path)
        totals.append((label, total))
        rows = sorted(parts.items(), key=lambda kv: -kv[1].get("text", 0))
        print(f"### {label}\n\n{table(rows, 'component')}\n")
    print(f"### totals\n\n{table(totals, 'image')}")
    if base_maps is not None:
        base_totals = {label: parse_map(path)[0] for label, path in base_maps.items()}
        print(f"\n### against {args.baseline}\n\n"
              + difference([(label, base_totals[label], total) for label, total in totals],
                           "image"))
        base_parts = parse_map(base_maps["app v1"])[1]
        parts = parse_map(maps["app v1"])[1]
        rows = [(name, base_parts.get(name, {}), parts.get(name, {}))
                for name in sorted(set(parts) | set(base_parts))]
        print(f"\n### app v1 components against {args.baseline}\n\n"
              + difference(rows, "component"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
