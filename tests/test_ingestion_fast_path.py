"""What keeps the ingestion endpoint cheap under load must not change what a
device or the API sees: the direct route past the application's dispatch,
the cache of device rows, and the bare-LF normaliser's no-copy path."""

from __future__ import annotations

import sqlite3

import pytest
from aiohttp import web
from emulator_harness import ServerThread, add_firmware, register, request
from hypothesis import given
from hypothesis import strategies as st

from m2mfota.emulator import ingestion
from m2mfota.emulator.app import create_app
from m2mfota.emulator.background import BackgroundServer
from m2mfota.emulator.lax_http import DIRECT_ROUTES, LfNormalizer

IMEI = "356938035643809"


# -- the direct route ---------------------------------------------------------------
def test_direct_route_skips_the_application_dispatch_and_only_for_its_exact_target():
    seen: list[str] = []

    @web.middleware
    async def record(req: web.Request, handler):  # type: ignore[no-untyped-def]
        seen.append(req.path_qs)
        return await handler(req)

    async def routed(req: web.Request) -> web.Response:
        return web.Response(text="routed")

    async def direct(req: web.Request) -> web.Response:
        return web.Response(text="direct " + (await req.read()).decode())

    def make() -> web.Application:
        app = web.Application(middlewares=[record])
        app.router.add_post("/d", routed)
        app[DIRECT_ROUTES] = {("POST", "/d"): direct}
        return app

    with BackgroundServer(make, max_lifetime=60) as srv:
        resp = request(srv.port, "POST", "/d", body=b"x")
        assert (resp.status, resp.body) == (200, b"direct x")
        assert seen == []  # no middleware ran
        # anything else is the application's: a query, another method, Expect
        assert request(srv.port, "POST", "/d?q=1", body=b"x").body == b"routed"
        assert request(srv.port, "GET", "/d").status == 405
        resp = request(srv.port, "POST", "/d", body=b"x", headers={"Expect": "100-continue"})
        assert resp.body == b"routed"
        assert seen == ["/d?q=1", "/d", "/d"]


def test_the_emulator_serves_ingestion_directly():
    app = create_app(":memory:", auth=False)
    routes = app[DIRECT_ROUTES]
    assert list(routes) == [("POST", ingestion.PATH)]
    # the router keeps the route too (for runners without direct routes)
    assert any(r.method == "POST" and r.resource is not None
               and r.resource.canonical == ingestion.PATH for r in app.router.routes())


# -- the cache of device rows -------------------------------------------------------
@pytest.fixture
def srv():
    with ServerThread() as s:
        yield s


def test_a_secret_changed_through_the_api_applies_to_the_next_uplink(srv):
    dev = register(srv.port, IMEI)
    assert dev.uplink(firmware="1.0").status == 204  # the row is cached now
    resp = request(srv.port, "PATCH", f"/api/devices/{IMEI}", json_body={"secret": "new-one"})
    assert resp.status == 200, resp.body
    assert dev.uplink(firmware="1.0").status == 401
    dev.secret = "new-one"
    assert dev.uplink(firmware="1.0").status == 204


def test_a_deleted_device_is_unknown_to_the_next_uplink(srv):
    dev = register(srv.port, IMEI)
    assert dev.uplink(firmware="1.0").status == 204
    assert request(srv.port, "DELETE", f"/api/devices/{IMEI}").status == 204
    assert dev.uplink(firmware="1.0").status == 401
    refused = request(srv.port, "GET", "/api/events?kind=refused").json()
    assert refused[0]["message"] == f"unknown IMEI {IMEI}"


def test_desired_firmware_set_after_uplinks_is_sent_on_the_next_one(srv):
    dev = register(srv.port, IMEI)
    assert dev.downlink(firmware="1.0") is None
    fw = add_firmware(srv.port, b"\x01" * 1000, version="2.0")
    resp = request(srv.port, "PUT", f"/api/devices/{IMEI}/desired",
                   json_body={"firmware_id": fw["id"]})
    assert resp.status == 200, resp.body
    cmd = dev.downlink(firmware="1.0")
    assert cmd is not None and cmd["version"] == "2.0"
    assert dev.downlink(firmware="1.0", state="downloading") is None


