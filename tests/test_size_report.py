"""tools/size_report.py builds the core for a Cortex-M4 and reports sizes.

No size limits here, only sanity: the table has the CRC-32 module and a
positive total, and each CRC variant build really picked its own kernel
(the documented table sizes show up in crc32's text)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from cbuild import ROOT
from conftest import require_tool

pytestmark = pytest.mark.external_build


def _rows(table_text: str) -> dict[str, tuple[int, int, int]]:
    rows = {}
    # "| name | [table |] text | data | bss |", the total row in bold.
    pattern = (r"^\| \**([\w ()]+?)\** \|(?: [^|\d][^|]* \|| \d+ K?i?B \|)?"
               r" \**(\d+)\** \| \**(\d+)\** \| \**(\d+)\** \|$")
    for m in re.finditer(pattern, table_text, re.M):
        rows[m.group(1)] = (int(m.group(2)), int(m.group(3)), int(m.group(4)))
    return rows


def test_size_report(tmp_path):
    require_tool("cmake")
    require_tool("arm-none-eabi-gcc")
    require_tool("arm-none-eabi-size")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "size_report.py"), "--build-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    modules_text, variants_text = proc.stdout.split("| CRC-32 variant |")
    modules = _rows(modules_text)
    assert "crc32" in modules and "sha256" in modules, proc.stdout
    total = modules.pop("total")
    assert total[0] > 0
    assert total == tuple(sum(r[i] for r in modules.values()) for i in range(3)), proc.stdout
    # Each module is one object of the archive: all of csrc/src/*.c.
    assert set(modules) == {p.stem for p in (ROOT / "csrc" / "src").glob("*.c")}

    variants = {k.replace(" (default)", ""): v for k, v in _rows(variants_text).items()}
    assert set(variants) == {"bitwise", "nibble", "byte", "slice8"}, proc.stdout
    # The default MCU build is the nibble-table one.
    assert variants["nibble"] == modules["crc32"], proc.stdout
    text = {k: v[0] for k, v in variants.items()}
    # Tables documented in config.h: none, 64 B, 1 KiB, 8 KiB.
    assert text["slice8"] - text["byte"] >= 7 * 1024 - 512, text
    assert text["byte"] - text["nibble"] >= 1024 - 256, text
    assert text["nibble"] > text["bitwise"], text
