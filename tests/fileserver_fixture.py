"""pytest fixture: the M2M file server emulator on 127.0.0.1, a free port, in a
background thread; it stops by itself when the tests using it are done.

Use it with ``from fileserver_fixture import fileserver  # noqa: F401``."""

from __future__ import annotations

import secrets

import pytest

from m2mfota.emulator.fileserver import FileServer, serve_in_thread


@pytest.fixture(scope="module")
def fileserver():
    """A RunningServer: ``.server`` is the FileServer (publish, set_faults,
    stats), ``.url(published)`` the URL of a published file."""
    server = FileServer(jwt_secret=secrets.token_bytes(32))
    running = serve_in_thread(server, host="127.0.0.1", port=0)
    try:
        yield running
    finally:
        running.stop()
