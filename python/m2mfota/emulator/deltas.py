"""Delta files: one per (source firmware, target firmware), made with the
package's producer (``m2mfota.delta.create_delta_file``, detools underneath)
and kept in SQLite beside the firmware, so that every device of a campaign
shares one file and a restart does not make it again."""

from __future__ import annotations

import hashlib
import sqlite3
import time
import zlib
from typing import Any

from m2mfota.emulator import firmware
from m2mfota.emulator.errors import ApiError
from m2mfota.emulator.jsontypes import FirmwareInfo, JsonObject

COMPRESSION = "heatshrink"  # what the device's applier reads with the least RAM
_COLUMNS = "id, source_id, target_id, compression, size, crc32, sha256, seconds, created"


def _producer() -> Any:
    """``create_delta_file``, or ApiError when detools (which makes the patch) is missing."""
    try:
        import detools  # type: ignore[import-untyped]  # noqa: F401
    except ImportError:
        raise ApiError(400, "delta files need detools on the emulator's host: "
                       "pip install 'm2mfota[delta]'", "delta_from") from None
    from m2mfota.delta import create_delta_file

    return create_delta_file


def find_version(conn: sqlite3.Connection, version: Any, field: str = "delta_from") -> FirmwareInfo:
    """The firmware whose version is ``version`` (404 if none; 409 if several
    with different bytes: which one the devices run cannot be told)."""
    if not isinstance(version, str) or not firmware.VERSION_RE.fullmatch(version):
        raise ApiError(400, f"{field} must be a firmware version", field)
    rows = conn.execute("SELECT id, sha256 FROM firmware WHERE version = ? ORDER BY id",
                        (version,)).fetchall()
    if not rows:
        raise ApiError(404, f"no firmware with version {version} to make a delta from", field)
    if len({r["sha256"] for r in rows}) > 1:
        raise ApiError(409, f"firmware {', '.join(str(r['id']) for r in rows)} all have "
                       f"version {version} with different bytes", field)
    return firmware.get(conn, rows[-1]["id"])


def make(conn: sqlite3.Connection, source_id: int, target_id: int, *, now: float,
         field: str = "source_id") -> tuple[JsonObject, bool]:
    """The delta file from firmware ``source_id`` to ``target_id``, made now
    unless it is stored already; and whether it was made."""
    source = firmware.get(conn, source_id)
    target = firmware.get(conn, target_id)
    if source["id"] == target["id"] or source["sha256"] == target["sha256"]:
        raise ApiError(400, f"source and target are the same image (version "
                       f"{target['version']}): nothing to patch", field)
    if source["version"] == target["version"]:
        raise ApiError(400, f"source and target have the same version {target['version']}: "
                       "a device could not tell it was updated", field)
    if source["kind"] != target["kind"]:
        raise ApiError(400, f"source is a {source['kind']} image, target a {target['kind']} "
                       "one: a device boots one kind", field)
    row = conn.execute(f"SELECT {_COLUMNS} FROM deltas WHERE source_id = ? AND target_id = ?"
                       " AND compression = ?", (source_id, target_id, COMPRESSION)).fetchone()
    if row is not None:
        return describe(conn, row), False
    create = _producer()
    old = firmware.data(conn, source_id)
    new = firmware.data(conn, target_id)
    start = time.perf_counter()
    data = bytes(create(old, new, compression=COMPRESSION))
    seconds = time.perf_counter() - start
    cur = conn.execute(
        "INSERT INTO deltas (source_id, target_id, compression, size, crc32, sha256, data,"
        " seconds, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (source_id, target_id, COMPRESSION, len(data), f"{zlib.crc32(data):08x}",
         hashlib.sha256(data).hexdigest(), data, seconds, now))
    delta_id = cur.lastrowid
    assert delta_id is not None  # an INSERT always sets it
    return get(conn, delta_id), True


def _row(conn: sqlite3.Connection, delta_id: int) -> sqlite3.Row:
    row = None
    if 0 <= delta_id <= firmware.SQLITE_MAX_INT:
        row = conn.execute(f"SELECT {_COLUMNS} FROM deltas WHERE id = ?",
                           (delta_id,)).fetchone()
    if row is None:
        raise ApiError(404, f"no delta with id {delta_id}", "delta_id")
    return row


def describe(conn: sqlite3.Connection, row: sqlite3.Row) -> JsonObject:
    """A delta as the API shows it: both images, the file and what it saves."""
    source = firmware.get(conn, row["source_id"])
    target = firmware.get(conn, row["target_id"])

    def image(fw: FirmwareInfo) -> JsonObject:
        return {k: fw[k] for k in ("id", "version", "kind", "size", "sha256")}

    return {"id": row["id"], "source": image(source), "target": image(target),
            "compression": row["compression"], "size": row["size"], "crc32": row["crc32"],
            "sha256": row["sha256"],
            # patch bytes per image byte: what a device on the source downloads
            "ratio": round(row["size"] / target["size"], 4),
            "saved": target["size"] - row["size"],
            "seconds": round(row["seconds"], 3), "created": row["created"]}


def get(conn: sqlite3.Connection, delta_id: int) -> JsonObject:
    return describe(conn, _row(conn, delta_id))


def data(conn: sqlite3.Connection, delta_id: int) -> bytes:
    _row(conn, delta_id)
    return bytes(conn.execute("SELECT data FROM deltas WHERE id = ?",
                              (delta_id,)).fetchone()["data"])


def list_all(conn: sqlite3.Connection) -> list[JsonObject]:
    return [describe(conn, r) for r in conn.execute(
        f"SELECT {_COLUMNS} FROM deltas ORDER BY id")]


def forget_firmware(conn: sqlite3.Connection, firmware_id: int) -> None:
    """Drop the deltas made from or to a firmware about to be deleted (409
    if a campaign uses one: the update history must keep naming it)."""
    camp = conn.execute(
        "SELECT c.id FROM campaigns c JOIN deltas d ON d.id = c.delta_id"
        " WHERE d.source_id = ? OR d.target_id = ? LIMIT 1",
        (firmware_id, firmware_id)).fetchone()
    if camp is not None:
        raise ApiError(409, f"campaign {camp['id']} sends a delta of firmware {firmware_id}",
                       "firmware_id")
    conn.execute("UPDATE devices SET delta_id = NULL WHERE delta_id IN (SELECT id FROM deltas"
                 " WHERE source_id = ? OR target_id = ?)", (firmware_id, firmware_id))
    conn.execute("DELETE FROM deltas WHERE source_id = ? OR target_id = ?",
                 (firmware_id, firmware_id))
