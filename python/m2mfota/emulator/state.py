"""Desired versus reported state of each device, and the update lifecycle between them.

Statuses (``devices.update_status``):
  idle         no desired firmware
  pending      desired differs from reported; the next uplink gets a downlink
  downloading  a downlink was sent; the device is fetching / installing
  retry        the device reported a failure; the next uplink gets a new downlink
  failed       failures used up the retry limit (1 + retry_limit downlinks were sent)
  done         the device reported the desired version
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Union

from m2mfota.emulator import faults as faults_mod
from m2mfota.emulator import firmware
from m2mfota.emulator.errors import ApiError
from m2mfota.emulator.jsontypes import Downlink, FirmwareInfo, JsonObject, Record

# fota.result values that mean the attempt failed (LwM2M /5 numbering, docs/protocol.md §5).
FAILURE_RESULTS = frozenset(range(2, 10))
FOTA_STATES = ("idle", "downloading", "downloaded", "updating")
RESULT_MAX = 2**31 - 1
DATA_CACHE = 4
#: fota.result by name, as the operator reads it (LwM2M /5 Update Result).
RESULT_NAMES = {0: "initial", 1: "success", 2: "not enough flash", 3: "out of RAM",
                4: "connection lost", 5: "integrity check failure",
                6: "unsupported package", 7: "invalid URI", 8: "update failed",
                9: "unsupported protocol"}


def result_name(result: int | None) -> str | None:
    """The name of a fota.result code (None for none; "result N" if unknown)."""
    if result is None:
        return None
    return RESULT_NAMES.get(result, f"result {result}")
# How campaign counts group the statuses.
COUNT_GROUP = {"pending": "pending", "retry": "pending", "downloading": "downloading",
               "done": "done", "failed": "failed", "idle": "pending"}


@dataclass
class Reported:
    """What one uplink says; None where the uplink is silent."""

    firmware: str | None = None
    state: str | None = None
    progress: float | None = None
    result: int | None = None
    error: str | None = None


def reported_from_records(records: list[Record], prefix: str) -> Reported:
    """Pick the project's FOTA records (names relative to ``prefix``) out of an uplink.

    Raises ValueError for a ``fota.result`` that is no result code (it must
    fit the database's integer: 1e300 or 2**63 are refused, not stored)."""
    rep = Reported()
    for rec in records:
        name = rec.get("n", "")
        if not name.startswith(prefix):
            continue
        name = name[len(prefix):]
        if name == "firmware" and isinstance(rec.get("vs"), str):
            rep.firmware = rec["vs"][:64]
        elif name == "fota.state" and isinstance(rec.get("vs"), str):
            rep.state = rec["vs"][:32]
        elif name == "fota.progress" and _number(rec.get("v")):
            rep.progress = max(0.0, min(100.0, float(rec["v"])))
        elif name == "fota.result" and _number(rec.get("v")):
            value = rec["v"]
            if not (0 <= value <= RESULT_MAX and value == int(value)):
                raise ValueError(f"fota.result must be an integer 0-{RESULT_MAX}, not {value!r}")
            rep.result = int(value)
        elif name == "fota.error" and isinstance(rec.get("vs"), str):
            rep.error = rec["vs"][:64]
    return rep


Base = Union[str, Callable[[], str]]


def _base(public_base: Base) -> str:
    return public_base if isinstance(public_base, str) else public_base()


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value


class UpdateManager:
    """Owns the lifecycle; publishes and withdraws files on the file server."""

    def __init__(self, conn: sqlite3.Connection, fileserver: Any, *,
                 clock: Callable[[], float], token_ttl: float = 3600.0,
                 downlink_extras: bool = True) -> None:
        self.conn = conn
        self.fileserver = fileserver
        self.downlink_extras = downlink_extras
        self.clock = clock
        self.token_ttl = token_ttl
        # Firmware rows never change and ids are never reused (AUTOINCREMENT);
        # a deleted one is desired by no device: the cache needs no invalidation.
        self._firmware: dict[int, FirmwareInfo] = {}
        # The bytes of the firmware being handed out, read once: every device
        # of a campaign then shares one copy on the file server, and an issued
        # download does not read the blob from SQLite again.
        self._data: dict[int, bytes] = {}

    def _desired(self, firmware_id: int) -> FirmwareInfo:
        fw = self._firmware.get(firmware_id)
        if fw is None:
            fw = self._firmware[firmware_id] = firmware.get(self.conn, firmware_id)
        return fw

    def firmware_data(self, firmware_id: int) -> bytes:
        """The bytes of a firmware, from a small cache (the last DATA_CACHE read)."""
        data = self._data.get(firmware_id)
        if data is None:
            data = firmware.data(self.conn, firmware_id)
            if len(self._data) >= DATA_CACHE:
                del self._data[next(iter(self._data))]
            self._data[firmware_id] = data
        return data

    # -- desired state -------------------------------------------------------------
    def set_desired(self, imei: str, firmware_id: int | None, *, campaign_id: int | None = None,
                    retry_limit: int | None = None) -> None:
        """Make ``firmware_id`` the firmware ``imei`` should run (None: no wish)."""
        row = self.conn.execute("SELECT * FROM devices WHERE imei = ?", (imei,)).fetchone()
        if row is None:
            raise ApiError(404, f"no device with IMEI {imei}", "imei")
        self._withdraw(row)
        if row["campaign_id"] is not None and row["campaign_id"] != campaign_id:
            self._campaign_status(row["campaign_id"], imei, "superseded", row["attempts"])
        if firmware_id is None:
            status = "idle"
        else:
            version = firmware.get(self.conn, firmware_id)["version"]
            status = "done" if row["reported_firmware"] == version else "pending"
        self.conn.execute(
            "UPDATE devices SET desired_firmware_id = ?, campaign_id = ?, update_status = ?,"
            " attempts = 0, retry_limit = COALESCE(?, retry_limit), file_id = NULL,"
            " token_expires = NULL WHERE imei = ?",
            (firmware_id, campaign_id, status, retry_limit, imei))
        if campaign_id is not None:
            self.conn.execute(
                "INSERT OR REPLACE INTO campaign_devices (campaign_id, imei, status, attempts,"
                " updated) VALUES (?, ?, ?, 0, ?)", (campaign_id, imei, status, self.clock()))

    def set_device_faults(self, imei: str, value: Any) -> JsonObject | None:
        parsed = faults_mod.parse(value)
        row = self.conn.execute("SELECT * FROM devices WHERE imei = ?", (imei,)).fetchone()
        if row is None:
            raise ApiError(404, f"no device with IMEI {imei}", "imei")
        self.conn.execute("UPDATE devices SET faults = ? WHERE imei = ?",
                          (json.dumps(parsed) if parsed else None, imei))
        self._refresh_faults(imei)
        return parsed

    def refresh_campaign_faults(self, campaign_id: int) -> None:
        for row in self.conn.execute("SELECT imei FROM devices WHERE campaign_id = ?",
                                     (campaign_id,)).fetchall():
            self._refresh_faults(row["imei"])

    def _refresh_faults(self, imei: str) -> None:
        row = self.conn.execute("SELECT * FROM devices WHERE imei = ?", (imei,)).fetchone()
        if row["file_id"]:
            try:
                self.fileserver.set_faults(row["file_id"], self.faults_for(row))
            except KeyError:
                pass  # the file server already forgot the file (expired)

    def faults_for(self, row: Mapping[str, Any]) -> Any:
        stored = row["faults"]
        if not stored and row["campaign_id"] is not None:
            camp = self.conn.execute("SELECT faults FROM campaigns WHERE id = ?",
                                     (row["campaign_id"],)).fetchone()
            stored = camp["faults"] if camp else None
        return faults_mod.build(stored)

    # -- uplinks -------------------------------------------------------------------
    def on_uplink(self, row: Mapping[str, Any], rep: Reported, *, public_base: Base,
                  downlink: bool = True) -> Downlink | None:
        """Record what the device reported; return the downlink pack to answer with, if any.

        ``public_base`` (``http://ip:port`` of the file server, or a function
        returning it, called only when a downlink is made) starts the URL.
        ``downlink=False`` only records (a device behind a gateway: nothing
        sent in answer could reach it)."""
        now = self.clock()
        imei = row["imei"]
        sets: dict[str, Any] = {"last_seen": now}
        if rep.firmware is not None:
            sets["reported_firmware"] = rep.firmware
        if rep.state is not None:
            sets["fota_state"] = rep.state
        if rep.progress is not None:
            sets["fota_progress"] = rep.progress
        if rep.result is not None:
            sets["fota_result"] = rep.result
            if rep.result not in FAILURE_RESULTS and rep.error is None:
                sets["fota_error"] = None
        if rep.error is not None:
            sets["fota_error"] = rep.error
        self._update(imei, sets)
        if not downlink:
            return None
        # the row as it now stands, without reading it back (the hot path of ingestion)
        row = {**dict(row), **sets}
        if row["desired_firmware_id"] is None:
            return None
        desired = self._desired(row["desired_firmware_id"])
        status = row["update_status"]
        if row["reported_firmware"] == desired["version"]:
            if status != "done":
                self._withdraw(row)
                self._set_status(row, "done", file_id=None, token_expires=None)
            return None
        if status == "done" and rep.firmware is not None:
            # It ran the desired version and now reports another one (e.g. MCUboot reverted).
            return self._after_failure(row, desired, public_base, retry_now=False)
        if status == "downloading":
            if rep.result in FAILURE_RESULTS:
                return self._after_failure(row, desired, public_base, retry_now=False)
            expires = row["token_expires"]
            if expires is not None and now >= expires:
                # The token ran out before the device finished: that attempt is spent.
                return self._after_failure(row, desired, public_base, retry_now=True)
            if rep.state == "idle" and rep.result is None and row["file_id"]:
                # Idle in the middle of its download: the device lost the command
                # (a reboot).  Send the same URL again so it resumes from its journal.
                return self._resend(row, desired, public_base)
            return None
        if status in ("pending", "retry"):
            return self._issue(row, desired, public_base)
        return None

    def _after_failure(self, row: Mapping[str, Any], desired: FirmwareInfo, public_base: Base, *,
                       retry_now: bool) -> Downlink | None:
        self._withdraw(row)
        if row["attempts"] >= 1 + row["retry_limit"]:
            self._set_status(row, "failed", file_id=None, token_expires=None)
            return None
        if retry_now:
            return self._issue(row, desired, public_base)
        self._set_status(row, "retry", file_id=None, token_expires=None)
        return None

    def _issue(self, row: Mapping[str, Any], desired: FirmwareInfo, public_base: Base) -> Downlink:
        self._withdraw(row)
        data = self.firmware_data(desired["id"])
        pub = self.fileserver.publish(data, device=row["imei"], ttl=self.token_ttl,
                                      faults=self.faults_for(row))
        attempts = row["attempts"] + 1
        self._set_status(row, "downloading", file_id=pub.file_id, token_expires=pub.expires,
                         attempts=attempts)
        return self._command(row, _base(public_base) + pub.path, pub.token, desired)

    def _command(self, row: Mapping[str, Any], url: str, token: str,
                 desired: FirmwareInfo) -> Downlink:
        pack: Downlink = [
            {"bn": f"urn:dev:IMEI:{row['imei']}:"},
            {"n": "url", "vs": url},
            {"n": "token", "vs": token},
        ]
        if self.downlink_extras:  # the project's optional records; KPN sends none
            pack += [
                {"n": "size", "v": desired["size"]},
                {"n": "crc32", "vs": desired["crc32"]},
                {"n": "sha256", "vs": desired["sha256"]},
                {"n": "version", "vs": desired["version"]},
            ]
        return pack

    def _resend(self, row: Mapping[str, Any], desired: FirmwareInfo, public_base: Base) -> Downlink:
        try:
            token, _ = self.fileserver.token_for(
                row["file_id"], ttl=max(1.0, row["token_expires"] - self.clock()))
        except KeyError:  # the file server forgot the file: a new download
            return self._issue(row, desired, public_base)
        return self._command(row, _base(public_base) + "/f/v1/" + row["file_id"], token,
                             desired)

    def _withdraw(self, row: Mapping[str, Any]) -> None:
        if row["file_id"]:
            try:
                self.fileserver.unpublish(row["file_id"])
            except KeyError:
                pass

    def _set_status(self, row: Mapping[str, Any], status: str, **extra: Any) -> None:
        self._update(row["imei"], {"update_status": status, **extra})
        attempts = extra.get("attempts", row["attempts"])
        if row["campaign_id"] is not None:
            self._campaign_status(row["campaign_id"], row["imei"], status, attempts)

    def _campaign_status(self, campaign_id: int, imei: str, status: str, attempts: int) -> None:
        self.conn.execute(
            "UPDATE campaign_devices SET status = ?, attempts = ?, updated = ?"
            " WHERE campaign_id = ? AND imei = ?",
            (status, attempts, self.clock(), campaign_id, imei))

    def _update(self, imei: str, sets: dict[str, Any]) -> None:
        assign = ", ".join(f"{k} = ?" for k in sets)
        self.conn.execute(f"UPDATE devices SET {assign} WHERE imei = ?", (*sets.values(), imei))
