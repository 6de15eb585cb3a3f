"""Accept request heads that end their lines with a bare LF.

KPN's device SDK (thingsml-c-library, ``ThingsML::httpPost()``) writes its
request line and header lines ending in ``\\n`` alone.  RFC 9112 section 2.2
lets a server accept that ("a recipient MAY recognize a single LF as a line
terminator and ignore any preceding CR"), and KPN Things does.  aiohttp's
request parsers (llhttp and the Python one) are strict and have no server
option for it, so this module puts a small normaliser between the socket
and aiohttp's parser, scoped to the servers this package starts:

* in a request *head* every bare LF becomes CRLF, then the head goes to
  aiohttp unchanged otherwise, so aiohttp still does all the validation;
* the *body* is passed through byte for byte: its length is read from the
  normalised head's ``Content-Length`` exactly as aiohttp will read it;
* anything this code does not fully understand (``Transfer-Encoding``, an
  odd ``Content-Length``, an upgrade, a head over ``MAX_HEAD`` bytes) makes
  it step aside for the rest of the connection, leaving aiohttp's strict
  parser to accept or refuse the bytes as they are.  So the normaliser never
  decides where a message ends differently from aiohttp (no smuggling).

Use :class:`LaxAppRunner` where ``web.AppRunner`` would be used.

The runner also serves an application's :data:`DIRECT_ROUTES` (exact method
and request target) without the application's dispatch: no router, no
middleware and no ``on_response_prepare`` signal, which together cost the
ingestion endpoint a tenth of its CPU time under load.  A request that
matches no direct route, or that carries ``Expect``, is dispatched by the
application as before.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import cast

from aiohttp import hdrs, web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

#: a direct route's handler
DirectHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_ServerHandler = Callable[[BaseRequest], Awaitable[web.StreamResponse]]

#: ``{(method, target): handler}`` an application wants served directly by
#: :class:`LaxAppRunner`: the target is the request line's, byte for byte
#: (``/path`` with no query).  The handler's request has neither
#: ``match_info`` nor ``app`` (bind what it needs, e.g. with a partial), and
#: the application's middlewares and response signals are not run for it:
#: give it only routes that use none of these.
DIRECT_ROUTES: web.AppKey[dict[tuple[str, str], DirectHandler]] = web.AppKey("direct_routes")

MAX_HEAD = 16 * 1024
_BARE_LF = re.compile(rb"(?<!\r)\n")
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*([0-9]{1,18})[ \t]*(?=\r\n)", re.I)


class LfNormalizer:
    """Byte stream of one connection in, the same stream with CRLF heads out."""

    def __init__(self) -> None:
        self._head = b""
        self._body_left = 0
        self._bypass = False

    def feed(self, data: bytes) -> bytes:
        if self._bypass:
            return data
        if not self._head and not self._body_left:
            # The common case: a whole CRLF head, and its body or the first
            # part of it, in one read.  It goes on as it came (no copy).  The
            # head ends at the first CRLF CRLF when it holds no bare LF: the
            # first match of _HEAD_END could only be earlier at a bare LF.
            end = data.find(b"\r\n\r\n") + 4
            if end >= 4 and data.count(b"\n", 0, end) == data.count(b"\r\n", 0, end):
                length = self._body_length(data[:end])
                if length is None:
                    self._bypass = True
                    return data
                if len(data) - end <= length:
                    self._body_left = length - (len(data) - end)
                    return data
                # more than one request in this read: the loop below
        out = bytearray()
        while data:
            if self._body_left:
                take = data[: self._body_left]
                out += take
                self._body_left -= len(take)
                data = data[len(take):]
                continue
            buf = self._head + data if self._head else data
            data = b""
            end_match = _HEAD_END.search(buf)
            if end_match is None:
                self._head = buf
                if len(buf) > MAX_HEAD:
                    return self._step_aside(out)
                break
            head, rest = buf[: end_match.end()], buf[end_match.end():]
            self._head = b""
            if head.count(b"\n") != head.count(b"\r\n"):
                head = _BARE_LF.sub(b"\r\n", head)
            out += head
            length = self._body_length(head)
            if length is None:
                self._bypass = True
                out += rest
                break
            self._body_left = length
            data = rest
        return bytes(out)

    @staticmethod
    def _body_length(head: bytes) -> int | None:
        """The body length a CRLF head announces (0: none), or None when
        the normaliser must step aside (chunked, an upgrade, a missing,
        doubled or odd Content-Length: aiohttp decides alone)."""
        lower = head.lower()
        if b"\r\ntransfer-encoding:" in lower or b"\r\nupgrade:" in lower:
            return None
        if b"content-length" not in lower:
            return 0
        lengths = _CONTENT_LENGTH.findall(head)
        if len(lengths) != 1:
            return None  # aiohttp will refuse this head; stay out of the way
        return int(lengths[0])

    def _step_aside(self, out: bytearray) -> bytes:
        self._bypass = True
        out += self._head
        self._head = b""
        return bytes(out)


class LaxRequestHandler(RequestHandler):
    """aiohttp's request handler fed through an :class:`LfNormalizer`."""

    def connection_made(self, transport) -> None:  # type: ignore[no-untyped-def]
        self._lf = LfNormalizer()
        super().connection_made(transport)

    def data_received(self, data: bytes) -> None:
        data = self._lf.feed(data)
        if data:
            super().data_received(data)


class LaxServer(web.Server):
    """``web.Server`` whose connections use :class:`LaxRequestHandler`."""

    def __call__(self) -> RequestHandler:
        return LaxRequestHandler(self, loop=self._loop, **self._kwargs)


class LaxAppRunner(web.AppRunner):
    """``web.AppRunner`` that accepts bare-LF request heads (see the module doc)."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        # The application builds a plain web.Server with its private handler
        # and request factory; only its per-connection factory changes.
        server.__class__ = LaxServer
        app = self.app
        if isinstance(app, web.Application):
            routes = app.get(DIRECT_ROUTES)
            if routes:
                server.request_handler = direct_dispatch(dict(routes), server.request_handler)
        return server


def direct_dispatch(routes: dict[tuple[str, str], DirectHandler],
                    fallback: _ServerHandler) -> _ServerHandler:
    """A request handler that gives a request whose method and target are a
    key of ``routes`` to that handler, and any other to ``fallback``."""
    get = routes.get

    def dispatch(request: BaseRequest) -> Awaitable[web.StreamResponse]:
        # A plain function returning the handler's coroutine: the server
        # awaits it, and an extra coroutine frame per request would cost.
        handler = get((request.method, request.raw_path))
        if handler is None or hdrs.EXPECT in request.headers:
            return fallback(request)
        # the server's request factory is the application's: a web.Request
        return handler(cast(web.Request, request))

    return dispatch
