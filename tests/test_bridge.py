"""One bridge for every HAL written in Python (m2mfota._bridge): an exception
raised in a flash, key-value, transport, clock, bootloader, event, download
sink or signature-verifier callback stops the C call and then surfaces from
the Python wrapper as that very exception object, with the traceback of the
callback that raised it; once a bridge holds an exception, C gets its
failure answer without Python being called again."""

from __future__ import annotations

import re
import traceback
import zlib
from typing import Any

import pytest

from m2mfota import _bridge
from m2mfota.client import Client
from m2mfota.demo import mcuboot_image
from m2mfota.download import IntegrityError, download
from m2mfota.flash import (
    DictKV,
    FlashWriter,
    HalFailure,
    Journal,
    NorFlash,
    mcuboot_check,
)
from m2mfota.hal import PythonClock, PythonTransport
from m2mfota.trust import mcuboot_verify

IMEI = "356938035643809"
DEAD = "http://127.0.0.1:9"  # the discard port: nothing listens


class Boom(Exception):
    """The exception a callback raises; each test checks it comes back as is."""


def raised_in(exc: BaseException, function: str) -> bool:
    """The traceback reaches down into `function`, where the exception was raised."""
    return function in [frame.name for frame in traceback.extract_tb(exc.__traceback__)]


# ---- the bridge itself -------------------------------------------------------------


def test_reraise_raises_the_first_stored_exception_and_clears_all():
    a, b = _bridge.Bridge(None), _bridge.Bridge(None)
    first, second = Boom("first"), Boom("second")
    a.exc, b.exc = first, second
    with pytest.raises(Boom) as info:
        _bridge.reraise(None, a, b)
    assert info.value is first
    assert a.exc is None and b.exc is None
    _bridge.reraise(a, b)  # nothing left: no exception


# ---- flash and key-value store ---------------------------------------------------


class ExplodingFlash(NorFlash):
    def __init__(self, explode_on: str) -> None:
        super().__init__(16 * 4096)
        self.explode_on = explode_on
        self.calls_after = 0
        self.exploded: Boom | None = None

    def _maybe(self, op: str) -> None:
        if self.exploded is not None:
            self.calls_after += 1
        if op == self.explode_on and self.exploded is None:
            self.exploded = Boom(op)
            raise self.exploded

    def read(self, offset: int, size: int) -> bytes:
        self._maybe("read")
        return super().read(offset, size)

    def program(self, offset: int, data: bytes) -> None:
        self._maybe("program")
        super().program(offset, data)

    def erase(self, offset: int) -> None:
        self._maybe("erase")
        super().erase(offset)


@pytest.mark.parametrize("op", ["erase", "program"])
def test_flash_callback_exception_surfaces_from_the_writer(op):
    flash = ExplodingFlash(op)
    writer = FlashWriter(flash)
    writer.begin(8192)
    with pytest.raises(Boom) as info:
        writer.write(0, bytes(range(256)) * 32)
        writer.flush()
    assert info.value is flash.exploded
    assert raised_in(info.value, "_maybe") and raised_in(info.value, op)
    assert flash.calls_after == 0  # C stopped at the first failure


def test_flash_read_exception_surfaces_from_mcuboot_check():
    flash = ExplodingFlash("read")
    with pytest.raises(Boom) as info:
        mcuboot_check(flash, flash.size)
    assert info.value is flash.exploded and raised_in(info.value, "read")


def test_hal_failure_gives_c_the_port_code_and_is_not_raised():
    class EioFlash(NorFlash):
        def erase(self, offset: int) -> None:
            raise HalFailure(-5)

    writer = FlashWriter(EioFlash(16 * 4096))
    writer.begin(4096)
    with pytest.raises(Exception) as info:
        writer.write(0, bytes(4096))
        writer.flush()
    assert not isinstance(info.value, HalFailure)  # C's error, mapped by the wrapper
    assert "MFOTA_ERR" in str(info.value)


def test_key_value_store_exception_surfaces_from_the_journal():
    class BadKV(DictKV):
        def set(self, value: bytes) -> None:
            raise Boom("kv")

    journal = Journal(kv=BadKV())
    with pytest.raises(Boom) as info:
        journal.begin("http://10.0.0.1/f", 8192)
        journal.restart()
    assert raised_in(info.value, "set")


# ---- transport, clock and download sink -----------------------------------------------


class FileServerTransport:
    """A transport that answers ranged GETs for `data` from memory, the way
    the M2M file server does (206, Content-Range, Digest crc32)."""

    def __init__(self, data: bytes, fail_in: str | None = None, fail_after: int = 0) -> None:
        self.data = data
        self.request = b""
        self.pending = b""
        self.fail_in, self.fail_after = fail_in, fail_after
        self.calls = {"connect": 0, "send": 0, "recv": 0, "close": 0}
        self.raised: Boom | None = None

    def _count(self, name: str) -> None:
        self.calls[name] += 1
        if name == self.fail_in and self.calls[name] > self.fail_after:
            self.raised = Boom(name)
            raise self.raised

    def connect(self, host: str, port: int) -> None:
        self._count("connect")
        self.request = self.pending = b""

    def send(self, data: bytes) -> int:
        self._count("send")
        self.request += data
        while b"\r\n\r\n" in self.request:
            head, self.request = self.request.split(b"\r\n\r\n", 1)
            first, last = map(int, re.search(rb"Range: *bytes=(\d+)-(\d+)", head).groups())
            last = min(last, len(self.data) - 1)
            body = self.data[first : last + 1]
            self.pending += (
                f"HTTP/1.1 206 Partial Content\r\nContent-Length: {len(body)}\r\n"
                f"Content-Range: bytes {first}-{last}/{len(self.data)}\r\n"
                f"Digest: crc32={zlib.crc32(body):08x}\r\n\r\n").encode() + body
        return len(data)

    def recv(self, cap: int, timeout_ms: int) -> bytes | None:
        self._count("recv")
        if not self.pending:
            return None
        out, self.pending = self.pending[:cap], self.pending[cap:]
        return out

    def close(self) -> None:
        self._count("close")


