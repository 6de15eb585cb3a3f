"""MCUboot images and trailers (``mcuboot.c``) on Python flash HALs, and the
C bootloader HAL backed by MCUboot.

Failures raise :class:`~m2mfota.flash.ImageError` with the C error's name in
``.code``, or re-raise what a Python HAL raised.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from m2mfota import _args
from m2mfota._native import ffi, lib
from m2mfota.flash._hal import FlashDevice, FlashHal, ImageError, check_hal_rc

if TYPE_CHECKING:
    from m2mfota.trust import KeyLike

__all__ = [
    "McubootBootloader",
    "McubootImage",
    "mcuboot_check",
    "mcuboot_clear_pending",
    "mcuboot_confirm",
    "mcuboot_info",
    "mcuboot_mark_pending",
]


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
    hal = FlashHal(flash, offset, slot_size)
    limit = _args.integer("limit", limit, 0, _args.U32)
    out = ffi.new("struct mfota_mcuboot_image *")
    check_hal_rc(lib.mfota_mcuboot_check(hal.c, limit, out), hal, error=ImageError,
                 what="MCUboot check")
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
    hal = FlashHal(flash, offset, slot_size)
    image_size = _args.integer("image_size", image_size, 0, _args.U32)
    _args.flag("permanent", permanent)
    rc = lib.mfota_mcuboot_mark_pending(hal.c, image_size, 1 if permanent else 0)
    check_hal_rc(rc, hal, error=ImageError, what="MCUboot trailer")


def mcuboot_clear_pending(
    flash: FlashDevice, *, offset: int = 0, slot_size: int | None = None
) -> None:
    """Erase an armed trailer (a download that starts over)."""
    hal = FlashHal(flash, offset, slot_size)
    check_hal_rc(lib.mfota_mcuboot_clear_pending(hal.c), hal, error=ImageError,
                 what="MCUboot trailer")


def mcuboot_confirm(flash: FlashDevice, *, offset: int = 0, slot_size: int | None = None) -> None:
    """Set image_ok in the primary slot's trailer after a test boot."""
    hal = FlashHal(flash, offset, slot_size)
    check_hal_rc(lib.mfota_mcuboot_confirm(hal.c), hal, error=ImageError, what="MCUboot confirm")


class McubootBootloader:
    """The C bootloader HAL backed by MCUboot, on Python flash objects.
    ``keys``: trusted public keys (see :mod:`m2mfota.trust`); None: the hash
    TLV is checked, signatures are not."""

    def __init__(self, primary: FlashDevice, secondary: FlashDevice,
                 keys: Sequence[KeyLike] | None = None) -> None:
        from m2mfota.trust import Trust

        self._p = FlashHal(primary, name="primary")
        self._s = FlashHal(secondary, name="secondary")
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
        check_hal_rc(rc, self._p, self._s, self._trust, error=ImageError, what="check image")
        return ffi.string(buf).decode()

    def mark_pending(self, image_size: int, permanent: bool = False) -> None:
        image_size = _args.integer("image_size", image_size, 0, _args.U32)
        _args.flag("permanent", permanent)
        rc = self.c.mark_pending(self.c.ctx, image_size, 1 if permanent else 0)
        check_hal_rc(rc, self._p, self._s, error=ImageError, what="mark pending")

    def confirm(self) -> None:
        check_hal_rc(self.c.confirm(self.c.ctx), self._p, self._s, error=ImageError, what="confirm")

    def running_version(self) -> str:
        buf = ffi.new("char[48]")
        rc = self.c.running_version(self.c.ctx, buf, 48)
        check_hal_rc(rc, self._p, self._s, error=ImageError, what="running version")
        return ffi.string(buf).decode()
