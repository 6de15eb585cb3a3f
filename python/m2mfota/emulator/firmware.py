"""Firmware files: plain binaries, or MCUboot images whose version is read from the header."""

from __future__ import annotations

import hashlib
import re
import sqlite3
import struct
import zlib
from dataclasses import dataclass

from m2mfota.emulator.errors import ApiError
from m2mfota.emulator.jsontypes import FirmwareInfo

MCUBOOT_MAGIC = 0x96F3B83D
# magic, load_addr, hdr_size, protect_tlv_size, img_size, flags, major, minor, revision, build
_HEADER = struct.Struct("<IIHHIIBBHI")
MAX_SIZE = 64 * 1024 * 1024
VERSION_RE = re.compile(r"[0-9A-Za-z.+_-]{1,64}")
SQLITE_MAX_INT = 2**63 - 1


@dataclass(frozen=True)
class McubootHeader:
    load_addr: int
    hdr_size: int
    img_size: int
    flags: int
    major: int
    minor: int
    revision: int
    build: int

    @property
    def version(self) -> str:
        """``major.minor.revision``, with ``+build`` when the build number is not 0."""
        text = f"{self.major}.{self.minor}.{self.revision}"
        return f"{text}+{self.build}" if self.build else text


def parse_mcuboot(data: bytes) -> McubootHeader | None:
    """The MCUboot header of ``data``, None when it has no MCUboot magic.

    Raises ApiError when the magic is there but the header does not fit the data.
    """
    if len(data) < 4 or struct.unpack_from("<I", data)[0] != MCUBOOT_MAGIC:
        return None
    if len(data) < _HEADER.size:
        raise ApiError(400, "MCUboot image shorter than its 28-byte header", "file")
    (_, load_addr, hdr_size, _, img_size, flags,
     major, minor, revision, build) = _HEADER.unpack_from(data)
    if hdr_size < _HEADER.size or hdr_size + img_size > len(data):
        raise ApiError(400, "MCUboot header sizes do not fit the file", "file")
    return McubootHeader(load_addr, hdr_size, img_size, flags, major, minor, revision, build)


def check_version(value: object) -> str:
    if not isinstance(value, str) or not VERSION_RE.fullmatch(value):
        raise ApiError(400, "version must be 1-64 of letters, digits and . + _ -", "version")
    return value


def store(conn: sqlite3.Connection, data: bytes, *, version: str | None, filename: str,
          now: float) -> FirmwareInfo:
    """Save a firmware file; an MCUboot image's header gives (and must agree with) the version."""
    if not data:
        raise ApiError(400, "file is empty", "file")
    if len(data) > MAX_SIZE:
        raise ApiError(413, f"file is larger than {MAX_SIZE} bytes", "file")
    header = parse_mcuboot(data)
    if header is not None:
        if version is not None and check_version(version) != header.version:
            raise ApiError(400, f"version {version} differs from the MCUboot header's "
                           f"{header.version}", "version")
        version, kind = header.version, "mcuboot"
    else:
        if version is None:
            raise ApiError(400, "version is required for a plain binary", "version")
        version, kind = check_version(version), "binary"
    cur = conn.execute(
        "INSERT INTO firmware (version, kind, filename, size, crc32, sha256, data, created)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (version, kind, filename[:200], len(data), f"{zlib.crc32(data):08x}",
         hashlib.sha256(data).hexdigest(), data, now),
    )
    rowid = cur.lastrowid
    assert rowid is not None  # an INSERT always sets it
    return get(conn, rowid)


def _row(conn: sqlite3.Connection, firmware_id: int) -> sqlite3.Row:
    if not 0 <= firmware_id <= SQLITE_MAX_INT:
        raise ApiError(404, f"no firmware with id {firmware_id}", "firmware_id")
    row = conn.execute(
        "SELECT id, version, kind, filename, size, crc32, sha256, created FROM firmware"
        " WHERE id = ?", (firmware_id,)).fetchone()
    if row is None:
        raise ApiError(404, f"no firmware with id {firmware_id}", "firmware_id")
    return row


def _info(row: sqlite3.Row) -> FirmwareInfo:
    return FirmwareInfo(id=row["id"], version=row["version"], kind=row["kind"],
                        filename=row["filename"], size=row["size"], crc32=row["crc32"],
                        sha256=row["sha256"], created=row["created"])


def get(conn: sqlite3.Connection, firmware_id: int) -> FirmwareInfo:
    return _info(_row(conn, firmware_id))


def data(conn: sqlite3.Connection, firmware_id: int) -> bytes:
    _row(conn, firmware_id)
    row = conn.execute("SELECT data FROM firmware WHERE id = ?", (firmware_id,)).fetchone()
    if row is None:
        raise ApiError(404, f"no firmware with id {firmware_id}", "firmware_id")
    return bytes(row["data"])


def list_all(conn: sqlite3.Connection) -> list[FirmwareInfo]:
    return [_info(r) for r in conn.execute(
        "SELECT id, version, kind, filename, size, crc32, sha256, created FROM firmware"
        " ORDER BY id")]


def delete(conn: sqlite3.Connection, firmware_id: int) -> None:
    """Remove a firmware no campaign and no device refers to (409 otherwise:
    the update history must keep naming what it sent)."""
    _row(conn, firmware_id)
    camp = conn.execute("SELECT id FROM campaigns WHERE firmware_id = ? LIMIT 1",
                        (firmware_id,)).fetchone()
    if camp is not None:
        raise ApiError(409, f"campaign {camp['id']} uses firmware {firmware_id}",
                       "firmware_id")
    dev = conn.execute("SELECT imei FROM devices WHERE desired_firmware_id = ? LIMIT 1",
                       (firmware_id,)).fetchone()
    if dev is not None:
        raise ApiError(409, f"device {dev['imei']} should run firmware {firmware_id}",
                       "firmware_id")
    from m2mfota.emulator import deltas  # deltas builds on this module

    deltas.forget_firmware(conn, firmware_id)
    conn.execute("DELETE FROM firmware WHERE id = ?", (firmware_id,))
