"""Flash HALs, the streaming flash writer, the download journal and image checks.

Everything here drives the C core (``flash_writer.c``, ``journal.c``,
``image_verify.c``, ``mcuboot.c``) through flash HALs written in Python.

The flash protocol
------------------
A flash HAL written in Python is any object with

``size``, ``sector_size``, ``program_size``, ``erased_value``
    int attributes: bytes in the device, bytes per erase sector, bytes per
    program block (a power of two), the value of an erased byte (0xFF on NOR).
``read(offset, size) -> bytes``
    exactly ``size`` bytes.
``program(offset, data) -> None``
    ``offset`` and ``len(data)`` are multiples of ``program_size`` and the
    bytes are erased: the writer never asks for anything else.
``erase(offset) -> None``
    erase the one sector that starts at ``offset``.

An exception raised in any of these methods stops the C operation at once
(the C code gets an error code and writes nothing further) and then reaches
the Python caller unchanged -- the very same object.  That is how tests cut
the power: :class:`NorFlash` raises :class:`PowerCut` after N operations.
The one exception to this is :class:`HalFailure`: it makes the C callback
return the port's own negative code instead (as a C port's ``-EIO`` would),
and is not raised again.

:class:`NorFlash` is the reference model; :class:`FlashRegion` is a window
on another flash (the journal's two sectors beside the update slot).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from m2mfota import _args
from m2mfota._errors import ERR, M2mfotaError
from m2mfota._native import ffi, lib

# mfota_err value a Python HAL returns after it stored an exception.
_ERR_HAL = ERR["MFOTA_ERR_HAL"]


class FlashError(M2mfotaError):
    """The flash writer or the journal refused or failed (codes -300..-399)."""


class FlashGeometryError(FlashError, ValueError):
    """A flash object whose geometry the C core cannot use
    (``MFOTA_ERR_FLASH_GEOMETRY``): the argument's value is wrong."""


class ImageError(M2mfotaError):
    """The image failed a check, or the bootloader hand-off failed (-400..-499).

    ``.result`` is the LwM2M /5 ``fota.result`` code the failure maps to
    (5 = integrity check failure)."""

    def __init__(self, code: int | str, message: str = "") -> None:
        super().__init__(code, message)
        self.result = lib.mfota_image_result(code) if isinstance(code, int) else 8


class PowerCut(Exception):
    """Raised by :class:`NorFlash` when its simulated power goes."""


class HalFailure(Exception):  # noqa: N818 - it is what a HAL reports, not a misuse
    """Raise it in a Python HAL method (flash, key-value store, bootloader) to
    make the C callback return ``code`` -- a port's own negative value, such as
    ``-5`` for ``-EIO`` -- exactly as a C port would.  The C side sees only the
    number; the exception is not raised again."""

    def __init__(self, code: int = -5) -> None:
        if not isinstance(code, int) or isinstance(code, bool) or not -(2**31) <= code < 0:
            raise ValueError(f"code must be a negative C int, not {code!r}")
        super().__init__(f"HAL failure {code}")
        self.code = code


class FlashViolation(ValueError):
    """A NOR rule was broken: misaligned access, access outside the device,
    or programming a non-erased byte."""


class FlashDevice(Protocol):
    size: int
    sector_size: int
    program_size: int
    erased_value: int

    def read(self, offset: int, size: int) -> bytes: ...
    def program(self, offset: int, data: bytes) -> None: ...
    def erase(self, offset: int) -> None: ...


