"""An uplink is stored as the bytes the device signed and decoded when read
(schema 3); uplinks stored before keep the records JSON they were stored with."""

from __future__ import annotations

import json
import sqlite3

from emulator_harness import ServerThread, register, request, sign

from m2mfota.emulator import db

IMEI = "356938035643899"
INGEST = "/ingestion/m2m/senml/v1"


def post(port: int, body: bytes, secret: str) -> int:
    return request(port, "POST", INGEST, body=body, headers={
        "Content-Type": "application/json", "Things-Message-Token": sign(body, secret)}).status


def test_the_stored_body_is_the_signed_bytes_and_reads_back_as_records(tmp_path):
    path = str(tmp_path / "emu.sqlite3")
    # spaces, an escaped name and a unit: bytes no re-encoding would give back
    body = (b'[ {"bn": "urn:dev:IMEI:' + IMEI.encode() + b':", "n": "temp\\u0065rature",'
            b' "u": "Cel", "v": 21.50},\n {"n": "firmware", "vs": "1.0"} ]')
    with ServerThread(path) as srv:
        dev = register(srv.port, IMEI)
        assert post(srv.port, body, dev.secret) == 204
        ups = request(srv.port, "GET", f"/api/devices/{IMEI}/uplinks").json()
    assert ups[0]["records"] == [
        {"n": f"urn:dev:IMEI:{IMEI}:temperature", "u": "Cel", "v": 21.5},
        {"n": f"urn:dev:IMEI:{IMEI}:firmware", "vs": "1.0"}]
    conn = sqlite3.connect(path)
    row = conn.execute("SELECT body, records FROM uplinks WHERE imei = ?", (IMEI,)).fetchone()
    conn.close()
    assert row == (body, None)


def test_uplinks_stored_under_schema_2_keep_their_records(tmp_path):
    path = str(tmp_path / "old.sqlite3")
    old = sqlite3.connect(path, isolation_level=None)
    for script in db.MIGRATIONS[:2]:
        for statement in db._statements(script):
            old.execute(statement)
    old.execute("PRAGMA user_version = 2")
    recs = [{"n": f"urn:dev:IMEI:{IMEI}:battery", "u": "%", "v": 90.0}]
    old.execute("INSERT INTO uplinks (imei, received, body, records, downlink)"
                " VALUES (?, 1.0, ?, ?, NULL)",
                (IMEI, "[{\"bn\":\"urn:dev:IMEI:" + IMEI + ":\",\"n\":\"x\",\"v\":1}]",
                 json.dumps(recs)))
    old.close()
    conn = db.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(db.MIGRATIONS) >= 3
    conn.execute("INSERT INTO uplinks (imei, received, body) VALUES (?, 2.0, ?)", (IMEI, b"[]"))
    rows = conn.execute("SELECT id, records FROM uplinks ORDER BY id").fetchall()
    conn.close()
    # the old row and its JSON kept, ids go on after it
    assert [(r["id"], r["records"]) for r in rows] == [(1, json.dumps(recs)), (2, None)]
    with ServerThread(path) as srv:
        register(srv.port, IMEI)
        ups = request(srv.port, "GET", f"/api/devices/{IMEI}/uplinks").json()
    # the stored JSON, not the body decoded again (which says x = 1)
    assert [u["records"] for u in ups] == [[], recs]
