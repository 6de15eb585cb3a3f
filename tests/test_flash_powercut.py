"""Power loss: cut the power at every flash operation of a full update -- every
program, every erase, every journal write, the trailer too -- then boot again,
resume from the journal and finish.  Also the journal's A/B behaviour under a
cut, and the wear of a clean update.

The pending check is independent of the C code: MCUboot's trailer magic at the
slot end, and the slot compared byte for byte with the image."""

from __future__ import annotations

import hashlib
import random
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from m2mfota.flash import FlashRegion, ImageError, Journal, NorFlash, PowerCut
from m2mfota.flash_sim import Device, Outcome, run_update

BOOT_MAGIC = bytes.fromhex("77c295f360d2ef7f3552500f2cb67980")  # MCUboot docs, BOOT_MAX_ALIGN 8


def mcuboot_image(payload: bytes, version=(1, 2, 3, 4), header_size=0x200) -> bytes:
    """A minimal MCUboot image (header, payload, TLV area with the SHA-256)."""
    major, minor, rev, build = version
    hdr = struct.pack("<IIHHIIBBHII", 0x96F3B83D, 0, header_size, 0, len(payload), 0,
                      major, minor, rev, build, 0)
    body = hdr + bytes(header_size - len(hdr)) + payload
    digest = hashlib.sha256(body).digest()
    return body + struct.pack("<HH", 0x6907, 4 + 4 + 32) + struct.pack("<BBH", 0x10, 0, 32) + digest


def pending(dev: Device) -> bool:
    slot = dev.flash.data[: dev.slot_size]
    return bytes(slot[-16:]) == BOOT_MAGIC


def slot_holds(dev: Device, image: bytes) -> bool:
    return bytes(dev.flash.data[: len(image)]) == image


def count_ops(make, image, **kw) -> int:
    dev = make()
    dev.flash.power_on()
    run_update(dev, image, **kw)
    assert pending(dev) and slot_holds(dev, image)
    return dev.flash.ops


def finish(dev: Device, image: bytes, **kw) -> tuple[Outcome, int]:
    """Boot until the update completes (a clean restart may take one more boot)."""
    for boots in range(1, 4):
        out = Outcome()
        try:
            run_update(dev, image, out=out, **kw)
            return out, boots
        except ImageError as exc:
            assert exc.code == "MFOTA_ERR_MCUBOOT_TRAILER"
    raise AssertionError("no progress after three boots")


SCENARIOS = {
    # name: (sector, program, slot sectors, payload bytes, part, old image in the slot)
    "fresh": (1024, 8, 8, 5 * 1024 + 300, 1024, False),
    "old-pending-image": (1024, 8, 8, 4 * 1024 + 77, 1024, True),
    "trailer-shares-last-sector": (1024, 8, 6, 5 * 1024 + 256, 1024, False),
    "parts-smaller-than-sector": (1024, 4, 6, 3 * 1024 + 10, 256, False),
    "failed-part-on-the-way": (1024, 8, 8, 4 * 1024 + 500, 1024, False),
}
# the part at this offset arrives corrupt on its first delivery in each boot
FAILING = {"failed-part-on-the-way": 2048}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_power_cut_at_every_flash_operation(name, capsys):
    sector, prog, nsec, payload_len, part, old = SCENARIOS[name]
    rng = random.Random(name)
    image = mcuboot_image(rng.randbytes(payload_len))
    old_image = mcuboot_image(rng.randbytes(2 * sector), version=(1, 0, 0, 0))
    kw = {"part_size": part}
    if name in FAILING:
        kw["corrupt"] = lambda off, attempt: off == FAILING[name] and attempt == 0

    def make() -> Device:
        dev = Device.make(nsec * sector, sector, prog)
        if old:
            run_update(dev, old_image, url="http://10.0.0.9/f/old", **kw)
            assert pending(dev)
        dev.flash.power_on()
        return dev

    total_ops = count_ops(make, image, **kw)
    # The journal is written at sector boundaries: a cut costs at most one
    # part when parts span whole sectors (the default), else one sector.
    bound = max(part, sector)
    cuts = resumes = restarts = corrupt = 0
    refetched = []
    for k in range(total_ops):
        dev = make()
        dev.flash.power_on(cut_after=k)
        first = Outcome()
        with pytest.raises(PowerCut):
            run_update(dev, image, out=first, **kw)
        cuts += 1
        # Invariant right after the cut: an armed trailer sits on an exact image.
        if pending(dev) and not (slot_holds(dev, image) or (old and slot_holds(dev, old_image))):
            corrupt += 1
        dev.flash.power_on()
        out, boots = finish(dev, image, **kw)
        assert pending(dev) and slot_holds(dev, image), f"cut {k}"
        if out.resumed and boots == 1:
            resumes += 1
            # bytes fetched twice because of the cut (not because a part failed)
            again = first.bytes_fetched + out.bytes_fetched - len(image)
            again -= sum(first.refetched) + sum(out.refetched)
            refetched.append(again)
            assert 0 <= again <= bound, f"cut {k}: {again} bytes fetched twice"
        else:
            restarts += 1
            # a clean restart: never more lost than what one part (and, for a
            # torn trailer, the whole image already written) had cost
            assert first.bytes_fetched <= bound or boots > 1, f"cut {k}"
    with capsys.disabled():
        print(f"\n[{name}] cuts tried: {cuts}, resumes: {resumes}, clean restarts: {restarts}, "
              f"bytes re-downloaded per resume: max {max(refetched, default=0)}, "
              f"mean {sum(refetched) / max(len(refetched), 1):.0f} (part {part}), "
              f"corrupt pending images: {corrupt}")
    assert corrupt == 0
    assert cuts == total_ops and resumes > 0


