"""CMake alone (no Python) builds the core and the C tests with gcc and clang
under the strict warning flags, cross-builds the core for a Cortex-M4, and a
firmware-style project can take the core with add_subdirectory()."""

from __future__ import annotations

import re
import subprocess

import pytest
from cbuild import ROOT, cmake_build, compile_commands, core_archive
from conftest import require_tool

pytestmark = pytest.mark.external_build

STRICT = ("-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Wshadow", "-Wconversion", "-Werror")


def _core_commands(build):
    cmds = [c for c in compile_commands(build) if "/csrc/src/" in c["file"]]
    assert cmds, "no core sources compiled"
    return cmds


def _assert_strict(cmds):
    for c in cmds:
        args = c.get("command") or " ".join(c["arguments"])
        for flag in STRICT:
            assert re.search(rf"(^|\s){re.escape(flag)}(\s|$)", args), (flag, c["file"], args)


@pytest.mark.parametrize("compiler", ["gcc", "clang"])
def test_host_build_and_ctest(compiler, tmp_path):
    cc = require_tool(compiler)
    ctest = require_tool("ctest")
    build = tmp_path / compiler
    cmake_build(ROOT, build, "CMAKE_BUILD_TYPE=Release", cc=cc)
    cache = (build / "CMakeCache.txt").read_text()
    assert re.search(rf"CMAKE_C_COMPILER:\w+=.*{compiler}", cache), "wrong compiler picked"
    _assert_strict(_core_commands(build))
    proc = subprocess.run([ctest, "--output-on-failure", "-j2"], cwd=build,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"100% tests passed(, 0 tests failed)? out of [1-9]", proc.stdout), proc.stdout
    # The host self-test sees every portable kernel (MFOTA_ALL_VARIANTS on hosts).
    out = subprocess.run([str(build / "tests" / "c" / "mfota_selftest")],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout
    for variant in ("bitwise", "nibble", "byte", "slice8"):
        assert f"ok crc32/{variant}\n" in out.stdout, out.stdout
    assert "suite checksums: ok" in out.stdout, out.stdout


def test_cross_build_core_cortex_m4_werror(tmp_path):
    require_tool("arm-none-eabi-gcc")
    readelf = require_tool("arm-none-eabi-readelf")
    build = tmp_path / "arm"
    cmake_build(ROOT, build, "CMAKE_BUILD_TYPE=MinSizeRel", "MFOTA_BUILD_TESTS=OFF",
                "MFOTA_BUILD_BENCH=OFF", cross=True)
    cmds = _core_commands(build)
    _assert_strict(cmds)
    for c in cmds:
        args = c.get("command") or " ".join(c["arguments"])
        assert "arm-none-eabi-gcc" in args and "-mcpu=cortex-m4" in args and "-mthumb" in args
        assert "-fPIC" not in args, "bare-metal objects must not be position independent"
    header = subprocess.run([readelf, "-h", str(core_archive(build))],
                            capture_output=True, text=True, check=True).stdout
    assert "Machine:                           ARM" in header, header


def test_firmware_style_consumer(tmp_path):
    """tests/c/consumer: add_subdirectory(<repo>) + m2mfota::core, built and run."""
    cc = require_tool("gcc")
    build = tmp_path / "consumer"
    cmake_build(ROOT / "tests" / "c" / "consumer", build, cc=cc)
    # As a subproject m2mfota builds its library only: no tests, benches, Python.
    cache = (build / "CMakeCache.txt").read_text()
    assert "MFOTA_BUILD_TESTS:BOOL=OFF" in cache, cache
    assert not list(build.rglob("mfota_selftest")), "C tests built inside a consumer"
    core_archive(build)
    proc = subprocess.run([str(build / "consumer")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("crc32 cbf43926 "), proc.stdout


def test_firmware_style_consumer_cross(tmp_path):
    """The same consumer under the Cortex-M4 toolchain file links for bare metal."""
    require_tool("arm-none-eabi-gcc")
    readelf = require_tool("arm-none-eabi-readelf")
    build = tmp_path / "consumer-arm"
    # newlib's stub syscalls stand in for a board support package.
    cmake_build(ROOT / "tests" / "c" / "consumer", build, "CMAKE_BUILD_TYPE=MinSizeRel",
                cross=True, ldflags="--specs=nosys.specs -Wl,-z,noexecstack")
    cmds = _core_commands(build)
    _assert_strict(cmds)
    header = subprocess.run([readelf, "-h", str(build / "consumer")],
                            capture_output=True, text=True, check=True).stdout
    assert "Machine:                           ARM" in header and "EXEC" in header, header
