"""Hardware CRC-32 and SHA-256 kernels: present where the CPU has them, and
equal to zlib / hashlib / the portable code on data that exercises every
head, body and tail path.

The presence checks read /proc/cpuinfo independently of the C probes, so a
broken CPUID probe cannot silently fall back to a portable kernel.
"""

from __future__ import annotations

import hashlib
import platform
import random
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import m2mfota
from m2mfota._checksums import (
    crc32_active,
    crc32_available,
    crc32_with,
    sha256_active,
    sha256_available,
    sha256_with,
)

HW_CRC = [k for k in crc32_available() if k in ("pclmul", "vpclmul", "armv8")]


def cpu_flags() -> set[str]:
    """Feature flags the kernel reports (x86 "flags", AArch64 "Features")."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return set(value.split())
    return set()


FLAGS = cpu_flags()
X86_64 = platform.machine() in ("x86_64", "AMD64")


@pytest.mark.skipif(not X86_64, reason="x86-64 kernels")
def test_pclmul_present_when_cpu_has_it():
    if "pclmulqdq" not in FLAGS or "sse4_1" not in FLAGS:
        pytest.skip("CPU has no PCLMULQDQ/SSE4.1")
    assert "pclmul" in crc32_available()


@pytest.mark.skipif(not X86_64, reason="x86-64 kernels")
def test_vpclmul_present_and_active_when_cpu_has_it():
    if not {"vpclmulqdq", "avx512f"} <= FLAGS:
        pytest.skip("CPU has no VPCLMULQDQ/AVX-512F")
    assert "vpclmul" in crc32_available()
    assert crc32_active() == "vpclmul"


@pytest.mark.skipif(not X86_64, reason="x86-64 kernels")
def test_shani_present_and_active_when_cpu_has_it():
    if "sha_ni" not in FLAGS:
        pytest.skip("CPU has no SHA extensions")
    assert sha256_available() == ["portable", "shani"]
    assert sha256_active() == "shani"


def test_armv8_available_exactly_when_cpu_has_it():
    # On x86 this checks the probe does not claim an instruction set the CPU
    # lacks; on AArch64 with CRC32 that the kernel is found and chosen.
    has_it = platform.machine() == "aarch64" and "crc32" in FLAGS
    assert ("armv8" in crc32_available()) == has_it
    if has_it:
        assert crc32_active() == "armv8"


needs_hw_crc = pytest.mark.skipif(not HW_CRC, reason="no hardware CRC-32 kernel on this CPU")


@needs_hw_crc
@pytest.mark.parametrize("kernel", HW_CRC)
def test_every_small_length_at_odd_alignments(kernel):
    # Lengths 0..1024 at alignments that are odd, 16-byte but not 64-byte,
    # and cache-line: every head/tail combination of the 16- and 64-byte folds.
    blob = bytes((i * 167 + 29) & 0xFF for i in range(1024 + 64))
    view = memoryview(blob)
    for align in (1, 3, 7, 15, 16, 33, 48, 63):
        for length in range(1025):
            chunk = view[align : align + length]
            assert crc32_with(kernel, chunk) == zlib.crc32(chunk), (align, length)


@needs_hw_crc
@pytest.mark.parametrize("kernel", HW_CRC)
def test_large_lengths_at_every_alignment(kernel):
    # Around and beyond the 16 KiB point where the AVX-512 kernel aligns its
    # main loop: every head (0..63 bytes) before the aligned body.
    blob = random.Random(2).randbytes(65536 + 64)
    view = memoryview(blob)
    for align in range(64):
        for length in (16383, 16384, 16385 + 3 * align, 40000 + 17 * align, 65536):
            chunk = view[align : align + length]
            assert crc32_with(kernel, chunk) == zlib.crc32(chunk), (align, length)


@needs_hw_crc
@pytest.mark.parametrize("kernel", HW_CRC)
@settings(max_examples=40)
@given(
    seed=st.integers(0, 2**32 - 1),
    size=st.integers(0, 65536),
    align=st.integers(0, 63),
    value=st.integers(0, 2**32 - 1),
)
def test_large_buffers_at_any_alignment(kernel, seed, size, align, value):
    # Random bulk data is cheaper to draw from a seed than from hypothesis'
    # byte strategy at these sizes.
    data = random.Random(seed).randbytes(size)
    chunk = memoryview(bytes(align) + data)[align:]
    assert crc32_with(kernel, chunk, value) == zlib.crc32(data, value)


@needs_hw_crc
@pytest.mark.parametrize("kernel", HW_CRC)
@settings(max_examples=40)
@given(data=st.binary(max_size=5000), cuts=st.lists(st.integers(0, 5000), max_size=8))
def test_streaming_from_any_state(kernel, data, cuts):
    # Each piece starts from the previous CRC: the state enters the first fold.
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    crc = 0
    for a, b in zip(points, points[1:]):
        crc = crc32_with(kernel, data[a:b], crc)
    assert crc == zlib.crc32(data)


@needs_hw_crc
def test_default_dispatch_matches_zlib_on_big_buffer():
    data = bytes(range(256)) * 16385  # 4 MiB + 256 B, not a multiple of 64
    assert m2mfota.crc32(data) == zlib.crc32(data)
    assert m2mfota.crc32(bytearray(data[5:])) == zlib.crc32(data[5:])


@settings(max_examples=60)
@given(data=st.binary(max_size=3000))
def test_every_sha256_block_function_equals_portable_and_hashlib(data):
    want = hashlib.sha256(data).digest()
    assert sha256_with("portable", data) == want
    for impl in sha256_available():
        assert sha256_with(impl, data) == want
    assert m2mfota.sha256(data).digest() == want


def test_sha256_unavailable_block_function_is_an_error():
    missing = [i for i in ("shani",) if i not in sha256_available()]
    for impl in missing:
        with pytest.raises(m2mfota.M2mfotaError) as exc:
            sha256_with(impl, b"abc")
        assert exc.value.code == "MFOTA_ERR_UNSUPPORTED"
    assert "portable" in sha256_available()
