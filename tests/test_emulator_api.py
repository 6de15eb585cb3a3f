"""The KPN Things emulator over real HTTP on 127.0.0.1: tokens, desired vs reported,
retries, campaigns, persistence, and 4xx errors that name the field."""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from conftest import require_tool
from emulator_harness import (
    ServerThread,
    SimDevice,
    add_firmware,
    campaign,
    fota_pack,
    register,
    request,
    sign,
)
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from m2mfota.emulator.app import API_APP

INGEST = "/ingestion/m2m/senml/v1"
JSON = {"Content-Type": "application/json"}


class Clock:
    """A clock the test moves by hand (token expiry without waiting)."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def server(clock):
    with ServerThread(clock=clock) as srv:
        yield srv


@pytest.fixture(scope="module")
def shared_server():
    with ServerThread() as srv:
        yield srv


def add_device(port: int, imei: str, **extra) -> SimDevice:
    return register(port, imei, **extra)


def device(port: int, imei: str) -> dict:
    return request(port, "GET", f"/api/devices/{imei}").json()


def uplink_count(port: int, imei: str) -> int:
    return len(request(port, "GET", f"/api/devices/{imei}/uplinks?limit=1000").json())


def mcuboot_image(major: int, minor: int, revision: int, build: int, payload: bytes) -> bytes:
    hdr_size = 0x200
    header = struct.pack("<IIHHIIBBHII", 0x96F3B83D, 0, hdr_size, 0, len(payload), 0,
                         major, minor, revision, build, 0)
    return header + bytes(hdr_size - len(header)) + payload


# -- token checks -------------------------------------------------------------------
def test_signed_uplink_is_accepted_and_stored(server, clock):
    dev = add_device(server.port, "356938035643809", type="meter")
    resp = dev.uplink(firmware="1.0.0")
    assert resp.status == 204 and resp.body == b""
    d = device(server.port, dev.imei)
    assert d["reported"]["firmware"] == "1.0.0"
    assert d["last_seen"] == clock.now
    assert uplink_count(server.port, dev.imei) == 1


def test_token_mismatch_unknown_device_and_bad_header_are_401(server):
    dev = add_device(server.port, "356938035643809", secret="s3cret")
    body = fota_pack(dev.imei, firmware="1.0.0")
    good = sign(body, "s3cret")
    cases = {
        "wrong secret": (body, sign(body, "other")),
        "body changed after signing": (body.replace(b"1.0.0", b"1.0.1"), good),
        "uppercase hex": (body, good.upper()),
        "truncated": (body, good[:63]),
        "secret before body": (body, hashlib.sha256(b"s3cret" + body).hexdigest()),
        "missing": (body, None),
        "unknown device": (fota_pack("356938035643800", firmware="1"),
                           sign(fota_pack("356938035643800", firmware="1"), "s3cret")),
    }
    for name, (data, token) in cases.items():
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Things-Message-Token"] = token
        resp = request(server.port, "POST", INGEST, body=data, headers=headers)
        assert resp.status == 401, name
        assert "error" in resp.json()
    # None of them reached the device's state or history.
    assert device(server.port, dev.imei)["last_seen"] is None
    assert uplink_count(server.port, dev.imei) == 0
    # ...while the right token still works.
    resp = request(server.port, "POST", INGEST, body=body,
                   headers={"Things-Message-Token": good})
    assert resp.status == 204


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(secret=st.text(st.characters(min_codepoint=0x20, blacklist_categories=("Cs",)),
                      min_size=1, max_size=40),
       version=st.text(alphabet="0123456789.", min_size=1, max_size=12),
       flip=st.integers(min_value=0, max_value=10_000))
def test_token_is_sha256_of_body_then_secret(shared_server, secret, version, flip):
    port = shared_server.port
    digest = hashlib.sha256(f"{secret}\0{version}".encode()).hexdigest()
    imei = "9" + str(int(digest, 16) % 10**14).zfill(14)
    resp = request(port, "POST", "/api/devices", json_body={"imei": imei, "secret": secret})
    if resp.status == 409:
        request(port, "PATCH", f"/api/devices/{imei}", json_body={"secret": secret})
    body = fota_pack(imei, firmware=version)
    good = sign(body, secret)
    bad = bytearray(body)
    i = flip % len(bad)
    bad[i] ^= 1 << (flip % 7)
    assert request(port, "POST", INGEST, body=bytes(bad),
                   headers={"Things-Message-Token": good}).status in (400, 401)
    assert request(port, "POST", INGEST, body=body,
                   headers={"Things-Message-Token": good}).status in (200, 204)
    assert device(port, imei)["reported"]["firmware"] == version


_value = st.one_of(
    st.tuples(st.just("v"), st.integers(-10, 1000) | st.floats(-1e6, 1e6)),
    st.tuples(st.just("vs"), st.text(max_size=70)),
    st.tuples(st.just("vb"), st.booleans()),
    st.tuples(st.just("v"), st.text(max_size=5)),       # invalid: a string under v
)
_record = st.builds(
    lambda head, value, extra: {**head, value[0]: value[1], **extra},
    st.fixed_dictionaries({}, optional={
        "bn": st.sampled_from(["urn:dev:IMEI:356938035643809:", "urn:dev:IMEI:1:", "x:"]),
        "n": st.sampled_from(["firmware", "fota.state", "fota.progress", "fota.result",
                              "fota.error", "a b"])}),
    _value,
    st.fixed_dictionaries({}, optional={"u": st.sampled_from(["%", "B"]),
                                        "t": st.integers(-5, 5)}))
senml_records = st.builds(
    lambda first, rest: [{"bn": "urn:dev:IMEI:356938035643809:", **first}, *rest],
    _record, st.lists(_record, max_size=5)) | st.lists(_record, max_size=4)


@settings(max_examples=80, deadline=None)
@given(body=senml_records.map(lambda recs: json.dumps(recs).encode())
       | st.binary(max_size=200))
def test_signed_garbage_never_causes_a_server_error(shared_server, body):
    port = shared_server.port
    request(port, "POST", "/api/devices",
            json_body={"imei": "356938035643809", "secret": "fuzz", "type": "fuzz"})
    resp = request(port, "POST", INGEST, body=body,
                   headers={"Things-Message-Token": sign(body, "fuzz")})
    event(f"HTTP {resp.status}")
    assert resp.status in (200, 204, 400, 401), (resp.status, resp.body)
    if resp.status >= 400:
        assert "error" in resp.json()
    d = device(port, "356938035643809")
    assert d["reported"]["progress"] is None or 0 <= d["reported"]["progress"] <= 100


def test_malformed_senml_is_400(server):
    add_device(server.port, "356938035643809", secret="k")
    for body in (b"not json", b"{}", b"[]", b'[{"n":"firmware","vs":"1"}]'):
        resp = request(server.port, "POST", INGEST, body=body,
                       headers={"Things-Message-Token": sign(body, "k")})
        assert resp.status in (400, 401), body
        assert resp.status != 200


# -- desired vs reported ------------------------------------------------------------
def test_downlink_only_when_desired_differs_and_no_update_running(server):
    port = server.port
    dev = add_device(port, "356938035643809", type="meter")
    other = add_device(port, "356938035643810", type="meter")
    data = os.urandom(5000)
    fw = add_firmware(port, data, "2.0.0")
    assert dev.downlink(firmware="1.0.0") is None          # no desired state yet
    assert other.downlink(firmware="2.0.0") is None
    campaign(port, firmware_id=fw["id"], type="meter")
    # The device that already runs 2.0.0 is done at once and never gets a command.
    assert device(port, other.imei)["update"]["status"] == "done"
    assert other.downlink(firmware="2.0.0") is None

    cmd = dev.downlink(firmware="1.0.0")
    assert cmd is not None
    assert cmd["size"] == len(data)
    assert cmd["crc32"] == f"{zlib.crc32(data):08x}"
    assert cmd["sha256"] == hashlib.sha256(data).hexdigest()
    assert cmd["version"] == "2.0.0"
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/\S+", cmd["url"])
    # The URL and token fetch the file from the same process.
    path = cmd["url"].split(str(port), 1)[1]
    got = request(port, "GET", path, headers={"Authorization": f"Bearer {cmd['token']}"})
    assert got.status == 200 and got.body == data
    assert device(port, dev.imei)["update"]["status"] == "downloading"
    # While the update runs, uplinks get no new command.
    for pct in (10, 50, 100):
        assert dev.downlink(firmware="1.0.0", state="downloading", progress=pct) is None
    assert device(port, dev.imei)["reported"]["progress"] == 100
    assert dev.downlink(firmware="1.0.0", state="updating") is None
    assert dev.downlink(firmware="2.0.0", state="idle", result=1) is None
    d = device(port, dev.imei)
    assert d["update"]["status"] == "done" and d["update"]["attempts"] == 1
    assert dev.downlink(firmware="2.0.0") is None


def test_failure_gets_new_downlink_on_later_uplink_up_to_retry_limit(server):
    port = server.port
    dev = add_device(port, "356938035643809")
    fw = add_firmware(port, b"\x01" * 300, "3.1")
    campaign(port, firmware_id=fw["id"], imeis=[dev.imei], retry_limit=2)
    tokens = set()
    for attempt in range(1, 4):                      # 1 + retry_limit downlinks
        cmd = dev.downlink(firmware="3.0")
        assert cmd is not None, attempt
        tokens.add(cmd["token"])
        assert device(port, dev.imei)["update"]["attempts"] == attempt
        # The uplink that reports the failure does not itself get the retry.
        assert dev.downlink(firmware="3.0", state="idle", result=5,
                            error="crc_mismatch") is None
    assert len(tokens) == 3
    d = device(port, dev.imei)
    assert d["update"]["status"] == "failed"
    assert d["reported"]["error"] == "crc_mismatch" and d["reported"]["result"] == 5
    for _ in range(3):
        assert dev.downlink(firmware="3.0") is None
    # Setting the desired state again starts a fresh series of attempts.
    resp = request(port, "PUT", f"/api/devices/{dev.imei}/desired",
                   json_body={"firmware_id": fw["id"], "retry_limit": 0})
    assert resp.status == 200 and resp.json()["update"]["status"] == "pending"
    assert dev.downlink(firmware="3.0") is not None
    assert dev.downlink(firmware="3.0", result=8) is None
    assert device(port, dev.imei)["update"]["status"] == "failed"


def test_expired_token_gets_a_new_downlink(server, clock):
    port = server.port
    dev = add_device(port, "356938035643809", retry_limit=1)
    fw = add_firmware(port, b"abc" * 100, "5")
    request(port, "PUT", f"/api/devices/{dev.imei}/desired", json_body={"firmware_id": fw["id"]})
    first = dev.downlink(firmware="4")
    assert first is not None
    clock.now += 3599
    assert dev.downlink(firmware="4", state="downloading", progress=3) is None
    clock.now += 2
    second = dev.downlink(firmware="4", state="downloading", progress=3)
    assert second is not None and second["token"] != first["token"]
    clock.now += 3601
    assert dev.downlink(firmware="4") is None          # retry limit 1: 2 attempts spent
    assert device(port, dev.imei)["update"]["status"] == "failed"


def test_reverted_device_counts_as_failure(server):
    port = server.port
    dev = add_device(port, "356938035643809", retry_limit=1)
    fw = add_firmware(port, b"z" * 64, "7.0")
    campaign(port, firmware_id=fw["id"], imeis=[dev.imei])
    assert dev.downlink(firmware="6.0") is not None
    assert dev.downlink(firmware="7.0") is None
    assert device(port, dev.imei)["update"]["status"] == "done"
    # MCUboot reverted the image: the device is back on 6.0.
    assert dev.downlink(firmware="6.0") is None
    assert device(port, dev.imei)["update"]["status"] == "retry"
    assert dev.downlink(firmware="6.0") is not None


# -- campaigns ------------------------------------------------------------------------
def test_campaign_counts_and_targets(server):
    port = server.port
    devs = [add_device(port, f"35693803564{i:04d}", type="tracker" if i < 6 else "meter",
                       client="acme" if i % 2 else "globex", retry_limit=0) for i in range(8)]
    fw = add_firmware(port, os.urandom(1000), "9.9.9")
    by_type = campaign(port, firmware_id=fw["id"], type="tracker", name="trackers")
    assert by_type["counts"] == {"pending": 6, "downloading": 0, "done": 0, "failed": 0,
                                 "superseded": 0, "skipped": 0, "total": 6}
    assert {d["imei"] for d in by_type["devices"]} == {d.imei for d in devs[:6]}
    # devs[0] done, devs[1] downloading, devs[2] failed, devs[3..5] pending
    assert devs[0].downlink(firmware="1") is not None
    assert devs[0].downlink(firmware="9.9.9") is None
    assert devs[1].downlink(firmware="1") is not None
    assert devs[1].downlink(firmware="1", state="downloading", progress=42) is None
    assert devs[2].downlink(firmware="1") is not None
    assert devs[2].downlink(firmware="1", result=6) is None
    got = request(port, "GET", f"/api/campaigns/{by_type['id']}").json()
    assert got["counts"] == {"pending": 3, "downloading": 1, "done": 1, "failed": 1,
                             "superseded": 0, "skipped": 0, "total": 6}
    per_device = {d["imei"]: d for d in got["devices"]}
    assert per_device[devs[1].imei]["progress"] == 42
    assert per_device[devs[0].imei]["reported"] == "9.9.9"
    assert per_device[devs[2].imei]["status"] == "failed"
    # A client campaign takes over the devices it targets from the type campaign.
    fw2 = add_firmware(port, os.urandom(10), "10.0")
    by_client = campaign(port, firmware_id=fw2["id"], client="acme")
    assert by_client["counts"]["total"] == 4 and by_client["counts"]["pending"] == 4
    got = request(port, "GET", f"/api/campaigns/{by_type['id']}").json()
    # devs 1, 3, 5 are acme (odd) and moved to the new campaign.
    assert got["counts"]["superseded"] == 3
    assert got["counts"]["total"] == 6
    listing = request(port, "GET", "/api/campaigns").json()
    assert [c["id"] for c in listing] == [by_client["id"], by_type["id"]]
    by_imeis = campaign(port, firmware_id=fw2["id"], imeis=[devs[6].imei, devs[6].imei])
    assert by_imeis["counts"]["total"] == 1


def test_faults_per_device_and_campaign_are_validated_and_stored(server):
    from m2mfota.emulator.faults import schema

    port = server.port
    dev = add_device(port, "356938035643809")
    props = schema()["properties"]
    assert props, "the file server's Faults dataclass has fields"
    name, spec = next(iter(props.items()))
    value = {"boolean": True, "integer": 3, "number": 0.5, "string": "x"}.get(
        spec.get("type"), None)
    resp = request(port, "PUT", f"/api/devices/{dev.imei}/faults", json_body={name: value})
    assert resp.status == 200, resp.body
    assert device(port, dev.imei)["faults"] == {name: value}
    resp = request(port, "PUT", f"/api/devices/{dev.imei}/faults",
                   json_body={"no_such_fault": 1})
    assert resp.status == 400 and resp.json()["field"] == "faults.no_such_fault"
    fw = add_firmware(port, b"q" * 10, "1")
    c = campaign(port, firmware_id=fw["id"], imeis=[dev.imei], faults={name: value})
    assert c["faults"] == {name: value}
    resp = request(port, "PUT", f"/api/campaigns/{c['id']}/faults", json_body=None)
    assert resp.status == 200 and request(
        port, "GET", f"/api/campaigns/{c['id']}").json()["faults"] is None


def test_mcuboot_version_is_read_from_the_header(server):
    port = server.port
    img = mcuboot_image(1, 2, 513, 7, os.urandom(100))
    fw = add_firmware(port, img)
    assert (fw["kind"], fw["version"], fw["size"]) == ("mcuboot", "1.2.513+7", len(img))
    assert add_firmware(port, mcuboot_image(4, 0, 3, 0, b"x"), "4.0.3")["version"] == "4.0.3"
    resp = request(port, "POST", "/api/firmware?version=9.9.9", body=img)
    assert resp.status == 400 and resp.json()["field"] == "version"
    resp = request(port, "POST", "/api/firmware", body=img[:-1])
    assert resp.status == 400 and resp.json()["field"] == "file"
    resp = request(port, "POST", "/api/firmware", body=img[:20])
    assert resp.status == 400 and resp.json()["field"] == "file"


def test_mcuboot_image_signed_by_imgtool(server, tmp_path):
    beside = Path(sys.executable).parent / "imgtool"
    imgtool = str(beside) if beside.exists() else require_tool("imgtool")
    src, out = tmp_path / "app.bin", tmp_path / "app.signed.bin"
    src.write_bytes(os.urandom(3000))
    subprocess.run([imgtool, "sign", "--header-size", "0x200", "--align", "8", "--version",
                    "3.14.159+2653", "--slot-size", "0x20000", "--pad-header", str(src), str(out)],
                   check=True, capture_output=True)
    fw = add_firmware(server.port, out.read_bytes())
    assert (fw["kind"], fw["version"]) == ("mcuboot", "3.14.159+2653")


def test_device_crud_and_uplink_history_limit(clock):
    with ServerThread(clock=clock, uplink_history=3) as srv:
        port = srv.port
        dev = add_device(port, "356938035643809", type="a", client="x")
        for i in range(5):
            clock.now += 1
            dev.uplink(firmware=f"1.{i}")
        ups = request(port, "GET", f"/api/devices/{dev.imei}/uplinks").json()
        assert [u["records"][0]["vs"] for u in ups] == ["1.4", "1.3", "1.2"]
        assert ups[0]["received"] == clock.now
        assert request(port, "GET", f"/api/devices/{dev.imei}/uplinks?limit=1").json() \
            == ups[:1]
        resp = request(port, "PATCH", f"/api/devices/{dev.imei}",
                       json_body={"type": "b", "secret": "new", "retry_limit": 7})
        assert resp.status == 200
        assert (resp.json()["type"], resp.json()["client"], resp.json()["secret"],
                resp.json()["update"]["retry_limit"]) == ("b", "x", "********", 7)
        assert request(port, "POST", f"/api/devices/{dev.imei}/secret").json()["secret"] \
            == "new"
        assert dev.uplink(firmware="2").status == 401          # old secret
        dev.secret = "new"
        assert dev.uplink(firmware="2").status == 204
        assert [d["imei"] for d in request(port, "GET", "/api/devices?type=b").json()] \
            == [dev.imei]
        assert request(port, "GET", "/api/devices?type=a").json() == []
        assert request(port, "DELETE", f"/api/devices/{dev.imei}").status == 204
        assert request(port, "GET", f"/api/devices/{dev.imei}").status == 404
        assert dev.uplink(firmware="2").status == 401           # unknown device now
        assert request(port, "DELETE", f"/api/devices/{dev.imei}").status == 404


# -- persistence ------------------------------------------------------------------------
def test_restart_with_a_file_database_loses_nothing(tmp_path, clock):
    db = str(tmp_path / "emu.sqlite3")
    with ServerThread(db, clock=clock) as srv:
        a = add_device(srv.port, "356938035643801", type="t", client="c")
        b = add_device(srv.port, "356938035643802", type="t", client="c")
        fw = add_firmware(srv.port, b"firmware" * 50, "2.0")
        c = campaign(srv.port, firmware_id=fw["id"], type="t")
        cmd = a.downlink(firmware="1.0")
        a.downlink(firmware="1.0", state="downloading", progress=60)
        b.downlink(firmware="2.0")
        before_devices = request(srv.port, "GET", "/api/devices").json()
        before_campaign = request(srv.port, "GET", f"/api/campaigns/{c['id']}").json()
        before_uplinks = request(srv.port, "GET", f"/api/devices/{a.imei}/uplinks").json()
    with ServerThread(db, clock=clock) as srv:
        assert request(srv.port, "GET", "/api/devices").json() == before_devices
        assert request(srv.port, "GET", f"/api/campaigns/{c['id']}").json() == before_campaign
        assert request(srv.port, "GET", f"/api/devices/{a.imei}/uplinks").json() \
            == before_uplinks
        assert before_campaign["counts"]["downloading"] == 1
        assert before_campaign["counts"]["done"] == 1
        # The interrupted download is served again with the token handed out before.
        path = "/" + cmd["url"].split("/", 3)[3]
        got = request(srv.port, "GET", path, headers={"Authorization": f"Bearer {cmd['token']}"})
        assert got.status == 200 and got.body == b"firmware" * 50
        # Secrets survived: the same device keeps talking and finishes.
        a.port = srv.port
        assert a.downlink(firmware="2.0") is None
        got = request(srv.port, "GET", f"/api/campaigns/{c['id']}").json()
        assert got["counts"]["done"] == 2


# -- errors ----------------------------------------------------------------------------
BAD_REQUESTS = [
    ("POST", "/api/devices", {"imei": "12-34"}, 400, "imei"),
    ("POST", "/api/devices", {"imei": 12345}, 400, "imei"),
    ("POST", "/api/devices", {"imei": "1", "type": 5}, 400, "type"),
    ("POST", "/api/devices", {"imei": "1", "secret": ["x"]}, 400, "secret"),
    ("POST", "/api/devices", {"imei": "1", "retry_limit": -1}, 400, "retry_limit"),
    ("POST", "/api/devices", {"imei": "1", "colour": "red"}, 400, "colour"),
    ("POST", "/api/devices", [1, 2], 400, "body"),
    ("POST", "/api/devices", {"imei": "EXISTING1"}, 409, "imei"),
    ("GET", "/api/devices/000000000000000", None, 404, "imei"),
    ("GET", "/api/devices/bad!imei", None, 400, "imei"),
    ("PATCH", "/api/devices/EXISTING1", {"secret": ""}, 400, "secret"),
    ("PUT", "/api/devices/EXISTING1/desired", {}, 400, "firmware_id"),
    ("PUT", "/api/devices/EXISTING1/desired", {"firmware_id": "1"}, 400, "firmware_id"),
    ("PUT", "/api/devices/EXISTING1/desired", {"firmware_id": 999}, 404, "firmware_id"),
    ("PUT", "/api/devices/EXISTING1/faults", [1], 400, "faults"),
    ("GET", "/api/devices/EXISTING1/uplinks?limit=0", None, 400, "limit"),
    ("GET", "/api/devices/EXISTING1/uplinks?limit=x", None, 400, "limit"),
    ("POST", "/api/campaigns", {"imeis": ["EXISTING1"]}, 400, "firmware_id"),
    ("POST", "/api/campaigns", {"firmware_id": 999, "imeis": ["EXISTING1"]}, 404, "firmware_id"),
    ("POST", "/api/campaigns", {"firmware_id": 1}, 400, "target"),
    ("POST", "/api/campaigns", {"firmware_id": 1, "type": "a", "client": "b"}, 400, "target"),
    ("POST", "/api/campaigns", {"firmware_id": 1, "imeis": []}, 400, "imeis"),
    ("POST", "/api/campaigns", {"firmware_id": 1, "imeis": ["EXISTING1", "X9"]}, 404,
     "imeis[1]"),
    ("POST", "/api/campaigns", {"firmware_id": 1, "imeis": ["EXISTING1", "X-"]}, 400,
     "imeis[1]"),
    ("POST", "/api/campaigns", {"firmware_id": 1, "type": "nobody"}, 404, "type"),
    ("POST", "/api/campaigns", {"firmware_id": 1, "client": ""}, 400, "client"),
    ("POST", "/api/campaigns", {"firmware_id": 1, "imeis": ["EXISTING1"], "retry_limit": True},
     400, "retry_limit"),
    ("GET", "/api/campaigns/abc", None, 400, "id"),
    ("GET", "/api/campaigns/77", None, 404, "campaign_id"),
    ("PUT", "/api/campaigns/77/faults", None, 404, "campaign_id"),
    ("GET", "/api/firmware/5", None, 404, "firmware_id"),
]


def test_bad_requests_get_4xx_json_naming_the_field(shared_server):
    port = shared_server.port
    request(port, "POST", "/api/devices", json_body={"imei": "EXISTING1"})
    if not request(port, "GET", "/api/firmware").json():
        add_firmware(port, b"fw", "1")
    for method, path, body, status, field in BAD_REQUESTS:
        raw = json.dumps(body).encode() if body is not None else None
        resp = request(port, method, path, body=raw, headers=JSON if raw else None)
        assert resp.status == status, (method, path, body, resp.body)
        assert resp.json()["field"] == field, (method, path, body)
    for method, path, raw in [("POST", "/api/devices", b"{"),
                              ("POST", "/api/devices", b"\xff\xfe"),
                              ("POST", "/api/firmware", b""),
                              ("POST", "/api/firmware", b"plain binary, no version")]:
        resp = request(port, method, path, body=raw,
                       headers=JSON if path == "/api/devices" else None)
        assert resp.status == 400 and "field" in resp.json(), (path, raw)
    resp = request(port, "DELETE", "/api/campaigns")
    assert resp.status == 405 and "error" in resp.json()
    assert request(port, "GET", "/api/nope").status == 404


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False)
    | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                max_size=4),
    max_leaves=10)
keys = st.sampled_from(["imei", "type", "client", "secret", "retry_limit", "firmware_id",
                        "imeis", "name", "faults"])


@settings(max_examples=60, deadline=None)
@given(path=st.sampled_from(["/api/devices", "/api/campaigns", "/api/devices/EXISTING1/desired",
                             "/api/devices/EXISTING1/faults", "/api/devices/EXISTING1"]),
       body=st.dictionaries(keys, json_values, max_size=5) | json_values)
def test_random_bodies_never_cause_a_server_error(shared_server, path, body):
    port = shared_server.port
    request(port, "POST", "/api/devices", json_body={"imei": "EXISTING1"})
    method = {"/api/devices/EXISTING1/desired": "PUT", "/api/devices/EXISTING1/faults": "PUT",
              "/api/devices/EXISTING1": "PATCH"}.get(path, "POST")
    resp = request(port, method, path, body=json.dumps(body).encode(), headers=JSON)
    assert resp.status < 500, (resp.status, resp.body)
    if resp.status >= 400:
        assert isinstance(resp.json()["error"], str)


def test_openapi_describes_every_api_route(shared_server):
    doc = request(shared_server.port, "GET", "/api/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    served = set()
    for route in shared_server.app[API_APP].router.routes():
        path = route.resource.canonical if route.resource else ""
        if path.startswith("/api/") and route.method != "HEAD":
            served.add((route.method, path))
    assert served == documented
    refs = re.findall(r'"#/components/schemas/(\w+)"', json.dumps(doc))
    assert refs and set(refs) <= set(doc["components"]["schemas"])


def _serve(db: str, *extra: str) -> tuple[subprocess.Popen, dict[str, str], int]:
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from m2mfota.cli import main; sys.exit(main())",
         "serve", "--db", db, "--port", "0", *extra],
        stdout=subprocess.PIPE, text=True)
    lines = []
    while not lines or not lines[-1].startswith("API key"):
        line = proc.stdout.readline()
        assert line, f"serve exited: {lines}"
        lines.append(line)
    addr = dict(line.split(None, 1) for line in lines if line.strip())
    port = int(re.search(r":(\d+)/", addr["dashboard"]).group(1))
    return proc, {k: v.strip() for k, v in addr.items()}, port


def test_serve_command_prints_addresses_and_serves(tmp_path):
    """The first start makes an API key and shows it once; the database keeps
    it (hashed, mode 0600); --api-key replaces it; --no-auth opens the API."""
    db = str(tmp_path / "cli.sqlite3")
    proc, addr, port = _serve(db)
    try:
        assert addr["ingestion"].endswith("/ingestion/m2m/senml/v1")
        assert addr["dashboard"] == f"http://127.0.0.1:{port}/"
        key = addr["API"].split()[1]
        assert len(key) >= 16
        assert request(port, "GET", "/api/info", api_key=None).status == 401
        assert request(port, "GET", "/api/info", api_key="wrong-key-0123456789").status == 401
        info = request(port, "GET", "/api/info", api_key=key).json()
        assert info["ingestion"] == addr["ingestion"]
        assert request(port, "GET", "/api/devices", api_key=None,
                       headers={"X-API-Key": key}).status == 200
        page = request(port, "GET", "/")
        assert page.status == 200 and b"KPN Things emulator" in page.body
        # the command's server takes KPN SDK-style requests (bare LF line ends) too
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(f"GET /api/info HTTP/1.1\nHost: 127.0.0.1:{port}\n"
                      f"Authorization: Bearer {key}\nConnection: close\n\n".encode())
            answer = b""
            while chunk := s.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200 ") and b'"ingestion"' in answer
    finally:
        proc.terminate()
        proc.wait(20)
    assert os.stat(db).st_mode & 0o777 == 0o600
    assert key.encode() not in Path(db).read_bytes()
    proc, addr, port = _serve(db)
    try:
        assert key not in addr["API"] and "stored" in addr["API"]
        assert request(port, "GET", "/api/info", api_key=key).status == 200
    finally:
        proc.terminate()
        proc.wait(20)
    proc, addr, port = _serve(db, "--api-key", "another-key-0123456789")
    try:
        assert request(port, "GET", "/api/info", api_key=key).status == 401
        assert request(port, "GET", "/api/info", api_key="another-key-0123456789").status == 200
    finally:
        proc.terminate()
        proc.wait(20)
    proc, addr, port = _serve(":memory:", "--no-auth")
    try:
        assert "anyone" in addr["API"]
        assert request(port, "GET", "/api/info", api_key=None).status == 200
    finally:
        proc.terminate()
        proc.wait(20)


def test_faults_reach_the_file_server_during_a_download(server):
    port = server.port
    dev = add_device(port, "356938035643809")
    data = os.urandom(2000)
    fw = add_firmware(port, data, "2")
    c = campaign(port, firmware_id=fw["id"], imeis=[dev.imei], faults={"forbidden": True})
    cmd = dev.downlink(firmware="1")
    path = "/" + cmd["url"].split("/", 3)[3]
    auth = {"Authorization": f"Bearer {cmd['token']}"}
    assert request(port, "GET", path, headers=auth).status == 403
    # Clearing the campaign's faults applies to the download in progress.
    assert request(port, "PUT", f"/api/campaigns/{c['id']}/faults", body=b"null").status == 200
    got = request(port, "GET", path, headers={**auth, "Range": "bytes=0-99"})
    assert got.status == 200 and got.body == data[:100]
    # A device's own faults win over its campaign's.
    request(port, "PUT", f"/api/campaigns/{c['id']}/faults", json_body={"forbidden": True})
    assert request(port, "GET", path, headers=auth).status == 403
    request(port, "PUT", f"/api/devices/{dev.imei}/faults", json_body={"not_found": True})
    assert request(port, "GET", path, headers=auth).status == 404
    request(port, "PUT", f"/api/devices/{dev.imei}/faults", json_body={"omit_digest": False})
    assert request(port, "GET", path, headers=auth).status == 200
    stats = request(port, "GET", f"/api/devices/{dev.imei}/download").json()
    assert stats["file_id"] and stats["stats"]["requests"] == 5
    assert stats["stats"]["statuses"] == {"200": 2, "403": 2, "404": 1}
