"""SQLite storage of the emulator: one schema, versioned migrations.

The emulator is single-process and its handlers run on one event loop, so a
single connection is shared; WAL journaling keeps a file database fast enough
for a thousand devices uplinking at once without giving up durability.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterable
from types import TracebackType

# Each entry moves the schema from version i to i + 1 (PRAGMA user_version).
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE firmware (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        version TEXT NOT NULL,
        kind TEXT NOT NULL,              -- 'binary' or 'mcuboot'
        filename TEXT NOT NULL DEFAULT '',
        size INTEGER NOT NULL,
        crc32 TEXT NOT NULL,             -- 8 lowercase hex digits
        sha256 TEXT NOT NULL,
        data BLOB NOT NULL,
        created REAL NOT NULL
    );
    CREATE TABLE campaigns (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        firmware_id INTEGER NOT NULL REFERENCES firmware(id),
        target_kind TEXT NOT NULL,       -- 'imeis', 'type' or 'client'
        target_value TEXT NOT NULL,      -- JSON
        retry_limit INTEGER,             -- NULL: each device keeps its own
        faults TEXT,                     -- JSON object or NULL
        created REAL NOT NULL
    );
    CREATE TABLE devices (
        imei TEXT PRIMARY KEY,
        type TEXT NOT NULL DEFAULT '',
        client TEXT NOT NULL DEFAULT '',
        secret TEXT NOT NULL,
        created REAL NOT NULL,
        last_seen REAL,
        reported_firmware TEXT,
        fota_state TEXT,
        fota_progress REAL,
        fota_result INTEGER,
        fota_error TEXT,
        desired_firmware_id INTEGER REFERENCES firmware(id),
        campaign_id INTEGER REFERENCES campaigns(id),
        update_status TEXT NOT NULL DEFAULT 'idle',
        attempts INTEGER NOT NULL DEFAULT 0,
        retry_limit INTEGER NOT NULL DEFAULT 3,
        file_id TEXT,
        token_expires REAL,
        faults TEXT
    );
    CREATE INDEX devices_type ON devices(type);
    CREATE INDEX devices_client ON devices(client);
    CREATE TABLE campaign_devices (
        campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
        imei TEXT NOT NULL REFERENCES devices(imei),
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        updated REAL NOT NULL,
        PRIMARY KEY (campaign_id, imei)
    );
    CREATE TABLE uplinks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        imei TEXT NOT NULL,
        received REAL NOT NULL,
        body TEXT NOT NULL,
        records TEXT NOT NULL,           -- JSON of the resolved records
        downlink TEXT                    -- JSON body sent back, if any
    );
    CREATE INDEX uplinks_imei ON uplinks(imei, id);
    CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value BLOB NOT NULL
    );
    """,
    # 2: delta campaigns.  A delta file (m2mfota header + detools patch) is
    # made once per (source, target) pair and kept like firmware; a campaign
    # "delta from version X" names it and says what devices on another
    # version get (others); a device remembers which delta it was served.
    """
    CREATE TABLE deltas (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        source_id INTEGER NOT NULL REFERENCES firmware(id),
        target_id INTEGER NOT NULL REFERENCES firmware(id),
        compression TEXT NOT NULL,
        size INTEGER NOT NULL,
        crc32 TEXT NOT NULL,             -- of the whole delta file
        sha256 TEXT NOT NULL,
        data BLOB NOT NULL,
        seconds REAL NOT NULL,           -- time detools took to make it
        created REAL NOT NULL,
        UNIQUE (source_id, target_id, compression)
    );
    ALTER TABLE campaigns ADD COLUMN delta_id INTEGER REFERENCES deltas(id);
    ALTER TABLE campaigns ADD COLUMN others TEXT;  -- 'full' or 'skip', NULL: no delta
    ALTER TABLE devices ADD COLUMN delta_id INTEGER REFERENCES deltas(id);
    ALTER TABLE campaign_devices ADD COLUMN delta_refused INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE campaign_devices ADD COLUMN served TEXT;  -- 'delta' or 'full', last sent
    ALTER TABLE devices ADD COLUMN bytes_sent INTEGER NOT NULL DEFAULT 0;  -- see state.py
    """,
    # 3: an uplink is stored as the bytes the device signed (a truer audit
    # record than any re-encoding) and decoded when read: encoding its
    # records as JSON on every uplink was ingestion work nobody used until an
    # operator looked.  Rows from before keep their records JSON (body was
    # stored as text with bad UTF-8 replaced, so it may not decode the same).
    """
    CREATE TABLE uplinks_v3 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        imei TEXT NOT NULL,
        received REAL NOT NULL,
        body BLOB NOT NULL,              -- the pack as received (TEXT in rows before v3)
        records TEXT,                    -- NULL: decode body, rows before v3: JSON
        downlink TEXT                    -- JSON body sent back, if any
    );
    INSERT INTO uplinks_v3 (id, imei, received, body, records, downlink)
        SELECT id, imei, received, body, records, downlink FROM uplinks;
    DROP TABLE uplinks;
    ALTER TABLE uplinks_v3 RENAME TO uplinks;
    CREATE INDEX uplinks_imei ON uplinks(imei, id);
    """,
)


