"""``POST /ingestion/m2m/senml/v1``: the KPN Things endpoint devices send uplinks to.

The token is recomputed here in plain Python (SHA-256 over body and secret): this
server is the oracle the device-side C code is tested against, not a copy of it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import sqlite3
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from m2mfota.emulator.app import Emulator

from m2mfota.emulator.events import Render
from m2mfota.emulator.jsontypes import Record
from m2mfota.emulator.keys import EMULATOR
from m2mfota.emulator.senml_io import decode_pack
from m2mfota.emulator.state import Reported, report_text, reported_from_records

PATH = "/ingestion/m2m/senml/v1"
MAX_BODY = 64 * 1024
TOKEN_RE = re.compile(r"[0-9a-f]{64}")
URN_RE = re.compile(r"urn:dev:IMEI:([0-9A-Za-z]{1,32}):")


def expected_token(body: bytes, secret: bytes) -> str:
    """Lowercase hex SHA-256 of body followed by the device's secret."""
    return hashlib.sha256(body + secret).hexdigest()


# Made once (json.dumps with options builds a new encoder per call).
_COMPACT = json.JSONEncoder(separators=(",", ":"))


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _refuse(emu: Emulator, status: int, answer: str, *, reason: str | None = None,
            imei: str | None = None, code: str | None = None,
            offset: int | None = None) -> web.Response:
    """The device's error answer, and the event the operator reads (whose
    reason may say more than the device is told, e.g. unknown IMEI)."""
    if code is None:
        emu.events.add("refused", imei=imei, status=status, message=reason or answer)
    else:  # a bad SenML pack: the decoder's error code and byte offset
        emu.events.add("refused", imei=imei, status=status, message=reason or answer,
                       code=code, offset=offset)
    return _error(status, answer)


def split_by_device(records: list[Record]) -> dict[str, list[Record]]:
    """The records of a pack grouped by the IMEI their resolved name starts
    with, in the order the devices first appear.  A gateway (KPN's SDK)
    writes several base names into one pack, one per device it speaks for.
    Raises ValueError for a record that names no device."""
    groups: dict[str, list[Record]] = {}
    prefix, group = "", None  # the last device's name prefix and its records
    for i, rec in enumerate(records):
        name = rec.get("n", "")
        # A name that starts with the previous record's urn:dev:IMEI:<imei>:
        # is that device's (the regex would match the same prefix): no regex
        # for the common case, a whole pack under one base name.
        if group is not None and name.startswith(prefix):
            group.append(rec)
            continue
        match = URN_RE.match(name)
        if match is None:
            raise ValueError(f"record {i} has no base name urn:dev:IMEI:<imei>:")
        prefix = match.group(0)
        group = groups.setdefault(match.group(1), [])
        group.append(rec)
    return groups


def stored_records(imei: str, body: bytes | str, records: str | None) -> list[Record]:
    """The records of ``imei`` in a stored uplink: its pack decoded again
    (a gateway pack holds other devices' records too), or the JSON that rows
    from before schema 3 kept.  The body was decoded when it came in, so it
    decodes now; should it not (a row edited by hand), no records."""
    if records is not None:
        recs: list[Record] = json.loads(records)
        return recs
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    try:
        return split_by_device(decode_pack(raw)).get(imei, [])
    except ValueError:
        return []


def _uplink_event(recs: list[Record], rep: Reported, gateway: str | None) -> Render:
    """The uplink event's words and record names, made when the log is read."""
    def render() -> tuple[str, dict[str, Any]]:
        fota = report_text(rep)
        message = (f"{len(recs)} record{'' if len(recs) == 1 else 's'}"
                   + (f" via gateway {gateway}" if gateway else "")
                   + (f": {fota}" if fota else ""))
        return message, {"records": [r.get("n", "").rsplit(":", 1)[-1] for r in recs[:20]]}
    return render


async def handle_uplink(request: web.Request) -> web.Response:
    """The route's handler (the emulator is the application's)."""
    return await uplink(request.app[EMULATOR], request)


async def uplink(emu: Emulator, request: web.Request) -> web.Response:
    """Answer one uplink for ``emu``: refused (4xx, with an event saying
    why), or stored and acknowledged (204, or 200 with a downlink) once its
    group is committed, or 503 when that commit failed."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        return _refuse(emu, 413, f"uplink larger than {MAX_BODY} bytes")
    body = await request.read()
    if len(body) > MAX_BODY:
        return _refuse(emu, 413, f"uplink larger than {MAX_BODY} bytes")
    token = request.headers.get("Things-Message-Token", "")
    if not TOKEN_RE.fullmatch(token):
        return _refuse(emu, 401, "missing or malformed Things-Message-Token")
    try:
        records = decode_pack(body)
    except ValueError as exc:
        code, offset = getattr(exc, "code", None), getattr(exc, "offset", None)
        return _refuse(emu, 400, f"bad SenML pack: {exc}",
                       reason=f"bad SenML pack: {code} at byte {offset}",
                       code=code, offset=offset)
    if not records:
        return _refuse(emu, 400, "the pack holds no record naming urn:dev:IMEI:<imei>:")
    try:
        groups = split_by_device(records)
    except ValueError as exc:
        return _refuse(emu, 400, str(exc))
    imeis = list(groups)
    device = emu.updates.device
    row = device(imeis[0])
    # The first device named signs the pack (for a gateway pack: the gateway).
    # Same answer for an unknown device and a wrong token: no registry probing.
    if row is None:
        return _refuse(emu, 401, "Things-Message-Token does not match",
                       reason=f"unknown IMEI {imeis[0]}", imei=imeis[0])
    if not hmac.compare_digest(expected_token(body, row["secret"].encode("utf-8")), token):
        return _refuse(emu, 401, "Things-Message-Token does not match",
                       reason="bad Things-Message-Token", imei=imeis[0])
    others = []
    for imei in imeis[1:]:
        other = device(imei)
        if other is None:
            return _refuse(emu, 400, f"gateway pack names unregistered device {imei}",
                           imei=imeis[0])
        others.append(other)
    try:
        reports = {imei: reported_from_records(recs, f"urn:dev:IMEI:{imei}:")
                   for imei, recs in groups.items()}
    except ValueError as exc:
        return _refuse(emu, 400, str(exc), imei=imeis[0])
    imei0 = row["imei"]
    now = emu.clock()
    with emu.uplink_transaction() as group:
        downlink = emu.updates.on_uplink(row, reports[imei0],
                                         public_base=lambda: emu.public_base(request),
                                         defer=group.defer_report)
        # Devices behind a gateway report through it, but a downlink could
        # only reach the gateway: their state is recorded, no update starts.
        for other in others:
            emu.updates.on_uplink(other, reports[other["imei"]], public_base="",
                                  downlink=False, defer=group.defer_report)
        text = _COMPACT.encode(downlink) if downlink else None
        for imei, recs in groups.items():
            mine = imei == imei0
            group.store(imei, now, body, text if mine else None)
            group.log("uplink", now, imei=imei, status=200 if text and mine else 204,
                      render=_uplink_event(recs, reports[imei], None if mine else imei0))
        if downlink:
            group.log("downlink", now, imei=imei0, status=200,
                      message="FOTA command " + " ".join(
                          f"{r['n']}={r.get('vs', r.get('v'))}" for r in downlink[1:]
                          if r.get("n") in ("version", "size", "url")))
    try:
        await emu.stored(group)
    except sqlite3.Error:
        # not acknowledged: the device sends it again (the event log says why)
        return _error(503, "uplink not stored, try again")
    if text is None:
        return web.Response(status=204)
    return web.Response(status=200, text=text, content_type="application/json")
