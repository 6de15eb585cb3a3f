"""A simulated device update: writer + journal + verification + MCUboot trailer.

This is the glue the client engine will do on a device, in Python, driven by
a fake part source instead of HTTP.  Tests use it to cut the power at every
flash operation; ``m2mfota flash-sim`` uses it to print the wear figures.
"""

from __future__ import annotations

import argparse
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable

from m2mfota import _args
from m2mfota._cli_types import UserError, int_range
from m2mfota._errors import M2mfotaError
from m2mfota.flash import (
    FlashRegion,
    FlashWriter,
    ImageError,
    Journal,
    NorFlash,
    mcuboot_check,
    mcuboot_clear_pending,
    mcuboot_mark_pending,
)

URL = "http://10.151.236.136/f/v1/c5801012-31c8-4346-9963-cf317f1b5aa3"


@dataclass
class Device:
    """One NOR chip: the update slot, then the journal's two sectors."""

    flash: NorFlash
    slot_size: int

    @classmethod
    def make(
        cls, slot_size: int, sector_size: int = 4096, program_size: int = 8
    ) -> Device:
        slot_size = _args.integer("slot_size", slot_size, 1, _args.U32)
        sector_size = _args.integer("sector_size", sector_size, 1, _args.U32 // 4)
        return cls(NorFlash(slot_size + 2 * sector_size, sector_size, program_size), slot_size)

    @property
    def slot(self) -> FlashRegion:
        return FlashRegion(self.flash, 0, self.slot_size)

    @property
    def journal_region(self) -> FlashRegion:
        return FlashRegion(self.flash, self.slot_size, 2 * self.flash.sector_size)


@dataclass
class Outcome:
    """What one boot's run of the update did."""

    start_offset: int = 0
    resumed: bool = False
    bytes_fetched: int = 0
    requests: int = 0
    refetched: list[Any] = field(default_factory=list)  # bytes fetched again after failed parts
    stats: dict[str, int] = field(default_factory=dict)
    pending: bool = False


def run_update(
    dev: Device,
    image: bytes,
    *,
    part_size: int,
    url: str = URL,
    mcuboot: bool = True,
    permanent: bool = False,
    corrupt: Callable[[int, int], bool] | None = None,
    interval_sectors: int = 1,
    out: Outcome | None = None,
) -> Outcome:
    """Run (or resume) the download of ``image`` into ``dev``'s slot and mark it
    pending.  ``corrupt(offset, attempt)`` returning True makes that delivery
    of the part at ``offset`` arrive with a flipped byte (a Digest mismatch).
    Exceptions from the flash (a power cut) propagate; ``out`` (filled as the
    run goes) then still tells what was fetched."""
    if not isinstance(dev, Device):
        raise TypeError(f"dev must be a Device, not {type(dev).__name__}")
    image = bytes(_args.buffer("image", image, max_size=dev.slot_size))
    part_size = _args.integer("part_size", part_size, 1, _args.U32)
    _args.text("url", url)
    _args.flag("mcuboot", mcuboot)
    _args.flag("permanent", permanent)
    _args.function("corrupt", corrupt, optional=True)
    _args.integer("interval_sectors", interval_sectors, 1, _args.U32)
    if out is not None and not isinstance(out, Outcome):
        raise TypeError(f"out must be an Outcome or None, not {type(out).__name__}")
    out = Outcome() if out is None else out
    size = len(image)
    journal = Journal(dev.journal_region, interval_sectors=interval_sectors)
    rec = journal.begin(url, size, crc32=zlib.crc32(image))
    slot = dev.slot
    if rec.offset == 0 and mcuboot:
        # Starting over: disarm an older request before new bytes land beside
        # it (after the journal names the new download, so a cut in between
        # cannot resume the old one).
        mcuboot_clear_pending(slot)
    writer = FlashWriter(slot, journal=journal)
    off = writer.begin(size, rec)
    out.start_offset, out.resumed, out.requests = off, rec.resumed, rec.requests
    attempts: dict[int, int] = {}
    while off < size:
        n = min(part_size - off % part_size, size - off)
        part = bytearray(image[off : off + n])
        digest = zlib.crc32(part)
        attempt = attempts.get(off, 0)
        attempts[off] = attempt + 1
        if corrupt is not None and corrupt(off, attempt):
            part[len(part) // 2] ^= 0x5A
        out.requests += 1
        journal.requests = out.requests
        out.bytes_fetched += n
        writer.write(off, bytes(part))
        try:
            writer.part_commit(off, n, digest)
        except M2mfotaError as exc:
            if exc.code != "MFOTA_ERR_FLASH_PART_CRC":
                raise
            again = writer.part_abort(off)
            out.refetched.append(off + n - again)
            off = again
            continue
        off += n
    writer.verify(size=size, crc32=zlib.crc32(image))
    if mcuboot:
        mcuboot_check(slot, size)
        try:
            mcuboot_mark_pending(slot, size, permanent)
        except ImageError as exc:
            if exc.code != "MFOTA_ERR_MCUBOOT_TRAILER":
                raise
            # A torn trailer in a sector the image shares: only a download
            # from scratch can erase that sector again.
            journal.restart()
            raise
    out.pending = True
    out.stats = writer.stats
    return out


MAX_SLOT = 64 * 1024 * 1024  # the NOR model lives in RAM


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--image-size", type=int_range(1, MAX_SLOT), default=200 * 1024,
                   help="bytes of the (random) image, at most the slot [%(default)s]")
    p.add_argument("--slot-size", type=int_range(1, MAX_SLOT), default=256 * 1024,
                   help="bytes of the update slot, a multiple of the sector [%(default)s]")
    p.add_argument("--sector-size", type=int_range(16, 1024 * 1024, power_of_two=True),
                   default=4096, help="erase sector of the NOR model, a power of two "
                   "[%(default)s]")
    p.add_argument("--program-size", type=int_range(1, 1024 * 1024, power_of_two=True),
                   default=8, help="program (write) block, a power of two dividing the sector "
                   "[%(default)s]")
    p.add_argument("--part-size", type=int_range(1, MAX_SLOT), default=4096,
                   help="bytes per simulated ranged request [%(default)s]")
    p.add_argument("--interval-sectors", type=int_range(1, 1 << 20), default=1,
                   help="sectors written between two journal checkpoints [%(default)s]")
    p.add_argument("--fail-part", type=int_range(0, MAX_SLOT), action="append", default=[],
                   metavar="OFFSET",
                   help="offset of a part (a multiple of --part-size inside the image) whose "
                        "first delivery fails its CRC (repeatable)")


def run(args: argparse.Namespace) -> int:
    """Simulate one update on a NOR model and print its flash statistics."""
    import os

    if args.slot_size % args.sector_size:
        raise UserError(f"--slot-size {args.slot_size} is not a multiple of --sector-size "
                        f"{args.sector_size}")
    if args.sector_size % args.program_size:
        raise UserError(f"--program-size {args.program_size} does not divide --sector-size "
                        f"{args.sector_size}")
    if args.image_size > args.slot_size:
        raise UserError(f"--image-size {args.image_size} does not fit --slot-size "
                        f"{args.slot_size}")
    for off in args.fail_part:
        # a part starts at a multiple of the part size: any other offset would never fail
        if off % args.part_size or off >= args.image_size:
            raise UserError(f"--fail-part {off} is no part: parts start at multiples of "
                            f"--part-size {args.part_size} below {args.image_size}")
    image = os.urandom(args.image_size)
    dev = Device.make(args.slot_size, args.sector_size, args.program_size)
    fails = set(args.fail_part)
    out = run_update(
        dev, image, part_size=args.part_size, mcuboot=False,
        interval_sectors=args.interval_sectors,
        corrupt=lambda off, attempt: attempt == 0 and off in fails,
    )
    sectors = -(-args.image_size // args.sector_size)
    slot_erases = sum(dev.flash.sector_erases[: args.slot_size // args.sector_size])
    print(f"image {args.image_size} B, sector {args.sector_size} B, program {args.program_size} B, "
          f"part {args.part_size} B: {sectors} sectors")
    for k, v in out.stats.items():
        print(f"  {k:17} {v}")
    print(f"  slot erases       {slot_erases}")
    print(f"  requests          {out.requests}")
    print(f"  bytes fetched     {out.bytes_fetched}")
    print(f"  re-fetched after failed parts: {out.refetched}")
    return 0
