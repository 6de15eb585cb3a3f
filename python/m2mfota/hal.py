"""Transports and clocks written in Python, for the C downloader.

:class:`PythonTransport` turns an object with ``connect``, ``send``, ``recv``
and ``close`` methods into a C ``struct mfota_transport`` (in
``.transport``); :class:`PythonClock` turns one with ``now_ms`` (and
optionally ``sleep_ms``) into a ``struct mfota_clock`` (in ``.clock``).
Pass them to :func:`m2mfota.download.download` (``transport=``,
``clock=``): a test can then script a network or run time at will.

The transport protocol
----------------------
``connect(host: str, port: int) -> bool | None``
    open a connection; ``False`` means "in progress, call again".
``send(data: bytes) -> int``
    bytes taken (0: none could be taken now).
``recv(cap: int, timeout_ms: int) -> bytes | None``
    1 to ``cap`` bytes; ``b""`` when the peer closed the connection in
    order; ``None`` when nothing came in time.
``close() -> None``
    close the connection, if any.

Raise :class:`~m2mfota.flash.HalFailure` to hand C a negative code of
your own (say ``MFOTA_ERR_DL_CLOSED``, a connection reset, which the
downloader retries).  Any other exception stops the download: C gets
``MFOTA_ERR_HAL`` for that call and every later one (its retries fail at
once, without calling Python), and :func:`~m2mfota.download.download`
raises the exception itself once C has returned (see
:mod:`m2mfota._bridge`).  A clock that raises answers C with times far in
the future, so every wait ends.
"""

from __future__ import annotations

from typing import Any, Protocol

from m2mfota import _args
from m2mfota._bridge import Bridge, trampoline
from m2mfota._errors import ERR
from m2mfota._native import ffi, lib

__all__ = ["ClockLike", "PythonClock", "PythonTransport", "TransportLike"]

_OK = ERR["MFOTA_OK"]
_DONE = ERR["MFOTA_DONE"]
_WOULD_BLOCK = ERR["MFOTA_WOULD_BLOCK"]


class TransportLike(Protocol):
    def connect(self, host: str, port: int) -> bool | None: ...
    def send(self, data: bytes) -> int: ...
    def recv(self, cap: int, timeout_ms: int) -> bytes | None: ...
    def close(self) -> None: ...


class ClockLike(Protocol):
    def now_ms(self) -> int: ...


class PythonTransport:
    """A Python transport object as a C ``struct mfota_transport *`` (``.transport``)."""

    def __init__(self, obj: TransportLike) -> None:
        _args.has_methods("obj", obj, ("connect", "send", "recv", "close"), "a transport")
        self.obj = obj
        self.bridge = Bridge(obj)
        self.transport = ffi.new("struct mfota_transport *")
        self.transport.connect = lib._py_tr_connect
        self.transport.send = lib._py_tr_send
        self.transport.recv = lib._py_tr_recv
        self.transport.close = lib._py_tr_close
        self.transport.ctx = self.bridge.handle


class PythonClock:
    """A Python clock object as a C ``struct mfota_clock *`` (``.clock``).
    Without a ``sleep_ms`` method the C pointer stays NULL (the contract
    allows that for callers that only step)."""

    def __init__(self, obj: ClockLike) -> None:
        _args.has_methods("obj", obj, ("now_ms",), "a clock")
        self.obj = obj
        self.bridge = Bridge(obj)
        self.clock = ffi.new("struct mfota_clock *")
        self.clock.now_ms = lib._py_clock_now_ms
        if callable(getattr(obj, "sleep_ms", None)):
            self.clock.sleep_ms = lib._py_clock_sleep_ms
        self.clock.ctx = self.bridge.handle


@trampoline("_py_tr_connect")
def _tr_connect(obj: TransportLike, host: Any, port: int) -> int:
    done = obj.connect(ffi.string(host).decode("ascii", "replace"), port)
    return _WOULD_BLOCK if done is False else _OK


@trampoline("_py_tr_send")
def _tr_send(obj: TransportLike, data: Any, size: int, sent: Any) -> int:
    n = obj.send(bytes(ffi.buffer(data, size)))
    if type(n) is not int or not 0 <= n <= size:
        raise TypeError(f"send() must return a count of 0..{size} bytes, not {n!r}")
    sent[0] = n
    return _OK if n else _WOULD_BLOCK


@trampoline("_py_tr_recv")
def _tr_recv(obj: TransportLike, buf: Any, cap: int, got: Any, timeout_ms: int) -> int:
    data = obj.recv(cap, timeout_ms)
    if data is None:
        return _WOULD_BLOCK
    if not isinstance(data, (bytes, bytearray)) or len(data) > cap:
        raise TypeError(f"recv() must return None or at most {cap} bytes, not {data!r:.40}")
    if not data:
        return _DONE
    ffi.memmove(buf, data, len(data))
    got[0] = len(data)
    return _OK


@trampoline("_py_tr_close", error=None, hal_failure=False)
def _tr_close(obj: TransportLike) -> None:
    obj.close()


def _time_after_failure(bridge: Bridge) -> int:
    # Far in the future and later at every call: every deadline C computes
    # (now + a uint32_t of milliseconds) has passed by the next reading.
    return (1 << 62) + bridge.calls_after_failure * (1 << 32)


@trampoline("_py_clock_now_ms", on_error=_time_after_failure, hal_failure=False)
def _clock_now_ms(obj: ClockLike) -> int:
    now = obj.now_ms()
    if type(now) is not int or not 0 <= now < 1 << 62:
        raise TypeError(f"now_ms() must return an int of milliseconds, not {now!r}")
    return now


@trampoline("_py_clock_sleep_ms", error=None, hal_failure=False)
def _clock_sleep_ms(obj: Any, ms: int) -> None:
    obj.sleep_ms(ms)
