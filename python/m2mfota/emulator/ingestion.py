"""``POST /ingestion/m2m/senml/v1``: the KPN Things endpoint devices send uplinks to.

The token is recomputed here in plain Python (SHA-256 over body and secret): this
server is the oracle the device-side C code is tested against, not a copy of it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re

from aiohttp import web

from m2mfota.emulator.keys import EMULATOR
from m2mfota.emulator.senml_io import decode_pack
from m2mfota.emulator.state import reported_from_records

PATH = "/ingestion/m2m/senml/v1"
MAX_BODY = 64 * 1024
TOKEN_RE = re.compile(r"[0-9a-f]{64}")
URN_RE = re.compile(r"urn:dev:IMEI:([0-9A-Za-z]{1,32}):")


def expected_token(body: bytes, secret: bytes) -> str:
    """Lowercase hex SHA-256 of body followed by the device's secret."""
    return hashlib.sha256(body + secret).hexdigest()


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def handle_uplink(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    if request.content_length is not None and request.content_length > MAX_BODY:
        return _error(413, f"uplink larger than {MAX_BODY} bytes")
    body = await request.read()
    if len(body) > MAX_BODY:
        return _error(413, f"uplink larger than {MAX_BODY} bytes")
    token = request.headers.get("Things-Message-Token", "")
    if not TOKEN_RE.fullmatch(token):
        return _error(401, "missing or malformed Things-Message-Token")
    try:
        records = decode_pack(body)
    except ValueError as exc:
        return _error(400, f"bad SenML pack: {exc}")
    match = URN_RE.match(records[0].get("n", "")) if records else None
    if match is None:
        return _error(400, "first record must carry the base name urn:dev:IMEI:<imei>:")
    imei = match.group(1)
    conn = emu.conn
    row = conn.execute("SELECT * FROM devices WHERE imei = ?", (imei,)).fetchone()
    # Same answer for an unknown device and a wrong token: no registry probing.
    if row is None or not hmac.compare_digest(
            expected_token(body, row["secret"].encode("utf-8")), token):
        return _error(401, "Things-Message-Token does not match")
    prefix = match.group(0)
    rep = reported_from_records(records, prefix)
    with emu.transaction():
        downlink = emu.updates.on_uplink(row, rep, public_base=emu.public_base(request))
        text = json.dumps(downlink, separators=(",", ":")) if downlink else None
        conn.execute(
            "INSERT INTO uplinks (imei, received, body, records, downlink)"
            " VALUES (?, ?, ?, ?, ?)",
            (imei, emu.clock(), body.decode("utf-8", "replace"),
             json.dumps(records), text))
        emu.trim_uplinks(imei)
    if text is None:
        return web.Response(status=204)
    return web.Response(status=200, text=text, content_type="application/json")
