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
from dataclasses import dataclass

from m2mfota import _args
from m2mfota._errors import ERR, M2mfotaError
from m2mfota._native import ffi, lib
from m2mfota.flash import FlashDevice, FlashWriter, NorFlash
from m2mfota.flash._hal import _check, _Hal

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
        self._src = _Hal(source, source_offset, name="source", offset_name="source_offset")
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
        return _check(rc, self._src, self.out._hal, error=DeltaError, what=what)

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

