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
"""

from __future__ import annotations

import re

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

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
        out = bytearray()
        while data:
            if self._body_left:
                take = data[: self._body_left]
                out += take
                self._body_left -= len(take)
                data = data[len(take):]
                continue
            # (the common case, a whole head in one read, copies nothing here)
            buf = self._head + data if self._head else data
            data = b""
            end = _HEAD_END.search(buf)
            if end is None:
                self._head = buf
                if len(buf) > MAX_HEAD:
                    return self._step_aside(out)
                break
            head, rest = buf[: end.end()], buf[end.end():]
            self._head = b""
            if head.count(b"\n") != head.count(b"\r\n"):
                head = _BARE_LF.sub(b"\r\n", head)
            out += head
            lower = head.lower()
            if b"\r\ntransfer-encoding:" in lower or b"\r\nupgrade:" in lower:
                self._bypass = True
                out += rest
                break
            if b"content-length" in lower:
                lengths = _CONTENT_LENGTH.findall(head)
                if len(lengths) != 1:
                    self._bypass = True  # aiohttp will refuse this head; stay out of the way
                    out += rest
                    break
                self._body_left = int(lengths[0])
            data = rest
        return bytes(out)

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
        return server
