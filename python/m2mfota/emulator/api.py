"""The JSON REST API under ``/api/``: devices, firmware, campaigns, faults, uplinks."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from m2mfota.emulator import campaigns, deltas, firmware, ingestion, mcuboot_sig, openapi, registry
from m2mfota.emulator.errors import ApiError
from m2mfota.emulator.events import KINDS
from m2mfota.emulator.ingestion import PATH as INGESTION_PATH
from m2mfota.emulator.keys import EMULATOR

MAX_UPLOAD = firmware.MAX_SIZE + 1024 * 1024
#: where the API's sub-application is mounted
PREFIX = "/api"


async def _json(request: web.Request) -> Any:
    raw = await request.read()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"body is not JSON: {exc}", "body") from None


def _int_param(request: web.Request, name: str) -> int:
    text = request.match_info[name]
    if not text.isascii() or not text.isdigit() or len(text) > 30:
        raise ApiError(400, f"{name} must be a non-negative integer", name)
    return int(text)


def _imei(request: web.Request) -> str:
    return registry.check_imei(request.match_info["imei"])


def _query_int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query.get(name)
    if text is None:
        return default
    if not text.isascii() or not text.isdigit() or len(text) > 9 or not low <= int(text) <= high:
        raise ApiError(400, f"{name} must be an integer {low}-{high}", name)
    return int(text)


def _ok(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(data, status=status, headers=headers)


async def info(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    base = emu.public_base(request)
    return _ok({"ingestion": base + INGESTION_PATH, "fileserver": base + "/f/v1/",
                "dashboard": base + "/", "openapi": base + "/api/openapi.json"})


async def list_devices(request: web.Request) -> web.Response:
    conn = request.app[EMULATOR].conn
    return _ok(registry.list_all(conn, dtype=request.query.get("type"),
                                 client=request.query.get("client")))


async def create_device(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    body = await _json(request)
    with emu.transaction() as conn:
        return _ok(registry.create(conn, body, emu.clock()), 201)


async def get_device(request: web.Request) -> web.Response:
    return _ok(registry.get(request.app[EMULATOR].conn, _imei(request)))


async def reveal_secret(request: web.Request) -> web.Response:
    return _ok(registry.reveal_secret(request.app[EMULATOR].conn, _imei(request)),
               headers={"Cache-Control": "no-store"})


async def patch_device(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    imei = _imei(request)
    body = await _json(request)
    with emu.transaction() as conn:
        return _ok(registry.update(conn, imei, body))


async def delete_device(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    imei = _imei(request)
    with emu.transaction() as conn:
        row = registry.load(conn, imei)
        emu.updates.set_desired(imei, None)
        registry.delete(conn, row["imei"])
    return web.Response(status=204)


async def put_desired(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    imei = _imei(request)
    body = await _json(request)
    if not isinstance(body, dict) or "firmware_id" not in body:
        raise ApiError(400, "body must be an object with firmware_id", "firmware_id")
    for key in body:
        if key not in ("firmware_id", "retry_limit"):
            raise ApiError(400, f"unknown field {key}", str(key))
    fw_id = body["firmware_id"]
    if fw_id is not None and (isinstance(fw_id, bool) or not isinstance(fw_id, int)):
        raise ApiError(400, "firmware_id must be an integer or null", "firmware_id")
    retry_limit = body.get("retry_limit")
    if retry_limit is not None and (isinstance(retry_limit, bool)
                                    or not isinstance(retry_limit, int)
                                    or not 0 <= retry_limit <= 100):
        raise ApiError(400, "retry_limit must be an integer 0-100", "retry_limit")
    with emu.transaction() as conn:
        registry.load(conn, imei)
        if fw_id is not None:
            firmware.get(conn, fw_id)
        emu.updates.set_desired(imei, fw_id, retry_limit=retry_limit)
        return _ok(registry.get(conn, imei))


async def put_device_faults(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    imei = _imei(request)
    body = await _json(request)
    with emu.transaction():
        return _ok({"faults": emu.updates.set_device_faults(imei, body)})


async def device_uplinks(request: web.Request) -> web.Response:
    conn = request.app[EMULATOR].conn
    imei = _imei(request)
    registry.load(conn, imei)
    limit = min(_query_int(request, "limit", 20, 1, 1000), request.app[EMULATOR].uplink_history)
    rows = conn.execute("SELECT * FROM uplinks WHERE imei = ? ORDER BY id DESC LIMIT ?",
                        (imei, limit)).fetchall()
    return _ok([{"id": r["id"], "received": r["received"],
                 "records": ingestion.stored_records(imei, r["body"], r["records"]),
                 "downlink": json.loads(r["downlink"]) if r["downlink"] else None}
                for r in rows])


async def device_download(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    row = registry.load(emu.conn, _imei(request))
    stats = None
    if row["file_id"]:
        try:
            stats = emu.fileserver.stats(row["file_id"])
        except KeyError:
            stats = None
    return _ok({"file_id": row["file_id"], "stats": stats})


async def upload_firmware(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    version = request.query.get("version")
    if version is not None:
        firmware.check_version(version)
    filename = request.query.get("filename", "")
    data = b""
    if request.content_type.startswith("multipart/"):
        try:
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader):
                    raise ApiError(400, "nested multipart bodies are not accepted", "body")
                if part.name == "file":
                    filename = part.filename or filename
                    data = await part.read()
                elif part.name == "version":
                    version = firmware.check_version((await part.text()).strip())
        except (ValueError, HttpProcessingError) as exc:
            raise ApiError(400, f"bad multipart body: {exc}", "body") from None
    else:
        data = await request.read()
    with emu.transaction() as conn:
        return _ok(firmware.store(conn, data, version=version, filename=filename,
                                  now=emu.clock()), 201)


async def list_firmware(request: web.Request) -> web.Response:
    return _ok(firmware.list_all(request.app[EMULATOR].conn))


async def get_firmware(request: web.Request) -> web.Response:
    """One firmware; an MCUboot image also with its version, hash and signature check."""
    emu = request.app[EMULATOR]
    fw_id = _int_param(request, "id")
    info = firmware.get(emu.conn, fw_id)
    out: dict[str, object] = dict(info)
    if info["kind"] == "mcuboot":
        data = firmware.data(emu.conn, fw_id)
        out["mcuboot"] = {"version": info["version"],
                          **mcuboot_sig.inspect(data, emu.mcuboot_keys)}
    return _ok(out)


async def delete_firmware(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    fw_id = _int_param(request, "id")
    with emu.transaction() as conn:
        firmware.delete(conn, fw_id)
    return web.Response(status=204)


async def create_delta(request: web.Request) -> web.Response:
    """Make (or find) the delta file from one firmware to another: 201 when
    made now, 200 when it was stored already."""
    emu = request.app[EMULATOR]
    body = await _json(request)
    if not isinstance(body, dict):
        raise ApiError(400, "body must be a JSON object", "body")
    for key in body:
        if key not in ("source_id", "target_id"):
            raise ApiError(400, f"unknown field {key}", str(key))
    ids = []
    for key in ("source_id", "target_id"):
        value = body.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ApiError(400, f"{key} must be an integer", key)
        ids.append(value)
    with emu.transaction() as conn:
        out, made = deltas.make(conn, ids[0], ids[1], now=emu.clock())
    return _ok(out, 201 if made else 200)


async def list_deltas(request: web.Request) -> web.Response:
    return _ok(deltas.list_all(request.app[EMULATOR].conn))


async def get_delta(request: web.Request) -> web.Response:
    return _ok(deltas.get(request.app[EMULATOR].conn, _int_param(request, "id")))


async def api_index(request: web.Request) -> web.Response:
    """What lives under /api/: every path and its methods, from the OpenAPI document."""
    doc = openapi.document()
    return _ok({"openapi": "/api/openapi.json", "docs": "/docs/api", "paths": {
        path: sorted(m.upper() for m in ops) for path, ops in doc["paths"].items()}})


async def create_campaign(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    body = await _json(request)
    with emu.transaction() as conn:
        return _ok(campaigns.create(conn, emu.updates, body), 201)


async def list_campaigns(request: web.Request) -> web.Response:
    return _ok(campaigns.list_all(request.app[EMULATOR].conn))


async def get_campaign(request: web.Request) -> web.Response:
    return _ok(campaigns.get(request.app[EMULATOR].conn, _int_param(request, "id")))


async def put_campaign_faults(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    campaign_id = _int_param(request, "id")
    body = await _json(request)
    with emu.transaction() as conn:
        return _ok({"faults": campaigns.set_faults(conn, emu.updates, campaign_id, body)})


async def list_events(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    kind = request.query.get("kind")
    if kind is not None and kind not in KINDS:
        raise ApiError(400, f"kind must be one of {', '.join(KINDS)}", "kind")
    imei = request.query.get("imei")
    if imei is not None:
        registry.check_imei(imei)
    return _ok(emu.events.query(after=_query_int(request, "after", 0, 0, 10**15),
                                limit=_query_int(request, "limit", 100, 1, 1000),
                                kind=kind, imei=imei))


async def openapi_json(request: web.Request) -> web.Response:
    return _ok(openapi.document())


def add_routes(app: web.Application) -> None:
    """The API's routes, relative to PREFIX: ``app`` is mounted there."""
    r = app.router
    r.add_get("/info", info)
    r.add_get("/events", list_events)
    r.add_get("/openapi.json", openapi_json)
    r.add_get("/devices", list_devices)
    r.add_post("/devices", create_device)
    r.add_get("/devices/{imei}", get_device)
    r.add_patch("/devices/{imei}", patch_device)
    r.add_delete("/devices/{imei}", delete_device)
    r.add_post("/devices/{imei}/secret", reveal_secret)
    r.add_put("/devices/{imei}/desired", put_desired)
    r.add_put("/devices/{imei}/faults", put_device_faults)
    r.add_get("/devices/{imei}/uplinks", device_uplinks)
    r.add_get("/devices/{imei}/download", device_download)
    r.add_get("/firmware", list_firmware)
    r.add_post("/firmware", upload_firmware)
    r.add_get("/firmware/{id}", get_firmware)
    r.add_delete("/firmware/{id}", delete_firmware)
    r.add_get("/deltas", list_deltas)
    r.add_post("/deltas", create_delta)
    r.add_get("/deltas/{id}", get_delta)
    r.add_get("/", api_index)
    r.add_get("/campaigns", list_campaigns)
    r.add_post("/campaigns", create_campaign)
    r.add_get("/campaigns/{id}", get_campaign)
    r.add_put("/campaigns/{id}/faults", put_campaign_faults)
