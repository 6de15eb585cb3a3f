"""Serve an aiohttp application from a background thread.

The demo, the ``serve-files`` fixture and the tests all need the same thing:
an app on 127.0.0.1 (a free port by default) in a daemon thread with its own
event loop, started synchronously and stopped cleanly.  This is that, once.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Callable

from aiohttp import web

from m2mfota.emulator.lax_http import LaxAppRunner


class BackgroundServer:
    """An aiohttp app served on host:port from a daemon thread.

    ``make_app`` is called inside the server's event loop (apps that create
    loop-bound objects need that).  ``max_lifetime`` (seconds) stops the
    server by itself, so a forgotten one never outlives a test run.
    """

    def __init__(
        self,
        make_app: Callable[[], web.Application],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        name: str = "m2mfota-server",
        max_lifetime: float | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.app: web.Application | None = None
        self._make_app = make_app
        self._max_lifetime = max_lifetime
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> BackgroundServer:
        """Start serving; returns once the port is open (or raises why not)."""
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("server did not start within 30 s")
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        """Close the listener and every connection, then end the thread."""
        if not self._thread.is_alive():
            return
        try:
            asyncio.run_coroutine_threadsafe(self._cleanup(), self._loop).result(timeout=10)
        finally:
            # Stop from outside the coroutine: a loop stopped inside it would
            # never deliver the coroutine's result to this thread.
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _startup(self) -> None:
        self.app = self._make_app()
        self._runner = LaxAppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        if self._max_lifetime is not None:
            self._loop.call_later(self._max_lifetime, self._expire)

    def _expire(self) -> None:
        task = self._loop.create_task(self._cleanup())
        task.add_done_callback(lambda _: self._loop.stop())

    async def _cleanup(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._startup())
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
            self._ready.set()
            self._loop.close()
            return
        self._ready.set()
        self._loop.run_forever()
        self._loop.close()
