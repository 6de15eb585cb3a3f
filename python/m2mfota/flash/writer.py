"""The download journal, the streaming flash writer and the image check
(``journal.c``, ``flash_writer.c``, ``image_verify.c``) on Python flash HALs.

Methods raise :class:`~m2mfota.flash.FlashError` (or
:class:`~m2mfota.flash.ImageError` for the image check) with the C error's
name in ``.code``, or re-raise what a Python HAL raised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from m2mfota import _args
from m2mfota._errors import ERR
from m2mfota._native import ffi, lib
from m2mfota.flash._hal import (
    FlashDevice,
    FlashHal,
    ImageError,
    KeyValueStore,
    KvHal,
    _stats,
    check_hal_rc,
)

__all__ = [
    "DictKV",
    "FlashWriter",
    "ImageReport",
    "Journal",
    "JournalRecord",
    "verify_image",
]


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
        kv: KeyValueStore | None = None,
        interval_sectors: int = 1,
    ) -> None:
        if (region is None) == (kv is None):
            raise ValueError("give exactly one of region or kv")
        interval_sectors = _args.integer("interval_sectors", interval_sectors, 1, _args.U32)
        self.c = ffi.new("struct mfota_journal *")
        self._hal: FlashHal | KvHal | None = None
        if region is not None:
            self._hal = FlashHal(region, name="region")
            rc = lib.mfota_journal_init_flash(self.c, self._hal.c)
        else:
            self._hal = KvHal(cast(KeyValueStore, kv))  # not None: checked above
            rc = lib.mfota_journal_init_kv(self.c, self._hal.c)
        check_hal_rc(rc, self._hal, what="journal init")
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
            check_hal_rc(0, self._hal)
            return None
        check_hal_rc(rc, self._hal, what="journal load")
        return self._record(out)

    def begin(
        self,
        url: str,
        total_size: int,
        validator: str | None = None,
        crc32: int | None = None,
        sha256: _args.BytesLike | None = None,
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
        check_hal_rc(lib.mfota_journal_begin(self.c, rec, resumed), self._hal, what="journal begin")
        return self._record(rec, bool(resumed[0]))

    def restart(self) -> None:
        """Start the download in force over from offset 0 (a slot that can no
        longer be trusted)."""
        check_hal_rc(lib.mfota_journal_restart(self.c), self._hal, what="journal restart")

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
        self._hal = FlashHal(flash, offset, size, size_name="size")
        self.journal = journal
        self._jhal = journal._hal if journal is not None else None
        self.c = ffi.new("struct mfota_flash_writer *")
        jc = journal.c if journal is not None else ffi.NULL
        check_hal_rc(lib.mfota_flash_writer_init(self.c, self._hal.c, jc), self._hal)
        self.c.verify = 1 if verify else 0

    def _check(self, rc: int, what: str) -> int:
        return check_hal_rc(rc, self._hal, self._jhal, what=what)

    def begin(self, size: int, resume: JournalRecord | None = None) -> int:
        """Start an image of ``size`` bytes (continue ``resume`` when it resumed);
        returns the offset to download from."""
        size = _args.integer("size", size, 0, _args.U32)
        if resume is not None and (not isinstance(resume, JournalRecord) or resume._c is None):
            raise TypeError("resume must be a JournalRecord from Journal.begin() or None")
        rec = resume._c if resume is not None and resume.resumed else ffi.NULL
        self._check(lib.mfota_flash_writer_begin(self.c, size, rec), "begin")
        return self.c.run.offset

    def write(self, offset: int, data: _args.BytesLike) -> None:
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
        check_hal_rc(rc, self._hal, error=ImageError, what="image verification")
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


def _expect(size: int | None, crc32: int | None, sha256: _args.BytesLike | None,
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
    hal = FlashHal(flash, offset, slot_size)
    size = _args.integer("size", size, 0, _args.U32)
    parts_crc32 = _args.integer("parts_crc32", parts_crc32, 0, _args.U32)
    exp = _expect(expect_size, crc32, sha256, "expect_size")
    out = ffi.new("struct mfota_image_report *")
    rc = lib.mfota_image_verify(hal.c, size, parts_crc32, exp, out)
    check_hal_rc(rc, hal, error=ImageError, what="image verification")
    return _report(out)
