"""``m2mfota serve-files DIR``: serve every file in DIR as an M2M file server
would, one URL and bearer token per file, printed at start."""

from __future__ import annotations

import argparse
import asyncio
import secrets

from aiohttp import web

from m2mfota._cli_types import PORT, UserError, existing_dir, float_range
from m2mfota.emulator.fileserver import Faults, FileServer, Published
from m2mfota.emulator.lax_http import LaxAppRunner


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", type=existing_dir, help="directory of firmware files to serve")
    parser.add_argument("--port", type=PORT, default=8080, help="TCP port (0: any free) "
                        "[%(default)s]")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on [%(default)s]")
    parser.add_argument("--device", default="device",
                        help="device claim written into the tokens [%(default)s]")
    parser.add_argument("--ttl", type=float_range(0, 10 * 365 * 86400, low_open=True),
                        default=3600.0, help="token lifetime in seconds [%(default)s]")
    parser.add_argument("--use-206", action="store_true",
                        help="answer ranges with 206 instead of KPN's 200")
    parser.add_argument("--exit-after", type=float_range(0, 10 * 365 * 86400, low_open=True),
                        default=None, metavar="SECONDS",
                        help="stop by itself after this many seconds")


def run(args: argparse.Namespace) -> int:
    files = sorted(p for p in args.directory.iterdir() if p.is_file())
    if not files:
        raise UserError(f"{args.directory}: no files to serve")
    server = FileServer(jwt_secret=secrets.token_bytes(32))
    faults = Faults(use_206=True) if args.use_206 else None
    published = [(path.name, server.publish(path.read_bytes(), device=args.device, ttl=args.ttl,
                                            faults=faults)) for path in files]
    return asyncio.run(_serve(server, published, args.host, args.port, args.exit_after))


async def _serve(server: FileServer, published: list[tuple[str, Published]], host: str,
                 port: int, exit_after: float | None) -> int:
    app = web.Application()
    server.add_routes(app)
    runner = LaxAppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    # The URLs name the port actually bound (--port 0 picks one), so they are
    # printed only once the socket listens: a failed bind prints none.
    if runner.addresses:
        port = runner.addresses[0][1]
    base = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    for name, pub in published:
        print(f"{name}\t{base}{pub.path}\t{pub.token}", flush=True)
    print(f"serving on {base}", flush=True)
    try:
        if exit_after is None:
            await asyncio.Event().wait()
        else:
            await asyncio.sleep(exit_after)
    finally:
        await runner.cleanup()
    return 0
