"""The SenML / KPN Things self-test suite (tests/c/selftest_senml.c) on the
emulated Cortex-M4 and in the host ctest build: number vectors, formatting,
the decoder, downlink, uplink and framing.  The Cortex-M4 build uses the MCU
default, integers and fixed point; the host builds it with doubles (the
default there) and once more with MFOTA_SENML_FLOAT=OFF, so both number
builds pass the shared vectors."""

from __future__ import annotations

import re
import subprocess

import pytest
from cbuild import ROOT, cmake_build, run_qemu
from conftest import require_tool

pytestmark = pytest.mark.external_build

CHECKS = ("senml/parse", "senml/format", "senml/decoder", "senml/encoder", "things/downlink",
          "things/uplink", "things/response")


def assert_suite_passed(out: str, numbers: str, thingsml: str = "on", full: str = "on") -> None:
    assert re.search(rf"^senml numbers: {numbers}$", out, re.M), out
    assert re.search(rf"^senml thingsml: {thingsml}$", out, re.M), out
    assert re.search(rf"^senml full: {full}$", out, re.M), out
    checks = CHECKS + (("senml/fixed",) if numbers == "fixed" else ())
    for check in checks:
        assert re.search(rf"^ok {re.escape(check)}$", out, re.M), f"{check} not ok:\n{out}"
    assert re.search(r"^suite senml: ok \(0 failure\(s\)\)$", out, re.M), out


def test_senml_suite_on_cortex_m4(tmp_path):
    require_tool("cmake")
    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-system-arm")
    cmake_build(ROOT / "embedded_port", tmp_path, cross=True)
    status, out = run_qemu(tmp_path / "runner.elf")
    assert status == 0, out
    assert_suite_passed(out, "fixed", "off", "off")


def test_senml_suite_with_doubles_on_cortex_m4(tmp_path):
    """A port may still choose doubles on an MCU: soft-float conversions give
    the same bits as the host's."""
    require_tool("cmake")
    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-system-arm")
    cmake_build(ROOT / "embedded_port", tmp_path, "MFOTA_SENML_FLOAT=ON", cross=True)
    status, out = run_qemu(tmp_path / "runner.elf")
    assert status == 0, out
    assert_suite_passed(out, "double", "off", "off")


def test_senml_suite_on_host(tmp_path):
    require_tool("cmake")
    cmake_build(ROOT, tmp_path, "MFOTA_BUILD_TESTS=ON", "MFOTA_BUILD_BENCH=OFF")
    exe = tmp_path / "tests" / "c" / "mfota_selftest"
    proc = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout
    assert_suite_passed(proc.stdout, "double")


@pytest.mark.parametrize("full", ["OFF", "ON"])
def test_senml_suite_integer_build_on_host(tmp_path, full):
    """The MCU's number build on the host: the same shared vectors, and what
    it refuses (MFOTA_ERR_SENML_INEXACT, _RANGE) instead of rounding.  With
    MFOTA_SENML_FULL and MFOTA_WORD_SCAN OFF it is the MCU configuration
    exactly: what the downlink decoder refuses (MFOTA_ERR_UNSUPPORTED) is
    checked there; ON covers fixed-point base-value sums."""
    require_tool("cmake")
    cmake_build(ROOT, tmp_path, "MFOTA_BUILD_TESTS=ON", "MFOTA_BUILD_BENCH=OFF",
                "MFOTA_BUILD_DEVICE=OFF", "MFOTA_SENML_FLOAT=OFF", f"MFOTA_SENML_FULL={full}",
                f"MFOTA_WORD_SCAN={full}")
    exe = tmp_path / "tests" / "c" / "mfota_selftest"
    proc = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout
    assert_suite_passed(proc.stdout, "fixed", full=full.lower())
