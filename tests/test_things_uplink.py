"""The uplink request writer of the C core (docs/protocol.md §1 and §5)."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

import m2mfota
from m2mfota import senml, things
from m2mfota._errors import ERR
from m2mfota._native import ffi, lib

IMEI = "356938035643809"
SECRET = b"device-shared-secret"
GUARD = 64


def split_request(raw: bytes):
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("ascii").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(": ")
        assert name not in headers
        headers[name] = value
    return lines[0], headers, body


def check_request(raw: bytes, records, secret=SECRET, host="m.m", imei=IMEI):
    request_line, headers, body = split_request(raw)
    assert request_line == "POST /ingestion/m2m/senml/v1 HTTP/1.1"
    assert set(headers) == {"Host", "Content-Type", "Things-Message-Token", "Content-Length"}
    assert headers["Host"] == host
    assert headers["Content-Type"] == "application/json"
    assert headers["Content-Length"] == str(len(body))
    token = headers["Things-Message-Token"]
    assert re.fullmatch("[0-9a-f]{64}", token)
    assert token == hashlib.sha256(body + secret).hexdigest()
    assert token == things.uplink_token(body, secret)
    pack = json.loads(body)
    assert pack[0]["bn"] == f"urn:dev:IMEI:{imei}:"
    # the pack resolves to the records under the device's base name
    want = [{k: (float(v) if k in ("v", "s", "t", "ut") else v) for k, v in r.items()}
            for r in records]
    for r in want:
        r["n"] = f"urn:dev:IMEI:{imei}:" + r["n"]
    assert senml.loads(body) == want
    return body


def test_status_uplink():
    records = things.status_records(firmware="1.4.2", state="downloading", progress=42, result=0,
                                    error="crc_mismatch")
    assert records == [
        {"n": "firmware", "vs": "1.4.2"},
        {"n": "fota.state", "vs": "downloading"},
        {"n": "fota.progress", "u": "%", "v": 42.0},
        {"n": "fota.result", "v": 0.0},
        {"n": "fota.error", "vs": "crc_mismatch"},
    ]
    raw = things.build_uplink(records + [{"n": "temperature", "u": "Cel", "v": 21.5}],
                              imei=IMEI, secret=SECRET)
    body = check_request(raw, records + [{"n": "temperature", "u": "Cel", "v": 21.5}])
    assert body.startswith(b'[{"bn":"urn:dev:IMEI:356938035643809:","n":"firmware","vs":"1.4.2"}')


def test_status_records_leave_out_what_is_not_given():
    assert things.status_records(firmware="2.0") == [{"n": "firmware", "vs": "2.0"}]
    assert things.status_records(progress=150)[0]["v"] == 100.0


def test_uplink_without_records_carries_the_base_name():
    raw = things.build_uplink([], imei=IMEI, secret=SECRET)
    _, _, body = split_request(raw)
    assert json.loads(body) == [{"bn": f"urn:dev:IMEI:{IMEI}:"}]


def test_other_host():
    raw = things.build_uplink([{"n": "x", "v": 1}], imei=IMEI, secret=SECRET, host="10.0.0.1:8080")
    check_request(raw, [{"n": "x", "v": 1}], host="10.0.0.1:8080")


record = st.fixed_dictionaries(
    {"n": st.from_regex(r"[a-z][a-z0-9._-]{0,15}", fullmatch=True)},
    optional={"u": st.text(max_size=5), "t": st.floats(-1e9, 1e9)},
).flatmap(
    lambda r: st.one_of(
        st.builds(lambda v: {**r, "v": v}, st.floats(allow_nan=False, allow_infinity=False)),
        st.builds(lambda v: {**r, "v": v}, st.integers(-(2**53), 2**53)),
        st.builds(lambda v: {**r, "vs": v}, st.text(max_size=20)),
        st.builds(lambda v: {**r, "vb": v}, st.booleans()),
    )
)


@given(records=st.lists(record, max_size=20), secret=st.binary(max_size=64),
       imei=st.from_regex(r"[0-9]{15}", fullmatch=True))
def test_generated_uplinks(records, secret, imei):
    raw = things.build_uplink(records, imei=imei, secret=secret)
    check_request(raw, records, secret=secret, imei=imei)


def c_build(records, cap, imei=IMEI, secret=SECRET, host=b"m.m"):
    """Call the C writer with a buffer of `cap` bytes followed by a guard."""
    keep: list = []
    entries, _ = senml._entries(records, None, None, keep)
    buf = ffi.new("char[]", cap + GUARD)
    ffi.memmove(buf, b"\xa5" * (cap + GUARD), cap + GUARD)
    needed = ffi.new("size_t *")
    imei_b = imei.encode()
    rc = lib.mfota_things_build_uplink(buf, cap, needed, imei_b, len(imei_b), secret, len(secret),
                                       host, entries, len(records))
    return rc, needed[0], ffi.unpack(buf, cap + GUARD)


@given(records=st.lists(record, min_size=1, max_size=20), short=st.integers(1, 400))
def test_overflow_reports_size_and_writes_nothing(records, short):
    full = things.build_uplink(records, imei=IMEI, secret=SECRET)
    cap = max(len(full) - short, 0)
    rc, needed, mem = c_build(records, cap)
    assert rc == ERR["MFOTA_ERR_NOSPC"]
    assert needed == len(full)
    assert mem == b"\xa5" * (cap + GUARD)  # not even the buffer itself was touched
    rc, needed, mem = c_build(records, len(full))
    assert rc == 0 and needed == len(full)
    assert mem[: len(full)] == full
    assert mem[len(full):] == b"\xa5" * GUARD


@given(records=st.lists(record, min_size=1, max_size=10), data=st.data())
def test_senml_encoder_never_writes_past_its_buffer(records, data):
    full = senml.dumps(records)
    cap = data.draw(st.integers(0, len(full)))
    keep: list = []
    entries, count = senml._entries(records, None, None, keep)
    buf = ffi.new("char[]", cap + GUARD)
    ffi.memmove(buf, b"\x5a" * (cap + GUARD), cap + GUARD)
    needed = ffi.new("size_t *")
    rc = lib.mfota_senml_encode(entries, count, buf, cap, needed)
    assert needed[0] == len(full)
    assert rc == (0 if cap == len(full) else ERR["MFOTA_ERR_NOSPC"])
    mem = ffi.unpack(buf, cap + GUARD)
    assert mem[:cap] == full[:cap]  # what fits is the pack's prefix
    assert mem[cap:] == b"\x5a" * GUARD


@pytest.mark.parametrize(
    "kwargs",
    [{"imei": ""}, {"imei": "1" * 33}, {"host": "m m"}, {"host": ""}, {"host": "m\r\nX: y"}],
)
def test_bad_arguments(kwargs):
    args = {"imei": IMEI, "secret": SECRET, **kwargs}
    with pytest.raises(m2mfota.M2mfotaError) as info:
        things.build_uplink([{"n": "x", "v": 1}], **args)
    assert info.value.code == "MFOTA_ERR_INVAL"


def test_non_finite_value_is_refused_before_anything_is_written():
    keep: list = []
    entries, _ = senml._entries([{"n": "x", "v": 1.0}], None, None, keep)
    entries[0].v = float("nan")
    buf = ffi.new("char[]", 512)
    needed = ffi.new("size_t *")
    rc = lib.mfota_things_build_uplink(buf, 512, needed, b"1", 1, b"", 0, b"m.m", entries, 1)
    assert rc == ERR["MFOTA_ERR_SENML_RANGE"]
    assert ffi.unpack(buf, 512) == bytes(512)


@given(secret=st.text(max_size=40).filter(lambda t: not any(0xD800 <= ord(c) < 0xE000 for c in t)))
def test_str_secret_is_its_utf8_bytes(secret):
    records = [{"n": "x", "v": 1}]
    raw = things.build_uplink(records, imei=IMEI, secret=secret)
    assert raw == things.build_uplink(records, imei=IMEI, secret=secret.encode("utf-8"))
    _, headers, body = split_request(raw)
    expected = hashlib.sha256(body + secret.encode("utf-8")).hexdigest()
    assert headers["Things-Message-Token"] == expected


def test_secret_that_is_not_text_or_bytes_is_refused():
    for bad in (5, None, ["s"], 1.5):
        with pytest.raises(TypeError, match="secret"):
            things.build_uplink([], imei=IMEI, secret=bad)
    with pytest.raises(ValueError, match="secret"):
        things.build_uplink([], imei=IMEI, secret="\ud800")
