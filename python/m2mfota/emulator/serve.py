"""``m2mfota serve``: run the KPN Things emulator (ingestion, file server, dashboard)."""

from __future__ import annotations

import argparse
import asyncio
import signal

from aiohttp import web

from m2mfota.emulator.lax_http import LaxAppRunner


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default="m2mfota-emulator.sqlite3",
                        help="SQLite database file (':memory:' keeps nothing) "
                             "[%(default)s]")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on [%(default)s]")
    parser.add_argument("--port", type=int, default=8080, help="TCP port (0: any free) "
                        "[%(default)s]")
    parser.add_argument("--public-url", default=None,
                        help="http://ip:port devices reach this server at, for download URLs "
                             "(default: the address the device connected to)")
    parser.add_argument("--token-ttl", type=float, default=3600.0,
                        help="seconds a download token stays valid [%(default)s]")


async def _serve(args: argparse.Namespace) -> None:
    from m2mfota.emulator.app import create_app

    app = create_app(args.db, public_url=args.public_url, token_ttl=args.token_ttl)
    runner = LaxAppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, args.host, args.port)
    await site.start()
    sockets = site._server.sockets if site._server else []  # type: ignore[union-attr]
    host, port = sockets[0].getsockname()[:2] if sockets else (args.host, args.port)
    base = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    print(f"ingestion   {base}/ingestion/m2m/senml/v1")
    print(f"file server {base}/f/v1/")
    print(f"dashboard   {base}/")
    print(f"REST API    {base}/api/ (OpenAPI: {base}/api/openapi.json)")
    print(f"database    {args.db}", flush=True)
    stop = asyncio.Event()
    try:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    except (NotImplementedError, RuntimeError):
        pass  # no signal handlers here (e.g. not the main thread): Ctrl-C still works
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def run(args: argparse.Namespace) -> int:
    try:
        asyncio.run(_serve(args))
    except KeyboardInterrupt:
        pass
    return 0
