"""Desired versus reported state of each device, and the update lifecycle between them.

Statuses (``devices.update_status``):
  idle         no desired firmware
  pending      desired differs from reported; the next uplink gets a downlink
  downloading  a downlink was sent; the device is fetching / installing
  retry        the device reported a failure; the next uplink gets a new downlink
  failed       failures used up the retry limit (1 + retry_limit downlinks were sent)
  done         the device reported the desired version
  skipped      a delta campaign with others "skip": the device runs another version
               than the delta's source; it gets the delta once it reports that version

A delta campaign ("delta from version X") sends its delta file to a device
that reports version X and, to any other device, what the campaign's
``others`` says: the full image ("full") or nothing ("skip").  A device that
refuses the delta because its running image is not the delta's source
(fota.error ``delta_source``) or because it applies no deltas
(``delta_unsupported``) is from then on treated as one on another version:
the emulator never falls back to the full image unless the campaign said so.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Union

from m2mfota.emulator import deltas, firmware
from m2mfota.emulator import faults as faults_mod
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


#: fota.error reasons the C engine sends, by what they mean to the operator
#: (the rest are shown as sent).
ERROR_NAMES = {
    "crc_mismatch": "image CRC-32 differs from the downlink's",
    "sha256_mismatch": "image SHA-256 differs from the downlink's",
    "size_mismatch": "image size differs from the downlink's",
    "readback": "flash read back differs from what was written",
    "image_hash": "MCUboot hash TLV does not match the image",
    "image_signature": "no trusted key signed the image",
    "image_no_signature": "the image is not signed",
    "image_no_header": "no MCUboot header",
    "token": "file server refused the token",
    "not_found": "file gone from the file server",
    "budget": "request budget of the download spent",
    "file_changed": "the file changed during the download",
    "delta_source": "delta: the running image is not the delta's source",
    "delta_header": "delta: bad delta file header",
    "delta_target": "delta: rebuilt image differs from the delta's target",
    "delta_unsupported": "delta: this device does not apply delta files",
    "delta_format": "delta: patch compression or format the device cannot read",
    "delta_corrupt": "delta: malformed or truncated patch",
}
#: fota.error values by which a device says it cannot use the delta (its
#: image is not the source, or it applies no deltas): it then counts as a
#: device on another version (the campaign's others decide).
DELTA_SOURCE_ERRORS = frozenset({"delta_source", "delta_unsupported"})


def _cached(cache: dict[int, bytes], key: int, load: Callable[[], bytes]) -> bytes:
    """``cache[key]``, loaded on a miss; the oldest entry goes when the cache
    holds DATA_CACHE (rows are never changed, so nothing goes stale)."""
    data = cache.get(key)
    if data is None:
        data = load()
        if len(cache) >= DATA_CACHE:
            del cache[next(iter(cache))]
        cache[key] = data
    return data


def result_name(result: int | None) -> str | None:
    """The name of a fota.result code (None for none; "result N" if unknown)."""
    if result is None:
        return None
    return RESULT_NAMES.get(result, f"result {result}")


def error_name(error: str | None) -> str | None:
    """What a fota.error reason means (None for none; the reason itself if unknown)."""
    if error is None:
        return None
    return ERROR_NAMES.get(error, error)


def report_text(rep: Reported) -> str:
    """The FOTA part of an uplink in words, for the event log ("" if none):
    state, progress, and a result with its name and error."""
    parts = []
    if rep.state is not None:
        parts.append(f"fota.state {rep.state}")
    if rep.progress is not None:
        parts.append(f"{rep.progress:.0f}%")
    if rep.result is not None:
        text = f"fota.result {rep.result} ({result_name(rep.result)})"
        if rep.error is not None:
            text += f", fota.error {rep.error} ({error_name(rep.error)})"
        parts.append(text)
    elif rep.error is not None:
        parts.append(f"fota.error {rep.error} ({error_name(rep.error)})")
    return ", ".join(parts)


# How campaign counts group the statuses.
COUNT_GROUP = {"pending": "pending", "retry": "pending", "downloading": "downloading",
               "done": "done", "failed": "failed", "idle": "pending", "skipped": "skipped"}


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
        # Delta files and what a campaign sends (delta_id, others, source
        # version): rows that never change once made, cached like firmware.
        self._delta_data: dict[int, bytes] = {}
        self._delta_info: dict[int, JsonObject] = {}
        self._campaign_delta: dict[int, tuple[int | None, str | None, str | None]] = {}
        # Device rows as the uplinks last left them.  Reading the row back per
        # uplink was a tenth of ingestion's cost.  Every write to a device
        # either goes through _update (which keeps its entry) or drops the
        # entry, and the owner calls forget_devices() around any other write
        # (the API's transactions) and after a rollback.
        self._rows: dict[str, dict[str, Any]] = {}
        # UPDATE statements by the columns they set (a handful of shapes)
        self._update_sql: dict[tuple[str, ...], str] = {}
        #: called before each write this object makes to the database while
        #: set (the group commit opens an uplink's savepoint only then)
        self.before_write: Callable[[], None] | None = None

    def device(self, imei: str) -> dict[str, Any] | None:
        """The row of device ``imei`` (None: not registered), from the cache
        of rows.  The dict is the cache's own: read it, never change it."""
        row = self._rows.get(imei)
        if row is None:
            found = self.conn.execute("SELECT * FROM devices WHERE imei = ?",
                                      (imei,)).fetchone()
            if found is None:
                return None
            row = self._rows[imei] = dict(found)
        return row

    def forget_devices(self) -> None:
        """Drop the cached device rows: the database was (or may have been)
        changed behind :meth:`device`'s back, or a write was rolled back."""
        self._rows.clear()

    def _desired(self, firmware_id: int) -> FirmwareInfo:
        fw = self._firmware.get(firmware_id)
        if fw is None:
            fw = self._firmware[firmware_id] = firmware.get(self.conn, firmware_id)
        return fw

    def firmware_data(self, firmware_id: int) -> bytes:
        """The bytes of a firmware, from a small cache (the last DATA_CACHE read)."""
        return _cached(self._data, firmware_id, lambda: firmware.data(self.conn, firmware_id))

    def delta_data(self, delta_id: int) -> bytes:
        """The bytes of a delta file (cached like firmware_data)."""
        return _cached(self._delta_data, delta_id, lambda: deltas.data(self.conn, delta_id))

    def file_data(self, row: Mapping[str, Any]) -> bytes:
        """The bytes a device's download serves: its delta file or its desired image."""
        if row["delta_id"] is not None:
            return self.delta_data(row["delta_id"])
        return self.firmware_data(row["desired_firmware_id"])

    def _delta(self, delta_id: int) -> JsonObject:
        info = self._delta_info.get(delta_id)
        if info is None:
            info = self._delta_info[delta_id] = deltas.get(self.conn, delta_id)
        return info

    def _plan(self, row: Mapping[str, Any]) -> tuple[str, int | None]:
        """What the device's next download is: ("delta", id), ("full", None)
        or ("skip", None), by its campaign and the version it reports."""
        campaign_id = row["campaign_id"]
        if campaign_id is None:
            return "full", None
        plan = self._campaign_delta.get(campaign_id)
        if plan is None:
            camp = self.conn.execute("SELECT delta_id, others FROM campaigns WHERE id = ?",
                                     (campaign_id,)).fetchone()
            source = (None if camp["delta_id"] is None
                      else self._delta(camp["delta_id"])["source"]["version"])
            plan = self._campaign_delta[campaign_id] = (camp["delta_id"], camp["others"],
                                                        source)
        delta_id, others, source_version = plan
        if delta_id is None:
            return "full", None
        if row["reported_firmware"] == source_version:
            refused = self.conn.execute(
                "SELECT delta_refused FROM campaign_devices WHERE campaign_id = ? AND imei = ?",
                (campaign_id, row["imei"])).fetchone()
            if refused is None or not refused["delta_refused"]:
                return "delta", delta_id
        return str(others), None

    # -- desired state -------------------------------------------------------------
    def set_desired(self, imei: str, firmware_id: int | None, *, campaign_id: int | None = None,
                    retry_limit: int | None = None) -> None:
        """Make ``firmware_id`` the firmware ``imei`` should run (None: no wish)."""
        row = self.conn.execute("SELECT * FROM devices WHERE imei = ?", (imei,)).fetchone()
        if row is None:
            raise ApiError(404, f"no device with IMEI {imei}", "imei")
        self._rows.pop(imei, None)
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
            " token_expires = NULL, delta_id = NULL, bytes_sent = 0 WHERE imei = ?",
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
        self._rows.pop(imei, None)
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
                  downlink: bool = True,
                  defer: Callable[[str, dict[str, Any]], None] | None = None
                  ) -> Downlink | None:
        """Record what the device reported; return the downlink pack to answer with, if any.

        ``public_base`` (``http://ip:port`` of the file server, or a function
        returning it, called only when a downlink is made) starts the URL.
        ``downlink=False`` only records (a device behind a gateway: nothing
        sent in answer could reach it).  ``defer(imei, columns)``, when
        given, takes the write of the reported columns (the caller writes
        them before its commit); :meth:`device` shows them at once."""
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
        # What the device reports is written by the caller's ``defer`` when
        # given (the group commit: one executemany per group, not an UPDATE
        # per uplink); the columns it sets are never written otherwise on
        # this path, so the order of the writes does not matter.
        self._update(imei, sets, defer)
        if not downlink:
            return None
        # the row as it now stands, without reading it back (the hot path of ingestion)
        row = {**row, **sets}
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
                if row["delta_id"] is not None and rep.error in DELTA_SOURCE_ERRORS:
                    # Its image is not the delta's source: from now on the
                    # campaign's choice for other versions applies to it.
                    self._write(
                        "UPDATE campaign_devices SET delta_refused = 1 WHERE campaign_id = ?"
                        " AND imei = ?", (row["campaign_id"], imei))
                    # The refusal says nothing of whether an update can
                    # succeed, so it spends no attempt: with retry_limit 0
                    # and others "full" the device must still get the image.
                    self._withdraw(row)
                    self._set_status(row, "retry", file_id=None, token_expires=None,
                                     attempts=row["attempts"] - 1)
                    return None
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
        if status in ("pending", "retry", "skipped"):
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

    def _issue(self, row: Mapping[str, Any], desired: FirmwareInfo,
               public_base: Base) -> Downlink | None:
        self._withdraw(row)
        plan, delta_id = self._plan(row)
        if plan == "skip":
            if row["update_status"] != "skipped" or row["file_id"]:
                self._set_status(row, "skipped", file_id=None, token_expires=None,
                                 delta_id=None)
            return None
        data = self.delta_data(delta_id) if delta_id is not None \
            else self.firmware_data(desired["id"])
        pub = self.fileserver.publish(data, device=row["imei"], ttl=self.token_ttl,
                                      faults=self.faults_for(row))
        attempts = row["attempts"] + 1
        self._set_status(row, "downloading", file_id=pub.file_id, token_expires=pub.expires,
                         attempts=attempts, delta_id=delta_id)
        if row["campaign_id"] is not None:
            self._write("UPDATE campaign_devices SET served = ? WHERE campaign_id = ?"
                              " AND imei = ?", (plan, row["campaign_id"], row["imei"]))
        return self._command(row, _base(public_base) + pub.path, pub.token, desired, delta_id)

    def _command(self, row: Mapping[str, Any], url: str, token: str, desired: FirmwareInfo,
                 delta_id: int | None) -> Downlink:
        pack: Downlink = [
            {"bn": f"urn:dev:IMEI:{row['imei']}:"},
            {"n": "url", "vs": url},
            {"n": "token", "vs": token},
        ]
        if self.downlink_extras:  # the project's optional records; KPN sends none
            # size and checksums describe the file served (a delta file: its
            # own); version is the image the device ends up running
            served = desired if delta_id is None else self._delta(delta_id)
            pack += [
                {"n": "size", "v": served["size"]},
                {"n": "crc32", "vs": served["crc32"]},
                {"n": "sha256", "vs": served["sha256"]},
                {"n": "version", "vs": desired["version"]},
            ]
        return pack

    def _resend(self, row: Mapping[str, Any], desired: FirmwareInfo,
                public_base: Base) -> Downlink | None:
        try:
            token, _ = self.fileserver.token_for(
                row["file_id"], ttl=max(1.0, row["token_expires"] - self.clock()))
        except KeyError:  # the file server forgot the file: a new download
            return self._issue(row, desired, public_base)
        return self._command(row, _base(public_base) + "/f/v1/" + row["file_id"], token,
                             desired, row["delta_id"])

    def _withdraw(self, row: Mapping[str, Any]) -> None:
        """Stop serving the device's file, adding the body bytes the file server
        sent of it to ``devices.bytes_sent`` (the airtime its update cost, over
        every download since its desired firmware was set)."""
        if row["file_id"]:
            try:
                sent = self.fileserver.stats(row["file_id"])["bytes_sent"]
            except KeyError:
                sent = 0  # forgotten by the file server (a restart): not counted
            if sent:
                self._write("UPDATE devices SET bytes_sent = bytes_sent + ? WHERE imei = ?",
                            (sent, row["imei"]))
                # kept in step, not dropped: a cached row may hold reports
                # not yet written (see on_uplink's defer)
                cached = self._rows.get(row["imei"])
                if cached is not None:
                    cached["bytes_sent"] = (cached.get("bytes_sent") or 0) + sent
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
        self._write(
            "UPDATE campaign_devices SET status = ?, attempts = ?, updated = ?"
            " WHERE campaign_id = ? AND imei = ?",
            (status, attempts, self.clock(), campaign_id, imei))

    def update_sql(self, keys: tuple[str, ...]) -> str:
        """``UPDATE devices SET k1 = ?, ... WHERE imei = ?`` for the columns ``keys``."""
        sql = self._update_sql.get(keys)
        if sql is None:
            assign = ", ".join(f"{k} = ?" for k in keys)
            sql = self._update_sql[keys] = f"UPDATE devices SET {assign} WHERE imei = ?"
        return sql

    def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        if self.before_write is not None:
            self.before_write()
        self.conn.execute(sql, params)

    def _update(self, imei: str, sets: dict[str, Any],
                defer: Callable[[str, dict[str, Any]], None] | None = None) -> None:
        if defer is None:
            self._write(self.update_sql(tuple(sets)), (*sets.values(), imei))
        else:
            defer(imei, sets)
        cached = self._rows.get(imei)
        if cached is not None:
            cached.update(sets)
