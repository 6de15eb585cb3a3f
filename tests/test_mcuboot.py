"""MCUboot images made by MCUboot's own imgtool: accepted when intact, rejected
with any byte flipped; the trailer we write is the one MCUboot expects."""

from __future__ import annotations

import random
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from conftest import require_tool
from hypothesis import given, settings
from hypothesis import strategies as st

from m2mfota import ImageError, mcuboot_info
from m2mfota.flash import (
    FlashRegion,
    FlashWriter,
    McubootBootloader,
    NorFlash,
    mcuboot_check,
    mcuboot_clear_pending,
    mcuboot_mark_pending,
)

SLOT = 0x8000
SECTOR = 0x1000


def imgtool_path() -> str:
    beside = Path(sys.executable).parent / "imgtool"
    return str(beside) if beside.exists() else require_tool("imgtool")


def imgtool_sign(tmp: Path, payload: bytes, *extra: str, version="1.2.3+4", header=0x200) -> bytes:
    src = tmp / f"in-{zlib.crc32(payload):08x}.bin"
    out = tmp / f"out-{random.random()}.bin"
    src.write_bytes(payload)
    subprocess.run(
        [imgtool_path(), "sign", "--header-size", hex(header), "--align", "8", "--version", version,
         "--slot-size", hex(SLOT), "--pad-header", *extra, str(src), str(out)],
        check=True, capture_output=True,
    )
    return out.read_bytes()


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("imgtool")
    rng = random.Random(5)
    payload = rng.randbytes(5000)
    return {
        "payload": payload,
        "plain": imgtool_sign(tmp, payload),
        "protected": imgtool_sign(tmp, payload, "--custom-tlv", "0xa0", "0x12345678",
                                  version="2.0.7+65536"),
        "test": imgtool_sign(tmp, payload, "--pad", "--test"),
        "confirm": imgtool_sign(tmp, payload, "--pad", "--confirm"),
        "small-header": imgtool_sign(tmp, rng.randbytes(777), header=0x20, version="0.0.1"),
        "tmp": tmp,
    }


def test_imgtool_images_are_accepted(images):
    import hashlib

    info = mcuboot_info(images["plain"])
    assert info.version == "1.2.3+4"
    assert (info.header_size, info.image_size) == (0x200, 5000)
    body = images["plain"][: 0x200 + 5000]
    assert info.sha256 == hashlib.sha256(body).digest()
    assert info.total_size == len(images["plain"])
    assert body[0x200:] == images["payload"]

    prot = mcuboot_info(images["protected"])
    assert prot.version == "2.0.7+65536" and prot.protect_tlv_size > 0
    hashed = images["protected"][: 0x200 + 5000 + prot.protect_tlv_size]
    assert prot.sha256 == hashlib.sha256(hashed).digest()

    small = mcuboot_info(images["small-header"])
    assert (small.header_size, small.image_size, small.version) == (0x20, 777, "0.0.1+0")


@settings(max_examples=120)
@given(st.sampled_from(["plain", "protected"]), st.integers(0, 2**32 - 1), st.integers(1, 255))
def test_a_flipped_byte_anywhere_is_rejected(images, which, where, mask):
    good = images[which]
    bad = bytearray(good)
    bad[where % len(good)] ^= mask
    with pytest.raises(ImageError) as e:
        mcuboot_info(bytes(bad))
    assert e.value.code.startswith("MFOTA_ERR_MCUBOOT_")
    assert e.value.result in (5, 6)


@pytest.mark.parametrize("region", ["header", "body", "tlv"])
def test_a_flip_in_each_region_is_rejected(images, region):
    good = images["plain"]
    at = {"header": 14, "body": 0x200 + 2500, "tlv": len(good) - 5}[region]
    bad = bytearray(good)
    bad[at] ^= 0x80
    with pytest.raises(ImageError) as e:
        mcuboot_info(bytes(bad))
    if region in ("body", "tlv"):
        assert e.value.code == "MFOTA_ERR_MCUBOOT_HASH" and e.value.result == 5


def test_truncated_or_foreign_data_is_rejected(images):
    good = images["plain"]
    for cut in (0, 10, 32, 0x200, len(good) - 41, len(good) - 1):
        with pytest.raises(ImageError):
            mcuboot_info(good[:cut])
    with pytest.raises(ImageError) as e:
        mcuboot_info(b"\x7fELF" + bytes(100))
    assert e.value.code == "MFOTA_ERR_MCUBOOT_MAGIC" and e.value.result == 6


