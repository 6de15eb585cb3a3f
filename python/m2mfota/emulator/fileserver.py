"""The M2M file server: firmware files at a unique URL per device.

``GET /f/v1/<uuid>`` with ``Authorization: Bearer <JWT>`` (HS256; claims
``file_id``, ``device``, ``exp``; checked on every request).  A Range request
is answered as KPN documents it -- ``200 OK`` with ``Content-Range`` and
``Digest: crc32=<hex>`` over the body -- or, by option, with a standard
``206``.  The server counts requests per TCP connection and sends
``Connection: close`` with the 100th, refuses requests past 19999 per file,
answers ``416`` with ``Content-Range: bytes */<total>`` to an unsatisfiable
range, and injects the faults of :class:`Faults` per file.

This is the test oracle of the C downloader, written independently of it on
aiohttp.  Mount it in an application with :meth:`FileServer.add_routes`, or
run it in a background thread with :func:`serve_in_thread`.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import hmac
import json
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import jwt
from aiohttp import web

from m2mfota.emulator.background import BackgroundServer

__all__ = ["Faults", "FileServer", "Published", "RunningServer", "serve_in_thread"]

PATH_PREFIX = "/f/v1/"
_JWT_HEADER = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")


def _b64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _hs256_jwt(claims: dict[str, str | int | float], key: bytes) -> str:
    """A compact HS256 JWT (RFC 7519) of ``claims``.  Written out because
    PyJWT's encoder cost a quarter of an issued downlink's time under load;
    tokens are still checked with PyJWT, so the two must agree."""
    signing_input = _JWT_HEADER + b"." + _b64url(
        json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(key, signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + _b64url(signature)).decode("ascii")


@dataclass
class Faults:
    """Faults injected into the answers for one file.  Counted faults
    (``*_times``) hit that many responses, then the server behaves."""

    #: answer every Range request with 200, the whole file and no Content-Range
    ignore_range: bool = False
    #: close the connection after this many body bytes of a response (None: off)
    drop_after_bytes: int | None = None
    #: how many responses are cut short by drop_after_bytes
    drop_times: int = 1
    #: flip the bits of the byte at this file offset in the bodies that carry
    #: it; the Digest still covers the true bytes (None: off)
    corrupt_byte_at: int | None = None
    #: how many responses carry the corrupted byte
    corrupt_times: int = 1
    #: send no Digest header at all
    omit_digest: bool = False
    #: send a Digest whose crc32 is not the body's (counted by wrong_digest_times)
    wrong_digest: bool = False
    wrong_digest_times: int = 1
    #: after the headers, wait this long before the body (counted by stall_times)
    stall_seconds: float = 0.0
    stall_times: int = 1
    #: send the body one byte at a time, this many seconds apart (0: off; counted
    #: by trickle_times): a peer that is never idle long yet never finishes
    trickle_seconds: float = 0.0
    trickle_times: int = 1
    #: answer this many requests with 503 (Service Unavailable) first
    status_503_times: int = 0
    #: Retry-After seconds sent with those 503s (None: no Retry-After header)
    retry_after: int | None = 1
    #: reject every token as expired (401), whatever its exp claim
    expire_token: bool = False
    #: after this many requests for the file, serve a different file (None: off)
    replace_after_requests: int | None = None
    #: the file served after the replacement; None: a generated one (the same
    #: bytes inverted, plus 1000 bytes unless replace_same_size)
    replacement: bytes | None = None
    #: the generated replacement keeps the size: only the ETag changes
    replace_same_size: bool = False
    #: send no ETag (the server's only validator): a client then cannot tell a
    #: same-size replacement from the file it started with, part by part
    omit_validator: bool = False
    #: answer ranges with the standard 206 Partial Content instead of KPN's 200
    use_206: bool = False
    #: write the crc32 in upper case without zero padding, beside a sha-256
    #: digest (a parser test of "any case, 1-8 digits, among other algorithms")
    digest_variant: bool = False
    #: send bodies with Transfer-Encoding: chunked instead of Content-Length
    chunked: bool = False
    #: a broken server: send this many bytes more than the range, in a chunked
    #: body (which has no length to contradict), counted by overlong_times
    overlong_bytes: int = 0
    overlong_times: int = 1
    #: answer 404 (the file is gone)
    not_found: bool = False
    #: answer 403 (token refused)
    forbidden: bool = False


@dataclass
class Published:
    file_id: str
    path: str       #: "/f/v1/<file_id>"
    token: str      #: bearer token (JWT)
    expires: float  #: exp claim, in the server clock's seconds


@dataclass
class _File:
    data: bytes
    device: str
    faults: Faults
    requests: int = 0
    connections: set[int] = field(default_factory=set)  # id() of each transport
    bytes_sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    replaced: bool = False
    # counters of the transient faults
    drops: int = 0
    corrupts: int = 0
    wrong_digests: int = 0
    stalls: int = 0
    busy: int = 0
    overlongs: int = 0
    trickles: int = 0


def _etag(data: bytes) -> str:
    return f'"{zlib.crc32(data):08x}-{len(data):x}"'


_BIG = 10**18  # past any file this server holds


def _digits(text: str) -> int | None:
    """A decimal number of ASCII digits; huge ones capped at _BIG (a 5000-digit
    number would exceed int()'s digit limit and needs no exact value)."""
    if not text.isascii() or not text.isdigit():
        return None
    text = text.lstrip("0") or "0"
    return int(text) if len(text) <= 18 else _BIG


def _parse_range(header: str, total: int) -> tuple[int, int] | None | str:
    """(first, last) of a single byte range; None to ignore the header (bad
    syntax or several ranges, RFC 9110 14.2); "unsatisfiable" for 416."""
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first_s, dash, last_s = spec.strip().partition("-")
    if not dash:
        return None
    last = _digits(last_s) if last_s else None
    if last_s and last is None:
        return None
    if not first_s:  # suffix: the last N bytes
        if last is None:
            return None
        if last == 0 or total == 0:
            return "unsatisfiable"
        return max(0, total - last), total - 1
    first = _digits(first_s)
    if first is None:
        return None
    if last is not None and last < first:
        return None
    if first >= total:
        return "unsatisfiable"
    return first, total - 1 if last is None else min(last, total - 1)


class FileServer:
    """Serves published files; see the module docstring."""

    def __init__(
        self,
        *,
        jwt_secret: bytes,
        ok_status: int = 200,
        max_requests: int = 19999,
        requests_per_connection: int = 100,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.jwt_secret = jwt_secret
        self.ok_status = ok_status
        self.max_requests = max_requests
        self.requests_per_connection = requests_per_connection
        self.clock = clock
        self._files: dict[str, _File] = {}
        #: called after each request as on_event(file_id, device, status, reason,
        #: range) -- device None for an unknown file; the emulator's event log
        self.on_event: Callable[..., None] | None = None
        self._device_faults: dict[str, Faults] = {}
        # id(transport) -> (transport, requests served on it)
        self._conns: dict[int, tuple[asyncio.BaseTransport | None, int]] = {}

    # ---- management ----------------------------------------------------

    def token_for(self, file_id: str, *, ttl: float = 3600.0) -> tuple[str, float]:
        """A fresh bearer token for a published file and its expiry."""
        f = self._files[file_id]
        expires = self.clock() + ttl
        claims: dict[str, str | int | float] = {"file_id": file_id, "device": f.device,
                                                "exp": int(expires)}
        return _hs256_jwt(claims, self.jwt_secret), float(int(expires))

    def publish(
        self,
        data: bytes,
        *,
        device: str,
        ttl: float = 3600.0,
        faults: Faults | None = None,
        file_id: str | None = None,
    ) -> Published:
        """Serve ``data`` for ``device`` at a new (or the given) file id."""
        file_id = file_id or str(uuid.uuid4())
        if faults is None:
            faults = self._device_faults.get(device)
        self._files[file_id] = _File(data=bytes(data), device=device,
                                     faults=dataclasses.replace(faults) if faults else Faults())
        token, expires = self.token_for(file_id, ttl=ttl)
        return Published(file_id=file_id, path=PATH_PREFIX + file_id, token=token,
                         expires=expires)

    def set_faults(self, file_id: str, faults: Faults | None) -> None:
        """Replace the faults of a file (None: none) and rearm their counters."""
        f = self._files[file_id]
        f.faults = faults or Faults()
        f.drops = f.corrupts = f.wrong_digests = f.stalls = f.busy = f.overlongs = 0
        f.trickles = 0

    def set_device_faults(self, device: str, faults: Faults | None) -> None:
        """Faults for every file of ``device``: those published now (counters
        rearmed) and those published later without faults of their own."""
        if faults is None:
            self._device_faults.pop(device, None)
        else:
            self._device_faults[device] = faults
        for file_id, f in self._files.items():
            if f.device == device:
                self.set_faults(file_id, dataclasses.replace(faults) if faults else None)

    def unpublish(self, file_id: str) -> None:
        """Stop serving a file (later requests get 404).  Unknown ids are ignored."""
        self._files.pop(file_id, None)

    def stats(self, file_id: str) -> dict[str, object]:
        """Counters of a file: requests, connections, bytes_sent, statuses
        (status code -> count, keys as strings), replaced.  KeyError if unknown."""
        f = self._files[file_id]
        return {
            "requests": f.requests,
            "connections": len(f.connections),
            "bytes_sent": f.bytes_sent,
            "statuses": {str(k): v for k, v in sorted(f.statuses.items())},
            "replaced": f.replaced,
        }

    def data(self, file_id: str) -> bytes:
        """The bytes currently served for a file."""
        return self._files[file_id].data

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(PATH_PREFIX + "{file_id}", self._handle, allow_head=False)

    # ---- serving ---------------------------------------------------------

    def _connection_count(self, request: web.Request) -> tuple[int, int]:
        transport = request.transport
        key = id(transport)
        entry = self._conns.get(key)
        n = 1 if entry is None or entry[0] is not transport else entry[1] + 1
        self._conns[key] = (transport, n)
        if len(self._conns) > 256:  # forget closed connections now and then
            self._conns = {
                k: v for k, v in self._conns.items()
                if v[0] is not None and not v[0].is_closing()
            }
        return key, n

    def _authorized(self, request: web.Request, file_id: str, f: _File) -> bool:
        auth = request.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return False
        try:
            claims = jwt.decode(token.strip(), self.jwt_secret, algorithms=["HS256"],
                                options={"verify_exp": False, "require": ["exp"]})
        except jwt.PyJWTError:
            return False
        if claims.get("file_id") != file_id or claims.get("device") != f.device:
            return False
        return self.clock() < float(claims["exp"]) and not f.faults.expire_token

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        resp = await self._answer(request)
        if self.on_event is not None:
            file_id = request.match_info["file_id"]
            f = self._files.get(file_id)
            reason = resp.text if isinstance(resp, web.Response) and resp.status >= 300 else ""
            self.on_event(file_id, f.device if f else None, resp.status, reason,
                          request.headers.get("Range"))
        return resp

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        file_id = request.match_info["file_id"]
        conn, on_conn = self._connection_count(request)
        close = on_conn >= self.requests_per_connection
        f = self._files.get(file_id)
        if f is None:
            return self._plain(request, 404, "no such file", close)
        fl = f.faults
        if not self._authorized(request, file_id, f):
            # Not counted against the budget: junk tokens must not lock the device out.
            return self._count(f, self._plain(request, 401, "token expired or invalid", close,
                                              {"WWW-Authenticate": 'Bearer error="invalid_token"'}))
        f.requests += 1
        f.connections.add(conn)
        if fl.forbidden:
            return self._count(f, self._plain(request, 403, "forbidden", close))
        if f.requests > self.max_requests:
            return self._count(f, self._plain(request, 403, "request budget spent", close))
        if fl.not_found:
            return self._count(f, self._plain(request, 404, "file gone", close))
        if fl.replace_after_requests is not None and not f.replaced and \
                f.requests > fl.replace_after_requests:
            f.data = self._replacement(f)
            f.replaced = True
        if f.busy < fl.status_503_times:
            f.busy += 1
            extra = {} if fl.retry_after is None else {"Retry-After": str(fl.retry_after)}
            return self._count(f, self._plain(request, 503, "busy", close, extra))

        data = f.data
        total = len(data)
        headers = {"Content-Type": "application/octet-stream"}
        if not fl.omit_validator:
            headers["ETag"] = _etag(data)
        status = 200
        first, last = 0, total - 1
        rng = request.headers.get("Range")
        if rng is not None and not fl.ignore_range:
            parsed = _parse_range(rng, total)
            if parsed == "unsatisfiable":
                return self._count(f, self._plain(request, 416, "range not satisfiable", close,
                                                  {"Content-Range": f"bytes */{total}"}))
            if isinstance(parsed, tuple):
                first, last = parsed
                status = 206 if fl.use_206 else self.ok_status
                headers["Content-Range"] = f"bytes {first}-{last}/{total}"
        body = bytearray(data[first : last + 1])
        crc = zlib.crc32(body)
        if fl.corrupt_byte_at is not None and first <= fl.corrupt_byte_at <= last and \
                f.corrupts < fl.corrupt_times:
            f.corrupts += 1
            body[fl.corrupt_byte_at - first] ^= 0xFF
        if fl.wrong_digest and f.wrong_digests < fl.wrong_digest_times:
            f.wrong_digests += 1
            crc ^= 0x00000001
        if not fl.omit_digest:
            if fl.digest_variant:
                headers["Digest"] = f"sha-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=, " \
                                    f"CRC32={crc:X}"
            else:
                headers["Digest"] = f"crc32={crc:08x}"
        return await self._send_body(request, f, status, headers, bytes(body), close)

    def _replacement(self, f: _File) -> bytes:
        fl = f.faults
        if fl.replacement is not None:
            return bytes(fl.replacement)
        inverted = bytes(b ^ 0xFF for b in f.data)
        return inverted if fl.replace_same_size else inverted + bytes(range(250)) * 4

    @staticmethod
    def _count(f: _File, resp: web.StreamResponse) -> web.StreamResponse:
        f.statuses[resp.status] += 1
        return resp

    @staticmethod
    def _plain(request: web.Request, status: int, text: str, close: bool,
               headers: dict[str, str] | None = None) -> web.Response:
        resp = web.Response(status=status, text=text, headers=headers)
        if close:
            resp.force_close()
        return resp

    async def _send_body(self, request: web.Request, f: _File, status: int, headers: dict[str, str],
                         body: bytes, close: bool) -> web.StreamResponse:
        fl = f.faults
        # Counted before the bytes leave, so a client that has its answer
        # always finds it in stats().
        f.statuses[status] += 1
        resp = web.StreamResponse(status=status, headers=headers)
        overlong = fl.overlong_bytes > 0 and f.overlongs < fl.overlong_times
        if overlong:
            f.overlongs += 1
            body = body + bytes(fl.overlong_bytes)
        if fl.chunked or overlong:
            resp.enable_chunked_encoding()
        else:
            resp.content_length = len(body)
        if close:
            resp.force_close()
        try:
            await resp.prepare(request)
        except ConnectionError:
            return resp  # the client closed with this request still queued
        if fl.stall_seconds > 0 and f.stalls < fl.stall_times:
            f.stalls += 1
            await asyncio.sleep(fl.stall_seconds)
        if fl.drop_after_bytes is not None and f.drops < fl.drop_times and \
                fl.drop_after_bytes < len(body):
            f.drops += 1
            part = body[: fl.drop_after_bytes]
            f.bytes_sent += len(part)
            if part:
                await resp.write(part)
            if request.transport is not None:
                request.transport.close()
            request.protocol.force_close()
            return resp
        f.bytes_sent += len(body)
        try:
            if fl.trickle_seconds > 0 and f.trickles < fl.trickle_times:
                f.trickles += 1
                # Bounded by the body's length; a client that gives up
                # closes the connection and ends it sooner.
                for i in range(len(body)):
                    if request.transport is None or request.transport.is_closing():
                        return resp
                    await resp.write(body[i:i + 1])
                    await asyncio.sleep(fl.trickle_seconds)
                await resp.write_eof()
                return resp
            if fl.chunked and len(body) > 1:
                half = len(body) // 2
                await resp.write(body[:half])
                await resp.write(body[half:])
            else:
                await resp.write(body)
            await resp.write_eof()
        except ConnectionError:
            return resp  # the client gave up (e.g. timed out during a stall)
        return resp


# ---- running it --------------------------------------------------------------

class RunningServer(BackgroundServer):
    """A FileServer listening in a background thread; see serve_in_thread()."""

    def __init__(self, server: FileServer, host: str, port: int) -> None:
        def make_app() -> web.Application:
            app = web.Application()
            server.add_routes(app)
            return app

        super().__init__(make_app, host=host, port=port, name="m2mfota-fileserver")
        self.server = server

    def url(self, published: Published) -> str:
        return self.base_url + published.path

    def __enter__(self) -> RunningServer:
        return self


def serve_in_thread(server: FileServer, *, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Run ``server`` on host:port (0: a free port) in a daemon thread with its
    own event loop.  Stop it with ``.stop()`` or a with-block."""
    running = RunningServer(server, host, port)
    running.start()
    return running
