"""``m2mfota senml``: decode a SenML pack, or a KPN downlink, as the device does."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import Any

from m2mfota._cli_types import input_file
from m2mfota.senml import SenMLError, loads
from m2mfota.things import DownlinkError, parse_downlink


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=input_file, help="the pack ('-' reads standard input)")
    parser.add_argument("--lenient", action="store_true",
                        help="read a string under v as vs (KPN's downlink example)")
    parser.add_argument("--thingsml", action="store_true",
                        help="resolve KPN ThingsML i_ indexes to name and unit")
    parser.add_argument("--downlink-imei", metavar="IMEI",
                        help="extract the FOTA command this device would accept")


def run(args: argparse.Namespace) -> int:
    if args.file == "-":
        data = sys.stdin.buffer.read()
    else:
        with open(args.file, "rb") as f:
            data = f.read()
    try:
        if args.downlink_imei:
            cmd = dataclasses.asdict(parse_downlink(data, args.downlink_imei))
            if cmd["sha256"] is not None:
                cmd["sha256"] = cmd["sha256"].hex()
            out: Any = cmd
        else:
            out = loads(data, lenient=args.lenient, thingsml=args.thingsml)
    except (SenMLError, DownlinkError) as e:
        where = f" at byte {e.offset}" if e.offset is not None else ""
        print(f"refused: {e.code}{where}", file=sys.stderr)
        return 1
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0
