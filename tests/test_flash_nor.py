"""The NOR-flash model the C code is tested against must itself obey NOR rules."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from m2mfota.flash import FlashRegion, FlashViolation, NorFlash, PowerCut


def test_fresh_flash_is_erased_and_erase_restores():
    nor = NorFlash(4 * 256, sector_size=256, program_size=4)
    assert nor.read(0, nor.size) == b"\xff" * nor.size
    nor.program(256, b"\x00\x01\x02\x03")
    assert nor.read(256, 4) == b"\x00\x01\x02\x03"
    nor.erase(256)
    assert nor.read(256, 256) == b"\xff" * 256
    assert (nor.programs, nor.erases, nor.bytes_programmed) == (1, 1, 4)
    assert nor.sector_erases == [0, 1, 0, 0]


@given(st.binary(min_size=8, max_size=8), st.binary(min_size=8, max_size=8))
def test_programming_a_programmed_byte_raises_unless_erased_first(a, b):
    nor = NorFlash(512, sector_size=256, program_size=8)
    nor.program(0, a)
    if a == b"\xff" * 8:
        nor.program(0, b)  # still erased: allowed
        assert nor.read(0, 8) == b
        return
    with pytest.raises(FlashViolation):
        nor.program(0, b)
    nor.erase(0)
    nor.program(0, b)
    assert nor.read(0, 8) == b


@pytest.mark.parametrize("offset,length", [(1, 8), (4, 8), (8, 3), (0, 12)])
def test_misaligned_program_raises(offset, length):
    nor = NorFlash(512, sector_size=256, program_size=8)
    with pytest.raises(FlashViolation):
        nor.program(offset, b"\x00" * length)
    assert nor.read(0, 512) == b"\xff" * 512


@pytest.mark.parametrize("offset", [1, 128, 512, -256])
def test_misaligned_or_outside_erase_raises(offset):
    nor = NorFlash(512, sector_size=256, program_size=8)
    with pytest.raises(FlashViolation):
        nor.erase(offset)


def test_program_only_clears_bits():
    nor = NorFlash(256, sector_size=256, program_size=1)
    nor.program(0, b"\xf0")
    assert nor.read(0, 1) == b"\xf0"
    nor._apply(0, b"\x0f")  # what the silicon would do if asked anyway
    assert nor.read(0, 1) == b"\x00"


def test_power_cut_tears_the_operation_and_keeps_the_power_off():
    nor = NorFlash(1024, sector_size=256, program_size=8, cut_after=1)
    nor.program(0, b"\x00" * 32)
    with pytest.raises(PowerCut):
        nor.program(32, b"\x11" * 32)
    # half of the blocks landed
    assert nor.data[32:48] == b"\x11" * 16
    assert nor.data[48:64] == b"\xff" * 16
    with pytest.raises(PowerCut):
        nor.read(0, 1)
    nor.power_on()
    assert nor.read(0, 32) == b"\x00" * 32
    nor2 = NorFlash(1024, sector_size=256, program_size=8, cut_after=0)
    nor2.data[:] = b"\x00" * 1024
    with pytest.raises(PowerCut):
        nor2.erase(256)
    assert nor2.data[256:384] == b"\xff" * 128 and nor2.data[384:512] == b"\x00" * 128


def test_region_translates_offsets_and_shares_the_counters():
    nor = NorFlash(4 * 256, sector_size=256, program_size=4)
    region = FlashRegion(nor, 512, 512)
    region.erase(256)
    region.program(256, b"abcd")
    assert nor.read(768, 4) == b"abcd"
    assert (nor.erases, nor.programs) == (1, 1)
    with pytest.raises(ValueError):
        FlashRegion(nor, 100, 256)
