"""Streaming flash writer, journal and whole-image verifier, driven from Python
through the flash HAL, against the NOR model and zlib/hashlib as oracles."""

from __future__ import annotations

import hashlib
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from m2mfota import FlashError, ImageError
from m2mfota.flash import (
    DictKV,
    FlashRegion,
    FlashViolation,
    FlashWriter,
    Journal,
    NorFlash,
    verify_image,
)

geometries = st.sampled_from([(256, 1), (256, 8), (512, 4), (1024, 16), (512, 32)])


@st.composite
def update_cases(draw):
    sector, prog = draw(geometries)
    nsectors = draw(st.integers(2, 6))
    size = draw(st.integers(1, nsectors * sector))
    image = draw(st.binary(min_size=size, max_size=size))
    part = draw(st.sampled_from([sector, 2 * sector, sector // 2, 100, 37]))
    return sector, prog, nsectors, image, part


def parts_of(size, part):
    off = 0
    while off < size:
        n = min(part, size - off)
        yield off, n
        off += n


@settings(max_examples=60)
@given(update_cases(), st.data())
def test_streamed_parts_land_exactly_and_each_sector_is_erased_once(case, data):
    sector, prog, nsectors, image, part = case
    nor = NorFlash(nsectors * sector, sector, prog)
    # Garbage where the image goes: the writer must erase before programming.
    nor.data[:] = data.draw(st.binary(min_size=nor.size, max_size=nor.size))
    w = FlashWriter(nor)
    assert w.begin(len(image)) == 0
    for off, n in parts_of(len(image), part):
        pos = off
        while pos < off + n:
            k = data.draw(st.integers(1, off + n - pos))
            w.write(pos, image[pos : pos + k])
            pos += k
            # never more than one program block waits in RAM
            assert w.c.buf_len < prog and w.c.flushed == pos - pos % prog
            assert nor.data[: w.c.flushed] == image[: w.c.flushed]
        w.part_commit(off, n, zlib.crc32(image[off : off + n]))
    used = -(-len(image) // sector)
    assert nor.data[: len(image)] == image
    padded = -(-len(image) // prog) * prog
    assert nor.data[len(image) : padded] == b"\xff" * (padded - len(image))
    assert nor.sector_erases[:used] == [1] * used
    assert w.stats["erases"] == used and w.stats["bytes_programmed"] == padded
    digest = hashlib.sha256(image).digest()
    report = w.verify(size=len(image), crc32=zlib.crc32(image), sha256=digest)
    assert report.crc32 == zlib.crc32(image) and report.sha256 == hashlib.sha256(image).digest()
    assert report.result == 0


def test_writes_outside_the_slot_or_image_are_refused_without_writing():
    nor = NorFlash(8 * 256, 256, 8)
    w = FlashWriter(nor, offset=512, size=1024)
    with pytest.raises(FlashError) as e:
        w.begin(1025)
    assert e.value.code == "MFOTA_ERR_FLASH_BOUNDS"
    w.begin(1000)
    with pytest.raises(FlashError) as e:
        w.write(0, b"\x00" * 1001)
    assert e.value.code == "MFOTA_ERR_FLASH_BOUNDS"
    w.write(0, b"\x01" * 990)
    with pytest.raises(FlashError) as e:
        w.write(990, b"\x02" * 11)
    assert e.value.code == "MFOTA_ERR_FLASH_BOUNDS"
    with pytest.raises(FlashError) as e:
        w.write(991, b"\x02")
    assert e.value.code == "MFOTA_ERR_FLASH_ORDER"
    assert nor.data[:512] == b"\xff" * 512 and nor.data[1536:] == b"\xff" * 512
    assert nor.data[512 : 512 + 984] == b"\x01" * 984  # whole blocks only
    assert nor.data[512 + 984 : 1536] == b"\xff" * (1024 - 984)


def test_flush_only_at_the_image_end():
    nor = NorFlash(4 * 256, 256, 8)
    w = FlashWriter(nor)
    w.begin(20)
    w.write(0, b"a" * 13)
    with pytest.raises(FlashError) as e:
        w.flush()
    assert e.value.code == "MFOTA_ERR_STATE"
    w.write(13, b"b" * 7)
    w.flush()
    assert nor.data[:24] == b"a" * 13 + b"b" * 7 + b"\xff" * 4


def test_a_wrong_part_crc_changes_nothing_and_parts_without_digest_are_counted():
    nor = NorFlash(4 * 256, 256, 8)
    w = FlashWriter(nor)
    w.begin(512)
    w.write(0, b"x" * 256)
    with pytest.raises(FlashError) as e:
        w.part_commit(0, 256, zlib.crc32(b"y" * 256))
    assert e.value.code == "MFOTA_ERR_FLASH_PART_CRC"
    assert w.committed_offset == 0
    w.part_commit(0, 256)  # no Digest: accepted on the writer's own CRC
    assert w.parts_unverified == 1 and w.committed_crc32 == zlib.crc32(b"x" * 256)


@settings(max_examples=50)
@given(update_cases(), st.sets(st.integers(0, 40), max_size=4))
def test_failed_parts_are_recovered_by_refetching_from_their_sector(case, failing):
    sector, prog, nsectors, image, part = case
    nor = NorFlash(nsectors * sector, sector, prog)
    w = FlashWriter(nor)
    w.begin(len(image))
    off, index, tried = 0, 0, set()
    fetched = 0
    while off < len(image):
        n = min(part, len(image) - off)
        body = bytearray(image[off : off + n])
        bad = index in failing and off not in tried
        if bad:
            tried.add(off)
            body[-1] ^= 0xFF
        w.write(off, bytes(body))
        fetched += n
        if not bad:
            w.part_commit(off, n, zlib.crc32(image[off : off + n]))
            off += n
            index += 1
            continue
        with pytest.raises(FlashError):
            w.part_commit(off, n, zlib.crc32(image[off : off + n]))
        flushed_before = w.c.flushed
        again = w.part_abort(off)
        if flushed_before <= off - off % prog:
            assert again == off  # nothing reached flash: RAM-only rollback
        else:
            assert again == off - off % sector  # the part's first sector, from its start
            assert nor.data[again:flushed_before] == b"\xff" * (flushed_before - again)
        off = again
    assert nor.data[: len(image)] == image
    w.verify(crc32=zlib.crc32(image))


def test_a_failed_part_larger_than_a_sector_costs_its_sectors():
    sector = 256
    nor = NorFlash(8 * sector, sector, 8)
    w = FlashWriter(nor)
    image = bytes(range(256)) * 8
    w.begin(len(image))
    w.write(0, image[:512])
    w.part_commit(0, 512, zlib.crc32(image[:512]))
    w.write(512, b"\x00" * 768)  # a 3-sector part that arrives corrupt
    with pytest.raises(FlashError):
        w.part_commit(512, 768, zlib.crc32(image[512:1280]))
    erases = nor.erases
    assert w.part_abort(512) == 512
    assert nor.erases - erases == 3  # exactly the 3 sectors it touched
    for off in (512, 1280):
        n = min(768, len(image) - off)
        w.write(off, image[off : off + n])
        w.part_commit(off, n, zlib.crc32(image[off : off + n]))
    assert nor.data[: len(image)] == image
    # refetched sectors are not erased again: 8 first erases + 3 recoveries
    assert nor.sector_erases == [1, 1, 2, 2, 2, 1, 1, 1]


class BitFlipFlash(NorFlash):
    """Programs one wrong bit at a chosen offset: read-back must catch it."""

    def __init__(self, *args, flip_at, **kwargs):
        super().__init__(*args, **kwargs)
        self.flip_at = flip_at

    def program(self, offset, data):
        super().program(offset, data)
        if offset <= self.flip_at < offset + len(data):
            b = self.data[self.flip_at]
            assert b != 0, "pick an offset whose byte has a bit to lose"
            self.data[self.flip_at] = b & (b - 1)  # a stuck bit: one 1 reads as 0
            self.flip_at = -1


def test_read_back_catches_a_bad_program_and_abort_recovers():
    nor = BitFlipFlash(4 * 256, 256, 8, flip_at=300)
    image = bytes(range(256)) * 3
    w = FlashWriter(nor)
    w.begin(len(image))
    w.write(0, image[:256])
    w.part_commit(0, 256, zlib.crc32(image[:256]))
    with pytest.raises(FlashError) as e:
        w.write(256, image[256:512])
    assert e.value.code == "MFOTA_ERR_FLASH_VERIFY" and w.failed
    with pytest.raises(FlashError) as e:
        w.write(512, image[512:])
    assert e.value.code == "MFOTA_ERR_STATE"
    assert w.part_abort(256) == 256
    for off in (256, 512):
        w.write(off, image[off : off + 256])
        w.part_commit(off, 256, zlib.crc32(image[off : off + 256]))
    assert nor.data[: len(image)] == image


class Boom(Exception):
    pass


class ExplodingFlash(NorFlash):
    def __init__(self, *args, when, **kwargs):
        super().__init__(*args, **kwargs)
        self.when = when
        self.raised = None

    def erase(self, offset):
        if self.when == "erase":
            self.raised = Boom("erase")
            raise self.raised
        super().erase(offset)

    def program(self, offset, data):
        if self.when == "program":
            self.raised = Boom("program")
            raise self.raised
        super().program(offset, data)


@pytest.mark.parametrize("when", ["erase", "program"])
def test_a_hal_exception_reaches_the_caller_unchanged_and_stops_the_write(when):
    nor = ExplodingFlash(4 * 256, 256, 8, when=when)
    w = FlashWriter(nor)
    w.begin(600)
    with pytest.raises(Boom) as e:
        w.write(0, b"\x00" * 600)
    assert e.value is nor.raised
    # nothing after the failing call: no program, no further erase
    assert nor.programs == 0 and nor.erases == (0 if when == "erase" else 1)
    assert nor.data == bytearray(b"\xff") * nor.size
    with pytest.raises(FlashError) as e2:
        w.write(600, b"")
    assert e2.value.code == "MFOTA_ERR_STATE"


def test_verify_reports_each_mismatch_as_an_integrity_failure():
    nor = NorFlash(4 * 256, 256, 8)
    image = bytes(range(200)) * 3
    w = FlashWriter(nor)
    w.begin(len(image))
    w.write(0, image)
    w.part_commit(0, len(image), zlib.crc32(image))
    good = w.verify(size=len(image), crc32=zlib.crc32(image), sha256=hashlib.sha256(image).digest())
    assert good.result == 0
    for kwargs, code in [
        ({"size": len(image) + 1}, "MFOTA_ERR_IMAGE_SIZE"),
        ({"crc32": zlib.crc32(image) ^ 1}, "MFOTA_ERR_IMAGE_CRC"),
        ({"sha256": bytes(32)}, "MFOTA_ERR_IMAGE_SHA256"),
    ]:
        with pytest.raises(ImageError) as e:
            w.verify(**kwargs)
        assert e.value.code == code and e.value.result == 5
    nor.data[77] = image[77] & (image[77] - 1)  # a flash fault after the part (77 != 0)
    with pytest.raises(ImageError) as e:
        w.verify()
    assert e.value.code == "MFOTA_ERR_IMAGE_READBACK" and e.value.result == 5
    with pytest.raises(ImageError) as e:
        verify_image(nor, len(image), zlib.crc32(image))
    assert e.value.code == "MFOTA_ERR_IMAGE_READBACK"


def test_verify_refuses_an_unfinished_image():
    w = FlashWriter(NorFlash(4 * 256, 256, 8))
    w.begin(300)
    w.write(0, b"\x00" * 100)
    with pytest.raises(ImageError) as e:
        w.verify()
    assert e.value.code == "MFOTA_ERR_IMAGE_INCOMPLETE"


URL = "http://10.0.0.1/f/v1/abc"


def journaled(nsectors=8, sector=256, prog=8, interval=1):
    nor = NorFlash((nsectors + 2) * sector, sector, prog)
    region = FlashRegion(nor, nsectors * sector, 2 * sector)
    return nor, region, Journal(region, interval_sectors=interval)


def test_journal_resumes_only_the_same_download():
    nor, region, j = journaled()
    assert j.load() is None
    rec = j.begin(URL, 1000, validator='"etag-1"')
    assert not rec.resumed and rec.offset == 0
    assert j.stats["journal_writes"] == 0  # an empty journal needs no reset record
    w = FlashWriter(FlashRegion(nor, 0, 8 * 256), journal=j)
    w.begin(1000, rec)
    image = bytes(range(250)) * 4
    w.write(0, image[:600])
    w.part_commit(0, 600, zlib.crc32(image[:600]))
    saved = Journal(region).load()
    assert saved.offset == 512 and saved.crc32 == zlib.crc32(image[:512])
    for other in [
        (URL + "x", 1000, '"etag-1"'),
        (URL, 1001, '"etag-1"'),
        (URL, 1000, '"etag-2"'),
        (URL, 1000, None),
    ]:
        j2 = Journal(region)
        rec2 = j2.begin(*other)
        assert not rec2.resumed and rec2.offset == 0
        assert j2.stats["journal_writes"] == 1  # the reset is written at once
        # ...and put back the original for the next round
        j3 = Journal(region)
        j3.begin(URL, 1000, validator='"etag-1"')
        w3 = FlashWriter(FlashRegion(nor, 0, 8 * 256), journal=j3)
        w3.begin(1000)
        w3.write(0, image[:512])
        w3.part_commit(0, 512, zlib.crc32(image[:512]))
    rec = Journal(region).begin(URL, 1000, validator='"etag-1"')
    assert rec.resumed and rec.offset == 512 and rec.crc32 == zlib.crc32(image[:512])


def test_journal_on_a_key_value_store():
    kv = DictKV()
    j = Journal(kv=kv)
    assert j.load() is None
    nor = NorFlash(8 * 256, 256, 8)
    j.begin(URL, 700)
    w = FlashWriter(nor, journal=j)
    w.begin(700)
    image = bytes(range(100)) * 7
    j.requests = 3
    w.write(0, image)
    w.part_commit(0, 700, zlib.crc32(image))
    assert kv.sets == 1  # one record: the final one
    rec = Journal(kv=kv).load()
    assert rec.complete and rec.offset == 700 and rec.requests == 3
    kv.value = kv.value[:-1] + bytes([kv.value[-1] ^ 1])
    assert Journal(kv=kv).load() is None


def test_journal_region_must_hold_a_record():
    nor = NorFlash(2 * 128, 128, 8)
    with pytest.raises(FlashError) as e:
        Journal(nor)
    assert e.value.code == "MFOTA_ERR_JOURNAL_REGION"
    with pytest.raises(FlashError):
        Journal(FlashRegion(NorFlash(4 * 256, 256, 8), 0, 256))


def test_nor_model_rejects_what_a_buggy_writer_would_do():
    # The writer never trips the model; a direct second program does.
    nor = NorFlash(2 * 256, 256, 8)
    nor.program(0, b"\x00" * 8)
    with pytest.raises(FlashViolation):
        nor.program(0, b"\x00" * 8)


def test_journal_skips_a_slot_whose_padding_is_not_erased():
    # Found by fuzz/journal_fuzz.c: a slot looks free by its record bytes while
    # its padding (record 236 B, stride 240 B) holds a stray 0x00.
    nor = NorFlash(2 * 1024, 1024, 8)
    j = Journal(nor)
    j.begin(URL, 1000)
    j.restart()
    nor.program(240 + 232, b"\xff\xff\xff\xff\x00\xff\xff\xff")  # slot 1, record CRC + padding
    j2 = Journal(nor)
    j2.begin(URL, 1000)
    j2.requests = 5
    j2.restart()  # would trip the NOR model if it reused slot 1
    rec = Journal(nor).load()
    assert rec.requests == 5 and rec.seq == 2


@settings(max_examples=40)
@given(
    # NUL-free: the journal takes C strings, and a NUL is refused by the API (ValueError)
    url=st.text(st.characters(blacklist_characters="\0"), min_size=1, max_size=80),
    validator=st.none() | st.text(st.characters(blacklist_characters="\0"), max_size=40),
    size=st.integers(1, 2**32 - 1),
    requests=st.integers(0, 19999),
    writes=st.integers(1, 40),
)
def test_journal_round_trip_and_newest_wins(url, validator, size, requests, writes):
    nor = NorFlash(2 * 1024, 1024, 8)
    j = Journal(nor)
    rec = j.begin(url, size, validator=validator, crc32=size & 0xFFFF, sha256=bytes(range(32)))
    assert not rec.resumed
    for n in range(writes):
        j.requests = requests + n
        j.restart()
    got = Journal(nor).load()
    assert (got.seq, got.requests, got.total_size, got.offset) == (writes, requests + writes - 1,
                                                                    size, 0)
    again = Journal(nor).begin(url, size, validator=validator)
    assert again.resumed and again.requests == requests + writes - 1
    other = Journal(nor).begin(url + "/", size, validator=validator)
    assert not other.resumed
