"""The flash self-test suite (writer + journal on a RAM-backed NOR model in C,
a power cut at every flash operation included) on the emulated Cortex-M4 and
on the host, built the way firmware builds it."""

from __future__ import annotations

import re
import subprocess

import pytest
from cbuild import ROOT, cmake_build, run_qemu
from conftest import require_tool

pytestmark = pytest.mark.external_build

FEATURES = ("clean-update", "failed-part", "power-cut-everywhere", "journal-torn-write")


def check_output(out: str) -> None:
    for feature in FEATURES:
        assert re.search(rf"^ok flash/{feature}$", out, re.M), f"flash/{feature}:\n{out}"
    cuts = re.search(r"^flash: (\d+) cuts tried, (\d+) resumed from the journal$", out, re.M)
    assert cuts and int(cuts.group(1)) > 20 and int(cuts.group(2)) > 0, out
    assert re.search(r"^suite flash: ok \(0 failure\(s\)\)$", out, re.M), out


def test_flash_suite_on_cortex_m4(tmp_path):
    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-system-arm")
    cmake_build(ROOT / "embedded_port", tmp_path, cross=True)
    status, out = run_qemu(tmp_path / "runner.elf")
    assert status == 0, out
    check_output(out)


def test_flash_suite_on_the_host(tmp_path):
    require_tool("gcc")
    cmake_build(ROOT, tmp_path, "CMAKE_BUILD_TYPE=Debug")
    proc = subprocess.run([str(tmp_path / "tests" / "c" / "mfota_selftest")],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout
    check_output(proc.stdout)
