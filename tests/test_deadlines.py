"""Every wait has a deadline: a part's request and response, an uplink's
exchange, the whole download (max_time), and a body that runs on without a
length.  Servers here trickle or stream on 127.0.0.1; each is bounded and
stops by itself.  The calls under test run in a thread that is joined with a
timeout, so a regression shows as a failure, not a hung test run."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from client_harness import Device, upload
from emulator_harness import ServerThread
from fileserver_fixture import fileserver  # noqa: F401

import m2mfota
from m2mfota.client import Client
from m2mfota.emulator.fileserver import Faults
from m2mfota.flash import FlashRegion, NorFlash


def bounded(fn: Callable[[], Any], limit: float) -> tuple[Any, float]:
    """Run fn() in a thread; its result (or exception) and how long it took.
    Fails if it has not returned after `limit` seconds."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            box["exc"] = exc

    start = time.monotonic()
    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(limit)
    assert not t.is_alive(), f"still waiting after {limit} s: a wait without a deadline"
    return box.get("exc", box.get("value")), time.monotonic() - start


# ---- the downloader (m2mfota.download) ----------------------------------------

def _publish(running, data: bytes, faults: Faults):
    pub = running.server.publish(data, device="dev-deadline", faults=faults)
    return running.url(pub), pub.token


def test_trickling_part_fails_at_its_deadline(fileserver):  # noqa: F811
    # One byte every 0.4 s: never idle for the 1.5 s timeout, never done.
    url, token = _publish(fileserver, bytes(3000), Faults(trickle_seconds=0.4,
                                                           trickle_times=100))
    out, took = bounded(lambda: m2mfota.download(url, token, part_size=1024, timeout=1.5,
                                                 max_retries=1), 20)
    assert isinstance(out, m2mfota.DownloadError), out
    assert out.code == "MFOTA_ERR_DL_TIMEOUT"
    assert out.result.retries == 1
    assert took < 6  # two attempts of 1.5 s


def test_a_slow_but_steady_part_within_its_deadline_succeeds(fileserver):  # noqa: F811
    data = bytes(range(256)) * 2
    url, token = _publish(fileserver, data, Faults(trickle_seconds=0.002, trickle_times=1))
    out, _ = bounded(lambda: m2mfota.download(url, token, part_size=1024, timeout=5), 20)
    assert not isinstance(out, BaseException), out
    assert out.data == data and out.retries == 0


def test_max_time_bounds_the_whole_download(fileserver):  # noqa: F811
    url, token = _publish(fileserver, bytes(3000), Faults(trickle_seconds=0.3,
                                                           trickle_times=1000))
    out, took = bounded(lambda: m2mfota.download(url, token, part_size=1024, timeout=1.0,
                                                 max_retries=1000, max_time=2.5), 20)
    assert isinstance(out, m2mfota.DownloadError) and out.code == "MFOTA_ERR_DL_DEADLINE", out
    assert 2.4 < took < 5


def test_max_time_does_not_wait_out_a_long_retry_after(fileserver):  # noqa: F811
    url, token = _publish(fileserver, bytes(3000), Faults(status_503_times=1, retry_after=60))
    out, took = bounded(lambda: m2mfota.download(url, token, timeout=2, max_retry_after=3600,
                                                 max_time=1.0), 20)
    assert isinstance(out, m2mfota.DownloadError) and out.code == "MFOTA_ERR_DL_DEADLINE", out
    assert took < 5


def test_endless_stream_ignoring_range_is_refused(fileserver):  # noqa: F811
    # Range ignored: 200, no Content-Range, chunked (no length), and 64 MiB
    # more than the file.  The default bound (16 MiB) stops it.
    url, token = _publish(fileserver, bytes(4096), Faults(ignore_range=True,
                                                          overlong_bytes=64 << 20))
    out, _ = bounded(lambda: m2mfota.download(url, token, part_size=1024, timeout=20), 60)
    assert isinstance(out, m2mfota.DownloadError), f"returned {len(out.data)} bytes as success"
    assert out.code == "MFOTA_ERR_DL_TOO_LARGE"
    assert len(out.result.data) == 0  # the void bytes were taken back


@pytest.mark.parametrize("kw, code", [
    ({"max_size": 10_000}, "MFOTA_ERR_DL_TOO_LARGE"),  # size unknown: bounded by max_size
    ({"total": 4096}, "MFOTA_ERR_HTTP_RANGE"),         # known: a bad body, retried, refused
])
def test_stream_past_the_known_total_or_max_size_is_refused(fileserver, kw, code):  # noqa: F811
    url, token = _publish(fileserver, bytes(4096), Faults(ignore_range=True,
                                                          overlong_bytes=100_000,
                                                          overlong_times=100))
    out, _ = bounded(lambda: m2mfota.download(url, token, part_size=1024, timeout=5,
                                              max_retries=2, **kw), 30)
    assert isinstance(out, m2mfota.DownloadError) and out.code == code, out
    assert len(out.result.data) == 0 and out.result.retries == (2 if "total" in kw else 0)


def test_total_over_max_size_is_refused(fileserver):  # noqa: F811
    url, token = _publish(fileserver, bytes(5000), Faults())
    with pytest.raises(m2mfota.DownloadError) as info:
        m2mfota.download(url, token, part_size=1024, max_size=4999)
    assert info.value.code == "MFOTA_ERR_DL_TOO_LARGE"
    assert m2mfota.download(url, token, part_size=1024, max_size=5000).total == 5000


@pytest.mark.parametrize("kw,exc", [({"max_time": 0}, ValueError), ({"max_time": True}, TypeError),
                                    ({"max_size": 0}, ValueError), ({"max_size": 1.5}, TypeError)])
