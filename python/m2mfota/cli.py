"""The ``m2mfota`` command.  Each subcommand lives in its own module, which
offers ``add_arguments(parser)`` and ``run(args) -> int``."""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> (module, one-line help).  Modules are imported only when used so
# that ``m2mfota --help`` stays fast and light.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "serve-files": ("m2mfota.emulator.serve_files", "serve firmware files as the M2M file server"),
    "flash-sim": ("m2mfota.flash_sim", "simulate an update on a NOR model, print flash wear"),
    "serve": ("m2mfota.emulator.serve", "run the KPN Things emulator and its dashboard"),
    "demo": ("m2mfota.demo", "update a fleet of C-engine devices from the emulator, end to end"),
    "senml": ("m2mfota.senml_cli", "decode a SenML pack or a KPN downlink as the device does"),
    "modem-sim": ("m2mfota.modem_sim", "simulate a SARA-R4 modem (AT sockets) on a TCP port"),
    "qemu-device": ("m2mfota.qemu_device", "run the QEMU board (MCUboot + app) on a flash file"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="m2mfota", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module, help_text) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        p.set_defaults(_module=module)
        importlib.import_module(module).add_arguments(p)
    args = parser.parse_args(argv)
    try:
        return int(importlib.import_module(args._module).run(args) or 0)
    except ValueError as exc:
        # The API's argument checks name the argument: with the option
        # values the user gave, that is the user's mistake, not a crash.
        print(f"m2mfota {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
