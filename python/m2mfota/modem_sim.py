"""``m2mfota modem-sim``: a u-blox SARA-R4 modem on a TCP port.

One TCP client is the board's UART (QEMU's ``-serial tcp:127.0.0.1:PORT``,
or the host transport ``mfota_posix_uart``).  The simulator answers the AT
subset the device's socket driver uses (AT, ATE0/1, AT+CMEE, AT+USOCR,
AT+USOCO, AT+USOWR in binary syntax, AT+USORD, AT+USOCL, AT+USOER) and opens
real TCP connections for the firmware, to 127.0.0.1 only.  It can put a
link profile (latency and rate of NB-IoT or LTE-M) between the sockets and
the UART, and inject faults (see :class:`Faults`), with seeded randomness so
that a test run is reproducible.

Each new UART connection starts a fresh modem (the board and the modem are
powered together).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import signal
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from m2mfota._cli_types import UserError

# CME error codes (3GPP TS 27.007 9.2) and socket errors (u-blox appendix A.5,
# BSD errno values) the simulator answers with.
CME_OPERATION_NOT_ALLOWED = 3
CME_VERBOSE = {CME_OPERATION_NOT_ALLOWED: "Operation not allowed"}
SOCKET_ECONNREFUSED = 111
SOCKET_EHOSTUNREACH = 113
MAX_SOCKETS = 7          # SARA-R4: sockets 0-6
MAX_RW = 1024            # AT+USOWR binary / AT+USORD: at most 1024 bytes
ALLOWED_HOSTS = ("127.0.0.1",)


@dataclass(frozen=True)
class LinkProfile:
    """A radio link between the modem and the network, both directions.

    ``latency_s`` is one way (half the round trip); rates are the usable
    application throughput in bytes per second (None: unlimited)."""

    name: str
    latency_s: float
    down_bps: float | None
    up_bps: float | None


# The figures and their sources are in docs/modem.md.
PROFILES: dict[str, LinkProfile] = {
    "none": LinkProfile("none", 0.0, None, None),
    # LTE Cat NB1: 26 kbit/s down, 62 kbit/s up; latency 1.6-10 s (GSMA): the best case.
    "nbiot": LinkProfile("nbiot", 0.8, 26_000 / 8, 62_000 / 8),
    # LTE Cat M1 on a half-duplex module: 300 kbit/s down, 375 kbit/s up; 10-15 ms (GSMA).
    "ltem": LinkProfile("ltem", 0.015, 300_000 / 8, 375_000 / 8),
}


@dataclass
class Faults:
    """What goes wrong, parsed from ``--faults`` (comma separated):

    - ``urc``: URCs injected inside responses (between the information line
      and the final result, and before the ``@`` prompt);
    - ``split``: every write to the UART cut at random bytes;
    - ``cme-connect[=N]``: the first N AT+USOCO answer ``+CME ERROR`` (N=1);
    - ``cme-write[=N]``: the first N AT+USOWR answer ``+CME ERROR`` (N=1);
    - ``close-after=BYTES``: the remote end closes (``+UUSOCL``) once, after
      BYTES bytes came in on one socket;
    - ``silent=SECONDS[@COMMANDS]``: after COMMANDS commands (default 10) the
      modem ignores its UART for SECONDS: input dropped, nothing sent.
    """

    urc: bool = False
    split: bool = False
    cme_connect: int = 0
    cme_write: int = 0
    close_after: int | None = None
    silent_s: float = 0.0
    silent_after: int = 10

    @classmethod
    def parse(cls, spec: str) -> Faults:
        f = cls()
        for item in filter(None, (s.strip() for s in spec.split(","))):
            name, _, value = item.partition("=")
            try:
                if name == "urc" and not value:
                    f.urc = True
                elif name == "split" and not value:
                    f.split = True
                elif name == "cme-connect":
                    f.cme_connect = int(value) if value else 1
                elif name == "cme-write":
                    f.cme_write = int(value) if value else 1
                elif name == "close-after" and value:
                    f.close_after = int(value)
                elif name == "silent" and value:
                    secs, _, after = value.partition("@")
                    f.silent_s = float(secs)
                    if after:
                        f.silent_after = int(after)
                else:
                    raise ValueError
            except ValueError:
                raise ValueError(f"bad fault {item!r} (known: urc, split, cme-connect[=N], "
                                 "cme-write[=N], close-after=BYTES, silent=SECONDS[@COMMANDS])"
                                 ) from None
            if min(f.cme_connect, f.cme_write, f.silent_after) < 0 or f.silent_s < 0 or (
                    f.close_after is not None and f.close_after < 0):
                raise ValueError(f"bad fault {item!r}: negative value")
        return f


@dataclass
class SimStats:
    commands: int = 0
    urcs: int = 0
    uart_bytes_out: int = 0
    uart_bytes_in: int = 0
    echoed_commands: int = 0
    air_bytes_down: int = 0   # socket payload from the network to the modem
    air_bytes_up: int = 0     # socket payload from the modem to the network
    connects: int = 0
    refused: int = 0
    faults: dict[str, int] = field(default_factory=dict)

    def count(self, fault: str) -> None:
        self.faults[fault] = self.faults.get(fault, 0) + 1


class _Link:
    """One direction of the radio link: a rate limit plus a fixed latency."""

    def __init__(self, latency_s: float, bps: float | None) -> None:
        self.latency_s = latency_s
        self.bps = bps
        self.free_at = 0.0

    def arrival(self, nbytes: int) -> float:
        now = time.monotonic()
        start = max(now, self.free_at)
        self.free_at = start + (nbytes / self.bps if self.bps else 0.0)
        return self.free_at + self.latency_s


def _closed(s: _Socket) -> bool:
    return s.writer is None


class _Socket:
    def __init__(self, sid: int) -> None:
        self.sid = sid
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.buf = bytearray()
        self.remote_closed = False   # EOF from the server, data may remain
        self.notified = False        # a +UUSORD is out for the current buffer
        self.received = 0
        self.error = 0
        self.tasks: list[asyncio.Task[None]] = []
        self.up: deque[tuple[float, bytes]] = deque()
        self.up_event = asyncio.Event()


class _Session:
    """One UART connection: the modem's state while the board is powered."""

    def __init__(self, sim: ModemSim, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.sim = sim
        self.reader = reader
        self.writer = writer
        self.echo = sim.echo
        self.cmee = 0
        self.sockets: dict[int, _Socket] = {}
        self.last_error = 0
        self.out_lock = asyncio.Lock()
        self.inbuf = bytearray()
        self.silent_until = 0.0
        self.silence_done = False
        self.down = _Link(sim.profile.latency_s, sim.profile.down_bps)
        self.up = _Link(sim.profile.latency_s, sim.profile.up_bps)
        self.closed = False

    # ---- UART output ------------------------------------------------------
    def silent(self) -> bool:
        return time.monotonic() < self.silent_until

    async def _write(self, data: bytes) -> None:
        if self.closed or self.silent():
            return
        sim = self.sim
        pieces = [data]
        if sim.faults.split and len(data) > 1:
            sim.stats.count("split")
            pieces, i = [], 0
            while i < len(data):
                n = sim.rng.randint(1, 16)
                pieces.append(data[i:i + n])
                i += n
        for piece in pieces:
            self.writer.write(piece)
            sim.stats.uart_bytes_out += len(piece)
            await self.writer.drain()
            if sim.baud:
                await asyncio.sleep(len(piece) * 10 / sim.baud)
            elif len(pieces) > 1:
                # Let the reader see the pieces apart now and then, without
                # paying a timer tick per piece.
                await asyncio.sleep(0.001 if sim.rng.random() < 0.1 else 0)

    async def send(self, data: bytes) -> None:
        async with self.out_lock:
            await self._write(data)

    def _injected_urcs(self) -> bytes:
        """URCs to slip inside a response: the true pending counts (what a
        modem repeats after a partial read) and one the driver does not know."""
        if not self.sim.faults.urc:
            return b""
        self.sim.stats.count("urc")
        out = b"".join(b"\r\n+UUSORD: %d,%d\r\n" % (s.sid, len(s.buf))
                       for s in self.sockets.values() if s.buf)
        return out + b"\r\n+UUSOCL: 6\r\n" * (6 not in self.sockets)

    async def respond(self, *lines: bytes, final: bytes = b"OK", raw: bytes = b"") -> None:
        body = b"".join(b"\r\n" + line + b"\r\n" for line in lines) + raw
        await self.send(body + self._injected_urcs() + b"\r\n" + final + b"\r\n")

    async def error(self, code: int = CME_OPERATION_NOT_ALLOWED) -> None:
        if self.cmee == 1:
            final = b"+CME ERROR: %d" % code
        elif self.cmee == 2:
            final = b"+CME ERROR: " + CME_VERBOSE.get(code, "Unknown error").encode()
        else:
            final = b"ERROR"
        await self.send(b"\r\n" + final + b"\r\n")

    async def urc(self, line: bytes) -> None:
        self.sim.stats.urcs += 1
        await self.send(b"\r\n" + line + b"\r\n")

    # ---- UART input -------------------------------------------------------
    async def _read_more(self) -> bool:
        data = await self.reader.read(4096)
        if not data:
            return False
        self.sim.stats.uart_bytes_in += len(data)
        if self.sim.baud:
            await asyncio.sleep(len(data) * 10 / self.sim.baud)
        if self.silent():
            return True  # a silent modem loses what it is sent
        self.inbuf += data
        return True

    async def read_exact(self, n: int) -> bytes | None:
        while len(self.inbuf) < n:
            if not await self._read_more():
                return None
        data = bytes(self.inbuf[:n])
        del self.inbuf[:n]
        return data

    async def run(self) -> None:
        try:
            while True:
                cr = self.inbuf.find(b"\r")
                if cr < 0:
                    if len(self.inbuf) > 1024:  # a line no modem would take
                        self.inbuf.clear()
                    if not await self._read_more():
                        return
                    continue
                line = bytes(self.inbuf[:cr]).replace(b"\n", b"")
                del self.inbuf[:cr + 1]
                if self.silent():
                    continue
                if self.echo:
                    self.sim.stats.echoed_commands += 1
                    await self.send(line + b"\r")
                if line.strip():
                    await self.command(line.strip())
        finally:
            self.closed = True
            for s in list(self.sockets.values()):
                self.drop(s)

    # ---- commands ---------------------------------------------------------
    async def command(self, line: bytes) -> None:
        sim = self.sim
        sim.stats.commands += 1
        f = sim.faults
        if (f.silent_s > 0 and not sim.silence_fired and sim.stats.commands > f.silent_after):
            # The modem hangs: this command and everything for silent_s is lost.
            # Once per simulator, like close-after: a board that reboots opens
            # a new UART session, which must not fall silent again at once.
            sim.silence_fired = True
            self.silence_done = True
            self.silent_until = time.monotonic() + f.silent_s
            sim.stats.count("silent")
            return
        text = line.decode("latin-1")
        if text[:2].upper() != "AT":
            await self.send(b"\r\nERROR\r\n")
            return
        body = text[2:]
        upper = body.upper()
        if upper == "":
            await self.respond()
        elif upper in ("E0", "E1"):
            self.echo = upper == "E1"
            await self.respond()
        elif upper == "I":
            await self.respond(b"u-blox SARA-R410M (m2mfota modem-sim)")
        elif upper.startswith("+CMEE="):
            value = upper[6:]
            if value not in ("0", "1", "2") or not sim.cmee_supported:
                await self.error()
                return
            self.cmee = int(value)
            await self.respond()
        elif upper.startswith("+USOCR="):
            await self.usocr(_args(body[7:]))
        elif upper.startswith("+USOCO="):
            await self.usoco(_args(body[7:]))
        elif upper.startswith("+USOWR="):
            await self.usowr(_args(body[7:]))
        elif upper.startswith("+USORD="):
            await self.usord(_args(body[7:]))
        elif upper.startswith("+USOCL="):
            await self.usocl(_args(body[7:]))
        elif upper == "+USOER":
            await self.respond(b"+USOER: %d" % self.last_error)
        else:
            await self.send(b"\r\nERROR\r\n")

    def _socket(self, args: list[str]) -> _Socket | None:
        try:
            return self.sockets.get(int(args[0]))
        except (ValueError, IndexError):
            return None

    async def usocr(self, args: list[str]) -> None:
        if not args or args[0] != "6":
            await self.error()  # TCP only in this simulator
            return
        free = [i for i in range(MAX_SOCKETS) if i not in self.sockets]
        if not free:
            await self.error()
            return
        self.sockets[free[0]] = _Socket(free[0])
        await self.respond(b"+USOCR: %d" % free[0])

    async def usoco(self, args: list[str]) -> None:
        sim = self.sim
        s = self._socket(args)
        if s is None or len(args) < 3 or s.writer is not None:
            await self.error()
            return
        host = args[1].strip('"')
        try:
            port = int(args[2])
        except ValueError:
            port = 0
        if not 1 <= port <= 65535:
            await self.error()
            return
        if sim.faults.cme_connect > 0:
            sim.faults.cme_connect -= 1
            sim.stats.count("cme-connect")
            self.last_error = SOCKET_ECONNREFUSED
            await self.error()
            return
        if host not in ALLOWED_HOSTS:
            # The simulator reaches nothing but this machine: the answer a
            # SARA-R4 gives for a host it cannot reach.
            sim.stats.refused += 1
            self.last_error = SOCKET_EHOSTUNREACH
            await self.error()
            return
        await asyncio.sleep(2 * sim.profile.latency_s)  # SYN / SYN-ACK over the air
        try:
            s.reader, s.writer = await asyncio.wait_for(
                asyncio.open_connection(host, port), timeout=10)
        except (OSError, asyncio.TimeoutError):
            self.last_error = SOCKET_ECONNREFUSED
            await self.error()
            return
        sim.stats.connects += 1
        s.tasks = [asyncio.create_task(self._downlink(s)), asyncio.create_task(self._uplink(s))]
        await self.respond()

    async def usowr(self, args: list[str]) -> None:
        sim = self.sim
        s = self._socket(args)
        try:
            n = int(args[1])
        except (ValueError, IndexError):
            n = -1
        if s is None or s.writer is None or not 1 <= n <= MAX_RW:
            await self.error()
            return
        if sim.faults.cme_write > 0:
            sim.faults.cme_write -= 1
            sim.stats.count("cme-write")
            await self.error()
            return
        await self.send(self._injected_urcs() + b"\r\n@")
        data = await self.read_exact(n)
        if data is None:
            return
        if _closed(s):  # closed while the bytes came in (a call: mypy kept the check above)
            await self.error()
            return
        s.up.append((self.up.arrival(len(data)), data))
        s.up_event.set()
        sim.stats.air_bytes_up += len(data)
        await self.respond(b"+USOWR: %d,%d" % (s.sid, n))

    async def usord(self, args: list[str]) -> None:
        s = self._socket(args)
        try:
            n = int(args[1])
        except (ValueError, IndexError):
            n = -1
        if s is None or not 0 <= n <= MAX_RW:
            await self.error()
            return
        if n == 0:
            await self.respond(b"+USORD: %d,%d" % (s.sid, len(s.buf)))
            return
        async with self.out_lock:
            take = bytes(s.buf[:n])
            del s.buf[:len(take)]
            if take:
                head = b"\r\n+USORD: %d,%d,\"" % (s.sid, len(take))
            else:
                head = b"\r\n+USORD: %d,\"" % s.sid  # SARA-R4: no length when empty
            await self._write(head + take + b"\"\r\n" + self._injected_urcs() + b"\r\nOK\r\n")
            s.notified = bool(s.buf)
            if s.buf:  # after a partial read the modem tells what is left
                self.sim.stats.urcs += 1
                await self._write(b"\r\n+UUSORD: %d,%d\r\n" % (s.sid, len(s.buf)))
        if not s.buf and s.remote_closed:
            await self._closed_by_peer(s)

    async def usocl(self, args: list[str]) -> None:
        s = self._socket(args)
        if s is None:
            await self.error()
            return
        self.drop(s)
        await self.respond()

    # ---- the network side -------------------------------------------------
    def drop(self, s: _Socket) -> None:
        self.sockets.pop(s.sid, None)
        me = asyncio.current_task()
        for t in s.tasks:
            if t is not me:  # a task closing its own socket finishes its URC first
                t.cancel()
        if s.writer is not None:
            s.writer.close()
        s.writer = None

    async def _closed_by_peer(self, s: _Socket) -> None:
        if self.sockets.get(s.sid) is s:
            self.drop(s)
            await self.urc(b"+UUSOCL: %d" % s.sid)

    async def _downlink(self, s: _Socket) -> None:
        """Server -> modem buffer, through the link; +UUSORD when the buffer
        was empty (as UBX-17003787 describes for TCP)."""
        reader = s.reader
        if reader is None:  # started only once connected: nothing to pump otherwise
            return
        queue: deque[tuple[float, bytes]] = deque()
        wake = asyncio.Event()
        eof = False

        async def deliver() -> None:
            nonlocal eof
            while True:
                while not queue:
                    if eof:
                        s.remote_closed = True
                        if not s.buf:
                            await self._closed_by_peer(s)
                        return
                    wake.clear()
                    await wake.wait()
                at, data = queue.popleft()
                delay = at - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                s.buf += data
                if not s.notified and not self.silent():
                    s.notified = True
                    await self.urc(b"+UUSORD: %d,%d" % (s.sid, len(s.buf)))

        task = asyncio.create_task(deliver())
        s.tasks.append(task)
        limit = self.sim.faults.close_after
        try:
            while True:
                data = await reader.read(4096)
                if not data:
                    break
                if (limit is not None and not self.sim.close_fired
                        and s.received + len(data) > limit):
                    # The far end drops the connection in the middle of the stream.
                    self.sim.close_fired = True
                    self.sim.stats.count("close-after")
                    await self._closed_by_peer(s)
                    return
                s.received += len(data)
                self.sim.stats.air_bytes_down += len(data)
                queue.append((self.down.arrival(len(data)), data))
                wake.set()
        except (OSError, asyncio.IncompleteReadError):
            pass
        eof = True
        wake.set()
        await task

    async def _uplink(self, s: _Socket) -> None:
        while True:
            while not s.up:
                s.up_event.clear()
                await s.up_event.wait()
            at, data = s.up.popleft()
            delay = at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if s.writer is None:
                return
            try:
                s.writer.write(data)
                await s.writer.drain()
            except OSError:
                return


def _args(text: str) -> list[str]:
    """Split AT parameters at commas outside quotes."""
    out: list[str] = []
    cur: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur).strip())
    return out


