"""The SARA-R4 AT-command transport (``embedded_port/modem``) from Python.

:class:`Modem` opens the C driver over a TCP "UART" to a modem simulator
(``m2mfota modem-sim``); :meth:`Modem.socket` gives a :class:`ModemSocket`
whose ``.transport`` is a ``struct mfota_transport *`` that the C
downloader takes (``download(..., modem=...)``), and whose methods call the
transport directly.  :func:`parse_at` runs the sans-IO AT parser.
"""

from __future__ import annotations

from dataclasses import dataclass

from m2mfota._errors import ERR, M2mfotaError
from m2mfota._native import ffi, lib

__all__ = ["AtEvent", "Modem", "ModemError", "ModemSocket", "parse_at"]

EVENT_NAMES = {getattr(lib, n): n[len("MFOTA_AT_EV_"):].lower() for n in dir(lib)
               if n.startswith("MFOTA_AT_EV_")}


class ModemError(M2mfotaError):
    """A modem transport call failed; ``.code`` names the C error."""


@dataclass(frozen=True)
class AtEvent:
    kind: str          #: "ok", "cme", "urc_data", "data", ...
    a: int = -1
    b: int = -1
    data: bytes = b""


def parse_at(chunks: list[bytes]) -> list[AtEvent]:
    """Feed the chunks in order to one parser; return its events (DATA
    events merged per chunk as the parser gives them)."""
    p = ffi.new("struct mfota_at_parser *")
    lib.mfota_at_parser_init(p)
    ev = ffi.new("struct mfota_at_event *")
    used = ffi.new("size_t *")
    out: list[AtEvent] = []
    for chunk in chunks:
        buf = ffi.from_buffer(chunk)
        pos = 0
        while True:
            kind = lib.mfota_at_parser_feed(p, buf + pos, len(chunk) - pos, used, ev)
            pos += used[0]
            if kind == lib.MFOTA_AT_EV_NONE:
                break
            data = bytes(ffi.buffer(ev.data, ev.len)) if kind == lib.MFOTA_AT_EV_DATA else b""
            out.append(AtEvent(EVENT_NAMES[kind], ev.a, ev.b, data))
    return out


def _check(rc: int, what: str) -> int:
    if rc < 0:
        raise ModemError(rc, what)
    return rc


class Modem:
    """The C modem driver on a TCP connection to ``host:port`` (a modem
    simulator).  Timeouts are in seconds; ``echo_off=False`` keeps the
    modem's echo (the driver then parses it on every command)."""

    def __init__(self, host: str, port: int, *, cmd_timeout: float = 5.0,
                 connect_timeout: float = 30.0, probe_timeout: float = 1.0,
                 echo_off: bool = True) -> None:
        self._uart = ffi.new("struct mfota_modem_uart *")
        self._pu = ffi.new("struct mfota_posix_uart *")
        rc = lib.mfota_posix_uart_open(self._pu, host.encode("ascii"), port, self._uart)
        if rc != 0:
            raise ModemError(rc, f"cannot reach the modem UART at {host}:{port}")
        self._m = ffi.new("struct mfota_modem *")
        lib.mfota_modem_init(self._m, self._uart)
        self._m.cmd_timeout_ms = int(cmd_timeout * 1000)
        self._m.connect_timeout_ms = int(connect_timeout * 1000)
        self._m.probe_timeout_ms = int(probe_timeout * 1000)
        self._m.echo_off = int(echo_off)
        self._sockets: list[ModemSocket] = []

    def socket(self) -> ModemSocket:
        """A new socket on this modem (two at most: uplink and download)."""
        s = ModemSocket(self)
        self._sockets.append(s)
        return s

    def probe(self) -> bool:
        """Send ``AT``: True when the modem answered in time."""
        return lib.mfota_modem_probe(self._m) == 0

    def poll(self, timeout: float = 0.0) -> None:
        """Take the URCs that arrive within ``timeout`` seconds."""
        lib.mfota_modem_poll(self._m, int(timeout * 1000))

    @property
    def stats(self) -> dict[str, int]:
        st = self._m.stats
        return {name: getattr(st, name)
                for name in ("commands", "timeouts", "probes", "urcs", "errors")}

    @property
    def last_cme(self) -> int:
        return self._m.last_cme

    @property
    def suspect(self) -> bool:
        return bool(self._m.suspect)

    @property
    def uart_bytes(self) -> tuple[int, int]:
        """(bytes written to the modem, bytes read from it)."""
        return self._pu.bytes_written, self._pu.bytes_read

    def close(self) -> None:
        for s in self._sockets:
            s.close()
        lib.mfota_posix_uart_close(self._pu)

    def __enter__(self) -> Modem:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ModemSocket:
    """One TCP socket of a :class:`Modem` behind a ``struct mfota_transport``."""

    def __init__(self, modem: Modem) -> None:
        self.modem = modem
        self.transport = ffi.new("struct mfota_transport *")
        self._s = ffi.new("struct mfota_modem_socket *")
        _check(lib.mfota_modem_socket_init(modem._m, self._s, self.transport), "socket")
        self._got = ffi.new("size_t *")

    def connect(self, host: str, port: int) -> None:
        _check(self.transport.connect(self.transport.ctx, host.encode("ascii"), port),
               f"connect to {host}:{port}")

    def send(self, data: bytes) -> int:
        """Send what the transport takes (at most 1024 bytes); returns how many."""
        buf = ffi.from_buffer(data)
        _check(self.transport.send(self.transport.ctx, buf, len(data), self._got), "send")
        return self._got[0]

    def sendall(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[self.send(bytes(view)):]

    def recv(self, cap: int = 4096, timeout: float = 1.0) -> bytes | None:
        """Up to ``cap`` bytes; ``None`` when nothing came in time, ``b""``
        when the peer closed the connection."""
        buf = ffi.new("uint8_t[]", cap)
        rc = _check(self.transport.recv(self.transport.ctx, buf, cap, self._got,
                                        int(timeout * 1000)), "recv")
        if rc == ERR["MFOTA_WOULD_BLOCK"]:
            return None
        if rc == ERR["MFOTA_DONE"]:
            return b""
        return bytes(buf[0:self._got[0]])

    def close(self) -> None:
        self.transport.close(self.transport.ctx)

    @property
    def id(self) -> int:
        return self._s.id

    @property
    def connects(self) -> int:
        return self._s.connects
