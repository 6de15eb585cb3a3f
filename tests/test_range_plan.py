"""The C part planner: coverage, order, budget and per-connection limits."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from m2mfota.download import DownloadError, plan_parts, request_bytes

BUDGET, RESERVE, PER_CONN = 19999, 999, 100


@given(
    total=st.one_of(st.integers(0, 10**6), st.integers(0, 2**34)),
    part_size=st.integers(1, 1 << 20),
    align_pow=st.integers(0, 16),
    offset_frac=st.floats(0, 1),
    used=st.integers(0, 18000),
)
def test_plan_covers_the_file_once_in_order_within_the_limits(total, part_size, align_pow,
                                                              offset_frac, used):
    align = 1 << align_pow
    offset = int(total * offset_frac)
    try:
        plan = plan_parts(total, offset=offset, part_size=part_size, align=align,
                          requests_used=used)
    except DownloadError as exc:
        if total >= 2**32:
            # Images are under 4 GiB: the planner works in 32-bit arithmetic.
            assert exc.code == "MFOTA_ERR_DL_TOO_LARGE"
            return
        # Only when not even 4 GiB parts fit what is left of the budget.
        assert exc.code == "MFOTA_ERR_DL_BUDGET"
        assert (total - offset) / (BUDGET - used) > 2**32 - align
        return
    assert total < 2**32
    pos = offset
    per_conn: dict[int, int] = {}
    for first, length, conn in plan.parts:
        assert first == pos and 0 < length <= plan.part_size
        pos += length
        per_conn[conn] = per_conn.get(conn, 0) + 1
    assert pos == total
    assert all(n <= PER_CONN for n in per_conn.values())
    assert len(per_conn) == math.ceil(len(plan.parts) / PER_CONN)
    assert plan.requests == used + len(plan.parts) <= BUDGET
    # Parts grow only when they must, and then stay aligned.
    assert plan.part_size >= part_size
    if plan.part_size > part_size:
        assert plan.part_size % align == 0
        left = BUDGET - used
        left = left - RESERVE if left > RESERVE else left
        assert len(plan.parts) <= left
        smaller = plan.part_size - align
        assert smaller < part_size or math.ceil((total - offset) / smaller) > left


def test_default_part_size_is_kept_when_the_file_fits():
    plan = plan_parts(4 << 20)
    assert plan.part_size == 4096 and len(plan.parts) == 1024
    assert [p[2] for p in plan.parts[::100]] == list(range(11))


def test_big_file_gets_bigger_parts_with_room_for_retries():
    total = 200 << 20  # 51200 parts of 4 KiB would not fit 19999
    plan = plan_parts(total)
    assert plan.part_size % 4096 == 0 and len(plan.parts) <= BUDGET - RESERVE
    assert plan.part_size == math.ceil(total / (BUDGET - RESERVE) / 4096) * 4096


def test_resume_keeps_counting_requests():
    plan = plan_parts(1 << 20, offset=512 << 10, requests_used=19900)
    assert plan.parts[0][0] == 512 << 10 and plan.requests <= BUDGET
    with pytest.raises(DownloadError) as exc:
        plan_parts(1 << 20, requests_used=BUDGET)
    assert exc.value.code == "MFOTA_ERR_DL_BUDGET"


def test_last_part_is_clamped_and_empty_rest_has_no_parts():
    plan = plan_parts(10_000, part_size=4096, align=4096)
    assert [p[:2] for p in plan.parts] == [(0, 4096), (4096, 4096), (8192, 1808)]
    assert plan_parts(10_000, offset=10_000).parts == []


@pytest.mark.parametrize("total", [2**32, 2**32 + 1, 2**40])
def test_four_gib_and_more_is_too_large(total):
    with pytest.raises(DownloadError) as exc:
        plan_parts(total)
    assert exc.value.code == "MFOTA_ERR_DL_TOO_LARGE"


def test_largest_image_plans_in_32_bits():
    total = 2**32 - 1  # the largest image: parts grow, aligned, and cover it
    plan = plan_parts(total)
    assert plan.part_size == math.ceil(total / (BUDGET - RESERVE) / 4096) * 4096
    assert plan.parts[-1][0] + plan.parts[-1][1] == total


_EDGES = [0, 9, 10, 99, 2**32 - 2]


@given(first=st.one_of(st.sampled_from(_EDGES), st.integers(0, 2**32 - 2)),
       span=st.one_of(st.just(0), st.integers(0, 2**32 - 1)))
def test_range_numbers_are_written_exactly_in_32_bits(first, span):
    """The Range header's numbers are 32-bit (images are below 4 GiB) and
    written in decimal exactly, up to the largest last byte 2^32 - 2.  (The
    decimal writer over the whole 64-bit range is proved through the SenML
    fixed-point formatter in tests/c/selftest_senml.c.)"""
    last = min(first + span, 2**32 - 2)
    req = request_bytes("http://10.0.0.1/f", "tok", first, last).decode("ascii")
    m = re.search(r"^Range: ?bytes=(\d+)-(\d+)\r$", req, re.M)
    assert m and m.groups() == (str(first), str(last)), req


@pytest.mark.parametrize("first", [0, 2**32 - 2])
def test_range_numbers_beyond_32_bits_are_refused(first):
    """2^32 - 1 is the open end (MFOTA_HTTP_RANGE_OPEN), 2^32 does not fit:
    neither is a last byte, and the error names the argument."""
    req = request_bytes("http://10.0.0.1/f", "tok", first, None).decode("ascii")
    assert re.search(rf"^Range: ?bytes={first}-\r$", req, re.M), req
    for last in (2**32 - 1, 2**32):
        with pytest.raises(ValueError, match="last"):
            request_bytes("http://10.0.0.1/f", "tok", first, last)
    with pytest.raises(ValueError, match="first"):
        request_bytes("http://10.0.0.1/f", "tok", 2**32, None)
