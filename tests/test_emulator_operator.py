"""The operator's view through the API: the event log, results by name, the
firmware list with delete, and the /api/ index."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require_tool
from emulator_harness import ServerThread, SimDevice, register, request

from m2mfota.demo import mcuboot_image
from m2mfota.emulator.events import EventLog

IMEI = "356938035643820"


@pytest.fixture
def srv():
    with ServerThread() as s:
        yield s


def events(port: int, **query) -> list[dict]:
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    resp = request(port, "GET", "/api/events" + (f"?{qs}" if qs else ""))
    assert resp.status == 200, resp.body
    return resp.json()


def test_event_log_has_uplinks_downlinks_file_requests_and_refusals(srv):
    port = srv.port
    dev = register(port, IMEI)
    fw = request(port, "POST", "/api/firmware?version=2.0", body=b"f" * 300).json()
    request(port, "PUT", f"/api/devices/{IMEI}/desired", json_body={"firmware_id": fw["id"]})
    cmd = dev.downlink(firmware="1.0")
    path = "/" + cmd["url"].split("/", 3)[3]
    assert request(port, "GET", path, headers={"Authorization": f"Bearer {cmd['token']}",
                                                "Range": "bytes=0-99"}).status == 200
    assert request(port, "GET", path, headers={"Authorization": "Bearer junk"}).status == 401
    SimDevice(port, IMEI, "wrong").uplink(firmware="1.0")
    SimDevice(port, "111111111111111", "x").uplink(firmware="1.0")
    request(port, "POST", "/ingestion/m2m/senml/v1", body=b'[{"bn":1}]',
            headers={"Things-Message-Token": "0" * 64})
    log = events(port)
    assert [e["id"] for e in log] == sorted((e["id"] for e in log), reverse=True)
    by_kind = {}
    for e in log:
        by_kind.setdefault(e["kind"], []).append(e)
    assert by_kind["uplink"][0]["imei"] == IMEI
    assert "version=2.0" in by_kind["downlink"][0]["message"]
    assert by_kind["file"][0]["message"] == "GET bytes=0-99: 200"
    reasons = [e["message"] for e in by_kind["refused"]]
    assert any("401 token expired or invalid" in r for r in reasons)
    assert "bad Things-Message-Token" in reasons
    assert "unknown IMEI 111111111111111" in reasons
    bad = next(e for e in by_kind["refused"] if e["detail"].get("code"))
    assert bad["detail"] == {"code": "MFOTA_ERR_SENML_TYPE", "offset": 7}
    assert bad["message"] == "bad SenML pack: MFOTA_ERR_SENML_TYPE at byte 7"
    # filters and paging
    assert {e["kind"] for e in events(port, kind="refused")} == {"refused"}
    assert {e["imei"] for e in events(port, imei=IMEI)} == {IMEI}
    newest = log[0]["id"]
    assert events(port, after=newest) == []
    assert len(events(port, limit=2)) == 2
    assert request(port, "GET", "/api/events?kind=nope").status == 400


def test_event_ring_keeps_the_newest():
    log = EventLog(capacity=3, clock=lambda: 1.0)
    for i in range(5):
        log.add("uplink", imei=str(i))
    assert [e["imei"] for e in log.query()] == ["4", "3", "2"]
    assert [e["id"] for e in log.query(after=3)] == [5, 4]


def test_results_by_name(srv):
    port = srv.port
    dev = register(port, IMEI)
    dev.uplink(firmware="1.0", state="idle", result=5)
    d = request(port, "GET", f"/api/devices/{IMEI}").json()
    assert d["reported"]["result"] == 5
    assert d["reported"]["result_name"] == "integrity check failure"
    dev.uplink(firmware="1.0", result=42)
    assert request(port, "GET", f"/api/devices/{IMEI}").json()["reported"]["result_name"] \
        == "result 42"


def test_firmware_delete_and_api_index(srv):
    port = srv.port
    register(port, IMEI, type="t")
    a = request(port, "POST", "/api/firmware?version=1", body=b"a").json()
    b = request(port, "POST", "/api/firmware?version=2", body=b"b").json()
    assert request(port, "DELETE", f"/api/firmware/{a['id']}").status == 204
    assert request(port, "GET", f"/api/firmware/{a['id']}").status == 404
    assert request(port, "DELETE", f"/api/firmware/{a['id']}").status == 404
    request(port, "POST", "/api/campaigns", json_body={"firmware_id": b["id"], "type": "t"})
    refused = request(port, "DELETE", f"/api/firmware/{b['id']}")
    assert refused.status == 409 and "campaign 1" in refused.json()["error"]
    index = request(port, "GET", "/api/").json()
    assert index["openapi"] == "/api/openapi.json"
    assert index["paths"]["/api/firmware/{id}"] == ["DELETE", "GET"]
    assert "/api/events" in index["paths"]


def test_api_docs_page_is_served_from_the_package(srv):
    page = request(srv.port, "GET", "/docs/api", api_key=None)
    assert page.status == 200 and b'<script src="/static/api.js">' in page.body
    for asset in ("/docs/api", "/static/api.js", "/static/app.js", "/", "/static/style.css"):
        body = request(srv.port, "GET", asset, api_key=None).body
        # no CDN: nothing is loaded from another host
        assert b"https://" not in body and b"http://" not in body and b"//cdn" not in body, asset


def _imgtool() -> str:
    beside = Path(sys.executable).parent / "imgtool"
    return str(beside) if beside.exists() else require_tool("imgtool")


def _sign(tmp_path: Path, key_type: str, name: str) -> tuple[bytes, bytes]:
    """A freshly signed image and the PEM public key of its signer."""
    tool = _imgtool()
    key, pub = tmp_path / f"{name}.pem", tmp_path / f"{name}.pub.pem"
    src, out = tmp_path / f"{name}.bin", tmp_path / f"{name}.signed.bin"
    subprocess.run([tool, "keygen", "-k", str(key), "-t", key_type], check=True,
                   capture_output=True)
    pub.write_bytes(subprocess.run([tool, "getpub", "-k", str(key), "--encoding", "pem"],
                                   check=True, capture_output=True).stdout)
    src.write_bytes(os.urandom(3000))
    subprocess.run([tool, "sign", "-k", str(key), "--header-size", "0x200", "--align", "8",
                    "--version", "1.2.3", "--slot-size", "0x20000", "--pad-header",
                    str(src), str(out)], check=True, capture_output=True)
    return out.read_bytes(), pub.read_bytes()


def test_mcuboot_signature_checked_against_configured_keys(tmp_path):
    ec_image, ec_pub = _sign(tmp_path, "ecdsa-p256", "ec")
    ed_image, ed_pub = _sign(tmp_path, "ed25519", "ed")
    _, other_pub = _sign(tmp_path, "ecdsa-p256", "other")
    tampered = bytearray(ec_image)
    tampered[0x200 + 10] ^= 1
    unsigned = mcuboot_image(b"u" * 500, (1, 0, 0))

    def inspect(port: int, data: bytes) -> dict:
        fw = request(port, "POST", "/api/firmware", body=data).json()
        return request(port, "GET", f"/api/firmware/{fw['id']}").json()["mcuboot"]

    with ServerThread(mcuboot_keys=[other_pub, ec_pub, ed_pub]) as s:
        assert inspect(s.port, ec_image) == {"version": "1.2.3", "hash": "ok",
                                             "signature": "verified",
                                             "signature_type": "ecdsa-p256"}
        assert inspect(s.port, ed_image)["signature"] == "verified"
        bad = inspect(s.port, bytes(tampered))
        assert (bad["hash"], bad["signature"]) == ("bad", "bad")
        assert inspect(s.port, unsigned) == {"version": "1.0.0", "hash": "ok",
                                             "signature": "unsigned"}
        listed = request(s.port, "GET", "/api/firmware").json()
        assert all("mcuboot" not in f for f in listed)  # inspecting is per firmware
    with ServerThread(mcuboot_keys=[other_pub]) as s:
        assert inspect(s.port, ec_image)["signature"] == "bad"
    with ServerThread() as s:
        assert inspect(s.port, ec_image)["signature"] == "no key configured"


def test_serve_refuses_a_key_file_that_is_no_public_key(tmp_path, capsys):
    from m2mfota.cli import main

    junk = tmp_path / "key.pem"
    junk.write_text("not a key")
    try:
        code = main(["serve", "--mcuboot-key", str(junk)])
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 1 and "not a PEM public key" in err and len(err.strip().splitlines()) == 1
