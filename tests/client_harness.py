"""Helpers for the client engine's end-to-end tests: the emulator on
127.0.0.1 (tests/emulator_harness.py), its REST API, and a device made of a
NOR-flash model (update slot + two journal sectors) and a C client."""

from __future__ import annotations

import itertools
import json
from typing import Any

from emulator_harness import ServerThread, request

from m2mfota.client import Client
from m2mfota.flash import FlashRegion, NorFlash

SECTOR = 4096
_imeis = itertools.count(1)


def api(srv: ServerThread, method: str, path: str, body: Any = None,
        raw: bytes | None = None) -> Any:
    if raw is not None:
        resp = request(srv.port, method, path, body=raw,
                       headers={"Content-Type": "application/octet-stream"})
    elif body is not None or method in ("PUT", "POST"):
        resp = request(srv.port, method, path, json_body=body,
                       body=b"null" if body is None else None,
                       headers={"Content-Type": "application/json"})
    else:
        resp = request(srv.port, method, path)
    assert resp.status < 300, (method, path, resp.status, resp.body[:300])
    return resp.json() if resp.body else None


def upload(srv: ServerThread, data: bytes, version: str | None = None) -> dict:
    query = f"?version={version}" if version else ""
    return api(srv, "POST", "/api/firmware" + query, raw=data)


def uplinks(srv: ServerThread, imei: str) -> list[dict]:
    """The records of every uplink the server got from ``imei``, oldest first,
    as {name: value} (the base name stripped)."""
    rows = api(srv, "GET", f"/api/devices/{imei}/uplinks?limit=1000")
    out = []
    for row in reversed(rows):
        recs = {}
        for rec in row["records"]:
            name = rec["n"].split(":")[-1]
            recs[name] = rec.get("vs", rec.get("v"))
        out.append(recs)
    return out


def last_downlink(srv: ServerThread, imei: str) -> bytes:
    rows = api(srv, "GET", f"/api/devices/{imei}/uplinks?limit=1000")
    for row in rows:
        if row["downlink"]:
            return json.dumps(row["downlink"], separators=(",", ":")).encode()
    raise AssertionError("no downlink was sent")


class Device:
    """A registered device with its own flash, ready to make clients."""

    def __init__(self, srv: ServerThread, *, image_size: int, secret: str = "s3cret",
                 version: str = "1.0.0", cut_after: int | None = None) -> None:
        self.srv = srv
        self.imei = f"9{next(_imeis):014d}"
        self.secret = secret
        self.version = version
        api(srv, "POST", "/api/devices", {"imei": self.imei, "secret": secret})
        self.slot_size = ((image_size + SECTOR - 1) // SECTOR + 1) * SECTOR
        self.nor = NorFlash(self.slot_size + 2 * SECTOR, sector_size=SECTOR, program_size=8,
                            cut_after=cut_after)
        self.slot = FlashRegion(self.nor, 0, self.slot_size)
        self.journal = FlashRegion(self.nor, self.slot_size, 2 * SECTOR)
        self.events: list[Any] = []

    def client(self, **kw: Any) -> Client:
        kw.setdefault("on_event", self.events.append)
        kw.setdefault("io_timeout", 3.0)
        kw.setdefault("retry_base", 0.05)
        kw.setdefault("retry_max", 0.5)
        return Client(imei=self.imei, secret=self.secret, version=self.version,
                      server=self.srv.base, flash=self.slot, journal=self.journal, **kw)

    def desire(self, firmware_id: int | None) -> None:
        api(self.srv, "PUT", f"/api/devices/{self.imei}/desired", {"firmware_id": firmware_id})

    def faults(self, faults: dict | None) -> None:
        api(self.srv, "PUT", f"/api/devices/{self.imei}/faults", faults)

    def info(self) -> dict:
        return api(self.srv, "GET", f"/api/devices/{self.imei}")

    def image(self, n: int) -> bytes:
        return bytes(self.nor.data[:n])

    def trailer_magic_set(self) -> bool:
        end = self.slot_size
        return bytes(self.nor.data[end - 16:end]) != b"\xff" * 16
