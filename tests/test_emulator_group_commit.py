"""Uplinks share a group commit, and a device is answered only once its
uplink is committed: an acknowledged uplink is never lost, and an uplink
whose commit failed is not acknowledged (503, the device sends it again)."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor

import pytest
from emulator_harness import ServerThread, register, request

IMEI = "356938035643899"


@pytest.fixture
def file_srv(tmp_path):
    path = str(tmp_path / "emu.sqlite3")
    with ServerThread(path) as s:
        yield s, path


def stored(path: str, imei: str) -> int:
    """Uplinks committed for ``imei``, seen by a connection of our own."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT COUNT(*) FROM uplinks WHERE imei = ?", (imei,)).fetchone()[0]
    finally:
        conn.close()


def test_an_acknowledged_uplink_is_already_committed(file_srv):
    srv, path = file_srv
    dev = register(srv.port, IMEI)
    for n in range(1, 6):
        assert dev.uplink(firmware="1.0", state="idle").status == 204
        # no wait: the answer came after the COMMIT
        assert stored(path, IMEI) == n
    uplinks = [e for e in request(srv.port, "GET", f"/api/events?imei={IMEI}").json()
               if e["kind"] == "uplink"]
    assert len(uplinks) == 5


def test_concurrent_uplinks_of_many_devices_are_all_stored(file_srv):
    srv, path = file_srv
    devices = [register(srv.port, f"3569380356439{n:02d}") for n in range(24)]
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda d: [d.uplink(firmware="1.0").status for _ in range(3)],
                                 devices))
    assert statuses == [[204, 204, 204]] * len(devices)
    assert all(stored(path, d.imei) == 3 for d in devices)


def test_a_failed_commit_acknowledges_nothing(file_srv):
    srv, path = file_srv
    dev = register(srv.port, IMEI)
    fail = sqlite3.connect(path)
    fail.execute("CREATE TRIGGER no_room BEFORE INSERT ON uplinks "
                 "BEGIN SELECT RAISE(ABORT, 'disk full (test)'); END")
    fail.commit()
    try:
        resp = dev.uplink(firmware="1.7")
        assert resp.status == 503, resp.body
        assert stored(path, IMEI) == 0
        # the group was rolled back whole: the device's state did not move either
        assert request(srv.port, "GET", f"/api/devices/{IMEI}").json()["reported"][
            "firmware"] is None
        refused = [e for e in request(srv.port, "GET", "/api/events?kind=refused").json()
                   if e["imei"] == IMEI]
        assert refused and "uplink not stored: database error" in refused[0]["message"]
        assert "disk full (test)" in refused[0]["message"]
    finally:
        fail.execute("DROP TRIGGER no_room")
        fail.commit()
        fail.close()
    # sent again, it is stored and acknowledged
    assert dev.uplink(firmware="1.7").status == 204
    assert stored(path, IMEI) == 1
    assert request(srv.port, "GET", f"/api/devices/{IMEI}").json()["reported"][
        "firmware"] == "1.7"
