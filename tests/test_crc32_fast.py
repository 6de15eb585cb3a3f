"""m2mfota._fast (python/m2mfota/_ffi/fast.c), the hand-written entry point
behind m2mfota.crc32: the same CRC as zlib for every buffer type, the same
argument checks as the rest of the API, the GIL released only from its
threshold on, buffers released after the call; and cffi's module compiled
as cffi writes it (no patched wrappers)."""

from __future__ import annotations

import array
import enum
import sys
import zlib
from pathlib import Path

import pytest

import m2mfota
from m2mfota import _fast
from m2mfota._checksums import crc32_available, crc32_with

FFI_DIR = Path(__file__).resolve().parents[1] / "python" / "m2mfota" / "_ffi"


def test_crc_matches_zlib_on_both_sides_of_the_gil_threshold():
    t = _fast.GIL_RELEASE_MIN
    for n in (0, 1, 63, 64, 4096, t - 1, t, t + 17):
        data = bytes(i * 7 & 0xFF for i in range(n))
        assert m2mfota.crc32(data, 12345) == zlib.crc32(data, 12345), n
        assert _fast.gil_released_last() is (n >= t), n


def test_the_gil_threshold_is_between_short_and_long_calls():
    # Below ~4 KiB releasing costs more than the CRC; above 1 MiB other
    # threads would wait for milliseconds on a slow kernel.
    assert 4096 < _fast.GIL_RELEASE_MIN <= 1 << 20


def test_every_buffer_type_hashes_its_bytes():
    data = bytes(range(256)) * 5
    assert m2mfota.crc32(bytearray(data)) == zlib.crc32(data)
    assert m2mfota.crc32(memoryview(data)[3:]) == zlib.crc32(data[3:])
    arr = array.array("I", range(100))  # len() counts items, the CRC all 400 bytes
    assert m2mfota.crc32(arr) == zlib.crc32(arr.tobytes())
    assert m2mfota.crc32(memoryview(arr).cast("B")) == zlib.crc32(arr.tobytes())
    assert m2mfota.crc32(memoryview(bytes(0))) == 0


def test_value_is_taken_modulo_2_32_like_zlib():
    for value in (0, 1, -1, 2**32, 2**32 + 5, -(2**40) - 3, 2**200 + 7, 0xFFFFFFFF):
        assert m2mfota.crc32(b"abc", value) == zlib.crc32(b"abc", value & 0xFFFFFFFF), value
    assert m2mfota.crc32(b"", -1) == 0xFFFFFFFF


def test_value_of_an_int_like_type_is_accepted_and_bool_is_not():
    class Seed(enum.IntEnum):
        A = 77

    class Index:
        def __index__(self) -> int:
            return 77

    assert m2mfota.crc32(b"abc", Seed.A) == m2mfota.crc32(b"abc", Index()) == zlib.crc32(b"abc", 77)
    with pytest.raises(TypeError, match="value must be int, not bool"):
        m2mfota.crc32(b"abc", True)
    with pytest.raises(TypeError, match="value must be int, not float"):
        m2mfota.crc32(b"abc", 1.0)


@pytest.mark.parametrize("bad,words", [
    ("text", "data must be bytes-like, not str"),
    (5, "data must be bytes-like, not int"),
    (None, "data must be bytes-like, not NoneType"),
    ([1, 2], "data must be bytes-like, not list"),
    (memoryview(b"abcdef")[::2], "data must be a C-contiguous buffer"),
])
def test_what_is_not_a_contiguous_buffer_is_a_type_error_naming_data(bad, words):
    with pytest.raises(TypeError) as exc:
        m2mfota.crc32(bad)
    assert str(exc.value).startswith(words)
    assert exc.value.__context__ is None  # the buffer protocol's own error is not chained


def test_the_buffer_is_released_after_the_call():
    # A bytearray with a live export cannot resize: a leaked Py_buffer would
    # make the extend below fail with BufferError.
    for n in (10, _fast.GIL_RELEASE_MIN):
        b = bytearray(n)
        m2mfota.crc32(b)
        b.extend(b"x")


def test_the_entry_point_checks_its_own_arguments():
    with pytest.raises(TypeError, match="2 positional arguments"):
        _fast.crc32(b"abc")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="value must be int, not bool"):
        _fast.crc32(b"abc", False)
    assert _fast.crc32(b"abc", 0) == zlib.crc32(b"abc")


def test_keywords_still_work_through_the_public_function():
    assert m2mfota.crc32(data=b"abc", value=3) == zlib.crc32(b"abc", 3)


def test_cffi_module_source_is_cffis_own_output(tmp_path):
    # The GIL special case lives in fast.c now: build_ffi.py writes exactly
    # what cffi emits, so a cffi upgrade cannot break a text rewrite.
    sys.path.insert(0, str(FFI_DIR))
    try:
        import build_ffi
    finally:
        sys.path.remove(str(FFI_DIR))
    out, ref = tmp_path / "out.c", tmp_path / "ref.c"
    assert build_ffi.main(["build_ffi.py", str(out)]) == 0
    build_ffi.make_ffi().emit_c_code(str(ref))
    assert out.read_bytes() == ref.read_bytes()
    assert "Py_BEGIN_ALLOW_THREADS" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize("kernel", [k for k in ("vpclmul", "pclmul") if k in crc32_available()])
def test_long_buffers_around_the_tuning_thresholds(kernel):
    # crc32_x86.c aligns from 16 KiB and prefetches from 1 MiB on: every
    # head alignment and tail length around those sizes against zlib.
    big = bytes((i * 2654435761 >> 13) & 0xFF for i in range((1 << 20) + 4096))
    for n in (16383, 16384, 16384 + 65, (1 << 20) - 1, 1 << 20, (1 << 20) + 255):
        for start in (0, 1, 17, 63):
            chunk = memoryview(big)[start:start + n]
            assert crc32_with(kernel, chunk, 7) == zlib.crc32(chunk, 7), (n, start)


def test_a_released_memoryview_keeps_its_own_error():
    # Not called strided: the exporter's ValueError names what is wrong.
    view = memoryview(b"abc")
    view.release()
    with pytest.raises(ValueError, match="released memoryview"):
        m2mfota.crc32(view)
