"""Delta updates: detools sequential patches, made on the host and applied by
the C core (``delta.c``) in a stream.

:func:`create_patch` makes a patch with the ``detools`` package (install
``m2mfota[delta]``); :class:`DeltaApplier` feeds one to the C applier, which
reads the source through a flash object and writes the image through a
:class:`~m2mfota.flash.FlashWriter`; :func:`apply_patch` does both in memory.
"""

from __future__ import annotations

import hashlib
import io
import struct
from dataclasses import dataclass

from m2mfota import _args
from m2mfota._checksums import crc32
from m2mfota._errors import ERR, M2mfotaError
from m2mfota._native import ffi, lib
from m2mfota.flash import FlashDevice, FlashWriter, NorFlash
from m2mfota.flash._hal import FlashHal, check_hal_rc

#: Compressions the C applier reads, as detools names them.
COMPRESSIONS = ("heatshrink", "none")
_COMPRESSION_NAMES = {0: "none", 1: "lzma", 2: "crle", 3: "bz2", 4: "heatshrink", 5: "zstd",
                      6: "lz4"}

#: Bytes of RAM one applier context takes (``sizeof(struct mfota_delta)``),
#: and the bound ``delta.h`` documents for it.
RAM_SIZE: int = ffi.sizeof("struct mfota_delta")
RAM_BOUND: int = lib.MFOTA_DELTA_RAM_BOUND
#: Largest heatshrink window exponent this build accepts.
WINDOW_SZ2_MAX: int = lib.MFOTA_DELTA_WINDOW_SZ2_MAX


class DeltaError(M2mfotaError):
    """The C applier refused the patch or its source (``.code`` names the C
    error, e.g. ``MFOTA_ERR_DELTA_SOURCE``)."""


@dataclass(frozen=True)
class PatchInfo:
    """What a patch's first bytes say: its compression and image size."""

    compression: str
    to_size: int


def patch_info(patch: bytes) -> PatchInfo:
    """Read the header of a detools sequential patch (``ValueError`` if it is not one)."""
    patch = bytes(_args.buffer("patch", patch))
    if not patch or patch[0] & 0x80 or (patch[0] >> 4) & 7:
        raise ValueError("not a detools sequential patch")
    compression = _COMPRESSION_NAMES.get(patch[0] & 0x0F, f"unknown({patch[0] & 0x0F})")
    value, shift, i = 0, 0, 1
    while True:
        if i >= len(patch) or shift > 35:
            raise ValueError("patch header: truncated or oversized image size")
        b = patch[i]
        if i == 1:
            if b & 0x40:
                raise ValueError("patch header: negative image size")
            value, shift = b & 0x3F, 6
        else:
            value |= (b & 0x7F) << shift
            shift += 7
        i += 1
        if not b & 0x80:
            return PatchInfo(compression, value)


#: First bytes of a delta file: the m2mfota header that precedes the patch.
DELTA_MAGIC = b"MFDP"
DELTA_VERSION = 1
#: Size of a version 1 delta file header; the detools patch starts here.
DELTA_HEADER_SIZE = 84
# magic, version, flags, header size, source size, source SHA-256, target
# size, target SHA-256; the CRC-32 of these 80 bytes follows.
_HEADER = struct.Struct("<4sBBHI32sI32s")


@dataclass(frozen=True)
class DeltaHeader:
    """The header of a delta file (``MFDP``): what the patch was made against
    (``source_*``), what it rebuilds (``target_*``), and where it starts."""

    source_size: int
    source_sha256: bytes
    target_size: int
    target_sha256: bytes
    header_size: int


def _header_fault(why: str) -> DeltaError:
    return DeltaError("MFOTA_ERR_DELTA_HEADER", f"delta file header: {why}")