def test_a_rolled_back_group_leaves_no_cached_state(tmp_path):
    path = str(tmp_path / "emu.sqlite3")
    with ServerThread(path) as s:
        dev = register(s.port, IMEI)
        assert dev.downlink(firmware="1.0") is None
        fw = add_firmware(s.port, b"\x02" * 1000, version="2.0")
        assert request(s.port, "PUT", f"/api/devices/{IMEI}/desired",
                       json_body={"firmware_id": fw["id"]}).status == 200
        fail = sqlite3.connect(path)
        fail.execute("CREATE TRIGGER no_room BEFORE INSERT ON uplinks "
                     "BEGIN SELECT RAISE(ABORT, 'disk full (test)'); END")
        fail.commit()
        try:
            # this uplink's download is decided, then its group rolled back
            assert dev.uplink(firmware="1.0").status == 503
        finally:
            fail.execute("DROP TRIGGER no_room")
            fail.commit()
            fail.close()
        # the device is still "pending", not "downloading": it gets its command
        cmd = dev.downlink(firmware="1.0")
        assert cmd is not None and cmd["version"] == "2.0"


# -- the normaliser's no-copy path ---------------------------------------------------
# (a body longer than a request line: a wrong count of the body bytes
# still due would let the next bare-LF head through unchanged)
BODY_LIST = [b"", b"abc", b"a\nb", b"\n\n", b"x\r\n\r\ny", b"GET / HTTP/1.1\n\n", b"z" * 40]


def stream(reqs: list[tuple[bool, bytes]]) -> tuple[list[bytes], bytes]:
    """The parts (head, body, head, body...) of requests with CRLF (True) or
    bare-LF heads, and the stream the normaliser must make of them."""
    parts, want = [], b""
    for crlf, body in reqs:
        head = b"POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n" % len(body)
        parts += [head if crlf else head.replace(b"\r\n", b"\n"), body]
        want += head + body
    return parts, want


def feed_all(reads: list[bytes]) -> bytes:
    norm = LfNormalizer()
    return b"".join(norm.feed(r) for r in reads if r)


def test_two_requests_whole_per_request_and_per_part_reads():
    for crlf1 in (True, False):
        for crlf2 in (True, False):
            for b1 in BODY_LIST:
                for b2 in BODY_LIST:
                    parts, want = stream([(crlf1, b1), (crlf2, b2)])
                    one = b"".join(parts)
                    per_request = [parts[0] + parts[1], parts[2] + parts[3]]
                    per_part = parts
                    # the body's first byte with its head: a read that
                    # ends inside the body
                    split_body = [parts[0] + parts[1][:1], parts[1][1:] + parts[2], parts[3]]
                    # the next request's first byte with the first one
                    spill = [parts[0] + parts[1] + parts[2][:1], parts[2][1:] + parts[3]]
                    for reads in (one, per_request, per_part, split_body, spill):
                        got = feed_all([reads] if isinstance(reads, bytes) else reads)
                        assert got == want, (crlf1, b1, crlf2, b2, reads)


@given(st.lists(st.tuples(st.booleans(), st.sampled_from(BODY_LIST)), min_size=1, max_size=4),
       st.data())
def test_crlf_and_bare_lf_requests_in_any_reads_come_out_normalised(reqs, data):
    parts, want = stream(reqs)
    raw = b"".join(parts)
    cuts = sorted(data.draw(st.sets(st.integers(1, len(raw) - 1), max_size=5)))
    assert feed_all([raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)])]) == want


