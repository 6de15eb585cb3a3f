"""The same C self-tests on an emulated Cortex-M4 (QEMU mps2-an386).

embedded_port/ is built exactly as a firmware project would build it (the
toolchain file, add_subdirectory() of the repository, m2mfota::core), then
runner.elf runs under QEMU with semihosting.  Two deliberately broken runners
(a wrong CRC-32 vector, a HardFault) prove the exit status really carries a
failure out of the emulator."""

from __future__ import annotations

import re
import subprocess

import pytest
from cbuild import PORTABLE_CRC_VARIANTS, ROOT, cmake_build, compile_commands, run_qemu
from conftest import require_tool

pytestmark = pytest.mark.external_build


@pytest.fixture(scope="module")
def runners(tmp_path_factory):
    require_tool("cmake")
    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-system-arm")
    build = tmp_path_factory.mktemp("mcu-runner")
    cmake_build(ROOT / "embedded_port", build, "MFOTA_RUNNER_NEGATIVE_TESTS=ON", cross=True)
    return build


def test_runner_passes_every_check_on_cortex_m4(runners):
    status, out = run_qemu(runners / "runner.elf")
    assert status == 0, out
    for variant in PORTABLE_CRC_VARIANTS:
        assert re.search(rf"^ok crc32/{variant}$", out, re.M), f"crc32/{variant} not ok:\n{out}"
    assert re.search(r"^ok sha256$", out, re.M), out
    assert re.search(r"^ok board/stack$", out, re.M), out
    assert re.search(r"^suite checksums: ok \(0 failure\(s\)\)$", out, re.M), out
    assert re.search(r"^suite download: ok \(0 failure\(s\)\)$", out, re.M), out
    assert re.search(r"^ok client update over step\(\)$", out, re.M), out
    assert re.search(r"^suite client: ok \(0 failure\(s\)\)$", out, re.M), out
    # The delta applier on detools patches, on the Cortex-M4 itself.
    assert re.search(r"^ok delta/heatshrink$", out, re.M), out
    assert re.search(r"^suite delta: ok \(0 failure\(s\)\)$", out, re.M), out
    assert "FAIL" not in out, out
    assert out.rstrip().endswith("PASSED: 0 failure(s)"), out


def _attributes(path) -> str:
    readelf = require_tool("arm-none-eabi-readelf")
    return subprocess.run([readelf, "-A", str(path)], capture_output=True, text=True,
                          check=True).stdout


def test_runner_is_a_soft_float_cortex_m4_image(runners):
    attrs = _attributes(runners / "runner.elf")
    assert "Tag_CPU_arch: v7E-M" in attrs and "Tag_CPU_arch_profile: Microcontroller" in attrs
    assert "Tag_ABI_VFP_args" not in attrs, attrs  # soft-float calling convention
    # gcc records only the architecture ("7E-M"); the core name is in the flags.
    for c in compile_commands(runners):
        args = c.get("command") or " ".join(c["arguments"])
        assert "-mcpu=cortex-m4" in args and "-mthumb" in args, args
        assert "-mfloat-abi=soft" in args and "-Os" in args, args


def test_runner_hard_float_build(tmp_path):
    """MFOTA_ARM_FLOAT_ABI=hard: FPU calling convention, FPU enabled at reset."""
    build = tmp_path / "hard"
    cmake_build(ROOT / "embedded_port", build, "MFOTA_ARM_FLOAT_ABI=hard", cross=True)
    attrs = _attributes(build / "runner.elf")
    assert "Tag_ABI_VFP_args: VFP registers" in attrs and "Tag_FP_arch: VFPv4-D16" in attrs
    status, out = run_qemu(build / "runner.elf")
    assert status == 0, out
    assert out.rstrip().endswith("PASSED: 0 failure(s)"), out


def test_runner_exits_nonzero_on_a_wrong_vector(runners):
    status, out = run_qemu(runners / "runner_inject_failure.elf")
    assert status == 1, out
    assert "FAIL" in out and "injected wrong vector" in out, out
    # The real suites still pass: only the injected check failed.
    assert "suite checksums: ok" in out, out
    assert out.rstrip().endswith("FAILED: 1 failure(s)"), out


def test_runner_exits_nonzero_on_a_fault(runners):
    status, out = run_qemu(runners / "runner_inject_fault.elf")
    assert status == 2, out
    assert "FAULT HardFault_Handler" in out, out
    assert "PASSED" not in out, out