@settings(max_examples=25)
@given(st.lists(st.integers(0, 120), min_size=1, max_size=4), st.integers(0, 2**32 - 1))
def test_repeated_cuts_still_end_with_the_exact_image(cut_points, seed):
    rng = random.Random(seed)
    sector = 512
    image = mcuboot_image(rng.randbytes(rng.randint(1, 5 * sector)))
    part = rng.choice([sector, sector // 2, 2 * sector, 300])
    dev = Device.make(8 * sector, sector, 8)
    for k in cut_points:
        dev.flash.power_on(cut_after=k)
        try:
            run_update(dev, image, part_size=part)
        except (PowerCut, ImageError):
            pass
        if pending(dev):
            assert slot_holds(dev, image)
    dev.flash.power_on()
    finish(dev, image, part_size=part)
    assert pending(dev) and slot_holds(dev, image)


def test_journal_a_b_survives_a_cut_in_the_middle_of_a_record_or_erase():
    sector = 512  # two records per sector: switching sectors comes quickly
    nor = NorFlash(2 * sector, sector, 8)
    j = Journal(nor)
    j.begin("http://10.0.0.1/f", 10 * sector)
    seen = []
    for n in range(1, 8):
        j.requests = n
        j.restart()  # any record write will do
        seen.append(Journal(nor).load().seq)
    assert seen == sorted(seen) and len(set(seen)) == len(seen)
    # Cut the next write at each of its operations (erase of the other sector
    # and/or the program), tearing it: the previous record must survive.
    for cut in range(2):
        snapshot = bytes(nor.data)
        before = Journal(nor).load()
        nor.power_on(cut_after=cut)
        j2 = Journal(nor)
        j2.begin("http://10.0.0.1/f", 10 * sector)
        try:
            j2.restart()
            torn = False
        except PowerCut:
            torn = True
        nor.power_on()
        after = Journal(nor).load()
        if torn:
            assert after.seq == before.seq and after.requests == before.requests
        else:
            assert after.seq == before.seq + 1
        # the next write after a torn one goes through and wins
        j3 = Journal(nor)
        j3.begin("http://10.0.0.1/f", 10 * sector)
        j3.requests = 99
        j3.restart()
        assert Journal(nor).load().requests == 99 and Journal(nor).load().seq > after.seq
        nor.data[:] = snapshot


def test_clean_update_wear():
    sector = 4096
    image = mcuboot_image(random.Random(7).randbytes(30 * sector + 1000))
    dev = Device.make(40 * sector, sector, 8)
    out = run_update(dev, image, part_size=sector)
    used = -(-len(image) // sector)
    slot_sectors = dev.slot_size // sector
    erases = dev.flash.sector_erases
    assert erases[:used] == [1] * used, "each slot sector the image uses: erased exactly once"
    assert sum(erases[used:slot_sectors]) == 0
    assert out.stats["journal_writes"] <= used
    # journal region: a log of records, so far fewer erases than records
    assert sum(erases[slot_sectors:]) <= -(-out.stats["journal_writes"] // (sector // 240)) + 1
    print(f"\nclean update of {len(image)} B in {used} sectors: {out.stats}")


def test_journal_interval_is_configurable():
    sector = 1024
    image = mcuboot_image(random.Random(3).randbytes(12 * sector))
    dev = Device.make(16 * sector, sector, 8)
    out = run_update(dev, image, part_size=sector, interval_sectors=4)
    assert out.stats["journal_writes"] == -(-len(image) // (4 * sector))
    region = FlashRegion(dev.flash, dev.slot_size, 2 * sector)
    assert Journal(region).load().complete
