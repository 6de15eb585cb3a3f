"""What makes the emulator safe to leave running: API key, browser checks, headers.

* The REST API (``/api/``, except the OpenAPI document) takes an API key,
  sent as ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``.  Only
  its SHA-256 is kept (in the database's settings), so the key is shown
  once, when it is made.  Header-only authentication means a foreign web
  page cannot make a browser send it (no cookie rides along).
* The device endpoints (ingestion, file server) keep their own
  authentication (message token, JWT) and none of the checks below: a
  device sends ``Host: m.m`` and no Origin, and must keep working.
* Every ``/api/`` request must name this server in ``Host`` (DNS
  rebinding); a state-changing one must carry no foreign ``Origin``; a
  JSON endpoint takes ``application/json`` only (a foreign page can post
  ``text/plain`` without a preflight, never ``application/json``).
* Dashboard and API answers carry a Content-Security-Policy (scripts and
  styles from this server only, no framing), ``X-Content-Type-Options:
  nosniff`` and ``X-Frame-Options: DENY``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
from collections.abc import Callable
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from m2mfota.emulator import db

API_KEY_SETTING = "api_key_sha256"
KEY_MIN = 16
KEY_MAX = 256
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# endpoints whose body is not JSON (a firmware upload is bytes or multipart)
RAW_BODY_PATHS = frozenset({"/api/firmware"})
PUBLIC_API_PATHS = frozenset({"/api/openapi.json"})
DEVICE_PREFIXES = ("/ingestion/", "/f/")
LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def key_hash(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


def check_key_text(key: str) -> str:
    """An API key a user chose: printable ASCII, no spaces, 16-256 characters."""
    if not KEY_MIN <= len(key) <= KEY_MAX or not all(0x21 <= ord(c) < 0x7F for c in key):
        raise ValueError(f"an API key is {KEY_MIN}-{KEY_MAX} printable ASCII characters "
                         "without spaces")
    return key


def setup_api_key(conn: sqlite3.Connection, api_key: str | None) -> tuple[bytes, str | None]:
    """The hash of the key in force, and the key itself when it was just made
    (the only time it can be shown).  ``api_key`` replaces the stored one."""
    with db.transaction(conn):
        if api_key is not None:
            digest = key_hash(check_key_text(api_key))
            conn.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)",
                         (API_KEY_SETTING, digest))
            return digest, None
        new: list[str] = []

        def make() -> bytes:
            new.append(secrets.token_urlsafe(24))
            return key_hash(new[0])

        digest = db.setting(conn, API_KEY_SETTING, make)
    return digest, (new[0] if new else None)


def presented_key(request: web.Request) -> str | None:
    auth = request.headers.get("Authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("X-API-Key")


def key_matches(request: web.Request, digest: bytes | None) -> bool:
    """True when auth is off (``digest`` None) or the request carries the key."""
    if digest is None:
        return True
    key = presented_key(request)
    return key is not None and hmac.compare_digest(key_hash(key), digest)


def _hostname(value: str) -> str:
    try:
        host = urlsplit("//" + value).hostname
    except ValueError:
        return ""
    return (host or "").lower()


def allowed_hosts(request: web.Request, public_url: str | None) -> set[str]:
    """Names this server answers to: loopback names, the address the request
    came in on, and the host of --public-url."""
    names = set(LOCAL_NAMES)
    sock = request.transport.get_extra_info("sockname") if request.transport else None
    if sock:
        # the local address of this connection (also behind a 0.0.0.0 bind)
        names.add(str(sock[0]).lower())
    if public_url:
        host = urlsplit(public_url).hostname
        if host:
            names.add(host.lower())
    return names


def guard(get_digest: Callable[[], bytes | None],
          get_public_url: Callable[[], str | None]) -> Middleware:
    """The middleware enforcing everything in the module docstring on ``/api/``."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if not path.startswith("/api/") and path != "/api":
            return await handler(request)
        if _hostname(request.host) not in allowed_hosts(request, get_public_url()):
            return _refuse(403, "Host does not name this server", "Host")
        if request.method in UNSAFE_METHODS:
            origin = request.headers.get("Origin")
            host = request.host.lower()
            if origin is not None and origin.lower() not in (f"http://{host}",
                                                             f"https://{host}"):
                return _refuse(403, "cross-origin request refused", "Origin")
        if path not in PUBLIC_API_PATHS and not key_matches(request, get_digest()):
            return _refuse(401, "API key missing or wrong (Authorization: Bearer <key>)",
                           "Authorization", {"WWW-Authenticate": 'Bearer realm="m2mfota"'})
        if request.method in UNSAFE_METHODS and path not in RAW_BODY_PATHS and \
                request.content_type != "application/json" and \
                (request.content_length or request.body_exists):
            return _refuse(415, "the body must be application/json", "Content-Type")
        return await handler(request)

    return middleware


def _refuse(status: int, message: str, field: str,
            headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message, "field": field}, status=status,
                             headers=headers)


async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: the browser protections, on everything but the
    device endpoints (a device has no use for them; its bytes are airtime)."""
    if request.path.startswith(DEVICE_PREFIXES):
        return
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
