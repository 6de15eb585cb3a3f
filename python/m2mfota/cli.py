"""The ``m2mfota`` command.  Each subcommand lives in its own module, which
offers ``add_arguments(parser)`` and ``run(args) -> int``.

Every subcommand shares one error path (``main``): a user's mistake -- a bad
option, a missing file, a port in use, a file that is no database -- is one
line ``m2mfota <cmd>: error: ...`` and exit status 1; Ctrl-C is exit 130.
Only a bug in m2mfota itself shows a traceback.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import socket
import sqlite3
import sys
from typing import NoReturn

from m2mfota import __version__
from m2mfota._cli_types import UserError
from m2mfota._errors import M2mfotaError

DESCRIPTION = ("Device-side firmware-over-the-air for KPN Things M2M: an emulator of "
               "KPN Things, a file server, a NOR-flash simulator, a SenML decoder and "
               "an end-to-end demo.")

# name -> (module, one-line help).  Modules are imported only when used so
# that ``m2mfota --help`` stays fast and light.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "serve-files": ("m2mfota.emulator.serve_files", "serve firmware files as the M2M file server"),
    "flash-sim": ("m2mfota.flash_sim", "simulate an update on a NOR model, print flash wear"),
    "serve": ("m2mfota.emulator.serve", "run the KPN Things emulator and its dashboard"),
    "demo": ("m2mfota.demo", "update a fleet of C-engine devices from the emulator, end to end"),
    "delta": ("m2mfota.delta_cli", "make a delta patch (detools), or apply one with the C applier"),
    "senml": ("m2mfota.senml_cli", "decode a SenML pack or a KPN downlink as the device does"),
    "modem-sim": ("m2mfota.modem_sim", "simulate a SARA-R4 modem (AT sockets) on a TCP port"),
    "qemu-device": ("m2mfota.qemu_device", "run the QEMU board (MCUboot + app) on a flash file"),
    "qemu-demo": ("m2mfota.qemu_demo",
                  "the QEMU board updates itself through the modem simulator, end to end"),
}

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    """argparse with the CLI's one error format: one line, exit status 1."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="m2mfota", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"m2mfota {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text[0].upper() + help_text[1:]
                           + ".")
        p.set_defaults(_module=module)
        importlib.import_module(module).add_arguments(p)
    return parser


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    sub: argparse.ArgumentParser = action.choices[name]
    return sub


def describe(exc: BaseException, args: argparse.Namespace | None = None) -> str:
    """The one line a user reads for an error they can fix."""
    if isinstance(exc, socket.gaierror):
        # the resolver's message ("Name or service not known") does not say what it resolved
        host = getattr(args, "host", None)
        return f"--host {host}: {exc.strerror or exc}" if host else str(exc.strerror or exc)
    if isinstance(exc, OSError):
        if exc.errno == errno.EADDRINUSE:
            return f"cannot listen: address already in use ({exc.strerror or exc})"
        if exc.strerror:
            return f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    if isinstance(exc, sqlite3.DatabaseError):
        return f"database: {exc}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        # argparse reports these from the top-level parser ("m2mfota: error: ..."); the
        # user typed them to a subcommand, so its parser names itself and its --help
        _subparser(parser, args.command).error(f"unrecognized arguments: {' '.join(extra)}")
    prog = f"m2mfota {args.command}"
    try:
        return int(importlib.import_module(args._module).run(args) or 0)
    except KeyboardInterrupt:
        print(f"\n{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (UserError, OSError, sqlite3.DatabaseError, M2mfotaError, ValueError) as exc:
        print(f"{prog}: error: {describe(exc, args)}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
