"""Delta campaigns in the emulator over real HTTP: "delta from version X" makes
the delta file from the stored firmware, serves it (ranged, with Digest) to
the devices reporting X, and does what the campaign says with the others."""

from __future__ import annotations

import hashlib
import random
import re
import struct
import sys
import zlib

import pytest
from emulator_harness import ServerThread, add_firmware, register, request
from emulator_harness import campaign as start

pytest.importorskip("detools")

from m2mfota.delta import apply_delta_file, parse_delta_header  # noqa: E402

SOURCE_MISMATCH = "delta_source"  # the engine's fota.error for a wrong source


def images(seed: int = 1, size: int = 24_000) -> tuple[bytes, bytes]:
    """v1 and a v2 that changes a few bytes and inserts a few: a small fix."""
    rnd = random.Random(seed)
    v1 = bytes(rnd.getrandbits(8) for _ in range(size))
    v2 = bytearray(v1)
    for off in (100, 5000, 17_000):
        v2[off:off + 8] = b"PATCHED!"
    v2[9000:9000] = b"a new function"
    return v1, bytes(v2)


def refused(port: int, **body) -> tuple[int, dict]:
    resp = request(port, "POST", "/api/campaigns", json_body=body)
    return resp.status, resp.json()


def fetch(port: int, cmd: dict, part: int = 5000) -> tuple[bytes, list[str]]:
    """The whole file behind a FOTA command, in ranged parts; each part's
    Digest checked against its body.  Returns the bytes and the statuses."""
    path = re.sub(r"^http://[^/]+", "", cmd["url"])
    out, statuses = b"", []
    while True:
        resp = request(port, "GET", path, headers={
            "Authorization": f"Bearer {cmd['token']}",
            "Range": f"bytes={len(out)}-{len(out) + part - 1}"})
        assert resp.status == 200, resp.body
        digest = resp.headers["Digest"].split("=", 1)[1]
        assert int(digest, 16) == zlib.crc32(resp.body)
        first, last, total = map(int, re.fullmatch(
            r"bytes (\d+)-(\d+)/(\d+)", resp.headers["Content-Range"]).groups())
        assert first == len(out) and last - first + 1 == len(resp.body)
        out += resp.body
        statuses.append(resp.headers["Content-Range"])
        if len(out) == total:
            return out, statuses


@pytest.fixture
def srv():
    with ServerThread() as server:
        yield server


def test_campaign_creation_errors_name_the_reason(srv, monkeypatch):
    port = srv.port
    v1, v2 = images()
    add_firmware(port, v1, "1.0.0")
    fw2 = add_firmware(port, v2, "2.0.0")
    register(port, "350000000000001", type="meter")
    base = {"firmware_id": fw2["id"], "type": "meter"}

    status, body = refused(port, **base, delta_from="0.9.0", others="full")
    assert status == 404 and body["field"] == "delta_from"
    assert "no firmware with version 0.9.0" in body["error"]
    status, body = refused(port, **base, delta_from="2.0.0", others="full")
    assert status == 400 and body["field"] == "delta_from"
    assert "campaign's own version" in body["error"]
    # what devices on another version get is never decided silently
    status, body = refused(port, **base, delta_from="1.0.0")
    assert status == 400 and body["field"] == "others" and '"full" or "skip"' in body["error"]
    status, body = refused(port, **base, delta_from="1.0.0", others="maybe")
    assert status == 400 and body["field"] == "others"
    status, body = refused(port, **base, others="full")
    assert status == 400 and body["field"] == "others" and "delta_from" in body["error"]
    status, body = refused(port, **base, delta_from="not a version!", others="full")
    assert status == 400 and body["field"] == "delta_from"
    # an MCUboot image and a plain binary: a device boots one kind
    header = struct.pack("<IIHHIIBBHI", 0x96F3B83D, 0, 32, 0, 100, 0, 3, 0, 0, 0)
    fw3 = add_firmware(port, header + bytes(4) + bytes(100), "3.0.0")
    assert fw3["kind"] == "mcuboot"
    status, body = refused(port, firmware_id=fw3["id"], type="meter", delta_from="1.0.0",
                           others="skip")
    assert status == 400 and "binary image, target a mcuboot" in body["error"]
    # no detools on the emulator's host: a 4xx that says what to install
    monkeypatch.setitem(sys.modules, "detools", None)
    status, body = refused(port, **base, delta_from="1.0.0", others="full")
    assert status == 400 and "detools" in body["error"] and "m2mfota[delta]" in body["error"]
    assert request(port, "GET", "/api/campaigns").json() == []  # nothing half-made
    assert request(port, "GET", "/api/deltas").json() == []


