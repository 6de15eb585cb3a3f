"""Flash HALs, the streaming flash writer, the download journal and image checks.

The package is split the way the C core is: :mod:`m2mfota.flash.nor` (the
NOR model with power cuts), :mod:`m2mfota.flash.writer` (``flash_writer.c``,
``journal.c``, ``image_verify.c``) and :mod:`m2mfota.flash.mcuboot`
(``mcuboot.c``).  Every name is importable from :mod:`m2mfota.flash` itself.

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
the Python caller unchanged -- the very same object (see
:mod:`m2mfota._bridge`).  That is how tests cut the power: :class:`NorFlash`
raises :class:`PowerCut` after N operations.  The one exception to this is
:class:`HalFailure`: it makes the C callback return the port's own negative
code instead (as a C port's ``-EIO`` would), and is not raised again.

:class:`NorFlash` is the reference model; :class:`FlashRegion` is a window
on another flash (the journal's two sectors beside the update slot).
"""

from __future__ import annotations

from m2mfota._bridge import HalFailure
from m2mfota.flash._hal import (
    FlashDevice,
    FlashError,
    FlashGeometryError,
    FlashViolation,
    ImageError,
    KeyValueStore,
)
from m2mfota.flash.mcuboot import (
    McubootBootloader,
    McubootImage,
    mcuboot_check,
    mcuboot_clear_pending,
    mcuboot_confirm,
    mcuboot_info,
    mcuboot_mark_pending,
)
from m2mfota.flash.nor import FlashRegion, NorFlash, PowerCut
from m2mfota.flash.writer import (
    DictKV,
    FlashWriter,
    ImageReport,
    Journal,
    JournalRecord,
    verify_image,
)

__all__ = [
    "DictKV",
    "FlashDevice",
    "FlashError",
    "FlashGeometryError",
    "FlashRegion",
    "FlashViolation",
    "FlashWriter",
    "HalFailure",
    "ImageError",
    "ImageReport",
    "Journal",
    "JournalRecord",
    "KeyValueStore",
    "McubootBootloader",
    "McubootImage",
    "NorFlash",
    "PowerCut",
    "mcuboot_check",
    "mcuboot_clear_pending",
    "mcuboot_confirm",
    "mcuboot_info",
    "mcuboot_mark_pending",
    "verify_image",
]

# The public names keep m2mfota.flash as their home: that is where users
# import them from, where the docs point, and what pickle records.
for _name in __all__:
    _obj = globals()[_name]
    if getattr(_obj, "__module__", "").startswith("m2mfota."):
        _obj.__module__ = __name__
del _name, _obj

