"""Progress-report throttling and retry backoff (sans-IO C modules)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from m2mfota._errors import ERR
from m2mfota._native import ffi, lib

DOWNLOADING = lib.MFOTA_STATE_DOWNLOADING


def make_policy(step, interval_ms):
    p = ffi.new("struct mfota_report_policy *", {"step_percent": step,
                                                 "min_interval_ms": interval_ms})
    assert lib.mfota_report_policy_init(p) == 0
    return p


def test_state_and_result_names():
    assert [ffi.string(lib.mfota_state_name(i)).decode() for i in range(4)] == [
        "idle", "downloading", "downloaded", "updating"]
    assert ffi.string(lib.mfota_result_name(lib.MFOTA_RESULT_INTEGRITY)) == b"integrity"
    assert ffi.string(lib.mfota_state_name(4)) == b"?"


@pytest.mark.parametrize("step", [0, 101])
def test_policy_rejects_bad_step(step):
    p = ffi.new("struct mfota_report_policy *", {"step_percent": step})
    assert lib.mfota_report_policy_init(p) == ERR["MFOTA_ERR_INVAL"]


@given(done=st.integers(0, 2**32 - 1), total=st.integers(0, 2**32 - 1))
def test_progress_percent(done, total):
    """Sizes are 32-bit (an image is below 4 GiB)."""
    got = lib.mfota_progress_percent(done, total)
    if total == 0:
        assert got == 0
    elif done >= total:
        assert got == 100
    else:
        assert 0 <= got <= 99
        assert abs(got - done * 100 // total) <= 1


@given(total=st.integers(1, 2**25 - 1), data=st.data())
def test_progress_percent_exact_below_32_mib(total, data):
    """Below 32 MiB (every image a small MCU takes) the 32-bit arithmetic
    is exact: floor(done * 100 / total)."""
    done = data.draw(st.integers(0, total - 1))
    assert lib.mfota_progress_percent(done, total) == done * 100 // total


def test_progress_percent_takes_32_bit_sizes_only():
    with pytest.raises(OverflowError):
        lib.mfota_progress_percent(0, 2**32)


@given(
    step=st.integers(1, 100),
    interval=st.integers(0, 60_000),
    total=st.integers(1, 10_000_000),
    part=st.integers(1, 100_000),
    ms_per_part=st.integers(0, 5_000),
)
def test_progress_uplinks_are_throttled(step, interval, total, part, ms_per_part):
    """A whole download sends at most one uplink per step and per interval
    (plus the first and the final one) -- never one per part."""
    p = make_policy(step, interval)
    sent = []
    now = 0
    done = 0
    while True:
        pct = lib.mfota_progress_percent(done, total)
        if lib.mfota_report_policy_due(p, DOWNLOADING, pct, now):
            lib.mfota_report_policy_sent(p, DOWNLOADING, pct, now)
            sent.append((now, pct))
        if done >= total:
            break
        done = min(total, done + part)
        now += ms_per_part
    assert sent[0][1] == lib.mfota_progress_percent(0, total)
    assert sent[-1][1] == 100  # completion always reported
    for (t0, p0), (t1, p1) in zip(sent, sent[1:-1]):
        assert p1 - p0 >= step and t1 - t0 >= interval
    assert len(sent) <= 100 // step + 2


def test_state_change_always_reports():
    p = make_policy(50, 10**9)
    lib.mfota_report_policy_sent(p, DOWNLOADING, 10, 0)
    assert not lib.mfota_report_policy_due(p, DOWNLOADING, 11, 1)
    assert lib.mfota_report_policy_due(p, lib.MFOTA_STATE_DOWNLOADED, 11, 1)


def test_unsent_uplink_stays_due():
    p = make_policy(10, 0)
    assert lib.mfota_report_policy_due(p, DOWNLOADING, 0, 0)
    # not marked sent (uplink failed): still due
    assert lib.mfota_report_policy_due(p, DOWNLOADING, 0, 5)


def make_backoff(base, cap, retries):
    b = ffi.new("struct mfota_backoff *", {"base_ms": base, "max_ms": cap,
                                           "max_retries": retries})
    assert lib.mfota_backoff_init(b) == 0
    return b


@given(
    base=st.integers(1, 10_000),
    extra=st.integers(0, 1_000_000),
    retries=st.integers(0, 40),
    randoms=st.lists(st.integers(0, 2**32 - 1), min_size=41, max_size=41),
)
def test_backoff_bounds_and_exhaustion(base, extra, retries, randoms):
    cap = base + extra
    b = make_backoff(base, cap, retries)
    out = ffi.new("uint32_t *")
    for i in range(retries):
        assert lib.mfota_backoff_next(b, randoms[i], out) == 0
        exp = min(cap, base * 2**i)
        assert (exp + 1) // 2 <= out[0] <= exp
    assert lib.mfota_backoff_next(b, randoms[-1], out) == ERR["MFOTA_ERR_RETRIES_EXHAUSTED"]
    lib.mfota_backoff_reset(b)
    if retries:
        assert lib.mfota_backoff_next(b, 0, out) == 0


def test_backoff_jitter_spreads():
    b = make_backoff(1000, 60_000, 1)
    out = ffi.new("uint32_t *")
    delays = set()
    for r in range(0, 2**32, 2**26):
        lib.mfota_backoff_reset(b)
        lib.mfota_backoff_next(b, r, out)
        delays.add(out[0])
    assert len(delays) > 30 and min(delays) >= 500 and max(delays) <= 1000


@pytest.mark.parametrize("base,cap", [(0, 10), (10, 5)])
def test_backoff_rejects_bad_config(base, cap):
    b = ffi.new("struct mfota_backoff *", {"base_ms": base, "max_ms": cap, "max_retries": 3})
    assert lib.mfota_backoff_init(b) == ERR["MFOTA_ERR_INVAL"]