def parse_delta_header(data: bytes) -> DeltaHeader | None:
    """Read a delta file's header.

    Returns None when ``data`` does not start with ``MFDP`` (a full image,
    not a delta file).  A file that starts with it but whose header is bad
    (too short, another version, flags set, a wrong header size or CRC, or a
    patch whose own image size differs from the target size) raises
    :class:`DeltaError` ``MFOTA_ERR_DELTA_HEADER``: it is never an image.
    The patch's size is only checked when ``data`` holds its first bytes."""
    data = bytes(_args.buffer("data", data))
    if data[:4] != DELTA_MAGIC:
        return None
    if len(data) < DELTA_HEADER_SIZE:
        raise _header_fault(f"{len(data)} bytes, a header has {DELTA_HEADER_SIZE}")
    (_, version, flags, header_size, source_size, source_sha256, target_size,
     target_sha256) = _HEADER.unpack_from(data)
    (want_crc,) = struct.unpack_from("<I", data, _HEADER.size)
    if version != DELTA_VERSION:
        raise _header_fault(f"version {version}, this reader knows {DELTA_VERSION}")
    if flags:
        raise _header_fault(f"flags 0x{flags:02x}, none are defined")
    if header_size != DELTA_HEADER_SIZE:
        raise _header_fault(f"header size {header_size}, version 1 has {DELTA_HEADER_SIZE}")
    if crc32(data[:_HEADER.size]) != want_crc:
        raise _header_fault("CRC-32 mismatch")
    if len(data) > header_size:
        try:
            to_size = patch_info(data[header_size:]).to_size
        except ValueError:
            to_size = None  # only the patch's first bytes are there, or a bad patch
        if to_size is not None and to_size != target_size:
            raise _header_fault(f"the patch rebuilds {to_size} bytes, the header says "
                                f"{target_size}")
    return DeltaHeader(source_size, source_sha256, target_size, target_sha256, header_size)


def delta_header(source: bytes, target: bytes) -> bytes:
    """The 84-byte header of a delta file from ``source`` to ``target``."""
    source = bytes(_args.buffer("source", source))
    target = bytes(_args.buffer("target", target))
    if len(source) > _args.U32 or len(target) > _args.U32:
        raise ValueError("images are limited to 4 GiB")
    head = _HEADER.pack(DELTA_MAGIC, DELTA_VERSION, 0, DELTA_HEADER_SIZE, len(source),
                        hashlib.sha256(source).digest(), len(target),
                        hashlib.sha256(target).digest())
    return head + struct.pack("<I", crc32(head))


def create_delta_file(old: bytes, new: bytes, *, compression: str = "heatshrink",
                      window_sz2: int = 8) -> bytes:
    """A delta file from ``old`` (the image the device runs; for MCUboot the
    signed file as uploaded) to ``new``: the ``MFDP`` header, then a detools
    sequential patch (:func:`create_patch`).  This is what a campaign uploads
    instead of ``new``.  Needs ``detools``."""
    old = bytes(_args.buffer("old", old))
    new = bytes(_args.buffer("new", new))
    window_sz2 = _args.integer("window_sz2", window_sz2, 4, 15)
    patch = create_patch(old, new, compression, window_sz2=window_sz2,
                         lookahead_sz2=min(7, window_sz2 - 1))
    return delta_header(old, new) + patch


def create_patch(old: bytes, new: bytes, compression: str = "heatshrink", *,
                 window_sz2: int = 8, lookahead_sz2: int = 7) -> bytes:
    """A detools sequential patch from ``old`` to ``new`` (bsdiff algorithm).

    ``window_sz2``/``lookahead_sz2`` are heatshrink's parameters; the device
    accepts windows up to :data:`WINDOW_SZ2_MAX`.  Needs ``detools``."""
    old = bytes(_args.buffer("old", old))
    new = bytes(_args.buffer("new", new))
    if compression not in COMPRESSIONS:
        raise ValueError(f"compression must be one of {', '.join(COMPRESSIONS)}, "
                         f"not {compression!r}")
    window_sz2 = _args.integer("window_sz2", window_sz2, 4, 15)
    lookahead_sz2 = _args.integer("lookahead_sz2", lookahead_sz2, 3, window_sz2 - 1)
    try:
        import detools  # type: ignore[import-untyped]
    except ImportError:
        raise RuntimeError("making patches needs detools: pip install 'm2mfota[delta]'") from None
    out = io.BytesIO()
    detools.create_patch(io.BytesIO(old), io.BytesIO(new), out, compression=compression,
                         patch_type="sequential", heatshrink_window_sz2=window_sz2,
                         heatshrink_lookahead_sz2=lookahead_sz2)
    return out.getvalue()