class FakeClock:
    def __init__(self, fail_after: int | None = None) -> None:
        self.now = 1000
        self.calls = 0
        self.fail_after = fail_after

    def now_ms(self) -> int:
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise Boom("clock")
        self.now += 1
        return self.now

    def sleep_ms(self, ms: int) -> None:
        self.now += ms


FILE = bytes(range(256)) * 40  # 10240 bytes: three 4 KiB parts


def test_python_transport_and_clock_carry_a_whole_download():
    transport, clock = FileServerTransport(FILE), FakeClock()
    result = download("http://10.0.0.1/f/x", "tok", part_size=4096, transport=PythonTransport(
        transport), clock=PythonClock(clock), crc32=zlib.crc32(FILE))
    assert result.data == FILE and result.requests == 3
    assert transport.calls["connect"] == 1 and clock.calls > 0


@pytest.mark.parametrize("where", ["connect", "send", "recv"])
def test_transport_exception_surfaces_from_download(where):
    transport = FileServerTransport(FILE, fail_in=where, fail_after=1 if where == "recv" else 0)
    py = PythonTransport(transport)
    with pytest.raises(Boom) as info:
        download("http://10.0.0.1/f/x", "tok", part_size=4096, transport=py,
                 clock=PythonClock(FakeClock()), max_retries=3)
    assert info.value is transport.raised and raised_in(info.value, where)
    # The downloader retried, but each retry failed in C: Python was not called again.
    assert transport.calls[where] == (2 if where == "recv" else 1)
    assert py.bridge.calls_after_failure > 0 and py.bridge.exc is None


def test_clock_exception_surfaces_from_download():
    clock = FakeClock(fail_after=3)
    with pytest.raises(Boom) as info:
        download("http://10.0.0.1/f/x", "tok", part_size=4096,
                 transport=PythonTransport(FileServerTransport(FILE)), clock=PythonClock(clock))
    assert str(info.value) == "clock" and raised_in(info.value, "now_ms")
    assert clock.calls == 4  # the failing reading, and none after it


def test_sink_exception_surfaces_with_the_download_result():
    with pytest.raises(IntegrityError) as info:
        download("http://10.0.0.1/f/x", "tok", part_size=4096, size=len(FILE) + 1,
                 transport=PythonTransport(FileServerTransport(FILE)),
                 clock=PythonClock(FakeClock()))
    assert info.value.code == "MFOTA_ERR_IMAGE_SIZE"
    assert raised_in(info.value, "total_cb") and info.value.result is not None


# ---- bootloader, event and signature verifier ---------------------------------------


class Bootloader:
    def __init__(self, explode_in: str) -> None:
        self.explode_in = explode_in

    def _maybe(self, name: str) -> None:
        if name == self.explode_in:
            raise Boom(name)

    def check_image(self, image_size: int) -> str:
        self._maybe("check_image")
        return "2.0.0"

    def mark_pending(self, image_size: int, permanent: bool) -> None:
        self._maybe("mark_pending")

    def confirm(self) -> None:
        self._maybe("confirm")

    def running_version(self) -> str:
        self._maybe("running_version")
        return "1.0.0"


def a_client(**kw: Any) -> Client:
    opts: dict[str, Any] = dict(imei=IMEI, secret=b"s", version="1.0.0", server=DEAD,
                                flash=NorFlash(16 * 4096), io_timeout=0.5, max_retries=0,
                                retry_base=0.0, retry_max=0.0)
    opts.update(kw)
    return Client(**opts)


def test_bootloader_exception_surfaces_from_the_client():
    client = a_client(bootloader=Bootloader("confirm"))
    with pytest.raises(Boom) as info:
        client.confirm_boot(timeout=2)
    assert str(info.value) == "confirm" and raised_in(info.value, "confirm")


def test_event_callback_exception_surfaces_from_the_client():
    seen: list[str] = []

    def on_event(ev: Any) -> None:
        seen.append(ev.kind)
        raise Boom("event")

    client = a_client(bootloader="none", on_event=on_event)
    with pytest.raises(Boom) as info:
        client.run(timeout=2)
    assert raised_in(info.value, "on_event")
    assert len(seen) == 1  # no event after the one that raised


def test_signature_verifier_exception_surfaces(monkeypatch):
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from m2mfota import trust

    key = ed25519.Ed25519PrivateKey.generate()
    image = mcuboot_image(b"x" * 100, (1, 0, 0), key=key)

    def broken_verify(*args: Any) -> bool:
        raise Boom("verifier")

    monkeypatch.setattr(trust, "_verify", broken_verify)
    with pytest.raises(Boom) as info:
        mcuboot_verify(image, [_pem(key)])
    assert raised_in(info.value, "broken_verify")


def _pem(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
