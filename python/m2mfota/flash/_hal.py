"""The flash exceptions and the C side of Python flash and key-value HALs
(``struct mfota_flash``, ``struct mfota_kv``), shared by the writer, the
journal and MCUboot wrappers."""

from __future__ import annotations

from typing import Any, Protocol

from m2mfota import _args
from m2mfota._bridge import Bridge, reraise, trampoline
from m2mfota._errors import M2mfotaError
from m2mfota._native import ffi, lib


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
        self.result: int = lib.mfota_image_result(code) if isinstance(code, int) else 8


class FlashViolation(ValueError):
    """A NOR rule was broken: misaligned access, access outside the device,
    or programming a non-erased byte."""


class FlashDevice(Protocol):
    """The flash protocol (see :mod:`m2mfota.flash`)."""

    size: int
    sector_size: int
    program_size: int
    erased_value: int

    def read(self, offset: int, size: int) -> bytes: ...
    def program(self, offset: int, data: bytes) -> None: ...
    def erase(self, offset: int) -> None: ...


class KeyValueStore(Protocol):
    """A key-value store holding one value (the journal's alternative to flash)."""

    def get(self) -> bytes | None: ...
    def set(self, value: bytes) -> None: ...


class FlashHal:
    """A Python flash object seen by C as a ``struct mfota_flash``."""

    def __init__(self, dev: FlashDevice, offset: int = 0, size: int | None = None,
                 name: str = "flash", offset_name: str = "offset",
                 size_name: str = "slot_size") -> None:
        _args.flash_device(name, dev)
        offset = _args.integer(offset_name, offset, 0, dev.size)
        size = _args.optional_integer(size_name, size, 0, dev.size - offset)
        self.dev = dev
        self.bridge = Bridge(dev)
        self.c = ffi.new("struct mfota_flash *")
        self.c.read = lib.mfota_py_flash_read
        self.c.program = lib.mfota_py_flash_program
        self.c.erase = lib.mfota_py_flash_erase
        self.c.ctx = self.bridge.handle
        self.c.program_size = dev.program_size
        self.c.sector_size = dev.sector_size
        self.c.erased_value = dev.erased_value
        self.c.slot_offset = offset
        self.c.slot_size = dev.size - offset if size is None else size
        if lib.mfota_flash_check(self.c) != 0:
            raise FlashGeometryError("MFOTA_ERR_FLASH_GEOMETRY",
                                     f"{name}: unusable flash geometry of {dev!r}")


class KvHal:
    """A Python key-value store seen by C as a ``struct mfota_kv``."""

    def __init__(self, kv: KeyValueStore) -> None:
        _args.has_methods("kv", kv, ("get", "set"), "a key-value store")
        self.dev = kv
        self.bridge = Bridge(kv)
        self.c = ffi.new("struct mfota_kv *")
        self.c.get = lib.mfota_py_kv_get
        self.c.set = lib.mfota_py_kv_set
        self.c.ctx = self.bridge.handle


@trampoline("mfota_py_flash_read")
def _flash_read(dev: FlashDevice, off: int, buf: Any, size: int) -> int:
    data = dev.read(off, size)
    if len(data) != size:
        raise FlashViolation(f"read({off}, {size}) returned {len(data)} bytes")
    ffi.memmove(buf, data, size)
    return 0


@trampoline("mfota_py_flash_program")
def _flash_program(dev: FlashDevice, off: int, data: Any, size: int) -> int:
    dev.program(off, bytes(ffi.buffer(data, size)))
    return 0


@trampoline("mfota_py_flash_erase")
def _flash_erase(dev: FlashDevice, off: int) -> int:
    dev.erase(off)
    return 0


@trampoline("mfota_py_kv_get")
def _kv_get(kv: KeyValueStore, buf: Any, cap: int) -> int:
    value = kv.get()
    if value is None:
        return 0
    n = min(len(value), cap)
    ffi.memmove(buf, value, n)
    return n


@trampoline("mfota_py_kv_set")
def _kv_set(kv: KeyValueStore, data: Any, size: int) -> int:
    kv.set(bytes(ffi.buffer(data, size)))
    return 0


def check_hal_rc(rc: int, *hals: Any, error: type[M2mfotaError] = FlashError,
                 what: str = "") -> int:
    """Re-raise the exception a Python HAL stored, else map rc < 0 to `error`
    (shared by the flash wrappers, the client and the delta applier).
    ``hals`` are adapters with a ``.bridge`` (or None)."""
    reraise(*(hal.bridge for hal in hals if hal is not None))
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