def connect(path: str = ":memory:") -> sqlite3.Connection:
    """Open (creating or migrating) the database at ``path``; ``:memory:`` for tests.

    A new file is created with mode 0600: it holds device secrets.  Raises
    OSError when the file cannot be created and sqlite3.DatabaseError when
    it is no SQLite database."""
    if path != ":memory:" and not path.startswith("file:"):
        # created here, not by SQLite, so that it never exists with a wider mode;
        # SQLite gives its -wal and -shm files the mode of the database file
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    conn.row_factory = sqlite3.Row
    try:
        check_ours(conn)
    except sqlite3.DatabaseError:
        conn.close()
        raise
    conn.execute("PRAGMA foreign_keys = ON")
    if path != ":memory:":
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
    migrate(conn)
    return conn


def check_ours(conn: sqlite3.Connection) -> None:
    """Refuse a database this emulator must not touch, before anything is
    written to it (not even the WAL journal mode): one of another
    application (tables but no schema version of ours), or one written by a
    newer emulator.  Raises sqlite3.DatabaseError naming the reason."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise sqlite3.DatabaseError(
            f"schema version {version} is newer than this emulator's "
            f"({len(MIGRATIONS)}): use a newer m2mfota or another --db file")
    if version == 0:
        names = [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name")]
        if names:
            shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
            raise sqlite3.DatabaseError(
                f"not an m2mfota emulator database (it holds {shown}): "
                "left untouched; use another --db file")


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the migrations the database has not seen yet; return the schema version."""
    check_ours(conn)
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    for i in range(version, len(MIGRATIONS)):
        with transaction(conn):
            for statement in _statements(MIGRATIONS[i]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {i + 1}")
    return len(MIGRATIONS)


def _statements(script: str) -> Iterable[str]:
    # executescript() would commit behind our back; split instead (no ';' in literals).
    for part in script.split(";"):
        lines = [ln.split("--", 1)[0] for ln in part.splitlines()]
        text = "\n".join(lines).strip()
        if text:
            yield text


class transaction:
    """``with transaction(conn):`` runs the block in BEGIN IMMEDIATE ... COMMIT."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.conn.execute("COMMIT" if exc_type is None else "ROLLBACK")


def setting(conn: sqlite3.Connection, key: str, make: Callable[[], bytes]) -> bytes:
    """The stored value of ``key``, created with ``make()`` on first use."""
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    if row is not None:
        return bytes(row["value"])
    value = make()
    conn.execute("INSERT INTO settings (key, value) VALUES (?, ?)", (key, value))
    return value