def test_delta_served_to_source_version_full_image_to_others(srv):
    port = srv.port
    v1, v2 = images()
    fw1 = add_firmware(port, v1, "1.0.0")
    fw2 = add_firmware(port, v2, "2.0.0")
    on_v1 = register(port, "350000000000001", type="meter")
    on_v0 = register(port, "350000000000002", type="meter")
    camp = start(port, firmware_id=fw2["id"], type="meter", delta_from="1.0.0", others="full")
    delta = camp["delta"]
    assert delta["source"]["id"] == fw1["id"] and delta["target"]["id"] == fw2["id"]
    assert delta["source"]["sha256"] == hashlib.sha256(v1).hexdigest()
    assert delta["target"]["sha256"] == hashlib.sha256(v2).hexdigest()
    assert delta["others"] == "full" and delta["size"] < len(v2) // 10
    assert delta["ratio"] == round(delta["size"] / len(v2), 4)
    assert delta["saved"] == len(v2) - delta["size"]
    assert camp["name"] == "2.0.0 to type meter (delta from 1.0.0)"

    cmd = on_v1.downlink(firmware="1.0.0")
    assert cmd["version"] == "2.0.0"
    # size and checksums describe the file served: the delta file
    assert (cmd["size"], cmd["crc32"], cmd["sha256"]) == (
        delta["size"], delta["crc32"], delta["sha256"])
    data, parts = fetch(port, cmd, part=100)
    assert len(parts) > 1 and len(data) == delta["size"]
    assert hashlib.sha256(data).hexdigest() == delta["sha256"]
    head = parse_delta_header(data)
    assert head is not None and head.source_sha256 == hashlib.sha256(v1).digest()
    assert apply_delta_file(v1, data) == v2  # the device's C applier rebuilds v2
    assert request(port, "GET", f"/api/devices/{on_v1.imei}").json()["update"]["delta_id"] \
        == delta["id"]

    cmd0 = on_v0.downlink(firmware="0.9.0")
    assert (cmd0["size"], cmd0["sha256"]) == (len(v2), fw2["sha256"])
    assert fetch(port, cmd0, part=len(v2))[0] == v2

    fetch(port, cmd, part=100)  # fetched twice: both count as sent
    # the device reboots into 2.0.0: done; the campaign tells who got what
    assert on_v1.downlink(firmware="2.0.0", result=1) is None
    assert request(port, "GET", f"/api/devices/{on_v1.imei}").json()["update"][
        "bytes_sent"] == 2 * delta["size"]
    rows = {d["imei"]: d for d in
            request(port, "GET", f"/api/campaigns/{camp['id']}").json()["devices"]}
    assert rows[on_v1.imei]["status"] == "done" and rows[on_v1.imei]["served"] == "delta"
    assert rows[on_v1.imei]["bytes_sent"] == 2 * delta["size"]
    assert rows[on_v0.imei]["served"] == "full"
    # the same pair again: the stored delta, not a new one
    again = request(port, "POST", "/api/deltas",
                    json_body={"source_id": fw1["id"], "target_id": fw2["id"]})
    assert again.status == 200 and again.json()["id"] == delta["id"]


