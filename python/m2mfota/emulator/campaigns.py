"""Campaigns: one firmware aimed at a set of devices (IMEI list, a type or a client)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from m2mfota.emulator import deltas, firmware, registry
from m2mfota.emulator import faults as faults_mod
from m2mfota.emulator.errors import ApiError
from m2mfota.emulator.jsontypes import JsonObject
from m2mfota.emulator.state import COUNT_GROUP, UpdateManager, error_name, result_name

TARGETS = ("imeis", "type", "client")
MAX_IMEIS = 100_000
#: what a delta campaign does with a device that runs another version than
#: the delta's source: send it the full image, or leave it alone
OTHERS = ("full", "skip")


def create(conn: sqlite3.Connection, updates: UpdateManager, body: Any) -> JsonObject:
    """Start a campaign: every targeted device gets the firmware as its desired state."""
    if not isinstance(body, dict):
        raise ApiError(400, "body must be a JSON object", "body")
    for key in body:
        if key not in {"name", "firmware_id", "retry_limit", "faults", "delta_from", "others",
                       *TARGETS}:
            raise ApiError(400, f"unknown field {key}", str(key))
    name = body.get("name", "")
    if not isinstance(name, str) or len(name) > 100:
        raise ApiError(400, "name must be a string of at most 100 characters", "name")
    fw_id = body.get("firmware_id")
    if isinstance(fw_id, bool) or not isinstance(fw_id, int):
        raise ApiError(400, "firmware_id must be an integer", "firmware_id")
    fw = firmware.get(conn, fw_id)
    retry_limit = body.get("retry_limit")
    if retry_limit is not None and (isinstance(retry_limit, bool)
                                    or not isinstance(retry_limit, int)
                                    or not 0 <= retry_limit <= 100):
        raise ApiError(400, "retry_limit must be an integer 0-100", "retry_limit")
    faults = faults_mod.parse(body.get("faults"))
    delta_from, others = body.get("delta_from"), body.get("others")
    if delta_from is None and others is not None:
        raise ApiError(400, "others applies to a delta campaign: give delta_from too", "others")
    if delta_from is not None and others not in OTHERS:
        # never a silent default: whether devices on another version get the
        # full image or nothing is the operator's choice
        raise ApiError(400, "a delta campaign must say what devices on another version get: "
                       "others \"full\" or \"skip\"", "others")
    given = [k for k in TARGETS if k in body]
    if len(given) != 1:
        raise ApiError(400, "give exactly one target: imeis, type or client", "target")
    kind = given[0]
    value = body[kind]
    if kind == "imeis":
        if not isinstance(value, list) or not value or len(value) > MAX_IMEIS:
            raise ApiError(400, "imeis must be a non-empty list of IMEIs", "imeis")
        imeis = []
        for i, item in enumerate(value):
            registry.check_imei(item, f"imeis[{i}]")
            if conn.execute("SELECT 1 FROM devices WHERE imei = ?", (item,)).fetchone() is None:
                raise ApiError(404, f"no device with IMEI {item}", f"imeis[{i}]")
            imeis.append(item)
        imeis = list(dict.fromkeys(imeis))
    else:
        if not isinstance(value, str) or not value:
            raise ApiError(400, f"{kind} must be a non-empty string", kind)
        imeis = [r["imei"] for r in conn.execute(
            f"SELECT imei FROM devices WHERE {kind} = ? ORDER BY imei", (value,))]
        if not imeis:
            raise ApiError(404, f"no device has {kind} {value}", kind)
    delta_id = None
    if delta_from is not None:
        source = deltas.find_version(conn, delta_from)
        if source["version"] == fw["version"]:
            raise ApiError(400, f"delta_from {delta_from} is the campaign's own version: "
                           "nothing to patch", "delta_from")
        delta_id = deltas.make(conn, source["id"], fw_id, now=updates.clock(),
                               field="delta_from")[0]["id"]
    if not name:
        name = f"{fw['version']} to {kind} {value if kind != 'imeis' else len(imeis)}"
        if delta_from is not None:
            name += f" (delta from {delta_from})"
    cur = conn.execute(
        "INSERT INTO campaigns (name, firmware_id, target_kind, target_value, retry_limit,"
        " faults, created, delta_id, others) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (name, fw_id, kind, json.dumps(value), retry_limit,
         json.dumps(faults) if faults else None, updates.clock(), delta_id, others))
    campaign_id = cur.lastrowid
    assert campaign_id is not None  # an INSERT always sets it
    for imei in imeis:
        updates.set_desired(imei, fw_id, campaign_id=campaign_id, retry_limit=retry_limit)
    return get(conn, campaign_id)


def _row(conn: sqlite3.Connection, campaign_id: int) -> sqlite3.Row:
    if not 0 <= campaign_id <= firmware.SQLITE_MAX_INT:
        raise ApiError(404, f"no campaign with id {campaign_id}", "campaign_id")
    row = conn.execute("SELECT * FROM campaigns WHERE id = ?", (campaign_id,)).fetchone()
    if row is None:
        raise ApiError(404, f"no campaign with id {campaign_id}", "campaign_id")
    return row


def counts(conn: sqlite3.Connection, campaign_id: int) -> dict[str, int]:
    out = {"pending": 0, "downloading": 0, "done": 0, "failed": 0, "superseded": 0,
           "skipped": 0}
    for r in conn.execute("SELECT status, COUNT(*) AS n FROM campaign_devices"
                          " WHERE campaign_id = ? GROUP BY status", (campaign_id,)):
        out[COUNT_GROUP.get(r["status"], r["status"])] += r["n"]
    out["total"] = sum(out.values())
    return out


def summary(conn: sqlite3.Connection, row: sqlite3.Row) -> JsonObject:
    fw = firmware.get(conn, row["firmware_id"])
    return {
        "id": row["id"],
        "name": row["name"],
        "firmware": {"id": fw["id"], "version": fw["version"], "kind": fw["kind"],
                     "size": fw["size"]},
        "target": {row["target_kind"]: json.loads(row["target_value"])},
        "retry_limit": row["retry_limit"],
        "faults": json.loads(row["faults"]) if row["faults"] else None,
        "created": row["created"],
        "counts": counts(conn, row["id"]),
        "delta": (None if row["delta_id"] is None else
                  {**deltas.get(conn, row["delta_id"]), "others": row["others"]}),
    }


def get(conn: sqlite3.Connection, campaign_id: int) -> JsonObject:
    """The campaign with its counts and, per device, desired vs reported state."""
    row = _row(conn, campaign_id)
    out = summary(conn, row)
    devices = []
    for r in conn.execute(
            "SELECT cd.status AS cstatus, cd.attempts AS cattempts,"
            " cd.delta_refused AS refused, cd.served AS served, d.* FROM campaign_devices"
            " cd JOIN devices d ON d.imei = cd.imei WHERE cd.campaign_id = ? ORDER BY d.imei",
            (campaign_id,)):
        devices.append({
            "imei": r["imei"],
            "status": r["cstatus"],
            "attempts": r["cattempts"],
            "desired": out["firmware"]["version"],
            "reported": r["reported_firmware"],
            "state": r["fota_state"],
            "progress": r["fota_progress"],
            "result": r["fota_result"],
            "result_name": result_name(r["fota_result"]),
            "error": r["fota_error"],
            "error_name": error_name(r["fota_error"]),
            # the file this device was last sent: the campaign's delta or the image
            "served": r["served"],
            "bytes_sent": r["bytes_sent"],
            "delta_refused": bool(r["refused"]),
            "last_seen": r["last_seen"],
        })
    out["devices"] = devices
    return out


def list_all(conn: sqlite3.Connection) -> list[JsonObject]:
    return [summary(conn, r) for r in conn.execute("SELECT * FROM campaigns ORDER BY id DESC")]


def set_faults(conn: sqlite3.Connection, updates: UpdateManager, campaign_id: int,
               value: Any) -> JsonObject | None:
    _row(conn, campaign_id)
    parsed = faults_mod.parse(value)
    conn.execute("UPDATE campaigns SET faults = ? WHERE id = ?",
                 (json.dumps(parsed) if parsed else None, campaign_id))
    updates.refresh_campaign_faults(campaign_id)
    return parsed
