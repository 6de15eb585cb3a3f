"""The device side's C code against the emulator: uplinks the C core builds are
accepted (or refused) by the server's own Python token check, and the downlinks the
server writes are accepted by the C downlink parser."""

from __future__ import annotations

import hashlib
import os
import socket
import zlib

import pytest
from emulator_harness import ServerThread, request

from m2mfota.things import (
    ResponseError,
    UplinkResponse,
    build_uplink,
    parse_downlink,
    parse_uplink_response,
    status_records,
)

IMEI = "356938035643809"
SECRET = "c-side-secret"


def exchange(port: int, raw: bytes) -> UplinkResponse:
    """Send one raw HTTP request as the device would and frame the answer with the C code."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(raw)
        got = b""
        for _ in range(10_000):  # bounded: a response is far shorter
            chunk = sock.recv(4096)
            got += chunk
            try:
                return parse_uplink_response(got, eof=not chunk)
            except ResponseError as exc:
                if chunk and exc.code == "MFOTA_NEED_MORE":
                    continue
                raise
        raise AssertionError("no complete response")


@pytest.fixture
def server():
    with ServerThread() as srv:
        yield srv


def test_c_built_uplinks_drive_an_update_to_done(server):
    port = server.port
    assert request(port, "POST", "/api/devices",
                   json_body={"imei": IMEI, "secret": SECRET}).status == 201
    data = os.urandom(3000)
    fw = request(port, "POST", "/api/firmware?version=2.0.0", body=data).json()
    assert request(port, "PUT", f"/api/devices/{IMEI}/desired",
                   json_body={"firmware_id": fw["id"]}).status == 200

    def uplink(**status) -> UplinkResponse:
        raw = build_uplink(status_records(**status), imei=IMEI, secret=SECRET.encode())
        return exchange(port, raw)

    resp = uplink(firmware="1.0.0", state="idle", result=0)
    assert resp.status == 200
    cmd = parse_downlink(resp.body, IMEI)
    assert cmd.size == len(data) and cmd.crc32 == zlib.crc32(data)
    assert cmd.sha256 == hashlib.sha256(data).digest() and cmd.version == "2.0.0"
    assert cmd.url.startswith(f"http://127.0.0.1:{port}/f/v1/")
    got = request(port, "GET", "/" + cmd.url.split("/", 3)[3],
                  headers={"Authorization": f"Bearer {cmd.token}"})
    assert got.status == 200 and got.body == data
    # A downlink is refused by the C parser when it names another device.
    with pytest.raises(ValueError):
        parse_downlink(resp.body, "356938035643800")

    for pct in (25, 50, 100):
        resp = uplink(firmware="1.0.0", state="downloading", progress=pct)
        assert (resp.status, resp.body) == (204, b"")
        d = request(port, "GET", f"/api/devices/{IMEI}").json()
        assert d["reported"]["progress"] == pct and d["reported"]["state"] == "downloading"
    assert uplink(firmware="2.0.0", state="idle", result=1).status == 204
    d = request(port, "GET", f"/api/devices/{IMEI}").json()
    assert d["update"]["status"] == "done" and d["reported"]["result"] == 1


def test_c_built_uplink_with_the_wrong_secret_is_refused(server):
    port = server.port
    request(port, "POST", "/api/devices", json_body={"imei": IMEI, "secret": SECRET})
    raw = build_uplink(status_records(firmware="1.0.0"), imei=IMEI, secret=b"not-the-secret")
    assert exchange(port, raw).status == 401
    raw = build_uplink(status_records(firmware="1.0.0"), imei="356938035643800",
                       secret=SECRET.encode())
    assert exchange(port, raw).status == 401
    raw = build_uplink(status_records(firmware="1.0.0"), imei=IMEI, secret=SECRET.encode())
    assert exchange(port, raw).status == 204
    assert request(port, "GET", f"/api/devices/{IMEI}").json()["reported"]["firmware"] == "1.0.0"


def test_end_to_end_update_with_the_c_downloader_through_faults(server):
    """Device side all in C (uplink writer, downlink parser, ranged downloader over
    sockets) against the emulator, through a campaign with file server faults."""
    from m2mfota.download import DownloadError, download

    port = server.port
    request(port, "POST", "/api/devices", json_body={"imei": IMEI, "secret": SECRET,
                                                     "type": "e2e", "retry_limit": 1})
    data = os.urandom(20_000)
    fw = request(port, "POST", "/api/firmware?version=3.0.0", body=data).json()
    camp = request(port, "POST", "/api/campaigns", json_body={
        "firmware_id": fw["id"], "type": "e2e", "faults": {"forbidden": True}}).json()

    def uplink(**status) -> UplinkResponse:
        return exchange(port, build_uplink(status_records(**status), imei=IMEI,
                                           secret=SECRET.encode()))

    # Attempt 1: the file server refuses the token; the device reports a failure.
    cmd = parse_downlink(uplink(firmware="2.0.0", state="idle", result=0).body, IMEI)
    with pytest.raises(DownloadError):
        download(cmd.url, cmd.token, part_size=1024, timeout=10)
    assert uplink(firmware="2.0.0", state="idle", result=4).status == 204
    assert request(port, "GET", f"/api/campaigns/{camp['id']}").json()["counts"]["pending"] == 1

    # Attempt 2, with faults a careful device survives: a dropped connection and a bad
    # Digest (both retried), 206 instead of KPN's 200.
    faults = {"drop_after_bytes": 300, "wrong_digest": True, "use_206": True}
    assert request(port, "PUT", f"/api/campaigns/{camp['id']}/faults",
                   json_body=faults).status == 200
    resp = uplink(firmware="2.0.0", state="idle", result=4)
    assert resp.status == 200
    cmd2 = parse_downlink(resp.body, IMEI)
    assert cmd2.token != cmd.token and cmd2.url != cmd.url
    got = download(cmd2.url, cmd2.token, part_size=1024, timeout=10)
    assert got.data == data and got.retries >= 1 and got.requests > len(data) // 1024 + 1
    assert hashlib.sha256(got.data).digest() == cmd2.sha256
    assert zlib.crc32(got.data) == cmd2.crc32 and len(got.data) == cmd2.size
    stats = request(port, "GET", f"/api/devices/{IMEI}/download").json()["stats"]
    assert stats["requests"] == got.requests
    for pct in (50, 100):
        assert uplink(firmware="2.0.0", state="downloading", progress=pct).status == 204
    assert uplink(firmware="3.0.0", state="idle", result=1).status == 204
    c = request(port, "GET", f"/api/campaigns/{camp['id']}").json()
    assert c["counts"]["done"] == 1 and c["devices"][0]["attempts"] == 2
