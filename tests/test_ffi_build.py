"""The build-time rewrite of cffi's wrappers (python/m2mfota/_ffi/build_ffi.py,
KEEP_GIL): mfota_crc32 keeps the GIL for short calls and releases it from the
threshold on; every other function is left as cffi wrote it; an unexpected
shape of cffi's output fails the build instead of silently losing the change."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

FFI_DIR = Path(__file__).resolve().parents[1] / "python" / "m2mfota" / "_ffi"
sys.path.insert(0, str(FFI_DIR))
import build_ffi  # noqa: E402


@pytest.fixture(scope="module")
def c_source(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("ffi") / "native.c"
    build_ffi.make_ffi().emit_c_code(str(out))
    return out.read_text(encoding="utf-8")


def wrapper(source: str, name: str) -> str:
    m = re.search(r"_cffi_f_" + name + r"\(PyObject \*self, PyObject \*args\)\n\{.*?\n\}\n",
                  source, re.S)
    assert m, name
    return m.group(0)


def test_crc32_keeps_the_gil_below_the_threshold(c_source):
    arg, threshold = build_ffi.KEEP_GIL["mfota_crc32"]
    before = wrapper(c_source, "mfota_crc32")
    assert "Py_BEGIN_ALLOW_THREADS" in before  # what cffi writes
    assert f"size_t {arg};" in before  # the argument named is the length
    after = wrapper(build_ffi.keep_gil(c_source), "mfota_crc32")
    assert "Py_BEGIN_ALLOW_THREADS" not in after
    assert f"MFOTA_PY_BEGIN_ALLOW_THREADS_IF({arg} >= {threshold}u)" in after
    assert "MFOTA_PY_END_ALLOW_THREADS_IF" in after
    assert "{ result = mfota_crc32(x0, x1, x2); }" in after


def test_other_functions_still_release_the_gil(c_source):
    after = build_ffi.keep_gil(c_source)
    for name in ("mfota_crc32_combine", "mfota_sha256_update", "mfota_crc32_with"):
        assert "Py_BEGIN_ALLOW_THREADS" in wrapper(after, name)
    assert after.count("MFOTA_PY_BEGIN_ALLOW_THREADS_IF(") == 1 + len(build_ffi.KEEP_GIL)


def test_an_unexpected_cffi_output_fails_the_build(c_source):
    with pytest.raises(RuntimeError, match="mfota_crc32"):
        build_ffi.keep_gil(c_source.replace("Py_BEGIN_ALLOW_THREADS", "BEGIN"))


def test_the_installed_module_computes_the_same_crc_on_both_sides_of_the_threshold():
    import zlib

    import m2mfota

    _, threshold = build_ffi.KEEP_GIL["mfota_crc32"]
    for n in (0, 1, 63, 4096, threshold - 1, threshold, threshold + 17):
        data = bytes(i * 7 & 0xFF for i in range(n))
        assert m2mfota.crc32(data, 12345) == zlib.crc32(data, 12345)