class DeltaApplier:
    """The C applier: ``source`` (a flash object, read only; the region
    ``[source_offset, source_offset + source_size)``) is the image the patch
    was made against, ``out`` the writer on the update slot (no journal).

    With ``source_sha256`` the source is hashed first and a mismatch raises
    :class:`DeltaError` ``MFOTA_ERR_DELTA_SOURCE`` before anything is written.
    Flash exceptions (a :class:`~m2mfota.flash.PowerCut`) pass through."""

    def __init__(self, source: FlashDevice, out: FlashWriter, *, source_offset: int = 0,
                 source_size: int | None = None, source_sha256: bytes | None = None) -> None:
        if not isinstance(out, FlashWriter):
            raise TypeError(f"out must be a FlashWriter, not {type(out).__name__}")
        # The HAL region runs to the device end (whole sectors, as the C
        # geometry check wants); source_size says how much of it is the image.
        self._src = FlashHal(source, source_offset, name="source", offset_name="source_offset")
        region = self._src.c.slot_size
        source_size = _args.optional_integer("source_size", source_size, 0, region)
        sha = _args.optional_buffer("source_sha256", source_sha256, size=32)
        self.out = out
        self.c = ffi.new("struct mfota_delta *")
        digest = ffi.from_buffer(bytes(sha)) if sha is not None else ffi.NULL
        self._check(lib.mfota_delta_begin(self.c, self._src.c,
                                          region if source_size is None else source_size,
                                          digest, out.c), "begin")

    def _check(self, rc: int, what: str) -> int:
        return check_hal_rc(rc, self._src, self.out._hal, error=DeltaError, what=what)

    def feed(self, data: bytes | bytearray | memoryview) -> bool:
        """Apply the next patch bytes; True once the image is complete."""
        buf = _args.buffer("data", data)
        rc = self._check(lib.mfota_delta_feed(self.c, ffi.from_buffer(buf), len(buf)), "feed")
        return rc == ERR["MFOTA_DONE"]

    def finish(self) -> None:
        """The patch has ended: raises ``MFOTA_ERR_DELTA_TRUNCATED`` if the
        image is incomplete."""
        self._check(lib.mfota_delta_finish(self.c), "finish")

    @property
    def to_size(self) -> int:
        return self.c.to_size

    @property
    def written(self) -> int:
        return self.c.to_pos


def apply_patch(old: bytes, patch: bytes, *, check_source: bool = True,
                source_sha256: bytes | None = None, sector_size: int = 4096, program_size: int = 8,
                chunk: int = 4096, max_size: int = 1 << 24) -> bytes:
    """Apply ``patch`` to ``old`` with the C applier on in-memory NOR flash
    (the source checked against ``source_sha256``, or else against its own
    SHA-256 unless ``check_source`` is false: that exercises the check);
    return the new image.  ``chunk`` is how many patch bytes go per feed.
    A header announcing more than ``max_size`` bytes is refused
    (``MFOTA_ERR_DELTA_OVERRUN``) before any memory is set aside for it."""
    old = bytes(_args.buffer("old", old))
    patch = bytes(_args.buffer("patch", patch))
    chunk = _args.integer("chunk", chunk, 1, None)
    max_size = _args.integer("max_size", max_size, 0, _args.U32)
    to_size = patch_info(patch).to_size
    if to_size > max_size:
        raise DeltaError("MFOTA_ERR_DELTA_OVERRUN",
                         f"the patch announces {to_size} bytes, over max_size {max_size}")

    def nor(n: int) -> NorFlash:
        return NorFlash(max(sector_size, -(-n // sector_size) * sector_size), sector_size,
                        program_size)

    src = nor(len(old))
    for off in range(0, len(old), sector_size):
        piece = old[off:off + sector_size]
        src.program(off, piece + bytes([0xFF]) * (-len(piece) % program_size))
    dst = nor(to_size)
    writer = FlashWriter(dst)
    if source_sha256 is None and check_source:
        source_sha256 = hashlib.sha256(old).digest()
    applier = DeltaApplier(src, writer, source_size=len(old), source_sha256=source_sha256)
    for off in range(0, len(patch), chunk):
        applier.feed(patch[off:off + chunk])
    applier.finish()
    return dst.read(0, to_size)



def apply_delta_file(old: bytes, delta_file: bytes, *, chunk: int = 4096) -> bytes:
    """Apply a delta file (``MFDP`` header + patch) to ``old`` with the C
    applier, as the device does: the first ``source_size`` bytes of ``old``
    must have the header's SHA-256 (else ``MFOTA_ERR_DELTA_SOURCE``), and the
    result must have the target SHA-256 (else ``MFOTA_ERR_DELTA_TARGET``).
    ``ValueError`` when ``delta_file`` is not a delta file."""
    old = bytes(_args.buffer("old", old))
    delta_file = bytes(_args.buffer("delta_file", delta_file))
    head = parse_delta_header(delta_file)
    if head is None:
        raise ValueError("not a delta file (no MFDP header)")
    if len(old) < head.source_size:
        raise DeltaError("MFOTA_ERR_DELTA_SOURCE",
                         f"the source has {len(old)} bytes, the patch needs {head.source_size}")
    new = apply_patch(old[:head.source_size], delta_file[head.header_size:],
                      source_sha256=head.source_sha256, chunk=chunk,
                      max_size=max(head.target_size, 1))
    if hashlib.sha256(new).digest() != head.target_sha256:
        raise DeltaError("MFOTA_ERR_DELTA_TARGET", "the rebuilt image is not the target")
    return new
