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


@pytest.mark.parametrize("mcuboot", ["0", "1"])
def test_core_builds_with_and_without_mcuboot(tmp_path, mcuboot):
    cc = require_tool("arm-none-eabi-gcc")
    for src in sorted((ROOT / "csrc" / "src").glob("*.c")):
        subprocess.run(
            [cc, "-std=c99", "-mcpu=cortex-m4", "-mthumb", "-Os", "-Wall", "-Wextra", "-Wpedantic",
             "-Wshadow", "-Wconversion", "-Werror", f"-DMFOTA_MCUBOOT={mcuboot}",
             f"-I{ROOT / 'csrc' / 'include'}", f"-I{ROOT / 'csrc' / 'src'}",
             "-c", str(src), "-o", str(tmp_path / (src.stem + ".o"))],
            check=True, capture_output=True, text=True,
        )
    nm = require_tool("arm-none-eabi-nm")
    syms = subprocess.run([nm, str(tmp_path / "mcuboot.o")], capture_output=True, text=True,
                          check=True).stdout
    assert ("mfota_mcuboot_check_mem" in syms) == (mcuboot == "1"), syms