class ModemSim:
    """The simulated modem.  ``serve()`` listens; each client is a UART."""

    def __init__(self, *, link: str = "none", baud: int | None = None,
                 faults: Faults | str | None = None, seed: int = 0, echo: bool = True,
                 cmee_supported: bool = True) -> None:
        if link not in PROFILES:
            raise ValueError(f"unknown link {link!r} (known: {', '.join(PROFILES)})")
        if baud is not None and baud <= 0:
            raise ValueError("baud must be positive")
        self.profile = PROFILES[link]
        self.baud = baud
        self.faults = Faults.parse(faults) if isinstance(faults, str) else (faults or Faults())
        self.rng = random.Random(seed)
        self.echo = echo
        self.cmee_supported = cmee_supported  # False: an old firmware, errors stay "ERROR"
        self.stats = SimStats()
        self.close_fired = False
        self.silence_fired = False
        self.sessions = 0
        self._live: set[asyncio.Task[None]] = set()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.sessions += 1
        session = _Session(self, reader, writer)
        task = asyncio.current_task()
        if task is not None:
            self._live.add(task)
        try:
            await session.run()
        except (OSError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._live.discard(task)
            writer.close()

    async def serve(self, host: str, port: int) -> asyncio.Server:
        return await asyncio.start_server(self._client, host, port)

    async def shutdown(self, server: asyncio.Server) -> None:
        """Stop listening and end every UART session (and its sockets)."""
        server.close()
        for task in list(self._live):
            task.cancel()
        if self._live:
            await asyncio.wait(list(self._live), timeout=5)
        # Socket pumps the sessions cancelled on their way out.
        rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for t in rest:
            t.cancel()
        if rest:
            await asyncio.wait(rest, timeout=5)
        await server.wait_closed()


class RunningSim:
    """A ModemSim in a daemon thread with its own loop (tests, demos).  It
    stops after ``max_lifetime`` seconds by itself."""

    def __init__(self, sim: ModemSim, host: str = "127.0.0.1", port: int = 0,
                 max_lifetime: float = 600.0) -> None:
        self.sim = sim
        self.host = host
        self.port = port
        self._max = max_lifetime
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="modem-sim", daemon=True)

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to start()
            self._error = exc
            self._ready.set()
        finally:
            self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        server = await self.sim.serve(self.host, self.port)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stop.wait(), self._max)
        await self.sim.shutdown(server)

    def start(self) -> RunningSim:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("modem simulator did not start within 30 s")
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        if self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def __enter__(self) -> RunningSim:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---- the command line -------------------------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--listen", default=None, metavar="HOST:PORT",
                        help="where the UART connects, e.g. 127.0.0.1:5555 (required)")
    parser.add_argument("--link", default="none", help="nbiot, ltem or none (default)")
    parser.add_argument("--uart-baud", default=None, metavar="N",
                        help="pace the UART at N baud (8N1: N/10 bytes/s); default unpaced")
    parser.add_argument("--faults", default="", metavar="LIST",
                        help="comma-separated: urc, split, cme-connect[=N], cme-write[=N], "
                             "close-after=BYTES, silent=SECONDS[@COMMANDS]")
    parser.add_argument("--seed", default="0", help="seed of the random faults (default 0)")
    parser.add_argument("--echo", default="on", help="echo at power-up: on (default) or off")
    parser.add_argument("--exit-after", default=None, metavar="SECONDS",
                        help="stop by itself after this many seconds")


