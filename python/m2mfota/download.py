"""Ranged firmware download with the C core's downloader, response parser and
part planner.

:func:`download` runs ``mfota_dl_run`` over the POSIX sockets transport
(``embedded_port/posix``) with a Python sink that collects the bytes and
checks that the downloader keeps its sink contract (in-order bytes, parts
that end where they began, discarded parts really refetched).
:func:`parse_response` and :func:`plan_parts` expose the sans-IO pieces for
tests and tools.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from m2mfota import _args
from m2mfota._bridge import Bridge, reraise, trampoline
from m2mfota._errors import ERR, M2mfotaError
from m2mfota._native import ffi, lib

if TYPE_CHECKING:
    from m2mfota.hal import PythonClock, PythonTransport
    from m2mfota.modem import ModemSocket

__all__ = [
    "DownloadError",
    "DownloadResult",
    "HttpError",
    "IntegrityError",
    "Plan",
    "Response",
    "download",
    "parse_response",
    "plan_parts",
    "request_bytes",
]


class DownloadError(M2mfotaError):
    """The download failed; ``.code`` names the C error, ``.result`` holds the
    counters and the bytes collected up to the failure."""

    def __init__(self, code: int | str, message: str = "", result: DownloadResult | None = None):
        super().__init__(code, message)
        self.result = result


class IntegrityError(DownloadError):
    """The file arrived but is not the one ``size``/``crc32``/``sha256``
    describe: ``.code`` is ``MFOTA_ERR_IMAGE_SIZE``, ``_IMAGE_CRC`` or
    ``_IMAGE_SHA256``; ``.result`` holds what was downloaded."""


class HttpError(M2mfotaError):
    """The response parser refused its input; ``.code`` names the C error."""


@dataclass
class DownloadResult:
    """What :func:`download` returns: the bytes fetched and the counters of the run."""

    data: bytes              #: bytes [offset, total) (from 0 after a restart)
    offset: int              #: file offset of data[0]
    total: int | None        #: file size the server reported
    requests: int            #: requests sent in this run, retries included
    connections: int         #: TCP connections opened
    retries: int             #: failed attempts that were repeated (429/503 waits included)
    restarts: int            #: the file changed: started again at 0
    waits: int               #: 429/503 waited out
    unverified_parts: int    #: parts that came without a Digest
    bytes_received: int      #: body bytes received, discarded ones included
    request_bytes: int       #: bytes of all requests sent
    budget_used: int         #: requests counted against the 19999 budget (incl. requests_used)
    validator: int | None    #: CRC-32 of the ETag / Last-Modified value, if any
    events: list[tuple[Any, ...]] = field(default_factory=list)  #: sink calls, in order
    #: the bytes are known to come from one version of the file: a whole-file
    #: crc32/sha256 matched, or the server sent a validator that the
    #: downloader held every part to.  False: parts of a same-size
    #: replacement could be mixed in unseen (see docs/download-integrity.md).
    validated: bool = False


class _Sink:
    """Collects the download and enforces the sink contract of downloader.h."""

    def __init__(self, offset: int, expect_size: int | None = None) -> None:
        self.expect_size = expect_size
        self.base = offset
        self.buf = bytearray()
        self.part_start = offset  # file offset where the current part began
        self.pos = offset         # next byte expected
        self.total: int | None = None
        self.events: list[tuple[Any, ...]] = []

    def _violation(self, what: str) -> None:
        raise AssertionError(f"downloader broke the sink contract: {what}")

    def data(self, offset: int, chunk: bytes) -> None:
        if offset != self.pos:
            self._violation(f"data at {offset}, expected {self.pos}")
        if self.total is not None and offset + len(chunk) > self.total:
            self._violation(f"data past the total {self.total}")
        rel = offset - self.base
        self.buf[rel : rel + len(chunk)] = chunk
        self.pos += len(chunk)

    def part_done(self, offset: int, length: int, crc: int, verified: int) -> None:
        import zlib

        if offset != self.part_start or offset + length != self.pos:
            self._violation(f"part_done({offset}, {length}) for part at {self.part_start}")
        rel = offset - self.base
        if zlib.crc32(self.buf[rel : rel + length]) != crc:
            self._violation(f"part_done crc {crc:#x} is not the CRC of the bytes given")
        self.events.append(("done", offset, length, crc, bool(verified)))
        self.part_start = self.pos

    def part_failed(self, offset: int, length: int, reason: int) -> None:
        if offset != self.part_start or offset + length != self.pos:
            self._violation(f"part_failed({offset}, {length}) for part at {self.part_start}")
        self.events.append(("failed", offset, length, _name(reason)))
        del self.buf[offset - self.base :]
        self.pos = offset

    def total_cb(self, total: int, restarted: int) -> None:
        unknown = total == _TOTAL_UNKNOWN
        if unknown and not restarted:
            self._violation("an unknown total without a restart")
        self.events.append(("total", None if unknown else total, bool(restarted)))
        self.total = None if unknown else total
        if self.total is not None and self.expect_size is not None and \
                self.total != self.expect_size:
            # Not the file asked for: stop before fetching any more of it.
            raise IntegrityError("MFOTA_ERR_IMAGE_SIZE",
                                 f"the server's file has {self.total} bytes, "
                                 f"size says {self.expect_size}")
        if restarted:
            self.base = self.part_start = self.pos = 0
            self.buf = bytearray()


_TOTAL_UNKNOWN = (1 << 32) - 1  # MFOTA_DL_TOTAL_UNKNOWN
_TX_SIZE = 128  # the downloader's send buffer: MFOTA_DL_SEND_CHUNK, config.h's default


def _name(code: int) -> str:
    return ffi.string(lib.mfota_err_name(code)).decode("ascii")


# The sink's callbacks: an exception (a broken sink contract, the size
# check) stops the download and download() re-raises it once C returns.
@trampoline("_py_dl_data", hal_failure=False)
def _dl_data(sink: _Sink, offset: int, data: Any, length: int) -> int:
    sink.data(offset, ffi.unpack(ffi.cast("char *", data), length))
    return 0


@trampoline("_py_dl_part_done", hal_failure=False)
def _dl_part_done(sink: _Sink, offset: int, length: int, crc: int, verified: int) -> int:
    sink.part_done(offset, length, crc, verified)
    return 0


@trampoline("_py_dl_part_failed", hal_failure=False)
def _dl_part_failed(sink: _Sink, offset: int, length: int, reason: int) -> int:
    sink.part_failed(offset, length, reason)
    return 0


@trampoline("_py_dl_total", hal_failure=False)
def _dl_total(sink: _Sink, total: int, restarted: int) -> int:
    sink.total_cb(total, restarted)
    return 0


def download(
    url: str,
    token: str | bytes,
    *,
    part_size: int = 4096,
    offset: int = 0,
    timeout: float = 10.0,
    requests_used: int = 0,
    total: int | None = None,
    validator: int | None = None,
    align: int | None = None,
    budget: int | None = None,
    reserve: int | None = None,
    per_connection: int | None = None,
    max_retries: int | None = None,
    max_retry_after: int | None = None,
    max_restarts: int | None = None,
    accept_whole_body: bool = True,
    pipeline: bool | None = None,
    rx_size: int = 65536,
    max_time: float | None = None,
    max_size: int | None = None,
    size: int | None = None,
    crc32: int | None = None,
    sha256: bytes | bytearray | memoryview | None = None,
    modem_socket: ModemSocket | None = None,
    transport: PythonTransport | None = None,
    clock: PythonClock | None = None,
) -> DownloadResult:
    """Fetch ``[offset, total)`` of ``url`` with the C downloader over real
    sockets, ``part_size`` bytes per request.  ``None`` options take the
    config.h defaults (``align`` defaults to ``part_size``).  A resume passes
    ``offset``, ``requests_used`` and, when known, ``total`` and ``validator``
    (``DownloadResult.validator`` of the interrupted run).  Raises
    :class:`DownloadError` with the C error name in ``.code``.  With
    ``modem_socket`` the bytes go through the SARA-R4 AT transport
    (:mod:`m2mfota.modem`) instead of POSIX sockets; with ``transport``
    (a :class:`~m2mfota.hal.PythonTransport`) through a transport written in
    Python, and with ``clock`` (a :class:`~m2mfota.hal.PythonClock`) on a
    clock written in Python.  An exception raised by either, or by the
    sink, is raised again once C has returned.

    ``timeout`` is a deadline, not an idle timeout: a connect, and then each
    part's request and complete response, must finish within it, however
    steadily bytes trickle in (``MFOTA_ERR_DL_TIMEOUT`` once its retries are
    spent).  ``max_time`` (seconds, None: none) bounds the whole download,
    retries and Retry-After waits included (``MFOTA_ERR_DL_DEADLINE``).
    ``max_size`` (bytes, None: the C default, 16 MiB) is the largest file
    accepted: a bigger total, or a body that ignored Range and runs on
    without a length, ends it with ``MFOTA_ERR_DL_TOO_LARGE``.
    ``size``, ``crc32`` and ``sha256`` describe the whole file; each one
    given is checked (by the C core's image check) and a mismatch raises
    :class:`IntegrityError` (``MFOTA_ERR_IMAGE_SIZE`` as soon as the server
    states another size).  ``crc32``/``sha256`` need the whole file, so only
    with ``offset=0``.  ``DownloadResult.validated`` tells whether the bytes
    are known to be one version of the file."""
    # -- argument checks (before anything reaches C) --
    url = _args.text("url", url, ascii=True)
    raw_token = bytes(_args.buffer("token", token, text=True, encoding="ascii"))
    part_size = _args.integer("part_size", part_size, 1, _args.U32)
    offset = _args.integer("offset", offset, 0, _args.U64)
    timeout = _args.number("timeout", timeout, 0, _args.U32 / 1000, lo_open=True)
    requests_used = _args.integer("requests_used", requests_used, 0, _args.U32)
    total = _args.optional_integer("total", total, 0, _args.U64)
    validator = _args.optional_integer("validator", validator, 0, _args.U32)
    align = _args.optional_integer("align", align, 1, _args.U32)
    for name, value in (("budget", budget), ("reserve", reserve),
                        ("per_connection", per_connection), ("max_retries", max_retries),
                        ("max_retry_after", max_retry_after), ("max_restarts", max_restarts)):
        _args.optional_integer(name, value, 0, _args.U32)
    _args.flag("accept_whole_body", accept_whole_body)
    _args.optional_flag("pipeline", pipeline)
    rx_size = _args.integer("rx_size", rx_size, 64, 1 << 24)
    max_time = _args.optional_number("max_time", max_time, 0, 4e6, lo_open=True)
    max_size = _args.optional_integer("max_size", max_size, 1, _args.U64)
    size = _args.optional_integer("size", size, 0, _args.U32)
    crc32 = _args.optional_integer("crc32", crc32, 0, _args.U32)
    sha256 = _args.optional_buffer("sha256", sha256, size=32)
    if modem_socket is not None:
        _args.transport_holder("modem_socket", modem_socket)
    if transport is not None:
        _args.transport_holder("transport", transport)
        if modem_socket is not None:
            raise ValueError("transport: give a transport or a modem_socket, not both")
    if clock is not None:
        _args.clock_holder("clock", clock)
    if offset and (crc32 is not None or sha256 is not None):
        raise ValueError("crc32 and sha256 check the whole file: they need offset=0")

    raw_url = url.encode("ascii")
    cfg = ffi.new("struct mfota_dl_config *")
    lib.mfota_dl_config_default(cfg)
    holder = modem_socket if modem_socket is not None else transport
    if holder is not None:
        c_transport = holder.transport
    else:
        c_transport = ffi.new("struct mfota_transport *")
        posix = ffi.new("struct mfota_posix_transport *")
        lib.mfota_posix_transport_init(posix, c_transport)
        posix.connect_timeout_ms = max(1, int(timeout * 1000))
    if clock is not None:
        c_clock = clock.clock
    else:
        c_clock = ffi.new("struct mfota_clock *")
        lib.mfota_posix_clock_init(c_clock)
    sink = _Sink(offset, size)
    sink_bridge = Bridge(sink)
    # Python HALs whose exceptions download() raises once C returns.
    bridges = [sink_bridge, getattr(holder, "bridge", None),
               None if clock is None else clock.bridge]
    csink = ffi.new("struct mfota_dl_sink *")
    csink.data = lib._py_dl_data
    csink.part_done = lib._py_dl_part_done
    csink.part_failed = lib._py_dl_part_failed
    csink.total = lib._py_dl_total
    csink.ctx = sink_bridge.handle
    rx = ffi.new("uint8_t[]", rx_size)
    tx = ffi.new("uint8_t[]", _TX_SIZE)
    url_buf = ffi.from_buffer(raw_url)
    token_buf = ffi.from_buffer(raw_token)

    cfg.transport = c_transport
    cfg.clock = c_clock
    cfg.sink = csink
    cfg.url = url_buf
    cfg.url_len = len(raw_url)
    cfg.token = token_buf
    cfg.token_len = len(raw_token)
    cfg.plan.part_size = part_size
    cfg.plan.align = part_size if align is None else align
    for name, value in (("budget", budget), ("reserve", reserve),
                        ("per_connection", per_connection)):
        if value is not None:
            setattr(cfg.plan, name, value)
    for name, value in (("max_retries", max_retries), ("max_retry_after_s", max_retry_after),
                        ("max_restarts", max_restarts)):
        if value is not None:
            setattr(cfg, name, value)
    cfg.offset = offset
    cfg.requests_used = requests_used
    if total is not None:
        cfg.total = total
        cfg.has_total = 1
    if validator is not None:
        cfg.validator = validator
        cfg.has_validator = 1
    cfg.timeout_ms = max(1, int(timeout * 1000))
    if max_time is not None:
        cfg.max_time_ms = max(1, int(max_time * 1000))
    if max_size is not None:
        cfg.max_size = max_size
    cfg.accept_whole_body = int(accept_whole_body)
    if pipeline is not None:
        cfg.pipeline = int(pipeline)
    cfg.rx_buf = rx
    cfg.rx_cap = rx_size
    cfg.tx_buf = tx
    cfg.tx_cap = _TX_SIZE

    dl = ffi.new("struct mfota_dl *")
    rc = lib.mfota_dl_init(dl, cfg)
    if rc != 0:
        raise DownloadError(rc, f"cannot start download of {url!r}")
    rc = lib.mfota_dl_run(dl)
    lib.mfota_dl_abort(dl)  # closes the socket on every path
    st = dl.stats
    result = DownloadResult(
        data=bytes(sink.buf), offset=sink.base, total=sink.total,
        requests=st.requests, connections=st.connections, retries=st.retries,
        restarts=st.restarts, waits=st.waits, unverified_parts=st.unverified_parts,
        bytes_received=st.body_bytes, request_bytes=st.request_bytes,
        budget_used=dl.plan.requests,
        validator=dl.validator if dl.has_validator else None, events=sink.events,
    )
    try:
        reraise(*bridges)
    except DownloadError as exc:
        exc.result = result
        raise
    if rc != 0:
        raise DownloadError(rc, f"download of {url!r} failed", result)
    if size is not None or crc32 is not None or sha256 is not None:
        _check_whole_file(result, size, crc32, sha256)
    result.validated = crc32 is not None or sha256 is not None or result.validator is not None
    return result


class _FileInRam:
    """The downloaded bytes as a read-only flash, for the C image check."""

    sector_size = 4096
    program_size = 8
    erased_value = 0xFF

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.size = max(1, -(-len(data) // self.sector_size)) * self.sector_size

    def read(self, offset: int, size: int) -> bytes:
        chunk = self.data[offset : offset + size]
        return chunk + b"\xff" * (size - len(chunk))

    def program(self, offset: int, data: bytes) -> None:
        raise AssertionError("the image check never writes")

    def erase(self, offset: int) -> None:
        raise AssertionError("the image check never erases")


def _check_whole_file(result: DownloadResult, size: int | None, crc32: int | None,
                      sha256: bytes | memoryview | None) -> None:
    import zlib

    from m2mfota.flash import ImageError, verify_image

    if result.offset != 0:
        # a resume (offset > 0) that did not restart: only the size is known
        got = result.total if result.total is not None else result.offset + len(result.data)
        if size is not None and got != size:
            raise IntegrityError("MFOTA_ERR_IMAGE_SIZE", f"{got} bytes, size says {size}",
                                 result)
        return
    data = result.data
    if len(data) > _args.U32 - _FileInRam.sector_size:  # the check's sizes are uint32_t
        raise IntegrityError("MFOTA_ERR_IMAGE_SIZE", "too large for the image check", result)
    try:
        # the parts' CRC is the bytes' own: the read-back stage compares equal
        verify_image(_FileInRam(data), len(data), zlib.crc32(data), expect_size=size,
                     crc32=crc32, sha256=None if sha256 is None else bytes(sha256))
    except ImageError as exc:
        raise IntegrityError(exc.code, "the downloaded file is not the one described",
                             result) from None


# ---- the response parser ---------------------------------------------------

@dataclass
class Response:
    status: int = 0
    version_minor: int = 0
    keep_alive: bool = False
    chunked: bool = False
    content_length: int | None = None
    content_range: tuple[int, int] | None = None
    total: int | None = None
    digest_crc: int | None = None
    digest: str = "none"              #: "none" / "match" / "mismatch"
    retry_after: int | None = None
    validator: int | None = None
    body: bytes = b""
    body_crc: int = 0
    complete: bool = False            #: EV_END seen
    error: str | None = None          #: C error name when the parser refused the input
    rest: bytes = b""                 #: bytes after the end of the message
    events: list[str] = field(default_factory=list)


_DIGEST = {0: "none", 1: "match", 2: "mismatch"}


def _fill(resp: Response, r: Any) -> None:
    resp.status = r.status
    resp.version_minor = r.version_minor
    resp.keep_alive = bool(r.keep_alive)
    resp.chunked = bool(r.chunked)
    resp.content_length = r.content_length if r.has_length else None
    resp.content_range = (r.range_first, r.range_last) if r.has_range else None
    resp.total = r.total if r.has_total else None
    resp.digest_crc = r.digest_crc if r.has_digest else None
    resp.retry_after = r.retry_after_s if r.has_retry_after else None
    resp.validator = r.validator if r.has_validator else None


def parse_response(chunks: Iterable[bytes | bytearray | memoryview], *,
                   eof: bool = False) -> Response:
    """Feed ``chunks`` to the C parser one at a time (then end of stream when
    ``eof``) and report what it made of them.  Never raises for bad input:
    the C error name is in ``.error``; ``events`` lists the event kinds."""
    items = _args.iterable("chunks", chunks)
    bufs = [_args.buffer(f"chunks[{i}]", c) for i, c in enumerate(items)]
    _args.flag("eof", eof)
    r = ffi.new("struct mfota_http_response *")
    lib.mfota_http_response_init(r)
    ev = ffi.new("struct mfota_http_event *")
    used = ffi.new("size_t *")
    resp = Response()
    body = bytearray()
    rest = bytearray()

    def on_event(rc: int) -> None:
        kind = ev.kind
        if kind == lib.MFOTA_HTTP_EV_HEADERS:
            resp.events.append("headers")
            _fill(resp, r)
        elif kind == lib.MFOTA_HTTP_EV_BODY:
            body.extend(ffi.unpack(ffi.cast("char *", ev.data), ev.len))
        elif kind == lib.MFOTA_HTTP_EV_END or rc == ERR["MFOTA_ERR_HTTP_CRC"]:
            resp.events.append("end")
            resp.complete = True
            _fill(resp, r)  # a trailer may have brought the Digest

    for chunk in bufs:
        if resp.complete or resp.error:
            rest.extend(chunk)
            continue
        buf = ffi.from_buffer(chunk)
        pos = 0
        while True:
            rc = lib.mfota_http_response_feed(r, buf + pos, len(chunk) - pos, used, ev)
            pos += used[0]
            if rc == ERR["MFOTA_NEED_MORE"]:
                break
            on_event(rc)
            if rc < 0:
                resp.error = _name(rc)
            if resp.complete or resp.error:
                rest.extend(chunk[pos:])
                break
    if eof and not resp.complete and not resp.error:
        rc = lib.mfota_http_response_eof(r, ev)
        on_event(rc)
        if rc < 0:
            resp.error = _name(rc)
    resp.body = bytes(body)
    resp.body_crc = r.body_crc
    resp.digest = _DIGEST[r.digest]
    resp.rest = bytes(rest)
    return resp


# ---- the part planner ------------------------------------------------------

@dataclass
class Plan:
    part_size: int                    #: part size the planner settled on
    parts: list[tuple[int, int, int]]  #: (first byte, length, connection number)
    requests: int                     #: budget used at the end (incl. requests_used)


def plan_parts(
    total: int,
    *,
    offset: int = 0,
    part_size: int = 4096,
    align: int | None = None,
    budget: int = 19999,
    reserve: int = 999,
    per_connection: int = 100,
    requests_used: int = 0,
) -> Plan:
    """Run the C planner over a failure-free download of ``total`` bytes the
    way the downloader does (reconnecting when it says so) and list the parts.
    Raises :class:`DownloadError` for a plan the budget cannot hold, and
    ``MFOTA_ERR_DL_TOO_LARGE`` for a total of 4 GiB or more."""
    total = _args.integer("total", total, 0, _args.U64)
    offset = _args.integer("offset", offset, 0, _args.U64)
    part_size = _args.integer("part_size", part_size, 1, _args.U32)
    align = _args.optional_integer("align", align, 1, _args.U32)
    budget = _args.integer("budget", budget, 0, _args.U32)
    reserve = _args.integer("reserve", reserve, 0, _args.U32)
    per_connection = _args.integer("per_connection", per_connection, 0, _args.U32)
    requests_used = _args.integer("requests_used", requests_used, 0, _args.U32)
    cfg = ffi.new("struct mfota_plan_config *")
    cfg.part_size = part_size
    cfg.align = part_size if align is None else align
    cfg.budget = budget
    cfg.reserve = reserve
    cfg.per_connection = per_connection
    if total > _args.U32:
        # The C planner works in 32-bit offsets: images are below 4 GiB.
        raise DownloadError("MFOTA_ERR_DL_TOO_LARGE", f"cannot plan {total} bytes")
    if offset > total:
        raise DownloadError("MFOTA_ERR_INVAL", f"cannot plan {total} bytes from {offset}")
    p = ffi.new("struct mfota_plan *")
    first = ffi.new("uint32_t *")
    length = ffi.new("uint32_t *")
    rc = lib.mfota_plan_init(p, cfg, offset, requests_used)
    if rc == 0:
        rc = lib.mfota_plan_set_total(p, total)
    if rc != 0:
        raise DownloadError(rc, f"cannot plan {total} bytes from {offset}")
    parts: list[tuple[int, int, int]] = []
    connection = -1
    while True:
        rc = lib.mfota_plan_next(p, first, length)
        if rc == ERR["MFOTA_DONE"]:
            break
        if rc != 0:
            raise DownloadError(rc, f"plan ran out after {len(parts)} parts")
        if connection < 0 or lib.mfota_plan_must_reconnect(p):
            lib.mfota_plan_on_connect(p)
            connection += 1
        lib.mfota_plan_on_request(p)
        parts.append((first[0], length[0], connection))
        lib.mfota_plan_advance(p, length[0])
    return Plan(part_size=p.part_size, parts=parts, requests=p.requests)


# ---- the request writer ----------------------------------------------------

def request_bytes(url: str, token: str | bytes = b"", first: int | None = None,
                  last: int | None = None) -> bytes:
    """The GET the device sends for ``url`` (bytes first..last inclusive; last
    None: open-ended; first None: no Range).  Range numbers are 32-bit: first
    and last at most 2**32 - 2 (2**32 - 1 is the open end), else ValueError.
    Raises :class:`HttpError`."""
    raw = _args.text("url", url, ascii=True).encode("ascii")
    tok = bytes(_args.buffer("token", token, text=True, encoding="ascii"))
    first = _args.optional_integer("first", first, 0, _args.U32 - 1)
    last = _args.optional_integer("last", last, 0, _args.U32 - 1)
    if first is None and last is not None:
        raise ValueError("last needs first")
    u = ffi.new("struct mfota_url *")
    url_buf = ffi.from_buffer(raw)
    rc = lib.mfota_url_parse(url_buf, len(raw), u)
    if rc != 0:
        raise HttpError(rc, repr(url))
    cap = 4096 + len(tok)
    buf = ffi.new("char[]", cap)
    out_len = ffi.new("size_t *")
    rng_last = _args.U32 if last is None else last  # MFOTA_HTTP_RANGE_OPEN
    rc = lib.mfota_http_request_write(buf, cap, out_len, u, ffi.from_buffer(tok), len(tok),
                                      int(first is not None), first or 0, rng_last)
    if rc != 0:
        raise HttpError(rc, "cannot write the request")
    return ffi.unpack(buf, out_len[0])
