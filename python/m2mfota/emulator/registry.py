"""Device registry: IMEI, type, client and the shared secret that signs uplinks."""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
from typing import Any

from m2mfota.emulator.errors import ApiError
from m2mfota.emulator.jsontypes import JsonObject
from m2mfota.emulator.state import error_name, result_name

IMEI_RE = re.compile(r"[0-9A-Za-z]{1,32}")
NAME_MAX = 64
SECRET_MAX = 256
#: what API answers show instead of a device's secret (see reveal_secret)
MASK = "********"


def _text(body: JsonObject, key: str, default: str = "", limit: int = NAME_MAX) -> str:
    value = body.get(key, default)
    if not isinstance(value, str):
        raise ApiError(400, f"{key} must be a string", key)
    if len(value) > limit:
        raise ApiError(400, f"{key} is longer than {limit} characters", key)
    if any(ord(c) < 0x20 for c in value):
        raise ApiError(400, f"{key} contains a control character", key)
    return value


def check_imei(value: Any, field: str = "imei") -> str:
    if not isinstance(value, str) or not IMEI_RE.fullmatch(value):
        raise ApiError(400, f"{field} must be 1-32 letters or digits", field)
    return value


def create(conn: sqlite3.Connection, body: Any, now: float) -> JsonObject:
    """Register a device; the secret is generated when the body gives none."""
    if not isinstance(body, dict):
        raise ApiError(400, "body must be a JSON object", "body")
    _reject_unknown(body, {"imei", "type", "client", "secret", "retry_limit"})
    imei = check_imei(body.get("imei"))
    dtype = _text(body, "type")
    client = _text(body, "client")
    secret = _text(body, "secret", default="", limit=SECRET_MAX) or secrets.token_hex(16)
    retry_limit = _retry_limit(body.get("retry_limit", 3))
    try:
        conn.execute(
            "INSERT INTO devices (imei, type, client, secret, created, retry_limit)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (imei, dtype, client, secret, now, retry_limit),
        )
    except sqlite3.IntegrityError:
        raise ApiError(409, f"device {imei} already exists", "imei") from None
    return get(conn, imei)


def update(conn: sqlite3.Connection, imei: str, body: Any) -> JsonObject:
    """Change type, client, secret or retry limit of a device."""
    if not isinstance(body, dict):
        raise ApiError(400, "body must be a JSON object", "body")
    _reject_unknown(body, {"type", "client", "secret", "retry_limit"})
    row = load(conn, imei)
    sets: dict[str, Any] = {}
    for key in ("type", "client"):
        if key in body:
            sets[key] = _text(body, key)
    if "secret" in body:
        sets["secret"] = _text(body, "secret", limit=SECRET_MAX)
        if not sets["secret"]:
            raise ApiError(400, "secret must not be empty", "secret")
    if "retry_limit" in body:
        sets["retry_limit"] = _retry_limit(body["retry_limit"])
    if sets:
        assign = ", ".join(f"{k} = ?" for k in sets)
        conn.execute(f"UPDATE devices SET {assign} WHERE imei = ?", (*sets.values(), row["imei"]))
    return get(conn, imei)


def delete(conn: sqlite3.Connection, imei: str) -> None:
    load(conn, imei)
    conn.execute("DELETE FROM campaign_devices WHERE imei = ?", (imei,))
    conn.execute("DELETE FROM uplinks WHERE imei = ?", (imei,))
    conn.execute("DELETE FROM devices WHERE imei = ?", (imei,))


def load(conn: sqlite3.Connection, imei: str) -> sqlite3.Row:
    """The device's row, or a 404 naming the IMEI."""
    row = conn.execute("SELECT * FROM devices WHERE imei = ?", (imei,)).fetchone()
    if row is None:
        raise ApiError(404, f"no device with IMEI {imei}", "imei")
    return row


def get(conn: sqlite3.Connection, imei: str) -> JsonObject:
    return to_json(conn, load(conn, imei))


def reveal_secret(conn: sqlite3.Connection, imei: str) -> JsonObject:
    """The one answer that carries a device's secret (the API masks it elsewhere)."""
    return {"imei": imei, "secret": load(conn, imei)["secret"]}


def list_all(conn: sqlite3.Connection, *, dtype: str | None = None,
             client: str | None = None) -> list[JsonObject]:
    query, args = "SELECT * FROM devices", []
    where = []
    if dtype is not None:
        where.append("type = ?")
        args.append(dtype)
    if client is not None:
        where.append("client = ?")
        args.append(client)
    if where:
        query += " WHERE " + " AND ".join(where)
    query += " ORDER BY imei"
    versions = _firmware_versions(conn)
    return [to_json(conn, row, versions=versions) for row in conn.execute(query, args)]


def _firmware_versions(conn: sqlite3.Connection) -> dict[int, str]:
    return {r["id"]: r["version"] for r in conn.execute("SELECT id, version FROM firmware")}


def to_json(conn: sqlite3.Connection, row: sqlite3.Row, *,
            versions: dict[int, str] | None = None) -> JsonObject:
    """The API's view of a device: identity, reported, desired and update status;
    the secret masked."""
    desired = None
    if row["desired_firmware_id"] is not None:
        if versions is None:
            versions = _firmware_versions(conn)
        desired = {
            "firmware_id": row["desired_firmware_id"],
            "version": versions.get(row["desired_firmware_id"]),
        }
    out = {
        "imei": row["imei"],
        "type": row["type"],
        "client": row["client"],
        "created": row["created"],
        "last_seen": row["last_seen"],
        "reported": {
            "firmware": row["reported_firmware"],
            "state": row["fota_state"],
            "progress": row["fota_progress"],
            "result": row["fota_result"],
            "result_name": result_name(row["fota_result"]),
            "error": row["fota_error"],
            "error_name": error_name(row["fota_error"]),
        },
        "desired": desired,
        "update": {
            "status": row["update_status"],
            "attempts": row["attempts"],
            "retry_limit": row["retry_limit"],
            "campaign_id": row["campaign_id"],
            "file_id": row["file_id"],
            "token_expires": row["token_expires"],
            # the download published now: a delta file (its id) or the image (None)
            "delta_id": row["delta_id"],
            # file bytes sent for the desired firmware by downloads that ended
            "bytes_sent": row["bytes_sent"],
        },
        "faults": json.loads(row["faults"]) if row["faults"] else None,
        "secret": MASK,
    }
    return out


def _retry_limit(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise ApiError(400, "retry_limit must be an integer 0-100", "retry_limit")
    return value


def _reject_unknown(body: JsonObject, allowed: set[str]) -> None:
    for key in body:
        if key not in allowed:
            raise ApiError(400, f"unknown field {key}", str(key))
