"""Delta files: the MFDP header + a detools sequential patch, made by
``create_delta_file`` and read by ``parse_delta_header``.  The patch part is
checked against detools (the independent producer) and applied bit-exactly
by the C applier."""

from __future__ import annotations

import hashlib
import io
import random
import struct
import zlib

import detools
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from m2mfota._errors import ERR
from m2mfota._native import ffi, lib
from m2mfota.delta import (
    DELTA_HEADER_SIZE,
    DeltaError,
    DeltaHeader,
    apply_delta_file,
    apply_patch,
    create_delta_file,
    parse_delta_header,
)


def firmware_pair(seed: int = 5, n: int = 20000) -> tuple[bytes, bytes]:
    rng = random.Random(seed)
    words = [rng.getrandbits(32).to_bytes(4, "little") for _ in range(64)]
    old = b"".join(rng.choice(words) for _ in range(n // 4))
    new = old[:5000] + b"v2.0.1 with a fix" + old[5010:15000] + rng.randbytes(40) + old[15000:]
    return old, new


def header_bytes(**over: object) -> bytes:
    """A header written independently of the module (struct + zlib), fields overridable."""
    f = {"magic": b"MFDP", "version": 1, "flags": 0, "hsize": 84, "ssize": 10,
         "ssha": b"\x11" * 32, "tsize": 20, "tsha": b"\x22" * 32}
    f.update(over)
    head = struct.pack("<4sBBHI32sI32s", f["magic"], f["version"], f["flags"], f["hsize"],
                       f["ssize"], f["ssha"], f["tsize"], f["tsha"])
    crc = over.get("crc", zlib.crc32(head))
    return head + struct.pack("<I", crc)


@pytest.mark.parametrize("compression", ["heatshrink", "none"])
def test_delta_file_layout_and_bit_exact_apply(compression):
    old, new = firmware_pair()
    data = create_delta_file(old, new, compression=compression)
    # The layout, read with struct/zlib rather than the module's own reader.
    magic, version, flags, hsize, ssize, ssha, tsize, tsha, crc = struct.unpack_from(
        "<4sBBHI32sI32sI", data)
    assert (magic, version, flags, hsize) == (b"MFDP", 1, 0, 84)
    assert (ssize, ssha) == (len(old), hashlib.sha256(old).digest())
    assert (tsize, tsha) == (len(new), hashlib.sha256(new).digest())
    assert crc == zlib.crc32(data[:80])
    # Behind it, a patch detools applies to the new image...
    rebuilt = io.BytesIO()
    detools.apply_patch(io.BytesIO(old), io.BytesIO(data[84:]), rebuilt)
    assert rebuilt.getvalue() == new
    if compression == "heatshrink":
        assert len(data) < len(new) // 5
    # ... and the C applier too, fed in odd splits, checking both hashes.
    assert apply_patch(old, data[84:], chunk=97) == new
    assert apply_delta_file(old, data, chunk=13) == new
    assert parse_delta_header(data) == DeltaHeader(len(old), hashlib.sha256(old).digest(),
                                                   len(new), hashlib.sha256(new).digest(), 84)


def test_parse_reads_an_independently_written_header():
    head = parse_delta_header(header_bytes())
    assert head == DeltaHeader(10, b"\x11" * 32, 20, b"\x22" * 32, DELTA_HEADER_SIZE)
    with pytest.raises(AttributeError):
        head.source_size = 1  # type: ignore[misc]  # frozen


@pytest.mark.parametrize("data", [b"", b"MFD", b"\x3d\xb8\xf3\x96" + bytes(100),
                                  b"mfdp" + bytes(80), b"\x04\x80\x01"])
def test_anything_without_the_magic_is_not_a_delta_file(data):
    assert parse_delta_header(data) is None


@pytest.mark.parametrize("data,why", [
    (b"MFDP", "4 bytes"),
    (header_bytes()[:83], "83 bytes"),
    (header_bytes(version=2), "version 2"),
    (header_bytes(flags=1), "flags 0x01"),
    (header_bytes(hsize=88), "header size 88"),
    (header_bytes(crc=0), "CRC-32"),
    (header_bytes(ssize=11, crc=zlib.crc32(header_bytes()[:80])), "CRC-32"),
    # The patch behind the header announces 19 bytes, the header 20.
    (header_bytes() + b"\x00\x13", "rebuilds 19 bytes"),
])
def test_a_bad_header_after_the_magic_is_refused(data, why):
    with pytest.raises(DeltaError) as e:
        parse_delta_header(data)
    assert e.value.code == "MFOTA_ERR_DELTA_HEADER"
    assert why in str(e.value)


def test_every_single_bit_flip_in_the_header_is_caught():
    old, new = firmware_pair(n=2000)
    data = create_delta_file(old, new)
    for bit in range(32, 84 * 8):  # past the magic: the magic itself decides "not a delta"
        bad = bytearray(data)
        bad[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(DeltaError):
            parse_delta_header(bytes(bad))


def test_apply_delta_file_refuses_the_wrong_source_and_a_wrong_target():
    old, new = firmware_pair()
    data = create_delta_file(old, new)
    with pytest.raises(DeltaError) as e:
        apply_delta_file(new, data)
    assert e.value.code == "MFOTA_ERR_DELTA_SOURCE"
    with pytest.raises(DeltaError) as e:
        apply_delta_file(old[:100], data)
    assert e.value.code == "MFOTA_ERR_DELTA_SOURCE"
    # A header whose target hash is not what the patch rebuilds.
    head = bytearray(data[:80])
    head[48:80] = hashlib.sha256(b"other").digest()
    forged = bytes(head) + struct.pack("<I", zlib.crc32(head)) + data[84:]
    with pytest.raises(DeltaError) as e:
        apply_delta_file(old, forged)
    assert e.value.code == "MFOTA_ERR_DELTA_TARGET"
    with pytest.raises(ValueError, match="not a delta file"):
        apply_delta_file(old, new)


def test_window_is_passed_to_the_patch():
    old, new = firmware_pair(n=4000)
    small = create_delta_file(old, new, window_sz2=6)
    i = 85  # past the compression byte: skip the image size, then heatshrink's parameter byte
    while small[i] & 0x80:
        i += 1
    assert small[i + 1] == (6 - 4) << 4 | (5 - 3)  # window 2^6, lookahead 2^5
    assert apply_delta_file(old, small) == new
    with pytest.raises(ValueError):
        create_delta_file(old, new, window_sz2=3)


# ---- the C reader (delta.c) against the Python producer ------------------------------

_PAIR = firmware_pair(9, 3000)
_FILE = create_delta_file(*_PAIR)


def c_read(data: bytes, cuts: list[int]) -> tuple[int, int, int, object, bytes]:
    """Feed ``data`` to mfota_delta_reader_feed in the pieces ``cuts`` make;
    return (last rc, kind, bytes used before the patch, header, held bytes)."""
    r = ffi.new("struct mfota_delta_reader *")
    hdr = ffi.new("struct mfota_delta_header *")
    used = ffi.new("size_t *")
    lib.mfota_delta_reader_init(r)
    bounds = [0, *sorted(set(c for c in cuts if 0 < c < len(data))), len(data)]
    consumed = 0
    rc = ERR["MFOTA_NEED_MORE"]
    for a, b in zip(bounds, bounds[1:]):
        rc = lib.mfota_delta_reader_feed(r, data[a:b], b - a, used, hdr)
        consumed = a + used[0]
        if rc != ERR["MFOTA_NEED_MORE"]:
            break
    return rc, r.kind, consumed, hdr, bytes(r.buf[0:r.len])


@settings(max_examples=60, deadline=None)
@given(cuts=st.lists(st.integers(0, 120), max_size=8))
def test_c_reader_finds_the_header_in_any_split(cuts):
    rc, kind, consumed, hdr, _ = c_read(_FILE[:200], cuts)
    want = parse_delta_header(_FILE)
    assert rc == ERR["MFOTA_DONE"] and kind == lib.MFOTA_DELTA_KIND_DELTA
    assert consumed == want.header_size == 84  # the next byte is the patch's first
    assert (hdr.source_size, hdr.target_size, hdr.header_size) == (
        want.source_size, want.target_size, want.header_size)
    assert bytes(hdr.source_sha256) == want.source_sha256
    assert bytes(hdr.target_sha256) == want.target_sha256


@settings(max_examples=40, deadline=None)
@given(prefix=st.sampled_from([b"", b"M", b"MF", b"MFD"]), rest=st.binary(min_size=1, max_size=20),
       cuts=st.lists(st.integers(0, 24), max_size=4))
def test_c_reader_knows_an_image_at_its_first_differing_byte(prefix, rest, cuts):
    data = prefix + rest
    if data.startswith(b"MFDP"):
        return
    rc, kind, consumed, _, held = c_read(data, cuts)
    assert rc == ERR["MFOTA_DONE"] and kind == lib.MFOTA_DELTA_KIND_IMAGE
    # Only the bytes matching the magic were held; the caller passes them on.
    assert held == data[:len(held)] and b"MFDP".startswith(held)
    assert consumed == len(held) or consumed < len(data)


@pytest.mark.parametrize("offset", [4, 5, 6, 7, 8, 40, 79, 80, 83])
def test_c_reader_refuses_every_damaged_header_as_python_does(offset):
    bad = bytearray(_FILE[:120])
    bad[offset] ^= 0x20
    with pytest.raises(DeltaError):
        parse_delta_header(bytes(bad))
    rc, *_ = c_read(bytes(bad), [offset])
    assert rc == ERR["MFOTA_ERR_DELTA_HEADER"]


def test_c_reader_end_of_file():
    r = ffi.new("struct mfota_delta_reader *")
    hdr = ffi.new("struct mfota_delta_header *")
    used = ffi.new("size_t *")
    for data, want in [(b"", ERR["MFOTA_DONE"]), (b"MF", ERR["MFOTA_DONE"]),
                       (b"MFDP", ERR["MFOTA_ERR_DELTA_HEADER"]),
                       (_FILE[:83], ERR["MFOTA_ERR_DELTA_HEADER"])]:
        lib.mfota_delta_reader_init(r)
        assert lib.mfota_delta_reader_feed(r, data, len(data), used, hdr) == ERR["MFOTA_NEED_MORE"]
        assert lib.mfota_delta_reader_end(r) == want, data
    out = ffi.new("struct mfota_delta_header *")
    assert lib.mfota_delta_header_parse(_FILE, 83, out) == ERR["MFOTA_ERR_DELTA_HEADER"]
    assert lib.mfota_delta_header_parse(_FILE, 84, out) == ERR["MFOTA_OK"]
