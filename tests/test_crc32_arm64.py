"""The AArch64 CRC-32 kernel: cross-compiled with -Werror, run under qemu-aarch64.

The C self-test (tests/c) checks every kernel the CPU offers against the
bitwise reference, so a run on an emulated ARMv8 CPU must report "armv8".
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import require_tool

ROOT = Path(__file__).resolve().parents[1]
CFLAGS = [
    "-std=c99",
    "-O2",
    "-Wall",
    "-Wextra",
    "-Wpedantic",
    "-Wshadow",
    "-Wconversion",
    "-Werror",
    "-DMFOTA_CRC32_ALL_VARIANTS=1",
    f"-I{ROOT / 'csrc/include'}",
    f"-I{ROOT / 'csrc/src'}",
    f"-I{ROOT / 'tests/c'}",
]
# The core plus the host self-test program, as tests/c/CMakeLists.txt and
# tests/c/selftests.cmake put it together.
SOURCES = [
    *sorted(str(p) for p in (ROOT / "csrc/src").glob("*.c")),
    *sorted(str(p) for p in (ROOT / "tests/c").glob("selftest_*.c")),
    str(ROOT / "tests/c/selftests.c"),
    str(ROOT / "tests/c/fake_hal.c"),
    str(ROOT / "tests/c/main_host.c"),
]


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, f"{' '.join(cmd)}\n{res.stdout}\n{res.stderr}"
    return res


def _build_selftest(tmp_path: Path, extra: list[str]) -> Path:
    gcc = require_tool("aarch64-linux-gnu-gcc")
    exe = tmp_path / "selftest_aarch64"
    _run([gcc, *CFLAGS, *extra, "-static", *SOURCES, "-o", str(exe)])
    return exe


@pytest.mark.external_build
@pytest.mark.parametrize("march", [[], ["-march=armv8-a+crc"]], ids=["auxv-probe", "march-crc"])
def test_cross_compiles_and_has_crc_instructions(tmp_path, march):
    exe = _build_selftest(tmp_path, march)
    objdump = require_tool("aarch64-linux-gnu-objdump")
    disasm = _run([objdump, "-d", str(exe)]).stdout
    assert "crc32x" in disasm  # the kernel really uses CRC32X, not a table


@pytest.mark.external_build
@pytest.mark.parametrize(
    "flags",
    [["-ffreestanding", "-U__linux__"], ["-ffreestanding", "-U__linux__", "-march=armv8-a+crc"]],
    ids=["bare-metal-no-auxv", "bare-metal-crc"],
)
def test_kernel_compiles_without_auxv(tmp_path, flags):
    # Bare metal has no getauxval: the kernel is then used only when the build
    # targets a CPU with CRC32 (__ARM_FEATURE_CRC32), and must still compile.
    gcc = require_tool("aarch64-linux-gnu-gcc")
    obj = tmp_path / "crc32_arm64.o"
    src = str(ROOT / "csrc/src/crc32_arm64.c")
    _run([gcc, *CFLAGS, *flags, "-c", src, "-o", str(obj)])
    nm = require_tool("aarch64-linux-gnu-nm")
    symbols = _run([nm, str(obj)]).stdout
    assert "mfota_crc32_armv8_" in symbols
    assert "getauxval" not in symbols


@pytest.mark.external_build
def test_clang_cross_compiles_the_kernel(tmp_path):
    clang = require_tool("clang")
    obj = tmp_path / "crc32_arm64.o"
    _run(
        [
            clang,
            "--target=aarch64-linux-gnu",
            *CFLAGS,
            "-c",
            str(ROOT / "csrc/src/crc32_arm64.c"),
            "-o",
            str(obj),
        ]
    )
    assert obj.stat().st_size > 0


@pytest.mark.external_build
@pytest.mark.parametrize("cpu", ["max", "cortex-a53"])
def test_armv8_kernel_passes_selftest_under_qemu(tmp_path, cpu):
    exe = _build_selftest(tmp_path, [])
    qemu = require_tool("qemu-aarch64")
    res = subprocess.run([qemu, "-cpu", cpu, str(exe)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    lines = res.stdout.splitlines()
    assert "ok crc32/armv8" in lines, res.stdout
    assert not [line for line in lines if line.startswith("FAIL")]
    assert lines[-1] == "PASSED: 0 failure(s)"
