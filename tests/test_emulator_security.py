"""Safe by default: API key on the REST API, masked secrets with a reveal,
Host/Origin/Content-Type checks, browser security headers, a 0600 database,
a file-server budget junk tokens cannot spend, and 4xx (never 5xx) for
hostile numbers."""

from __future__ import annotations

import os
import urllib.request

import pytest
from emulator_harness import API_KEY, ServerThread, SimDevice, fota_pack, register, request
from hypothesis import given, settings
from hypothesis import strategies as st

from m2mfota.emulator import db
from m2mfota.emulator.app import create_app
from m2mfota.emulator.fileserver import FileServer, _parse_range, serve_in_thread
from m2mfota.emulator.keys import EMULATOR
from m2mfota.emulator.openapi import document
from m2mfota.emulator.security import key_hash

IMEI = "356938035643809"


@pytest.fixture(scope="module")
def srv():
    with ServerThread() as s:
        register(s.port, IMEI)
        yield s


def _concrete(path: str) -> str:
    return path.replace("{imei}", IMEI).replace("{id}", "1")


def test_every_api_operation_wants_the_key_but_the_openapi_document(srv):
    for path, ops in document()["paths"].items():
        for method in ops:
            resp = request(srv.port, method.upper(), _concrete(path), api_key=None,
                           body=b"{}" if method in ("post", "put", "patch") else None)
            if path == "/api/openapi.json":
                assert resp.status == 200
            else:
                assert resp.status == 401, (method, path, resp.body)
                assert resp.headers["WWW-Authenticate"].startswith("Bearer")
                assert resp.json()["field"] == "Authorization"


def test_device_endpoints_keep_their_own_authentication(srv):
    secret = request(srv.port, "POST", f"/api/devices/{IMEI}/secret").json()["secret"]
    dev = SimDevice(srv.port, IMEI, secret)
    assert dev.uplink(firmware="1.0").status == 204      # no API key, token only
    body = fota_pack(IMEI, firmware="1.0")
    resp = request(srv.port, "POST", "/ingestion/m2m/senml/v1", body=body,
                   headers={"Things-Message-Token": "0" * 64, "Host": "m.m"})
    assert resp.status == 401
    assert request(srv.port, "GET", "/f/v1/nope", headers={"Host": "m.m"}).status == 404


def test_secrets_are_masked_everywhere_and_revealed_only_with_the_key(srv):
    created = request(srv.port, "POST", "/api/devices",
                      json_body={"imei": "MASK1", "secret": "my-device-secret"})
    assert created.status == 201
    answers = [created.json(), request(srv.port, "GET", "/api/devices/MASK1").json(),
               request(srv.port, "PATCH", "/api/devices/MASK1", json_body={"type": "t"}).json(),
               *request(srv.port, "GET", "/api/devices").json()]
    for answer in answers:
        assert answer["secret"] == "********"
    for resp in (created, request(srv.port, "GET", "/api/devices")):
        assert b"my-device-secret" not in resp.body
    assert request(srv.port, "POST", "/api/devices/MASK1/secret", api_key=None).status == 401
    reveal = request(srv.port, "POST", "/api/devices/MASK1/secret")
    assert reveal.json() == {"imei": "MASK1", "secret": "my-device-secret"}
    assert reveal.headers["Cache-Control"] == "no-store"
    assert request(srv.port, "POST", "/api/devices/NOPE1/secret").status == 404


def test_foreign_origin_and_host_are_refused(srv):
    port = srv.port
    for origin in ("http://evil.example", f"http://127.0.0.1:{port + 1}", "null"):
        resp = request(port, "POST", "/api/devices", json_body={"imei": "ORIGIN1"},
                       headers={"Origin": origin})
        assert resp.status == 403 and resp.json()["field"] == "Origin", origin
    assert request(port, "GET", "/api/devices/ORIGIN1").status == 404  # nothing created
    same = request(port, "POST", "/api/devices", json_body={"imei": "ORIGIN2"},
                   headers={"Origin": f"http://127.0.0.1:{port}"})
    assert same.status == 201
    # DNS rebinding: a page of evil.example resolved to 127.0.0.1
    for host in ("evil.example", f"evil.example:{port}"):
        resp = request(port, "GET", "/api/devices", headers={"Host": host})
        assert resp.status == 403 and resp.json()["field"] == "Host"
    for host in (f"localhost:{port}", f"127.0.0.1:{port}"):
        assert request(port, "GET", "/api/devices", headers={"Host": host}).status == 200


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded",
                                   "multipart/form-data; boundary=x"])