def _parse_listen(text: str | None) -> tuple[str, int]:
    if text is None:
        raise ValueError("--listen HOST:PORT is required")
    host, sep, port = text.rpartition(":")
    if not sep or not host:
        raise ValueError(f"--listen wants HOST:PORT, not {text!r}")
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"bad port in --listen {text!r}")
    return host, int(port)


def run(args: argparse.Namespace) -> int:
    try:
        host, port = _parse_listen(args.listen)
        baud = None
        if args.uart_baud is not None:
            if not str(args.uart_baud).isdigit() or int(args.uart_baud) <= 0:
                raise ValueError(f"--uart-baud wants a positive integer, not {args.uart_baud!r}")
            baud = int(args.uart_baud)
        if args.echo not in ("on", "off"):
            raise ValueError(f"--echo wants on or off, not {args.echo!r}")
        try:
            seed = int(args.seed)
        except ValueError:
            raise ValueError(f"--seed wants an integer, not {args.seed!r}") from None
        exit_after = None
        if args.exit_after is not None:
            try:
                exit_after = float(args.exit_after)
            except ValueError:
                raise ValueError(f"--exit-after wants seconds, not {args.exit_after!r}") from None
        sim = ModemSim(link=args.link, baud=baud, faults=args.faults, seed=seed,
                       echo=args.echo == "on")
    except ValueError as exc:
        raise UserError(str(exc)) from None  # m2mfota.cli prints it: one line, exit 1
    try:
        return asyncio.run(_serve(sim, host, port, exit_after))
    except OSError as exc:
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


async def _serve(sim: ModemSim, host: str, port: int, exit_after: float | None) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    server = await sim.serve(host, port)
    bound = server.sockets[0].getsockname()
    print(f"modem-sim on {bound[0]}:{bound[1]} link={sim.profile.name} "
          f"baud={sim.baud or 'unpaced'}", flush=True)
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(stop.wait(), exit_after)
    await sim.shutdown(server)
    print(f"modem-sim: {sim.stats.commands} commands, {sim.stats.connects} connects, "
          f"{sim.stats.air_bytes_down} bytes down, {sim.stats.air_bytes_up} up", flush=True)
    return 0
