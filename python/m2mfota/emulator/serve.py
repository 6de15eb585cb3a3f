"""``m2mfota serve``: run the KPN Things emulator (ingestion, file server, dashboard)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import signal

from aiohttp import web

from m2mfota._cli_types import PORT, database_path, float_range, http_base_url
from m2mfota.emulator.lax_http import LaxAppRunner


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default="m2mfota-emulator.sqlite3", type=database_path,
                        help="SQLite database file (':memory:' keeps nothing) "
                             "[%(default)s]")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on [%(default)s]")
    parser.add_argument("--port", type=PORT, default=8080, help="TCP port (0: any free) "
                        "[%(default)s]")
    parser.add_argument("--public-url", default=None, type=http_base_url,
                        help="http://ip:port devices reach this server at, for download URLs "
                             "(default: the address the device connected to)")
    parser.add_argument("--token-ttl", type=float_range(0, 10 * 365 * 86400, low_open=True),
                        default=3600.0,
                        help="seconds a download token stays valid [%(default)s]")
    parser.add_argument("--mcuboot-key", type=_public_key, action="append", default=[],
                        metavar="PEM", help="public key (PEM file, e.g. from imgtool getpub "
                        "--encoding pem) MCUboot image signatures are checked against on "
                        "the firmware page (repeatable)")
    auth = parser.add_mutually_exclusive_group()
    auth.add_argument("--api-key", default=None, metavar="KEY", type=_api_key,
                      help="API key of the REST API and dashboard, 16-256 printable "
                           "characters; replaces the stored one (default: the key in the "
                           "database, made and shown once at the first start)")
    auth.add_argument("--no-auth", action="store_true",
                      help="no API key: anyone who can reach the port controls the "
                           "emulator (for throwaway runs only)")


def banner(base: str, db_path: str, *, auth: bool, new_key: str | None,
           given_key: bool) -> list[str]:
    """The lines `serve` prints at start: addresses, then how the API is guarded."""
    lines = [
        f"ingestion   {base}/ingestion/m2m/senml/v1",
        f"file server {base}/f/v1/",
        f"dashboard   {base}/",
        f"REST API    {base}/api/ (OpenAPI: {base}/api/openapi.json)",
        f"database    {db_path}",
    ]
    if not auth:
        lines.append("API key     none (--no-auth): anyone who reaches this port has full control")
    elif new_key is not None:
        lines.append(f"API key     {new_key}")
        lines.append("            (shown once; kept hashed in the database; "
                     "send it as Authorization: Bearer <key>)")
    elif given_key:
        lines.append("API key     the one given with --api-key")
    else:
        lines.append(f"API key     the one stored in {db_path} (replace it with --api-key)")
    return lines


def _public_key(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            pem = f.read(64 * 1024)
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"{path}: {exc.strerror}") from None
    try:
        from cryptography.hazmat.primitives import serialization

        serialization.load_pem_public_key(pem)
    except ImportError:
        raise argparse.ArgumentTypeError("checking signatures needs the 'cryptography' "
                                         "package") from None
    except ValueError:
        raise argparse.ArgumentTypeError(f"{path}: not a PEM public key") from None
    return pem


def _api_key(text: str) -> str:
    from m2mfota.emulator.security import check_key_text

    try:
        return check_key_text(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


#: CPython's collector thresholds for a running emulator (see tune_gc)
GC_THRESHOLDS = (50_000, 20, 100)


def tune_gc() -> None:
    """Make the cyclic garbage collector run less often in this process.

    Under load the emulator holds many long-lived objects (a thousand open
    connections, the event log, published files), and with the default
    thresholds (700 allocations) the collector scanned them again and again:
    a profile of the ingestion benchmark put a quarter of the server's time
    in gc.  What exists once the server is set up is frozen (never scanned
    again), and young objects are collected every 50 000 allocations."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


async def _serve(args: argparse.Namespace) -> None:
    from m2mfota.emulator.app import create_app
    from m2mfota.emulator.keys import EMULATOR

    app = create_app(args.db, public_url=args.public_url, token_ttl=args.token_ttl,
                     api_key=args.api_key, auth=not args.no_auth,
                     mcuboot_keys=args.mcuboot_key)
    runner = LaxAppRunner(app, access_log=None)
    await runner.setup()
    tune_gc()
    site = web.TCPSite(runner, args.host, args.port)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    addresses = runner.addresses  # (host, port[, ...]) of each listening socket
    host, port = addresses[0][:2] if addresses else (args.host, args.port)
    base = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    emu = app[EMULATOR]
    print("\n".join(banner(base, args.db, auth=not args.no_auth, new_key=emu.new_api_key,
                           given_key=args.api_key is not None)), flush=True)
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
    asyncio.run(_serve(args))
    return 0
