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
from typing import TYPE_CHECKING

from m2mfota._errors import ERR, M2mfotaError
from m2mfota._native import ffi, lib

if TYPE_CHECKING:
    from m2mfota.modem import ModemSocket

__all__ = [
    "DownloadError",
    "DownloadResult",
    "HttpError",
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


class HttpError(M2mfotaError):
    """The response parser refused its input; ``.code`` names the C error."""


@dataclass
class DownloadResult:
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
    events: list[tuple] = field(default_factory=list)  #: sink calls, in order


class _Sink:
    """Collects the download and enforces the sink contract of downloader.h."""

    def __init__(self, offset: int) -> None:
        self.base = offset
        self.buf = bytearray()
        self.part_start = offset  # file offset where the current part began
        self.pos = offset         # next byte expected
        self.total: int | None = None
        self.events: list[tuple] = []
        self.error: BaseException | None = None

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
        if restarted:
            self.base = self.part_start = self.pos = 0
            self.buf = bytearray()


_TOTAL_UNKNOWN = (1 << 64) - 1  # MFOTA_DL_TOTAL_UNKNOWN


def _name(code: int) -> str:
    return ffi.string(lib.mfota_err_name(code)).decode("ascii")


def _call(handle, fn, *args) -> int:
    sink: _Sink = ffi.from_handle(handle)
    try:
        fn(sink, *args)
    except BaseException as exc:  # re-raised by download() once C returns
        sink.error = exc
        return ERR["MFOTA_ERR_HAL"]
    return 0


@ffi.def_extern()
def _py_dl_data(ctx, offset, data, length):
    return _call(ctx, _Sink.data, offset, ffi.unpack(ffi.cast("char *", data), length))


@ffi.def_extern()
def _py_dl_part_done(ctx, offset, length, crc, verified):
    return _call(ctx, _Sink.part_done, offset, length, crc, verified)


@ffi.def_extern()
def _py_dl_part_failed(ctx, offset, length, reason):
    return _call(ctx, _Sink.part_failed, offset, length, reason)


@ffi.def_extern()
def _py_dl_total(ctx, total, restarted):
    return _call(ctx, _Sink.total_cb, total, restarted)


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
    modem_socket: ModemSocket | None = None,
) -> DownloadResult:
    """Fetch ``[offset, total)`` of ``url`` with the C downloader over real
    sockets, ``part_size`` bytes per request.  ``None`` options take the
    config.h defaults (``align`` defaults to ``part_size``).  A resume passes
    ``offset``, ``requests_used`` and, when known, ``total`` and ``validator``
    (``DownloadResult.validator`` of the interrupted run).  With
    ``modem_socket`` the bytes go through the SARA-R4 AT transport
    (:mod:`m2mfota.modem`) instead of POSIX sockets.  Raises
    :class:`DownloadError` with the C error name in ``.code``."""
    raw_url = url.encode("ascii")
    raw_token = token.encode("ascii") if isinstance(token, str) else bytes(token)
    cfg = ffi.new("struct mfota_dl_config *")
    lib.mfota_dl_config_default(cfg)
    if modem_socket is not None:
        transport = modem_socket.transport
    else:
        transport = ffi.new("struct mfota_transport *")
        posix = ffi.new("struct mfota_posix_transport *")
        lib.mfota_posix_transport_init(posix, transport)
        posix.connect_timeout_ms = max(1, int(timeout * 1000))
    clock = ffi.new("struct mfota_clock *")
    lib.mfota_posix_clock_init(clock)
    sink = _Sink(offset)
    handle = ffi.new_handle(sink)
    csink = ffi.new("struct mfota_dl_sink *")
    csink.data = lib._py_dl_data
    csink.part_done = lib._py_dl_part_done
    csink.part_failed = lib._py_dl_part_failed
    csink.total = lib._py_dl_total
    csink.ctx = handle
    rx = ffi.new("uint8_t[]", rx_size)
    url_buf = ffi.from_buffer(raw_url)
    token_buf = ffi.from_buffer(raw_token)

    cfg.transport = transport
    cfg.clock = clock
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
    cfg.accept_whole_body = int(accept_whole_body)
    if pipeline is not None:
        cfg.pipeline = int(pipeline)
    cfg.rx_buf = rx
    cfg.rx_cap = rx_size

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
    if sink.error is not None:
        raise sink.error
    if rc != 0:
        raise DownloadError(rc, f"download of {url!r} failed", result)
    return result


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


def _fill(resp: Response, r) -> None:
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


def parse_response(chunks: Iterable[bytes], *, eof: bool = False) -> Response:
    """Feed ``chunks`` to the C parser one at a time (then end of stream when
    ``eof``) and report what it made of them.  Never raises for bad input:
    the C error name is in ``.error``; ``events`` lists the event kinds."""
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

    for chunk in chunks:
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
    Raises :class:`DownloadError` for a plan the budget cannot hold."""
    cfg = ffi.new("struct mfota_plan_config *")
    cfg.part_size = part_size
    cfg.align = part_size if align is None else align
    cfg.budget = budget
    cfg.reserve = reserve
    cfg.per_connection = per_connection
    p = ffi.new("struct mfota_plan *")
    first = ffi.new("uint64_t *")
    length = ffi.new("uint32_t *")
    rc = lib.mfota_plan_init(p, cfg, offset, requests_used)
    if rc == 0:
        rc = lib.mfota_plan_set_total(p, total)
    if rc != 0:
        raise DownloadError(rc, f"cannot plan {total} bytes from {offset}")
    parts = []
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
    None: open-ended; first None: no Range).  Raises :class:`HttpError`."""
    raw = url.encode("ascii")
    tok = token.encode("ascii") if isinstance(token, str) else bytes(token)
    u = ffi.new("struct mfota_url *")
    url_buf = ffi.from_buffer(raw)
    rc = lib.mfota_url_parse(url_buf, len(raw), u)
    if rc != 0:
        raise HttpError(rc, repr(url))
    cap = 4096 + len(tok)
    buf = ffi.new("char[]", cap)
    out_len = ffi.new("size_t *")
    rng_last = (1 << 64) - 1 if last is None else last
    rc = lib.mfota_http_request_write(buf, cap, out_len, u, ffi.from_buffer(tok), len(tok),
                                      int(first is not None), first or 0, rng_last)
    if rc != 0:
        raise HttpError(rc, "cannot write the request")
    return ffi.unpack(buf, out_len[0])
