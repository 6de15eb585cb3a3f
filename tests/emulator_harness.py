"""Helpers for the emulator tests: a server on 127.0.0.1 in a thread, an HTTP
client, and a simulated device that signs its uplinks (independently of the C side)."""

from __future__ import annotations

import hashlib
import http.client
import json
from typing import Any

from m2mfota.emulator.app import create_app
from m2mfota.emulator.background import BackgroundServer

#: the API key every test server runs with (request() sends it to /api/)
API_KEY = "test-api-key-0123456789"


class ServerThread(BackgroundServer):
    """The emulator app on a free 127.0.0.1 port, in its own thread and event loop;
    it stops by itself after 600 s so it never outlives a test run.  Its REST
    API wants API_KEY unless ``auth=False`` or another ``api_key`` is given."""

    def __init__(self, db_path: str = ":memory:", **kwargs: Any) -> None:
        kwargs.setdefault("api_key", API_KEY)
        super().__init__(lambda: create_app(db_path, **kwargs), name="emulator-test",
                         max_lifetime=600)
        self.db_path = db_path
        self.kwargs = kwargs

    def __enter__(self) -> ServerThread:
        return self.start()  # type: ignore[return-value]

    @property
    def base(self) -> str:
        return self.base_url


class Response:
    def __init__(self, status: int, headers: http.client.HTTPMessage, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)


def request(port: int, method: str, path: str, *, json_body: Any = None, body: bytes | None = None,
            headers: dict[str, str] | None = None, api_key: str | None = API_KEY) -> Response:
    """One HTTP request; to ``/api/`` it carries ``api_key`` (None: no key)
    unless the headers bring their own Authorization."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        hdrs = dict(headers or {})
        if api_key is not None and path.startswith("/api") and "Authorization" not in hdrs:
            hdrs["Authorization"] = f"Bearer {api_key}"
        if json_body is not None:
            body = json.dumps(json_body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        elif body is not None and path.startswith("/api/") and \
                not path.startswith("/api/firmware"):
            hdrs.setdefault("Content-Type", "application/json")  # as a JSON client does
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        return Response(resp.status, resp.headers, resp.read())
    finally:
        conn.close()


def sign(body: bytes, secret: str) -> str:
    return hashlib.sha256(body + secret.encode()).hexdigest()


def fota_pack(imei: str, *, firmware: str | None = None, state: str | None = None,
              progress: float | None = None, result: int | None = None,
              error: str | None = None) -> bytes:
    """The SenML uplink a device sends: base name first, then the project's FOTA records."""
    recs: list[dict] = []
    if firmware is not None:
        recs.append({"n": "firmware", "vs": firmware})
    if state is not None:
        recs.append({"n": "fota.state", "vs": state})
    if progress is not None:
        recs.append({"n": "fota.progress", "u": "%", "v": progress})
    if result is not None:
        recs.append({"n": "fota.result", "v": result})
    if error is not None:
        recs.append({"n": "fota.error", "vs": error})
    if not recs:
        recs.append({"n": "battery", "u": "%", "v": 90})
    recs[0] = {"bn": f"urn:dev:IMEI:{imei}:", **recs[0]}
    return json.dumps(recs, separators=(",", ":")).encode()


class SimDevice:
    """A device as the server sees it: signed uplinks, downlinks in the responses."""

    def __init__(self, port: int, imei: str, secret: str) -> None:
        self.port = port
        self.imei = imei
        self.secret = secret

    def uplink(self, **fields: Any) -> Response:
        body = fota_pack(self.imei, **fields)
        return request(self.port, "POST", "/ingestion/m2m/senml/v1", body=body, headers={
            "Content-Type": "application/json", "Host": "m.m",
            "Things-Message-Token": sign(body, self.secret)})

    def downlink(self, **fields: Any) -> dict[str, Any] | None:
        """Send an uplink; the FOTA command of its response as {name: value}, or None."""
        resp = self.uplink(**fields)
        assert resp.status in (200, 204), (resp.status, resp.body)
        if resp.status == 204:
            assert resp.body == b""
            return None
        pack = resp.json()
        assert pack[0] == {"bn": f"urn:dev:IMEI:{self.imei}:"}
        return {r["n"]: r.get("vs", r.get("v")) for r in pack[1:]}


def register(port: int, imei: str, **extra: Any) -> SimDevice:
    """Register a device through the API and learn its secret (masked in the
    answer) through the reveal endpoint."""
    resp = request(port, "POST", "/api/devices", json_body={"imei": imei, **extra})
    assert resp.status == 201, resp.body
    assert resp.json()["secret"] == "********"
    secret = request(port, "POST", f"/api/devices/{imei}/secret").json()["secret"]
    return SimDevice(port, imei, secret)


def add_firmware(port: int, data: bytes, version: str | None = None) -> dict[str, Any]:
    """Upload an image (with its version, if given); the firmware row."""
    path = "/api/firmware" + (f"?version={version}" if version else "")
    resp = request(port, "POST", path, body=data,
                   headers={"Content-Type": "application/octet-stream"})
    assert resp.status == 201, resp.body
    return resp.json()


def campaign(port: int, **body: Any) -> dict[str, Any]:
    """Start a campaign that must be accepted; the campaign."""
    resp = request(port, "POST", "/api/campaigns", json_body=body)
    assert resp.status == 201, resp.body
    return resp.json()