def test_state_changing_requests_take_json_bodies_only(srv, ctype):
    resp = request(srv.port, "POST", "/api/devices", body=b'{"imei": "PLAIN1"}',
                   headers={"Content-Type": ctype})
    assert resp.status == 415 and resp.json()["field"] == "Content-Type"
    assert request(srv.port, "GET", "/api/devices/PLAIN1").status == 404


def test_browser_protection_headers(srv):
    for path in ("/", "/static/app.js", "/api/devices", "/api/nope"):
        resp = request(srv.port, "GET", path)
        assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"], path
        assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["X-Frame-Options"] == "DENY"
    refused = request(srv.port, "GET", "/api/devices", api_key=None)
    assert refused.headers["X-Frame-Options"] == "DENY"
    dev = request(srv.port, "GET", "/f/v1/none", headers={"Host": "m.m"})
    assert "Content-Security-Policy" not in dev.headers  # a device's bytes are airtime


def test_database_file_is_created_0600_whatever_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        path = tmp_path / "emu.sqlite3"
        db.connect(str(path)).close()
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o600
    for side in tmp_path.glob("emu.sqlite3-*"):
        assert side.stat().st_mode & 0o777 == 0o600, side


def test_api_key_stored_hashed_and_kept_across_starts(tmp_path):
    path = str(tmp_path / "k.sqlite3")
    app = create_app(path)
    key = app[EMULATOR].new_api_key
    assert key and len(key) >= 16
    app[EMULATOR].conn.close()
    again = create_app(path)
    assert again[EMULATOR].new_api_key is None
    assert again[EMULATOR].api_key_digest == app[EMULATOR].api_key_digest
    again[EMULATOR].conn.close()
    # --api-key replaces the stored key for later starts too, not only this one
    given = create_app(path, api_key="operator-chosen-key-0001")
    given[EMULATOR].conn.close()
    later = create_app(path)
    assert later[EMULATOR].new_api_key is None
    assert later[EMULATOR].api_key_digest == key_hash("operator-chosen-key-0001")
    later[EMULATOR].conn.close()
    with pytest.raises(ValueError, match="16-256"):
        create_app(":memory:", api_key="short")
    assert create_app(":memory:", auth=False)[EMULATOR].api_key_digest is None


def test_junk_tokens_do_not_spend_the_devices_request_budget():
    files = FileServer(jwt_secret=b"s" * 32, max_requests=5)
    pub = files.publish(b"x" * 100, device="d")
    with serve_in_thread(files) as running:
        def get(token: str) -> int:
            req = urllib.request.Request(running.url(pub),
                                         headers={"Authorization": f"Bearer {token}"})
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:
                    return resp.status
            except urllib.error.HTTPError as exc:
                return exc.code

        assert [get("junk") for _ in range(20)] == [401] * 20
        assert [get(pub.token) for _ in range(6)] == [200] * 5 + [403]
    assert files.stats(pub.file_id)["requests"] == 6


def test_a_5000_digit_range_is_an_answer_not_a_server_error(srv):
    files = FileServer(jwt_secret=b"s" * 32)
    pub = files.publish(b"abcdef", device="d")
    huge = "9" * 5000
    with serve_in_thread(files) as running:
        for rng, status in ((f"bytes=0-{huge}", 200), (f"bytes={huge}-", 416),
                            (f"bytes=-{huge}", 200)):
            req = urllib.request.Request(running.url(pub), headers={
                "Authorization": f"Bearer {pub.token}", "Range": rng})
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:
                    got = resp.status, resp.read()
            except urllib.error.HTTPError as exc:
                got = exc.code, b""
            assert got[0] == status, rng[:40]
            if status == 200:
                assert got[1] == b"abcdef"


@settings(max_examples=300)
@given(st.text(max_size=40) | st.from_regex(r"bytes=[0-9²٣]{0,30}-[0-9]{0,30}", fullmatch=True))
def test_range_parser_never_raises(header):
    for total in (0, 1, 100):
        got = _parse_range(header, total)
        assert got is None or got == "unsatisfiable" or (
            isinstance(got, tuple) and 0 <= got[0] <= got[1] < total)


def test_api_key_header_variants(srv):
    assert request(srv.port, "GET", "/api/devices", api_key=None,
                   headers={"X-API-Key": API_KEY}).status == 200
    assert request(srv.port, "GET", "/api/devices", api_key=None,
                   headers={"Authorization": f"bearer {API_KEY}"}).status == 200
    assert request(srv.port, "GET", "/api/devices", api_key=None,
                   headers={"Authorization": f"Basic {API_KEY}"}).status == 401
