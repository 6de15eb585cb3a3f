#!/usr/bin/env python3
"""Code size of the m2mfota core on a Cortex-M4, per module.

Builds the core with embedded_port/cmake/arm-none-eabi.cmake at -Os
(CMAKE_BUILD_TYPE=MinSizeRel, the firmware default: nibble-table CRC-32, one
kernel) and prints text/data/bss of every object in libm2mfota_core.a as a
Markdown table, then the size of crc32.o for each portable CRC-32 variant.

    python tools/size_report.py [--build-dir DIR] [--no-variants]

Needs cmake and arm-none-eabi-gcc/-size.  "text" counts code and read-only
data (the CRC tables), i.e. flash; data is flash and RAM; bss is RAM.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLCHAIN = ROOT / "embedded_port" / "cmake" / "arm-none-eabi.cmake"

# config.h: MFOTA_CRC32_BITWISE 1 .. MFOTA_CRC32_SLICE8 4
VARIANTS = {"bitwise": 1, "nibble": 2, "byte": 3, "slice8": 4}
DEFAULT_VARIANT = "nibble"
# Constant tables each variant needs, as config.h documents them.
TABLE_BYTES = {"bitwise": "none", "nibble": "64 B", "byte": "1 KiB", "slice8": "8 KiB"}


@dataclass(frozen=True)
class ModuleSize:
    module: str
    text: int
    data: int
    bss: int


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        sys.exit(f"size_report: {name} not found (Debian: gcc-arm-none-eabi, cmake)")
    return path


def build_core(build_dir: Path, variant: str | None = None) -> Path:
    """Configure and build the core for Cortex-M4 at -Os; return the archive.

    ``variant`` picks MFOTA_CRC32_VARIANT (through CFLAGS, so the toolchain's
    CPU flags stay); None keeps config.h's default."""
    cmake = _tool("cmake")
    env = dict(os.environ)
    env["CFLAGS"] = f"-DMFOTA_CRC32_VARIANT={VARIANTS[variant]}" if variant else ""
    # Ninja when installed (make may be missing on a minimal machine).
    generator = [] if env.get("CMAKE_GENERATOR") or not shutil.which("ninja") else ["-G", "Ninja"]
    for cmd in (
        [cmake, "-S", str(ROOT), "-B", str(build_dir), *generator,
         f"-DCMAKE_TOOLCHAIN_FILE={TOOLCHAIN}",
         "-DCMAKE_BUILD_TYPE=MinSizeRel", "-DMFOTA_BUILD_TESTS=OFF", "-DMFOTA_BUILD_BENCH=OFF",
         "-DMFOTA_BUILD_PYTHON=OFF", "-DMFOTA_ALL_VARIANTS=OFF"],
        [cmake, "--build", str(build_dir), "-j2"],
    ):
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            sys.exit(f"size_report: {' '.join(cmd)} failed:\n{proc.stdout}{proc.stderr}")
    return build_dir / "libm2mfota_core.a"


def module_sizes(archive: Path) -> list[ModuleSize]:
    """text/data/bss of each object file in ``archive`` (arm-none-eabi-size)."""
    out = subprocess.run([_tool("arm-none-eabi-size"), str(archive)], capture_output=True,
                         text=True, check=True).stdout
    sizes = []
    for line in out.splitlines()[1:]:
        # "   1436	      4	      4	   1444	    5a4	crc32.c.obj (ex libm2mfota_core.a)"
        m = re.match(r"\s*(\d+)\s+(\d+)\s+(\d+)\s+\d+\s+[0-9a-f]+\s+(\S+)", line)
        if m:
            name = re.sub(r"(\.c)?\.(obj|o)$", "", m.group(4))
            sizes.append(ModuleSize(name, int(m.group(1)), int(m.group(2)), int(m.group(3))))
    return sorted(sizes, key=lambda s: s.module)


def markdown_table(sizes: list[ModuleSize]) -> str:
    rows = ["| module | text | data | bss |", "|---|---:|---:|---:|"]
    rows += [f"| {s.module} | {s.text} | {s.data} | {s.bss} |" for s in sizes]
    rows.append(f"| **total** | **{sum(s.text for s in sizes)}** | "
                f"**{sum(s.data for s in sizes)}** | **{sum(s.bss for s in sizes)}** |")
    return "\n".join(rows)


def variant_sizes(work: Path) -> dict[str, ModuleSize]:
    """crc32 object size for every portable CRC-32 variant."""
    result = {}
    for variant in VARIANTS:
        sizes = module_sizes(build_core(work / f"crc-{variant}", variant))
        result[variant] = next(s for s in sizes if s.module == "crc32")
    return result


def variant_table(sizes: dict[str, ModuleSize]) -> str:
    rows = ["| CRC-32 variant | table | crc32 text | data | bss |", "|---|---:|---:|---:|---:|"]
    rows += [f"| {v}{' (default)' if v == DEFAULT_VARIANT else ''} | {TABLE_BYTES[v]} | "
             f"{s.text} | {s.data} | {s.bss} |" for v, s in sizes.items()]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-dir", type=Path, help="keep the builds here (default: a temp dir)")
    ap.add_argument("--no-variants", action="store_true",
                    help="skip the per-CRC-variant table (one build instead of five)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mfota-size-") as tmp:
        work = args.build_dir or Path(tmp)
        gcc = subprocess.run([_tool("arm-none-eabi-gcc"), "-dumpversion"], capture_output=True,
                             text=True, check=True).stdout.strip()
        print(f"Cortex-M4 (-mcpu=cortex-m4 -mthumb -mfloat-abi=soft), -Os, "
              f"arm-none-eabi-gcc {gcc}, CRC-32 variant: {DEFAULT_VARIANT}\n")
        print(markdown_table(module_sizes(build_core(work / "default"))))
        if not args.no_variants:
            print()
            print(variant_table(variant_sizes(work)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