def write_slot(image: bytes, nor=None) -> NorFlash:
    nor = nor or NorFlash(SLOT, SECTOR, 8)
    w = FlashWriter(nor)
    w.begin(len(image))
    for off in range(0, len(image), SECTOR):
        part = image[off : off + SECTOR]
        w.write(off, part)
        w.part_commit(off, len(part), zlib.crc32(part))
    w.verify(size=len(image), crc32=zlib.crc32(image))
    return nor


@pytest.mark.parametrize("permanent", [False, True])
def test_the_trailer_is_written_as_mcuboot_expects(images, permanent):
    image = images["plain"]
    nor = write_slot(image)
    info = mcuboot_check(nor, len(image))
    assert info.version == "1.2.3+4"
    mcuboot_mark_pending(nor, len(image), permanent)
    slot = bytes(nor.data)
    # imgtool --pad --test / --confirm lay out magic and image_ok the way
    # MCUboot reads them; MCUboot's boot_set_pending() also records the swap
    # type in swap_info (image 0, type 2 test / 3 permanent) at -40.
    want = bytearray(images["confirm" if permanent else "test"])
    assert len(want) == SLOT
    want[SLOT - 40] = 0x03 if permanent else 0x02
    assert slot == bytes(want)
    assert slot[-16:] == bytes.fromhex("77c295f360d2ef7f3552500f2cb67980")
    assert slot[-24] == (0x01 if permanent else 0xFF)  # image_ok
    assert slot[-32] == 0xFF  # copy_done: the bootloader's
    # marking again is harmless; switching test -> permanent rewrites the trailer
    erases = nor.erases
    mcuboot_mark_pending(nor, len(image), permanent)
    assert bytes(nor.data) == slot and nor.erases == erases
    mcuboot_mark_pending(nor, len(image), not permanent)
    assert nor.data[-40] == (0x02 if permanent else 0x03)


def test_a_stale_trailer_is_cleared_and_an_overlapping_image_is_refused(images):
    image = images["plain"]
    nor = write_slot(image)
    mcuboot_mark_pending(nor, len(image))
    mcuboot_clear_pending(nor)
    assert nor.data[-48:] == b"\xff" * 48 and bytes(nor.data[: len(image)]) == image
    with pytest.raises(ImageError) as e:
        mcuboot_mark_pending(nor, SLOT - 47)
    assert e.value.code == "MFOTA_ERR_MCUBOOT_TRAILER"
    # a torn magic in a sector the image shares cannot be repaired in place
    big = NorFlash(SLOT, SECTOR, 8)
    big.erase(SLOT - SECTOR)
    big.program(SLOT - 16, bytes.fromhex("77c295f360d2ef7f"))
    with pytest.raises(ImageError) as e:
        mcuboot_mark_pending(big, SLOT - 100)
    assert e.value.code == "MFOTA_ERR_MCUBOOT_TRAILER"


def test_bootloader_hal_confirm_and_running_version(images):
    primary = NorFlash(SLOT, SECTOR, 8)
    primary.program(0, images["test"])  # what MCUboot leaves after a test swap
    secondary = NorFlash(SLOT, SECTOR, 8)
    bl = McubootBootloader(primary, secondary)
    assert bl.running_version() == "1.2.3+4"
    bl.confirm()
    assert bytes(primary.data) == images["confirm"]
    bl.confirm()  # idempotent
    write_slot(images["protected"], secondary)
    bl.mark_pending(len(images["protected"]), permanent=False)
    assert secondary.data[-16:] == primary.data[-16:]


def test_writer_slot_inside_a_bigger_flash(images):
    image = images["small-header"]
    nor = NorFlash(3 * SLOT, SECTOR, 8)
    slot = FlashRegion(nor, SLOT, SLOT)
    write_slot(image, slot)
    assert mcuboot_check(slot, len(image)).version == "0.0.1+0"
    mcuboot_mark_pending(slot, len(image))
    assert nor.data[2 * SLOT - 16 : 2 * SLOT] == bytes.fromhex("77c295f360d2ef7f3552500f2cb67980")
    assert nor.data[:SLOT] == b"\xff" * SLOT and nor.data[2 * SLOT :] == b"\xff" * SLOT



def test_a_hal_exception_in_the_trailer_write_reaches_the_caller(images):
    class Cut(Exception):
        pass

    class Dying(NorFlash):
        def program(self, offset, data):
            if offset >= SLOT - 48:
                self.cut = Cut()
                raise self.cut
            super().program(offset, data)

    nor = write_slot(images["plain"], Dying(SLOT, SECTOR, 8))
    with pytest.raises(Cut) as e:
        McubootBootloader(NorFlash(SLOT, SECTOR, 8), nor).mark_pending(len(images["plain"]))
    assert e.value is nor.cut
    assert nor.data[-48:] == b"\xff" * 48
