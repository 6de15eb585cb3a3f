"""The aiohttp application: ingestion endpoint, REST API, dashboard and file server."""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from m2mfota.emulator import api, db, ingestion, security
from m2mfota.emulator.errors import ApiError
from m2mfota.emulator.events import EventLog
from m2mfota.emulator.fileserver import FileServer
from m2mfota.emulator.keys import EMULATOR
from m2mfota.emulator.lax_http import DIRECT_ROUTES, DirectHandler
from m2mfota.emulator.state import UpdateManager

STATIC = Path(__file__).parent / "static"
#: the sub-application serving the REST API under /api/
API_APP: web.AppKey[web.Application] = web.AppKey("api_app")
GROUP_COMMIT_SECONDS = 0.02
GROUP_MAX = 1000


class UplinkGroup:
    """The uplinks of one group commit: rows to insert, events to log once
    committed, and the future their handlers wait on."""

    __slots__ = ("rows", "events", "updates", "waiters", "timer", "error", "loop")

    def __init__(self) -> None:
        #: (imei, received, body as received, downlink JSON or None)
        self.rows: list[tuple[str, float, bytes, str | None]] = []
        #: (kind, time, EventLog.add keyword arguments)
        self.events: list[tuple[str, float, dict[str, Any]]] = []
        #: (imei, {column: value}) of what devices reported, written just
        #: before the COMMIT (UpdateManager.on_uplink's defer)
        self.updates: list[tuple[str, dict[str, Any]]] = []
        #: one future per handler waiting for the COMMIT (one each, so that a
        #: handler cancelled while it waits cancels nobody else's wait)
        self.waiters: list[asyncio.Future[None]] = []
        self.timer: asyncio.TimerHandle | None = None
        self.error: sqlite3.Error | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def store(self, imei: str, received: float, body: bytes, downlink: str | None) -> None:
        """Queue one device's uplink for the group's INSERT: the pack's bytes
        as the device signed them (its records are decoded when read)."""
        self.rows.append((imei, received, body, downlink))

    def defer_report(self, imei: str, sets: dict[str, Any]) -> None:
        """Queue the UPDATE of a device's reported columns for the commit."""
        self.updates.append((imei, sets))

    def log(self, kind: str, at: float, **fields: Any) -> None:
        """Queue an event for the log, added when the group is committed."""
        self.events.append((kind, at, fields))


