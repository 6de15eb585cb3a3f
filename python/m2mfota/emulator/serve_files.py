"""``m2mfota serve-files DIR``: serve every file in DIR as an M2M file server
would, one URL and bearer token per file, printed at start."""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
from pathlib import Path

from aiohttp import web

from m2mfota.emulator.fileserver import Faults, FileServer
from m2mfota.emulator.lax_http import LaxAppRunner


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", type=Path, help="directory of firmware files to serve")
    parser.add_argument("--port", type=int, default=8080, help="TCP port (default 8080)")
    parser.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    parser.add_argument("--device", default="device", help="device claim of the tokens")
    parser.add_argument("--ttl", type=float, default=3600.0, help="token lifetime in seconds")
    parser.add_argument("--use-206", action="store_true",
                        help="answer ranges with 206 instead of KPN's 200")
    parser.add_argument("--exit-after", type=float, default=None, metavar="SECONDS",
                        help="stop by itself after this many seconds")


def run(args: argparse.Namespace) -> int:
    files = sorted(p for p in args.directory.iterdir() if p.is_file())
    if not files:
        print(f"no files in {args.directory}", file=sys.stderr)
        return 2
    server = FileServer(jwt_secret=secrets.token_bytes(32))
    faults = Faults(use_206=True) if args.use_206 else None
    for path in files:
        pub = server.publish(path.read_bytes(), device=args.device, ttl=args.ttl, faults=faults)
        print(f"{path.name}\thttp://{args.host}:{args.port}{pub.path}\t{pub.token}", flush=True)
    return asyncio.run(_serve(server, args.host, args.port, args.exit_after))


async def _serve(server: FileServer, host: str, port: int, exit_after: float | None) -> int:
    app = web.Application()
    server.add_routes(app)
    runner = LaxAppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    print(f"serving on http://{host}:{port}", flush=True)
    try:
        if exit_after is None:
            await asyncio.Event().wait()
        else:
            await asyncio.sleep(exit_after)
    finally:
        await runner.cleanup()
    return 0
