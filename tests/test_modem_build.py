"""The modem transport (embedded_port/modem) cross-builds for a Cortex-M4
under the strict warning flags with -Werror, uses no heap or stdio, and
its RAM is what modem.h documents."""

from __future__ import annotations

import re
import subprocess

import pytest
from cbuild import ROOT, _nm_symbols, cmake_build, compile_commands, symbol_violations
from conftest import require_tool

pytestmark = pytest.mark.external_build

STRICT = ("-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Wshadow", "-Wconversion", "-Werror")
MODEM = ROOT / "embedded_port" / "modem"


def _modem_archive(build):
    found = sorted(build.rglob("libm2mfota_modem.a"))
    assert len(found) == 1, found
    return found[0]


def test_cross_build_modem_cortex_m4_strict(tmp_path):
    require_tool("arm-none-eabi-gcc")
    nm = require_tool("arm-none-eabi-nm")
    readelf = require_tool("arm-none-eabi-readelf")
    build = tmp_path / "arm"
    cmake_build(ROOT, build, "CMAKE_BUILD_TYPE=MinSizeRel", "MFOTA_BUILD_TESTS=OFF",
                "MFOTA_BUILD_BENCH=OFF", cross=True)
    cmds = [c for c in compile_commands(build) if "/embedded_port/modem/" in c["file"]]
    assert {p.name for p in MODEM.glob("*.c")} == {c["file"].rsplit("/", 1)[1] for c in cmds}
    for c in cmds:
        args = c.get("command") or " ".join(c["arguments"])
        assert "arm-none-eabi-gcc" in args and "-mcpu=cortex-m4" in args, args
        for flag in STRICT:
            assert re.search(rf"(^|\s){re.escape(flag)}(\s|$)", args), (flag, c["file"])
    archive = _modem_archive(build)
    header = subprocess.run([readelf, "-h", str(archive)], capture_output=True, text=True,
                            check=True).stdout
    assert "Machine:                           ARM" in header
    refs = _nm_symbols(nm, archive, "--undefined-only") - _nm_symbols(nm, archive,
                                                                       "--defined-only")
    forbidden, unexpected = symbol_violations(refs)
    assert not forbidden and not unexpected, (forbidden, unexpected)


def test_documented_ram_matches_cortex_m4(tmp_path):
    cc = require_tool("arm-none-eabi-gcc")
    nm = require_tool("arm-none-eabi-nm")
    probe = tmp_path / "sizes.c"
    probe.write_text("#include \"modem.h\"\n"
                     "char size_modem[sizeof(struct mfota_modem)];\n"
                     "char size_socket[sizeof(struct mfota_modem_socket)];\n")
    obj = tmp_path / "sizes.o"
    subprocess.run([cc, "-mcpu=cortex-m4", "-mthumb", "-Os", "-std=c99", "-c",
                    f"-I{ROOT / 'csrc' / 'include'}", f"-I{MODEM}", str(probe), "-o", str(obj)],
                   check=True)
    sizes = {}
    for line in subprocess.run([nm, "-S", str(obj)], capture_output=True, text=True,
                               check=True).stdout.splitlines():
        _, size, _, name = line.split()
        sizes[name] = int(size, 16)
    # The header's comment as one line of words, without the " * " margins.
    doc = " ".join(re.sub(r"\n\s*\*", " ", (MODEM / "modem.h").read_text()).split())
    assert f"sizeof(struct mfota_modem) = {sizes['size_modem']} bytes" in doc, sizes
    assert f"sizeof(struct mfota_modem_socket) = {sizes['size_socket']} bytes" in doc, sizes