class NorFlash:
    """NOR flash model: erase to ``erased_value``, programming only clears bits.

    Misaligned programs or erases, and programming a byte that is not erased,
    raise :class:`FlashViolation`.  Counters: ``reads``, ``programs``,
    ``erases``, ``bytes_programmed``, ``ops`` (programs + erases) and
    ``sector_erases`` (per sector).

    Power cuts: with ``cut_after=N`` the first N programs/erases happen and
    the next one is torn -- a program writes only the first half of its
    blocks, an erase erases only the first half of the sector -- and raises
    :class:`PowerCut`.  Every operation after that raises :class:`PowerCut`
    too, until :meth:`power_on`.
    """

    def __init__(
        self,
        size: int,
        sector_size: int = 4096,
        program_size: int = 8,
        erased_value: int = 0xFF,
        cut_after: int | None = None,
    ) -> None:
        size = _args.integer("size", size, 1, _args.U32)
        sector_size = _args.integer("sector_size", sector_size, 1, _args.U32)
        program_size = _args.integer("program_size", program_size, 1, _args.U32)
        erased_value = _args.integer("erased_value", erased_value, 0, _args.U8)
        _args.optional_integer("cut_after", cut_after, 0, None)
        if size % sector_size:
            raise ValueError("size must be a positive multiple of sector_size")
        if program_size & (program_size - 1) or sector_size % program_size:
            raise ValueError("program_size must be a power of two dividing sector_size")
        self.size = size
        self.sector_size = sector_size
        self.program_size = program_size
        self.erased_value = erased_value
        self.data = bytearray([erased_value]) * size
        self.cut_after = cut_after
        self.powered = True
        self.reads = self.programs = self.erases = self.bytes_programmed = self.ops = 0
        self.sector_erases = [0] * (size // sector_size)

    def power_on(self, cut_after: int | None = None) -> None:
        """Restore power (after a cut) and arm the next cut, if any."""
        _args.optional_integer("cut_after", cut_after, 0, None)
        self.powered = True
        self.cut_after = cut_after
        self.ops = 0

    def _check_power(self) -> None:
        if not self.powered:
            raise PowerCut("the power is off")

    def _cut_now(self) -> bool:
        if self.cut_after is not None and self.ops >= self.cut_after:
            self.powered = False
            return True
        self.ops += 1
        return False

    def read(self, offset: int, size: int) -> bytes:
        offset = _args.integer("offset", offset, None, None)
        size = _args.integer("size", size, None, None)
        self._check_power()
        if offset < 0 or size < 0 or offset + size > self.size:
            raise FlashViolation(f"offset/size: read [{offset}, {offset + size}) "
                                 "outside the device")
        self.reads += 1
        return bytes(self.data[offset : offset + size])

    def program(self, offset: int, data: bytes) -> None:
        offset = _args.integer("offset", offset, None, None)
        data = _args.buffer("data", data)
        self._check_power()
        n = len(data)
        if offset % self.program_size or n % self.program_size:
            raise FlashViolation(f"offset/data: misaligned program at {offset} (+{n})")
        if offset < 0 or offset + n > self.size:
            raise FlashViolation(f"offset/data: program [{offset}, {offset + n}) "
                                 "outside the device")
        target = self.data[offset : offset + n]
        if target.count(self.erased_value) != n:
            bad = next(i for i, b in enumerate(target) if b != self.erased_value)
            raise FlashViolation(f"programming a byte that is not erased at {offset + bad}")
        if self._cut_now():
            blocks = n // self.program_size
            torn = (blocks // 2) * self.program_size
            self._apply(offset, data[:torn])
            raise PowerCut(f"power cut while programming {n} bytes at {offset}")
        self._apply(offset, data)
        self.programs += 1
        self.bytes_programmed += n

    def _apply(self, offset: int, data: bytes) -> None:
        for i, b in enumerate(data):
            self.data[offset + i] &= b

    def erase(self, offset: int) -> None:
        offset = _args.integer("offset", offset, None, None)
        self._check_power()
        if offset % self.sector_size or not 0 <= offset < self.size:
            raise FlashViolation(f"offset: misaligned or outside erase at {offset}")
        end = offset + self.sector_size
        if self._cut_now():
            half = offset + self.sector_size // 2
            self.data[offset:half] = bytes([self.erased_value]) * (half - offset)
            raise PowerCut(f"power cut while erasing the sector at {offset}")
        self.data[offset:end] = bytes([self.erased_value]) * self.sector_size
        self.erases += 1
        self.sector_erases[offset // self.sector_size] += 1


class FlashRegion:
    """A window ``[offset, offset + size)`` on another flash, same protocol."""

    def __init__(self, flash: FlashDevice, offset: int, size: int) -> None:
        _args.flash_device("flash", flash)
        offset = _args.integer("offset", offset, 0, _args.U32)
        size = _args.integer("size", size, 1, _args.U32)
        if not flash.sector_size or offset % flash.sector_size or size % flash.sector_size or \
                offset + size > flash.size:
            raise ValueError("offset and size must be whole sectors inside the flash")
        self.flash = flash
        self.offset = offset
        self.size = size
        self.sector_size = flash.sector_size
        self.program_size = flash.program_size
        self.erased_value = flash.erased_value

    def _inside(self, offset: int, size: int) -> int:
        # Bounds of the window, not only of the device below: an access past
        # the region would land in its neighbour (the slot beside a journal).
        offset = _args.integer("offset", offset, None, None)
        size = _args.integer("size", size, None, None)
        if offset < 0 or size < 0 or offset + size > self.size:
            raise FlashViolation(f"offset/size: [{offset}, {offset + size}) outside the region")
        return self.offset + offset

    def read(self, offset: int, size: int) -> bytes:
        return self.flash.read(self._inside(offset, size), size)

    def program(self, offset: int, data: bytes) -> None:
        data = _args.buffer("data", data)
        self.flash.program(self._inside(offset, len(data)), data)

    def erase(self, offset: int) -> None:
        self.flash.erase(self._inside(offset, self.sector_size))


# ---- the C side of Python HALs ---------------------------------------------


class _Hal:
    """A Python flash object seen by C as a struct mfota_flash."""

    def __init__(self, dev: FlashDevice, offset: int = 0, size: int | None = None,
                 name: str = "flash", offset_name: str = "offset",
                 size_name: str = "slot_size") -> None:
        _args.flash_device(name, dev)
        offset = _args.integer(offset_name, offset, 0, dev.size)
        size = _args.optional_integer(size_name, size, 0, dev.size - offset)
        self.dev = dev
        self.exc: BaseException | None = None
        self._handle = ffi.new_handle(self)
        self.c = ffi.new("struct mfota_flash *")
        self.c.read = lib.mfota_py_flash_read
        self.c.program = lib.mfota_py_flash_program
        self.c.erase = lib.mfota_py_flash_erase
        self.c.ctx = self._handle
        self.c.program_size = dev.program_size
        self.c.sector_size = dev.sector_size
        self.c.erased_value = dev.erased_value
        self.c.slot_offset = offset
        self.c.slot_size = dev.size - offset if size is None else size
        if lib.mfota_flash_check(self.c) != 0:
            raise FlashGeometryError("MFOTA_ERR_FLASH_GEOMETRY",
                                     f"{name}: unusable flash geometry of {dev!r}")


def _stash(ctx: Any, exc: BaseException) -> int:
    if isinstance(exc, HalFailure):
        return exc.code  # the port's own value, as a C port returns it
    ffi.from_handle(ctx).exc = exc
    return _ERR_HAL


@ffi.def_extern()
def mfota_py_flash_read(ctx, off, buf, size):
    try:
        data = ffi.from_handle(ctx).dev.read(off, size)
        if len(data) != size:
            raise FlashViolation(f"read({off}, {size}) returned {len(data)} bytes")
        ffi.memmove(buf, data, size)
        return 0
    # Everything, KeyboardInterrupt included: C gets an error code and the
    # wrapper re-raises this very object once C has returned.
    except BaseException as exc:
        return _stash(ctx, exc)


@ffi.def_extern()
def mfota_py_flash_program(ctx, off, data, size):
    try:
        ffi.from_handle(ctx).dev.program(off, bytes(ffi.buffer(data, size)))
        return 0
    except BaseException as exc:
        return _stash(ctx, exc)


@ffi.def_extern()
def mfota_py_flash_erase(ctx, off):
    try:
        ffi.from_handle(ctx).dev.erase(off)
        return 0
    except BaseException as exc:
        return _stash(ctx, exc)


@ffi.def_extern()
def mfota_py_kv_get(ctx, buf, cap):
    try:
        value = ffi.from_handle(ctx).dev.get()
        if value is None:
            return 0
        n = min(len(value), cap)
        ffi.memmove(buf, value, n)
        return n
    except BaseException as exc:
        return _stash(ctx, exc)


@ffi.def_extern()
def mfota_py_kv_set(ctx, data, size):
    try:
        ffi.from_handle(ctx).dev.set(bytes(ffi.buffer(data, size)))
        return 0
    except BaseException as exc:
        return _stash(ctx, exc)


def _check(rc: int, *hals: Any, error: type = FlashError, what: str = "") -> int:
    """Re-raise the exception a Python HAL stored, else map rc < 0 to `error`."""
    pending = [hal.exc for hal in hals if hal is not None and hal.exc is not None]
    for hal in hals:
        if hal is not None:
            hal.exc = None
    if pending:
        raise pending[0]
    if rc < 0:
        raise error(rc, what)
    return rc


def _stats(c_stats: Any) -> dict[str, int]:
    return {
        "erases": c_stats.erases,
        "programs": c_stats.programs,
        "bytes_programmed": c_stats.bytes_programmed,
        "journal_writes": c_stats.journal_writes,
    }


# ---- journal -----------------------------------------------------------------


@dataclass(frozen=True)
class JournalRecord:
    """A journal record as Python sees it (``_c`` is the C struct copy)."""

    seq: int
    total_size: int
    offset: int
    crc32: int
    requests: int
    complete: bool
    resumed: bool
    _c: Any = None


class DictKV:
    """A key-value store in a Python attribute: ``get() -> bytes | None``, ``set(value)``."""

    def __init__(self) -> None:
        self.value: bytes | None = None
        self.sets = 0

    def get(self) -> bytes | None:
        return self.value

    def set(self, value: bytes) -> None:
        self.value = bytes(_args.buffer("value", value))
        self.sets += 1


class Journal:
    """The download journal on a two-sector flash region, or on a key-value store.

    ``region`` follows the flash protocol (its first two sectors are used);
    ``kv`` is an object with ``get() -> bytes | None`` and ``set(bytes)``.
    """

    def __init__(
        self,
        region: FlashDevice | None = None,
        *,
        kv: Any = None,
        interval_sectors: int = 1,
    ) -> None:
        if (region is None) == (kv is None):
            raise ValueError("give exactly one of region or kv")
        interval_sectors = _args.integer("interval_sectors", interval_sectors, 1, _args.U32)
        self.c = ffi.new("struct mfota_journal *")
        self._hal: _Hal | _KvHal | None = None
        if region is not None:
            self._hal = _Hal(region, name="region")
            rc = lib.mfota_journal_init_flash(self.c, self._hal.c)
        else:
            self._hal = _KvHal(kv)
            rc = lib.mfota_journal_init_kv(self.c, self._hal.c)
        _check(rc, self._hal, what="journal init")
        self.c.interval_sectors = interval_sectors

    def _record(self, c_rec: Any, resumed: bool = False) -> JournalRecord:
        copy = ffi.new("struct mfota_journal_record *", c_rec[0])
        return JournalRecord(
            seq=copy.seq,
            total_size=copy.total_size,
            offset=copy.offset,
            crc32=copy.crc32,
            requests=copy.requests,
            complete=bool(copy.flags & lib.MFOTA_JOURNAL_COMPLETE),
            resumed=resumed,
            _c=copy,
        )

    def load(self) -> JournalRecord | None:
        """The newest valid record, or None."""
        out = ffi.new("struct mfota_journal_record *")
        rc = lib.mfota_journal_load(self.c, out)
        if rc == ERR["MFOTA_ERR_JOURNAL_EMPTY"]:
            _check(0, self._hal)
            return None
        _check(rc, self._hal, what="journal load")
        return self._record(out)

    def begin(
        self,
        url: str,
        total_size: int,
        validator: str | None = None,
        crc32: int | None = None,
        sha256: bytes | None = None,
    ) -> JournalRecord:
        """Resume the download of ``url`` when the journal matches it (same URL,
        size and validator), else start it over (``.resumed`` says which)."""
        u = _args.text("url", url).encode()
        total_size = _args.integer("total_size", total_size, 0, _args.U32)
        _args.optional_text("validator", validator)
        crc32 = _args.optional_integer("crc32", crc32, 0, _args.U32)
        # exactly 32: C copies 32 bytes whatever the object holds
        sha256 = _args.optional_buffer("sha256", sha256, size=32)
        rec = ffi.new("struct mfota_journal_record *")
        v = validator.encode() if validator is not None else ffi.NULL
        vlen = 0 if validator is None else len(v)
        lib.mfota_journal_record_init(rec, u, len(u), v, vlen, total_size)
        if crc32 is not None:
            rec.flags |= lib.MFOTA_JOURNAL_HAS_CRC32
            rec.expect_crc32 = crc32
        if sha256 is not None:
            rec.flags |= lib.MFOTA_JOURNAL_HAS_SHA256
            ffi.memmove(rec.expect_sha256, bytes(sha256), 32)
        resumed = ffi.new("int *")
        _check(lib.mfota_journal_begin(self.c, rec, resumed), self._hal, what="journal begin")
        return self._record(rec, bool(resumed[0]))

    def restart(self) -> None:
        """Start the download in force over from offset 0 (a slot that can no
        longer be trusted)."""
        _check(lib.mfota_journal_restart(self.c), self._hal, what="journal restart")

    @property
    def requests(self) -> int:
        return self.c.rec.requests

    @requests.setter
    def requests(self, n: int) -> None:
        """Requests used so far; goes into the next record written."""
        self.c.rec.requests = _args.integer("requests", n, 0, _args.U32)

    @property
    def stats(self) -> dict[str, int]:
        return _stats(self.c.stats)


class _KvHal:
    def __init__(self, kv: Any) -> None:
        _args.has_methods("kv", kv, ("get", "set"), "a key-value store")
        self.dev = kv
        self.exc: BaseException | None = None
        self._handle = ffi.new_handle(self)
        self.c = ffi.new("struct mfota_kv *")
        self.c.get = lib.mfota_py_kv_get
        self.c.set = lib.mfota_py_kv_set
        self.c.ctx = self._handle




# ---- writer --------------------------------------------------------------------


@dataclass(frozen=True)
class ImageReport:
    size: int
    crc32: int
    sha256: bytes
    result: int  # fota.result: 0 verified, 5 integrity failure, ...


class FlashWriter:
    """The streaming writer on the update slot ``[offset, offset + size)`` of ``flash``.

    ``journal`` (optional) is written as parts are committed.  Methods raise
    :class:`FlashError` with the C error's name in ``.code``, or re-raise what
    a Python HAL raised.
    """

    def __init__(
        self,
        flash: FlashDevice,
        *,
        offset: int = 0,
        size: int | None = None,
        journal: Journal | None = None,
        verify: bool = True,
    ) -> None:
        if journal is not None and not isinstance(journal, Journal):
            raise TypeError(f"journal must be a Journal or None, not {type(journal).__name__}")
        _args.flag("verify", verify)
        self._hal = _Hal(flash, offset, size, size_name="size")
        self.journal = journal
        self._jhal = journal._hal if journal is not None else None
        self.c = ffi.new("struct mfota_flash_writer *")
        jc = journal.c if journal is not None else ffi.NULL
        _check(lib.mfota_flash_writer_init(self.c, self._hal.c, jc), self._hal)
        self.c.verify = 1 if verify else 0

    def _check(self, rc: int, what: str) -> int:
        return _check(rc, self._hal, self._jhal, what=what)

    def begin(self, size: int, resume: JournalRecord | None = None) -> int:
        """Start an image of ``size`` bytes (continue ``resume`` when it resumed);
        returns the offset to download from."""
        size = _args.integer("size", size, 0, _args.U32)
        if resume is not None and (not isinstance(resume, JournalRecord) or resume._c is None):
            raise TypeError("resume must be a JournalRecord from Journal.begin() or None")
        rec = resume._c if resume is not None and resume.resumed else ffi.NULL
        self._check(lib.mfota_flash_writer_begin(self.c, size, rec), "begin")
        return self.c.run.offset

    def write(self, offset: int, data: bytes) -> None:
        offset = _args.integer("offset", offset, 0, _args.U32)
        data = _args.buffer("data", data)
        self._check(
            lib.mfota_flash_writer_write(self.c, offset, ffi.from_buffer(data), len(data)), "write"
        )

    def part_commit(self, offset: int, length: int, crc: int | None = None) -> None:
        offset = _args.integer("offset", offset, 0, _args.U32)
        length = _args.integer("length", length, 0, _args.U32)
        crc = _args.optional_integer("crc", crc, 0, _args.U32)
        p = ffi.new("uint32_t *", crc) if crc is not None else ffi.NULL
        self._check(lib.mfota_flash_writer_part_commit(self.c, offset, length, p), "part_commit")

    def part_abort(self, first_offset: int) -> int:
        """Recover from a failed part; returns the offset to fetch again from."""
        first_offset = _args.integer("first_offset", first_offset, 0, _args.U32)
        out = ffi.new("uint32_t *")
        self._check(lib.mfota_flash_writer_part_abort(self.c, first_offset, out), "part_abort")
        return out[0]

    def flush(self) -> None:
        self._check(lib.mfota_flash_writer_flush(self.c), "flush")

    def verify(
        self,
        size: int | None = None,
        crc32: int | None = None,
        sha256: bytes | None = None,
    ) -> ImageReport:
        """Read the slot back and check it (see :func:`verify_image`)."""
        exp = _expect(size, crc32, sha256)
        out = ffi.new("struct mfota_image_report *")
        rc = lib.mfota_image_verify_writer(self.c, exp, out)
        _check(rc, self._hal, error=ImageError, what="image verification")
        return _report(out)

    @property
    def next_offset(self) -> int:
        return self.c.run.offset

    @property
    def committed_offset(self) -> int:
        return self.c.committed.offset

    @property
    def committed_crc32(self) -> int:
        return self.c.committed.crc32

    @property
    def failed(self) -> bool:
        return bool(self.c.failed)

    @property
    def parts_unverified(self) -> int:
        return self.c.parts_unverified

    @property
    def stats(self) -> dict[str, int]:
        """Slot erases/programs/bytes plus the journal's, summed."""
        total = ffi.new("struct mfota_flash_stats *", self.c.stats)
        if self.journal is not None:
            lib.mfota_flash_stats_add(total, ffi.addressof(self.journal.c.stats))
        return _stats(total)


def _expect(size: int | None, crc32: int | None, sha256: bytes | None,
            size_name: str = "size") -> Any:
    size = _args.optional_integer(size_name, size, 0, _args.U32)
    crc32 = _args.optional_integer("crc32", crc32, 0, _args.U32)
    sha256 = _args.optional_buffer("sha256", sha256, size=32)
    exp = ffi.new("struct mfota_image_expect *")
    if size is not None:
        exp.flags |= lib.MFOTA_EXPECT_SIZE
        exp.size = size
    if crc32 is not None:
        exp.flags |= lib.MFOTA_EXPECT_CRC32
        exp.crc32 = crc32
    if sha256 is not None:
        exp.flags |= lib.MFOTA_EXPECT_SHA256
        ffi.memmove(exp.sha256, bytes(sha256), 32)
    return exp


def _report(out: Any) -> ImageReport:
    return ImageReport(out.size, out.crc32, bytes(out.sha256), out.result)


def verify_image(
    flash: FlashDevice,
    size: int,
    parts_crc32: int,
    *,
    offset: int = 0,
    slot_size: int | None = None,
    expect_size: int | None = None,
    crc32: int | None = None,
    sha256: bytes | None = None,
) -> ImageReport:
    """Read ``size`` bytes of the slot back; check them against the CRC combined
    from the verified parts and the downlink's size/crc32/sha256.  Raises
    :class:`ImageError` (``.result`` 5) on a mismatch."""
    hal = _Hal(flash, offset, slot_size)
    size = _args.integer("size", size, 0, _args.U32)
    parts_crc32 = _args.integer("parts_crc32", parts_crc32, 0, _args.U32)
    exp = _expect(expect_size, crc32, sha256, "expect_size")
    out = ffi.new("struct mfota_image_report *")
    rc = lib.mfota_image_verify(hal.c, size, parts_crc32, exp, out)
    _check(rc, hal, error=ImageError, what="image verification")
    return _report(out)


# ---- MCUboot -------------------------------------------------------------------


@dataclass(frozen=True)
class McubootImage:
    version: str  # "major.minor.revision+build"
    header_size: int
    image_size: int
    sha256: bytes
    protect_tlv_size: int = 0
    total_size: int = 0


def _mcuboot(c_img: Any) -> McubootImage:
    buf = ffi.new("char[48]")
    lib.mfota_mcuboot_version_string(c_img, buf, 48)
    return McubootImage(
        version=ffi.string(buf).decode(),
        header_size=c_img.header_size,
        image_size=c_img.image_size,
        sha256=bytes(c_img.sha256),
        protect_tlv_size=c_img.protect_tlv_size,
        total_size=c_img.total_size,
    )


def mcuboot_info(image: bytes) -> McubootImage:
    """Parse and check an MCUboot image held in memory (header, TLVs, SHA-256).

    Raises :class:`ImageError` (``.code`` e.g. ``MFOTA_ERR_MCUBOOT_HASH``)."""
    buf = ffi.from_buffer(_args.buffer("image", image))
    out = ffi.new("struct mfota_mcuboot_image *")
    rc = lib.mfota_mcuboot_check_mem(buf, len(buf), out)
    if rc < 0:
        raise ImageError(rc, "not a valid MCUboot image")
    return _mcuboot(out)


def mcuboot_check(
    flash: FlashDevice, limit: int, *, offset: int = 0, slot_size: int | None = None
) -> McubootImage:
    """Check the MCUboot image at the start of a slot, reading below ``limit``."""
    hal = _Hal(flash, offset, slot_size)
    limit = _args.integer("limit", limit, 0, _args.U32)
    out = ffi.new("struct mfota_mcuboot_image *")
    _check(lib.mfota_mcuboot_check(hal.c, limit, out), hal, error=ImageError, what="MCUboot check")
    return _mcuboot(out)


def mcuboot_mark_pending(
    flash: FlashDevice,
    image_size: int,
    permanent: bool = False,
    *,
    offset: int = 0,
    slot_size: int | None = None,
) -> None:
    """Write the slot's MCUboot trailer: install for a test, or for good."""
    hal = _Hal(flash, offset, slot_size)
    image_size = _args.integer("image_size", image_size, 0, _args.U32)
    _args.flag("permanent", permanent)
    rc = lib.mfota_mcuboot_mark_pending(hal.c, image_size, 1 if permanent else 0)
    _check(rc, hal, error=ImageError, what="MCUboot trailer")


def mcuboot_clear_pending(
    flash: FlashDevice, *, offset: int = 0, slot_size: int | None = None
) -> None:
    """Erase an armed trailer (a download that starts over)."""
    hal = _Hal(flash, offset, slot_size)
    _check(lib.mfota_mcuboot_clear_pending(hal.c), hal, error=ImageError, what="MCUboot trailer")


def mcuboot_confirm(flash: FlashDevice, *, offset: int = 0, slot_size: int | None = None) -> None:
    """Set image_ok in the primary slot's trailer after a test boot."""
    hal = _Hal(flash, offset, slot_size)
    _check(lib.mfota_mcuboot_confirm(hal.c), hal, error=ImageError, what="MCUboot confirm")


class McubootBootloader:
    """The C bootloader HAL backed by MCUboot, on Python flash objects.
    ``keys``: trusted public keys (see :mod:`m2mfota.trust`); None: the hash
    TLV is checked, signatures are not."""

    def __init__(self, primary: FlashDevice, secondary: FlashDevice,
                 keys: Any = None) -> None:
        from m2mfota.trust import Trust

        self._p = _Hal(primary, name="primary")
        self._s = _Hal(secondary, name="secondary")
        self._port = ffi.new("struct mfota_mcuboot_port *")
        self._port.primary = self._p.c
        self._port.secondary = self._s.c
        try:
            self._trust = Trust(keys) if keys is not None else None
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"keys: {exc}") from None
        if self._trust is not None:
            self._trust.fill(self._port.trust)
        self.c = ffi.new("struct mfota_bootloader *")
        lib.mfota_mcuboot_bootloader(self.c, self._port)

    def check_image(self, image_size: int) -> str:
        """Would MCUboot boot the secondary slot's image?  Its version
        (without a "+0" build), or :class:`ImageError`."""
        image_size = _args.integer("image_size", image_size, 0, _args.U32)
        buf = ffi.new("char[48]")
        rc = self.c.check_image(self.c.ctx, image_size, buf, 48)
        _check(rc, self._p, self._s, self._trust, error=ImageError, what="check image")
        return ffi.string(buf).decode()

    def mark_pending(self, image_size: int, permanent: bool = False) -> None:
        image_size = _args.integer("image_size", image_size, 0, _args.U32)
        _args.flag("permanent", permanent)
        rc = self.c.mark_pending(self.c.ctx, image_size, 1 if permanent else 0)
        _check(rc, self._p, self._s, error=ImageError, what="mark pending")

    def confirm(self) -> None:
        _check(self.c.confirm(self.c.ctx), self._p, self._s, error=ImageError, what="confirm")

    def running_version(self) -> str:
        buf = ffi.new("char[48]")
        rc = self.c.running_version(self.c.ctx, buf, 48)
        _check(rc, self._p, self._s, error=ImageError, what="running version")
        return ffi.string(buf).decode()

