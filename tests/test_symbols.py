"""The cross-built core links with no heap and no stdio.

arm-none-eabi-nm lists what libm2mfota_core.a needs from outside; that must
be nothing forbidden (malloc, printf, strtod...) and nothing beyond a small
allowlist (memcpy/memset/memmove/memcmp/strlen and compiler helpers), so a
module that pulls in stdio fails here before it costs an MCU 20 KiB."""

from __future__ import annotations

import subprocess

import pytest
from cbuild import (
    ALLOWED_LIBC,
    FORBIDDEN_SYMBOLS,
    ROOT,
    cmake_build,
    core_archive,
    outside_references,
    symbol_violations,
)
from conftest import require_tool

pytestmark = pytest.mark.external_build

# The firmware default (one table) and the runner's build (every kernel).
CONFIGS = {
    "default": ["CMAKE_BUILD_TYPE=MinSizeRel"],
    "all-variants": ["CMAKE_BUILD_TYPE=MinSizeRel", "MFOTA_ALL_VARIANTS=ON"],
}


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def cross_core(request, tmp_path_factory):
    require_tool("arm-none-eabi-gcc")
    build = tmp_path_factory.mktemp(f"core-{request.param}")
    cmake_build(ROOT, build, "MFOTA_BUILD_TESTS=OFF", "MFOTA_BUILD_BENCH=OFF",
                *CONFIGS[request.param], cross=True)
    return core_archive(build)


def test_core_references_no_heap_and_no_stdio(cross_core):
    nm = require_tool("arm-none-eabi-nm")
    refs = outside_references(nm, cross_core)
    forbidden, unexpected = symbol_violations(refs)
    assert not forbidden, f"the core references forbidden symbols: {sorted(forbidden)}"
    assert not unexpected, (
        f"the core references symbols outside the allowlist: {sorted(unexpected)}; "
        f"allowed: {sorted(ALLOWED_LIBC)} and compiler helpers"
    )


def test_core_defines_its_api(cross_core):
    # Guards the parsing: an empty nm reading would pass the test above.
    nm = require_tool("arm-none-eabi-nm")
    out = subprocess.run([nm, "-g", "--defined-only", str(cross_core)],
                         capture_output=True, text=True, check=True).stdout
    for name in ("mfota_crc32", "mfota_crc32_combine", "mfota_sha256_init", "mfota_sha256_final"):
        assert f" T {name}\n" in out, name


def test_checker_catches_stdio_and_heap(tmp_path):
    """The same check on a library that does use printf and malloc fails."""
    gcc = require_tool("arm-none-eabi-gcc")
    ar = require_tool("arm-none-eabi-ar")
    nm = require_tool("arm-none-eabi-nm")
    src = tmp_path / "bad.c"
    src.write_text(
        "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"
        "int bad(const char *s) { char *p = malloc(strlen(s) + 1); if (!p) return -1;\n"
        "  memcpy(p, s, strlen(s) + 1); printf(\"%s %f\\n\", p, strtod(s, 0)); free(p);\n"
        "  return 0; }\n"
    )
    obj, lib = tmp_path / "bad.o", tmp_path / "libbad.a"
    subprocess.run([gcc, "-mcpu=cortex-m4", "-mthumb", "-Os", "-c", str(src), "-o", str(obj)],
                   check=True)
    subprocess.run([ar, "rcs", str(lib), str(obj)], check=True)
    refs = outside_references(nm, lib)
    forbidden, unexpected = symbol_violations(refs)
    assert {"malloc", "free", "printf", "strtod"} <= forbidden, refs
    assert {"malloc", "free", "printf", "strtod"} <= unexpected, refs
    assert "memcpy" not in unexpected and "strlen" not in unexpected, refs
    assert forbidden <= FORBIDDEN_SYMBOLS
