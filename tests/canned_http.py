"""A helper for tests whose server is a few lines of socket code answering
canned bytes (to put exact responses on the wire)."""

from __future__ import annotations

import socket


def read_request_head(conn: socket.socket) -> bytes:
    """Read from ``conn`` until the blank line that ends a request head, or
    until the peer closes; return everything read (incomplete on a close)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = conn.recv(4096)
        if not chunk:
            break
        buf += chunk
    return buf