def test_skip_leaves_other_versions_alone_until_they_run_the_source(srv):
    port = srv.port
    v1, v2 = images(2)
    add_firmware(port, v1, "1.0.0")
    fw2 = add_firmware(port, v2, "2.0.0")
    dev = register(port, "350000000000003", type="meter")
    camp = start(port, firmware_id=fw2["id"], imeis=[dev.imei], delta_from="1.0.0",
                 others="skip")
    assert dev.downlink(firmware="0.9.0") is None
    got = request(port, "GET", f"/api/campaigns/{camp['id']}").json()
    assert got["counts"]["skipped"] == 1 and got["devices"][0]["status"] == "skipped"
    assert dev.downlink(firmware="0.9.0") is None  # still nothing, no attempt spent
    assert request(port, "GET", f"/api/devices/{dev.imei}").json()["update"]["attempts"] == 0
    cmd = dev.downlink(firmware="1.0.0")  # updated to the source by other means
    assert cmd is not None and cmd["size"] == got["delta"]["size"]


@pytest.mark.parametrize(("others", "error"), [("full", SOURCE_MISMATCH),
                                               ("skip", SOURCE_MISMATCH),
                                               ("full", "delta_unsupported")])
def test_source_mismatch_shown_by_name_then_the_campaign_decides(srv, others, error):
    port = srv.port
    v1, v2 = images(3)
    add_firmware(port, v1, "1.0.0")
    fw2 = add_firmware(port, v2, "2.0.0")
    dev = register(port, "350000000000004")
    start(port, firmware_id=fw2["id"], imeis=[dev.imei], delta_from="1.0.0", others=others,
          retry_limit=3)
    assert dev.downlink(firmware="1.0.0")["size"] < len(v2)
    # its "1.0.0" is not the delta's source: the engine refuses the delta
    assert dev.downlink(firmware="1.0.0", state="idle", result=5, error=error) is None
    info = request(port, "GET", f"/api/devices/{dev.imei}").json()
    name = {SOURCE_MISMATCH: "delta: the running image is not the delta's source",
            "delta_unsupported": "delta: this device does not apply delta files"}[error]
    assert info["reported"]["error"] == error and info["reported"]["error_name"] == name
    events = request(port, "GET", f"/api/events?imei={dev.imei}&kind=uplink").json()
    assert f"fota.result 5 (integrity check failure), fota.error {error} ({name})" \
        in events[0]["message"]
    # the emulator does not send the same delta again: the campaign's choice applies
    cmd = dev.downlink(firmware="1.0.0")
    if others == "full":
        assert cmd is not None and cmd["size"] == len(v2) and cmd["sha256"] == fw2["sha256"]
    else:
        assert cmd is None
        assert request(port, "GET", f"/api/devices/{dev.imei}").json()["update"]["status"] \
            == "skipped"


def test_delta_page_api_and_firmware_deletion(srv):
    port = srv.port
    v1, v2 = images(4)
    fw1 = add_firmware(port, v1, "1.0.0")
    fw2 = add_firmware(port, v2, "2.0.0")
    made = request(port, "POST", "/api/deltas",
                   json_body={"source_id": fw1["id"], "target_id": fw2["id"]})
    assert made.status == 201
    d = made.json()
    assert request(port, "GET", f"/api/deltas/{d['id']}").json() == d
    assert request(port, "GET", "/api/deltas").json() == [d]
    assert d["compression"] == "heatshrink" and d["seconds"] >= 0
    for body, field in (({"source_id": fw1["id"], "target_id": fw1["id"]}, "source_id"),
                        ({"source_id": fw1["id"]}, "target_id"),
                        ({"source_id": fw1["id"], "target_id": 99}, "firmware_id"),
                        ({"source_id": 1, "target_id": 2, "x": 1}, "x")):
        resp = request(port, "POST", "/api/deltas", json_body=body)
        assert resp.status in (400, 404) and resp.json()["field"] == field, resp.body
    assert request(port, "GET", "/api/deltas/77").status == 404
    # a delta no campaign uses goes with its firmware
    assert request(port, "DELETE", f"/api/firmware/{fw1['id']}").status == 204
    assert request(port, "GET", "/api/deltas").json() == []
    fw1 = add_firmware(port, v1, "1.0.0")
    register(port, "350000000000005")
    start(port, firmware_id=fw2["id"], imeis=["350000000000005"], delta_from="1.0.0",
          others="full")
    resp = request(port, "DELETE", f"/api/firmware/{fw1['id']}")
    assert resp.status == 409 and "sends a delta of firmware" in resp.json()["error"]