# -- events rendered when read -------------------------------------------------------
def test_an_event_is_rendered_once_and_only_when_read():
    from m2mfota.emulator.events import EventLog

    calls = []

    def render() -> tuple[str, dict]:
        calls.append(1)
        return "3 records", {"records": ["a"]}

    log = EventLog(clock=lambda: 5.0)
    log.add("uplink", imei="1", status=204, render=render)
    log.add("file", imei="2", status=200, message="GET")
    assert log.query(kind="file")[0]["message"] == "GET"
    assert calls == []  # not read yet: not rendered
    for _ in range(2):
        [ev] = log.query(kind="uplink")
        assert ev == {"id": 1, "time": 5.0, "kind": "uplink", "imei": "1", "status": 204,
                      "message": "3 records", "detail": {"records": ["a"]}}
    assert calls == [1]


# -- reported columns written once per group; a savepoint only when needed ----------
def _emulator():
    from m2mfota.emulator import registry
    from m2mfota.emulator.keys import EMULATOR

    emu = create_app(":memory:", auth=False)[EMULATOR]
    with emu.transaction() as conn:
        registry.create(conn, {"imei": IMEI, "secret": "s"}, 1.0)
        registry.create(conn, {"imei": IMEI[:-1] + "0", "secret": "s"}, 1.0)
    return emu


def _statements(emu):
    seen: list[str] = []
    emu.conn.set_trace_callback(seen.append)
    return seen


def test_an_ordinary_uplink_writes_its_report_with_the_group_and_opens_no_savepoint():
    from m2mfota.emulator.state import Reported

    emu = _emulator()
    seen = _statements(emu)
    row = emu.updates.device(IMEI)
    with emu.uplink_transaction() as group:  # no event loop: committed at its end
        assert emu.updates.on_uplink(row, Reported(firmware="1.0", state="idle"),
                                     public_base="http://x", defer=group.defer_report) is None
        assert not any(s.startswith("UPDATE") for s in seen)  # not yet: with the group
        assert emu.updates.device(IMEI)["reported_firmware"] == "1.0"  # seen at once
    assert not any("SAVEPOINT" in s for s in seen)
    [update] = [s for s in seen if s.startswith("UPDATE devices")]
    assert update.startswith("UPDATE devices SET last_seen = ")
    assert update.endswith(
        f", reported_firmware = '1.0', fota_state = 'idle' WHERE imei = '{IMEI}'")
    stored = emu.conn.execute("SELECT reported_firmware, fota_state FROM devices"
                              " WHERE imei = ?", (IMEI,)).fetchone()
    assert tuple(stored) == ("1.0", "idle")


def test_a_failing_uplink_leaves_neither_its_report_nor_a_cached_row():
    from m2mfota.emulator.state import Reported

    emu = _emulator()
    row = emu.updates.device(IMEI)
    with pytest.raises(RuntimeError), emu.uplink_transaction() as group:
        emu.updates.on_uplink(row, Reported(firmware="1.5"), public_base="http://x",
                              defer=group.defer_report)
        # a write made at once opens the savepoint; it is undone too
        emu.updates._set_status(emu.updates.device(IMEI), "retry")
        raise RuntimeError("after the writes")
    assert emu.updates.device(IMEI)["reported_firmware"] is None
    assert emu.updates.device(IMEI)["update_status"] == "idle"
    assert emu.conn.execute("SELECT COUNT(*) FROM uplinks").fetchone()[0] == 0


def test_reports_of_one_group_keep_each_devices_latest_values():
    emu = _emulator()
    other = IMEI[:-1] + "0"
    emu.conn.execute("BEGIN")
    emu._write_reports([(IMEI, {"last_seen": 1.0}), (other, {"last_seen": 7.0}),
                        (IMEI, {"last_seen": 2.0, "fota_state": "downloading"}),
                        (IMEI, {"last_seen": 3.0})])
    emu.conn.execute("COMMIT")
    rows = dict(emu.conn.execute("SELECT imei, last_seen FROM devices").fetchall())
    assert rows == {IMEI: 3.0, other: 7.0}
    assert emu.conn.execute("SELECT fota_state FROM devices WHERE imei = ?",
                            (IMEI,)).fetchone()[0] == "downloading"
