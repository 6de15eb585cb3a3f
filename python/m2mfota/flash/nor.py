"""The NOR flash model with power cuts, and windows on a flash.

:class:`NorFlash` is the reference flash for tests and tools: it enforces
the NOR rules and cuts the power after N operations.  :class:`FlashRegion`
is a window on another flash (the journal's two sectors beside the update
slot).  Both follow the flash protocol of :mod:`m2mfota.flash`.
"""

from __future__ import annotations

from m2mfota import _args
from m2mfota.flash._hal import FlashDevice, FlashViolation

__all__ = ["FlashRegion", "NorFlash", "PowerCut"]


class PowerCut(Exception):
    """Raised by :class:`NorFlash` when its simulated power goes."""


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

    def program(self, offset: int, data: _args.BytesLike) -> None:
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

    def _apply(self, offset: int, data: _args.BytesLike) -> None:
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

    def program(self, offset: int, data: _args.BytesLike) -> None:
        buf = _args.buffer("data", data)
        # The protocol hands a flash bytes: copy only what is not bytes already.
        self.flash.program(self._inside(offset, len(buf)), buf if isinstance(buf, bytes)
                           else bytes(buf))

    def erase(self, offset: int) -> None:
        self.flash.erase(self._inside(offset, self.sector_size))