def test_delta_download_survives_a_restart(tmp_path):
    db = str(tmp_path / "emu.sqlite3")
    v1, v2 = images(5)
    with ServerThread(db, jwt_secret=b"k" * 32) as server:
        add_firmware(server.port, v1, "1.0.0")
        fw2 = add_firmware(server.port, v2, "2.0.0")
        dev = register(server.port, "350000000000006")
        start(server.port, firmware_id=fw2["id"], imeis=[dev.imei], delta_from="1.0.0",
              others="full")
        cmd = dev.downlink(firmware="1.0.0")
        first, _ = fetch(server.port, cmd)
    with ServerThread(db, jwt_secret=b"k" * 32) as server:
        dev.port = server.port
        again, _ = fetch(server.port, cmd)  # the same URL and token, republished
        assert again == first and parse_delta_header(again) is not None
        # a device that lost the command gets the same delta file's checksums
        resent = dev.downlink(firmware="1.0.0", state="idle")
        assert resent["url"].rsplit("/", 1)[1] == cmd["url"].rsplit("/", 1)[1]
        assert (resent["size"], resent["sha256"]) == (cmd["size"], cmd["sha256"])


def one_device_on_v1(port: int, seed: int, imei: str, retry_limit: int):
    """A device on 1.0.0 in a campaign to 2.0.0 by delta (others "full"),
    sent its delta command: the device, the campaign, 2.0.0's row and image."""
    v1, v2 = images(seed)
    add_firmware(port, v1, "1.0.0")
    fw2 = add_firmware(port, v2, "2.0.0")
    dev = register(port, imei)
    camp = start(port, firmware_id=fw2["id"], imeis=[dev.imei], delta_from="1.0.0",
                 others="full", retry_limit=retry_limit)
    assert dev.downlink(firmware="1.0.0")["size"] == camp["delta"]["size"]
    return dev, camp, fw2, v2


def test_other_delta_errors_retry_the_delta(srv):
    dev, camp, _, _ = one_device_on_v1(srv.port, 6, "350000000000007", retry_limit=2)
    assert dev.downlink(firmware="1.0.0", result=5, error="delta_corrupt") is None
    assert dev.downlink(firmware="1.0.0")["size"] == camp["delta"]["size"]


def test_a_refused_delta_spends_no_attempt(srv):
    # retry_limit 0 allows one attempt: had the refusal spent it, the device
    # would end "failed" without ever being offered the full image.
    port = srv.port
    dev, _, fw2, v2 = one_device_on_v1(port, 7, "350000000000008", retry_limit=0)
    assert dev.downlink(firmware="1.0.0", result=5, error=SOURCE_MISMATCH) is None
    update = request(port, "GET", f"/api/devices/{dev.imei}").json()["update"]
    assert update["status"] == "retry" and update["attempts"] == 0
    cmd = dev.downlink(firmware="1.0.0")
    assert cmd is not None and cmd["size"] == len(v2) and cmd["sha256"] == fw2["sha256"]
    # the full image is its one attempt: a failure of it ends the update
    assert dev.downlink(firmware="1.0.0", result=5, error="sha256_mismatch") is None
    assert request(port, "GET", f"/api/devices/{dev.imei}").json()["update"]["status"] \
        == "failed"