class Emulator:
    """Everything one emulator process holds: database, file server, update lifecycle."""

    def __init__(self, conn: sqlite3.Connection, fileserver: Any, *,
                 clock: Callable[[], float], token_ttl: float, public_url: str | None,
                 uplink_history: int, downlink_extras: bool = True) -> None:
        self.conn = conn
        self.fileserver = fileserver
        self.clock = clock
        self.public_url = public_url.rstrip("/") if public_url else None
        self.uplink_history = uplink_history
        self._since_trim: dict[str, int] = {}
        self._group: UplinkGroup | None = None
        self.updates = UpdateManager(conn, fileserver, clock=clock, token_ttl=token_ttl,
                                     downlink_extras=downlink_extras)
        self.events = EventLog(clock=clock)
        if hasattr(fileserver, "on_event"):
            fileserver.on_event = self._file_event
        #: SHA-256 of the API key; None: authentication is off
        self.api_key_digest: bytes | None = None
        #: the API key when this start made it (shown once), else None
        self.new_api_key: str | None = None
        #: PEM public keys MCUboot image signatures are checked against
        self.mcuboot_keys: list[bytes] = []

    def _file_event(self, file_id: str, device: str | None, status: int, reason: str,
                    range_header: str | None) -> None:
        kind = "file" if status < 400 else "refused"
        message = f"GET {range_header or 'whole file'}: {status}"
        if reason:
            message += f" {reason}"
        self.events.add(kind, imei=device, status=status, message=message, file_id=file_id)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One transaction of its own (the API's writes): a pending group
        commit of uplinks is committed first."""
        self.flush()
        # The API writes devices with SQL of its own: the uplinks' cache of
        # device rows is dropped before (so nothing cached meets the new
        # rows) and after (whatever the transaction did, or rolled back).
        self.updates.forget_devices()
        try:
            with db.transaction(self.conn) as conn:
                yield conn
        finally:
            self.updates.forget_devices()

    @contextmanager
    def uplink_transaction(self) -> Iterator[UplinkGroup]:
        """The writes of one uplink, atomic (a savepoint) inside a group commit.

        A COMMIT per uplink was the largest cost of ingestion under load, so
        uplinks share one: the group is committed GROUP_COMMIT_SECONDS after
        its first uplink, when it holds GROUP_MAX uplinks, before any other
        transaction, and at shutdown.  What devices report (the columns
        UpdateManager.on_uplink defers), the stored uplinks and their events
        are queued on the yielded group and written with an executemany
        each just before its COMMIT; the next uplink's decision reads the
        device from UpdateManager's cache, which has them at once.  Update
        status changes are written at once, in the uplink's savepoint.  The
        handler answers the device only after :meth:`stored` (the commit):
        an acknowledged uplink is never lost."""
        conn = self.conn
        group = self._group
        if group is None:
            conn.execute("BEGIN IMMEDIATE")
            group = self._group = UplinkGroup()
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no event loop (a direct call): commit at the end
                loop = None
            if loop is not None:
                group.loop = loop
                group.timer = loop.call_later(GROUP_COMMIT_SECONDS, self.flush)
        mark = len(group.rows), len(group.events), len(group.updates)
        # The savepoint that makes this uplink's writes atomic is opened by
        # the first write made at once: the common uplink makes none (what
        # it reports is deferred to the group's executemany), and a
        # SAVEPOINT and RELEASE per uplink were 3 % of ingestion's CPU.
        opened = False

        def savepoint() -> None:
            nonlocal opened
            if not opened:
                conn.execute("SAVEPOINT uplink")
                opened = True

        self.updates.before_write = savepoint
        try:
            yield group
        except BaseException:
            if opened:
                conn.execute("ROLLBACK TO uplink")
                conn.execute("RELEASE uplink")
            del group.rows[mark[0]:], group.events[mark[1]:], group.updates[mark[2]:]
            self.updates.forget_devices()  # cached rows may hold the undone writes
            raise
        finally:
            self.updates.before_write = None
        if opened:
            conn.execute("RELEASE uplink")
        if group.loop is None or len(group.rows) >= GROUP_MAX:
            self.flush()

    async def stored(self, group: UplinkGroup) -> None:
        """Wait until ``group`` is committed.  Raises sqlite3.Error when its
        COMMIT failed (nothing of the group was stored)."""
        if group is self._group and group.loop is not None:
            waiter = group.loop.create_future()
            group.waiters.append(waiter)
            await waiter
        elif group.error is not None:
            raise group.error

    def flush(self) -> None:
        """Commit the pending group of uplinks, if any; then log its events.

        Never raises: a failed COMMIT rolls the group back and is reported to
        the uplinks waiting in :meth:`stored` (their devices get an error,
        not an acknowledgement) and in the event log."""
        group, self._group = self._group, None
        if group is None:
            return
        if group.timer is not None:
            group.timer.cancel()
        conn = self.conn
        try:
            if group.updates:
                self._write_reports(group.updates)
            if group.rows:
                conn.executemany(
                    "INSERT INTO uplinks (imei, received, body, downlink)"
                    " VALUES (?, ?, ?, ?)", group.rows)
                for row in group.rows:
                    self.trim_uplinks(row[0])
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self.updates.forget_devices()  # the group's device writes are undone
            group.error = exc
            for waiter in group.waiters:
                if not waiter.done():
                    waiter.set_exception(exc)
            for row in group.rows:
                self.events.add("refused", imei=row[0], status=503,
                                message=f"uplink not stored: database error: {exc}",
                                at=row[1])
            return
        for waiter in group.waiters:
            if not waiter.done():
                waiter.set_result(None)
        for kind, at, fields in group.events:
            self.events.add(kind, at=at, **fields)

    def _write_reports(self, updates: list[tuple[str, dict[str, Any]]]) -> None:
        """The devices' reported columns the group's uplinks deferred: one
        executemany per set of columns, each device once with its latest
        values (one device's uplinks may set different columns)."""
        merged: dict[str, dict[str, Any]] = {}
        for imei, sets in updates:
            merged.setdefault(imei, {}).update(sets)
        shapes: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        for imei, sets in merged.items():
            shapes.setdefault(tuple(sets), []).append((*sets.values(), imei))
        for keys, params in shapes.items():
            self.conn.executemany(self.updates.update_sql(keys), params)

    def public_base(self, request: web.Request) -> str:
        """``http://ip:port`` devices reach this server at (they have no DNS)."""
        if self.public_url:
            return self.public_url
        sock = request.transport.get_extra_info("sockname") if request.transport else None
        if not sock:
            return f"http://{request.host}"
        host, port = sock[0], sock[1]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def republish(self) -> None:
        """Put back on the file server the files of updates a restart interrupted."""
        now = self.clock()
        for row in self.conn.execute(
                "SELECT * FROM devices WHERE update_status = 'downloading'"
                " AND file_id IS NOT NULL AND token_expires > ?", (now,)).fetchall():
            data = self.updates.file_data(row)
            self.fileserver.publish(data, device=row["imei"], ttl=row["token_expires"] - now,
                                    faults=self.updates.faults_for(row), file_id=row["file_id"])

    def trim_uplinks(self, imei: str) -> None:
        """Keep the last ``uplink_history`` uplinks of a device.  The DELETE runs
        once per tenth of the history (every insert for a short one), not per
        uplink: readers ask for at most ``uplink_history`` rows anyway."""
        n = self._since_trim.get(imei, 0) + 1
        if n < max(1, self.uplink_history // 10):
            self._since_trim[imei] = n
            return
        self._since_trim[imei] = 0
        self.conn.execute(
            "DELETE FROM uplinks WHERE imei = ? AND id <= (SELECT id FROM uplinks WHERE imei = ?"
            " ORDER BY id DESC LIMIT 1 OFFSET ?)", (imei, imei, self.uplink_history))


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Client errors on the API become ``{"error", "field"}`` JSON with a 4xx status."""
    try:
        return await handler(request)
    except ApiError as exc:
        return web.json_response(exc.to_json(), status=exc.status)
    except web.HTTPException as exc:
        if not request.path.startswith("/api/") or exc.status < 400:
            raise
        return web.json_response({"error": exc.reason}, status=exc.status,
                                 headers={k: v for k, v in exc.headers.items()
                                          if k.lower() == "allow"})


async def _index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


async def _api_docs(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "api.html")


def create_app(db_path: str = ":memory:", *, jwt_secret: bytes | None = None,
               clock: Callable[[], float] = time.time, token_ttl: float = 3600.0,
               public_url: str | None = None, uplink_history: int = 1000,
               fileserver: Any = None, api_key: str | None = None,
               auth: bool = True, mcuboot_keys: list[bytes] | None = None,
               downlink_extras: bool = True) -> web.Application:
    """Build the application on the SQLite database at ``db_path`` (``:memory:`` for tests).

    With ``auth`` (the default) the REST API wants the API key: ``api_key``
    when given (it replaces the stored one), else the one stored in the
    database, else a new one, readable once as ``app[EMULATOR].new_api_key``.
    ``auth=False`` opens the API to anyone who can reach the port.
    ``mcuboot_keys`` (PEM public keys) check the signatures of MCUboot images.
    ``downlink_extras=False`` sends FOTA commands as KPN does, with ``url`` and
    ``token`` only (no size, crc32, sha256, version): the image's own header
    is then the device's only whole-file check.
    Raises ValueError for an API key that is too short or not printable."""
    conn = db.connect(db_path)
    if fileserver is None:
        # Kept in the database so that tokens handed out before a restart stay valid.
        with db.transaction(conn):
            secret = jwt_secret or db.setting(conn, "jwt_secret", lambda: secrets.token_bytes(32))
        fileserver = FileServer(jwt_secret=secret, clock=clock)
    emu = Emulator(conn, fileserver, clock=clock, token_ttl=token_ttl, public_url=public_url,
                   uplink_history=uplink_history, downlink_extras=downlink_extras)
    emu.republish()
    emu.mcuboot_keys = list(mcuboot_keys or [])
    if auth:
        emu.api_key_digest, emu.new_api_key = security.setup_api_key(conn, api_key)
    # The device endpoints (ingestion, file server) sit on the root
    # application, which has no middleware: the API's guard and JSON errors
    # are a sub-application's, so an uplink does not pass through them.
    app = web.Application(client_max_size=api.MAX_UPLOAD)
    app.on_response_prepare.append(security.add_headers)
    app[EMULATOR] = emu
    app.router.add_post(ingestion.PATH, ingestion.handle_uplink)
    # Served by LaxAppRunner without the application's dispatch (the device
    # gets the same answer; the route above serves other runners).
    direct: dict[tuple[str, str], DirectHandler] = {
        ("POST", ingestion.PATH): partial(ingestion.uplink, emu)}
    app[DIRECT_ROUTES] = direct
    fileserver.add_routes(app)
    app.router.add_get("/", _index)
    app.router.add_get("/docs/api", _api_docs)
    app.router.add_static("/static/", STATIC)
    rest = web.Application(
        middlewares=[security.guard(lambda: emu.api_key_digest, lambda: emu.public_url),
                     json_errors])
    rest[EMULATOR] = emu
    api.add_routes(rest)
    app.add_subapp(api.PREFIX, rest)
    app[API_APP] = rest

    async def close_db(_app: web.Application) -> None:
        emu.flush()
        conn.close()

    app.on_cleanup.append(close_db)
    return app