def test_bad_bounds_are_value_errors(kw, exc):
    # a wrong value is a ValueError, a wrong type a TypeError (the API's rule)
    with pytest.raises(exc):
        m2mfota.download("http://127.0.0.1:9/f", "t", **kw)


# ---- the client engine -----------------------------------------------------------

class RawServer:
    """Answers each connection on 127.0.0.1 with `response`, `step` bytes
    every `interval` seconds.  At most `max_conns` connections; it stops
    by itself after `lifetime` seconds."""

    def __init__(self, response: bytes, *, interval: float = 0.0, step: int = 1 << 20,
                 max_conns: int = 20, lifetime: float = 60.0) -> None:
        self.response, self.interval, self.step = response, interval, step
        self.max_conns, self.lifetime = max_conns, lifetime
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> RawServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()

    def _serve(self) -> None:
        end = time.monotonic() + self.lifetime
        while not self._stop.is_set() and time.monotonic() < end \
                and self.connections < self.max_conns:
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(65536)  # the request (one uplink fits)
                    for i in range(0, len(self.response), self.step):
                        if self._stop.is_set() or time.monotonic() > end:
                            break
                        conn.sendall(self.response[i:i + self.step])
                        if self.interval:
                            time.sleep(self.interval)
                except OSError:
                    pass  # the client gave up: next connection


class Bootloader:
    def __init__(self) -> None:
        self.pending: int | None = None

    def check_image(self, image_size: int) -> None:
        return None  # raw test images: these tests are about deadlines, not acceptance

    def mark_pending(self, image_size: int, permanent: bool) -> None:
        self.pending = image_size

    def confirm(self) -> None:
        pass

    def running_version(self) -> str:
        return "1.0.0"


def _raw_client(port: int, **kw: Any) -> Client:
    nor = NorFlash(4 * 4096, sector_size=4096, program_size=8)
    kw.setdefault("io_timeout", 1.0)
    return Client(imei="356938035643809", secret="s", version="1.0.0",
                  server=f"http://127.0.0.1:{port}", flash=FlashRegion(nor, 0, 4 * 4096),
                  bootloader=Bootloader(), retry_base=0.05, retry_max=0.1, max_retries=1,
                  **kw)


def _answer(port: int, headers: bytes = b"", before: bytes = b"") -> bytes:
    """An answer whose body is a downlink pointing back at this server (so a
    download, when the command is taken, ends at once)."""
    body = (b'[{"bn":"urn:dev:IMEI:356938035643809:"},'
            b'{"n":"url","vs":"http://127.0.0.1:%d/f"},{"n":"token","vs":"t"}]' % port)
    return (before + b"HTTP/1.1 200 OK\r\n" + headers
            + b"Content-Length: %d\r\n\r\n" % len(body) + body)


def test_trickling_uplink_response_fails_at_the_deadline():
    # 1 byte every 0.25 s: a 300-byte answer would take 75 s per attempt.
    with RawServer(b"", interval=0.25, step=1) as srv:
        srv.response = _answer(srv.port, b"X-Pad: " + b"p" * 100 + b"\r\n")
        client = _raw_client(srv.port, io_timeout=1.0)
        out, took = bounded(lambda: client.run(timeout=120), 20)
    assert not isinstance(out, BaseException), out
    assert (out.result, out.reason) == (4, "uplink")
    assert client.stats["downlinks"] == 0 and client.stats["uplink_failures"] == 2
    assert took < 6


@pytest.mark.parametrize("kw", [
    {"headers": b"X-A: a\x00b\r\n"},                                # a NUL byte in a header
    {"headers": b"X-Big: " + b"v" * 100_000 + b"\r\n"},              # a 100 KB header line
    {"before": b"HTTP/1.1 100 Continue\r\n\r\n" * 1000},             # 1000 interim responses
], ids=["nul", "long-line", "1000x100"])
def test_uplink_response_the_download_parser_refuses_is_refused(kw):
    with RawServer(b"") as srv:
        srv.response = _answer(srv.port, **kw)
        client = _raw_client(srv.port, io_timeout=3.0)
        out, _ = bounded(lambda: client.run(timeout=60), 30)
    assert not isinstance(out, BaseException), out
    assert (out.result, out.reason) == (4, "uplink")
    assert client.stats["downlinks"] == 0  # the downlink in it was never acted on


def test_well_formed_uplink_response_is_acted_on():
    # The same server and downlink, well formed (one 100 Continue): the
    # command is taken, and the "file" (this same answer) downloaded.
    with RawServer(b"", max_conns=10) as srv:
        srv.response = _answer(srv.port, before=b"HTTP/1.1 100 Continue\r\n\r\n")
        client = _raw_client(srv.port, io_timeout=3.0)
        out, _ = bounded(lambda: client.run(timeout=60), 30)
    assert not isinstance(out, BaseException), out
    assert client.stats["downlinks"] >= 1 and out.state == "updating"


@pytest.fixture(scope="module")
def emulator():
    with ServerThread() as server:
        yield server


def test_client_download_part_deadline(emulator):
    dev = Device(emulator, image_size=8192)
    meta = upload(emulator, bytes(range(256)) * 32, "2.0.0")
    dev.faults({"trickle_seconds": 0.4, "trickle_times": 1000})
    dev.desire(meta["id"])
    client = dev.client(io_timeout=1.5, max_retries=1, retry_base=0.05, retry_max=0.1)
    out, took = bounded(lambda: client.run(timeout=120), 40)
    assert not isinstance(out, BaseException), out
    assert (out.result, out.reason) == (4, "timeout")
    assert not client.c.has_pending
    assert took < 25
