"""The client engine's phase machine (docs/client.md "Phases") and its one
copy of the token, seen through the bindings: the phases an update really
goes through are transitions of the table, forbidden ones are refused, and
the download request goes out byte for byte as the protocol writes it even
though it is sent in pieces from the stored command."""

from __future__ import annotations

import os
import re
import socket
import threading

import pytest
from canned_http import read_request_head
from cbuild import ROOT
from client_harness import Device, upload
from emulator_harness import ServerThread

from m2mfota._native import ffi, lib
from m2mfota.demo import mcuboot_image
from m2mfota.download import download

SIZE = 40_000


def _name(phase: int) -> str:
    return ffi.string(lib.mfota_phase_name(phase)).decode()


def _phases() -> list[str]:
    names = []
    while _name(len(names)) != "unknown":
        names.append(_name(len(names)))
    return names


def _allowed(a: str, b: str) -> bool:
    names = _phases()
    return bool(lib.mfota_phase_transition_allowed(names.index(a), names.index(b)))


def _reachable(a: str, b: str) -> bool:
    names = [n for n in _phases() if n not in ("idle", "failed")]
    todo, seen = [a], {a}
    while todo:
        x = todo.pop()
        for y in names:
            if y not in seen and _allowed(x, y):
                if y == b:
                    return True
                seen.add(y)
                todo.append(y)
    return False


@pytest.fixture(scope="module")
def srv():
    with ServerThread() as server:
        yield server


def test_phase_names_are_distinct_and_bounded():
    names = _phases()
    assert len(names) == len(set(names)) == 13
    assert {"idle", "download", "download_wait", "verify", "final_uplink", "failed"} <= set(names)
    assert _name(-1) == "unknown"


@pytest.mark.parametrize(("a", "b"), [
    ("download", "final_uplink"),   # a running download is closed first (download_resume)
    ("progress", "verify"),         # a progress uplink goes back to the download
    ("final_uplink", "download"),   # a command cannot arrive while the result goes up
    ("failed", "start_uplink"),     # only re-initialising leaves FAILED
    ("failed", "idle"),             # not even an abort
    ("done", "download_wait"),
])
def test_forbidden_transitions_are_refused(a, b):
    assert not _allowed(a, b)
    assert _allowed(a, "failed") and _allowed(a, "idle") == (a != "failed")


def test_an_update_walks_allowed_transitions(srv):
    data = mcuboot_image(os.urandom(SIZE - 72), (2, 0, 0))
    meta = upload(srv, data, "2.0.0")
    dev = Device(srv, image_size=SIZE)
    dev.desire(meta["id"])
    seen: list[str] = []
    holder: dict = {}

    def on_event(ev):
        phase = holder["client"].phase
        if not seen or seen[-1] != phase:
            seen.append(phase)

    client = dev.client(on_event=on_event, progress_step=10)
    holder["client"] = client
    assert client.phase == "idle"
    out = client.run(timeout=30)
    assert out.result == 0 and dev.image(SIZE) == data
    assert client.phase == "done"
    assert seen[0] == "start_uplink" and seen[-1] == "done"
    assert {"download", "verify", "final_uplink"} <= set(seen)
    # Events sample the phases (several changes may happen between two), so
    # each change seen must be a path of allowed transitions -- not through
    # idle or failed, which an abort or a HAL failure would mean.
    for a, b in zip(seen, seen[1:]):
        assert _reachable(a, b), (a, b, seen)


def _serve_once(lsock: socket.socket, body: bytes, got: list[bytes]) -> None:
    conn, _ = lsock.accept()
    with conn:
        conn.settimeout(5)
        buf = read_request_head(conn)
        if b"\r\n\r\n" not in buf:
            return
        got.append(buf)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Range: bytes 0-%d/%d\r\n"
                     b"Content-Length: %d\r\nConnection: close\r\n\r\n"
                     % (len(body) - 1, len(body), len(body)) + body)


def test_request_bytes_on_the_wire_with_the_longest_token():
    token = ("eyJ" + "abcdefghij" * 103)[:1024]
    body = os.urandom(1000)
    got: list[bytes] = []
    with socket.socket() as lsock:
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(1)
        port = lsock.getsockname()[1]
        t = threading.Thread(target=_serve_once, args=(lsock, body, got), daemon=True)
        t.start()
        res = download(f"http://127.0.0.1:{port}/f/v1/abc", token, part_size=4096,
                       timeout=5, pipeline=False)
        t.join(10)
    assert res.data == body
    # Written independently of the C request writer: the protocol's GET.
    want = (f"GET /f/v1/abc HTTP/1.1\r\nHost:127.0.0.1:{port}\r\n"
            f"Authorization:Bearer {token}\r\nRange:bytes=0-4095\r\n\r\n").encode()
    assert got == [want]


# ---- who may change the phase (read from the sources) -------------------------

PHASE_WRITE = re.compile(r"(?:->|\.)phase_\s*(?:[-+|&^]?=(?!=)|\+\+|--)")
FUNCTION = re.compile(r"^[A-Za-z_][^\n;]*?\b(\w+)\([^;{]*\)\s*\{(.*?)^\}", re.S | re.M)


def phase_writers(text: str) -> set[str]:
    """Functions of a C file that assign phase_ directly."""
    return {m.group(1) for m in FUNCTION.finditer(text) if PHASE_WRITE.search(m.group(2))}


def test_phase_writer_scan_finds_a_write():
    snippet = ("static int f(struct mfota_client *c)\n{\n    return c->phase_ == 1;\n}\n"
               "static void g(struct mfota_client *c, int to)\n{\n"
               "    c->phase_ = (uint8_t)to;\n}\n")
    assert phase_writers(snippet) == {"g"}


def test_only_the_transition_function_changes_the_phase():
    """Issue 12 §4: one transition function checks every change (init only
    sets the first phase), and building an uplink never changes the phase:
    the uplink code neither writes phase_ nor calls the transition function."""
    src = ROOT / "csrc" / "src"
    writers = {(p.name, fn) for p in src.glob("*.c") for fn in phase_writers(p.read_text())}
    assert writers <= {("client.c", "mfota_client_go_"), ("client.c", "mfota_client_init")}, writers
    assert ("client.c", "mfota_client_go_") in writers
    uplink = (src / "client_uplink.c").read_text()
    assert "mfota_client_go_" not in uplink and not PHASE_WRITE.search(uplink)
