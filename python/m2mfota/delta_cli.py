"""``m2mfota delta``: make a delta file (or a bare detools patch), or apply
one with the device's C applier.

    m2mfota delta OLD NEW -o FILE             # MFDP header + detools patch
    m2mfota delta OLD NEW -o PATCH --raw      # the bare detools patch
    m2mfota delta --apply OLD FILE -o NEW     # the C applier, as on the device
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time

from m2mfota._cli_types import UserError, input_file
from m2mfota.delta import (
    COMPRESSIONS,
    WINDOW_SZ2_MAX,
    DeltaError,
    apply_delta_file,
    apply_patch,
    create_patch,
    delta_header,
    parse_delta_header,
    patch_info,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("old", type=input_file, metavar="OLD",
                        help="the image the device runs (the patch's source)")
    parser.add_argument("second", type=input_file, metavar="NEW|PATCH",
                        help="the new image; with --apply, the patch")
    parser.add_argument("-o", "--output", required=True, metavar="FILE",
                        help="where to write the delta file (with --apply: the new image)")
    parser.add_argument("--raw", action="store_true",
                        help="write the bare detools patch, without the delta file header "
                             "the device needs to recognise it")
    parser.add_argument("--apply", action="store_true",
                        help="apply PATCH to OLD with the C applier instead of making a patch")
    # None stands for the default, so that --apply can refuse what it would ignore.
    parser.add_argument("--compression", choices=COMPRESSIONS, default=None,
                        help="patch compression (default: heatshrink)")
    parser.add_argument("--window-sz2", type=int, default=None,
                        choices=range(4, WINDOW_SZ2_MAX + 1),
                        metavar=f"4-{WINDOW_SZ2_MAX}",
                        help="heatshrink window exponent; the device keeps 2^N bytes (default 8)")
    parser.add_argument("--source-sha256", metavar="HEX",
                        help="with --apply: refuse unless OLD has this SHA-256, as a device "
                             "checks its running image")


def _read(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as f:
        return f.read()


def _ratio(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.1f} %" if whole else "n/a"


def run(args: argparse.Namespace) -> int:
    if args.old == "-" and args.second == "-":
        # the second read would see an empty stream and make a wrong patch
        raise UserError("only one of OLD and NEW|PATCH can be standard input ('-')")
    if args.apply:
        for flag, value in (("--raw", args.raw or None), ("--compression", args.compression),
                            ("--window-sz2", args.window_sz2)):
            if value is not None:
                raise UserError(f"{flag} goes with making a patch, not with --apply")
    elif args.source_sha256 is not None:
        raise UserError("--source-sha256 goes with --apply")
    old = _read(args.old)
    second = _read(args.second)
    if args.apply:
        return _apply(args, old, second)
    compression = args.compression or "heatshrink"
    window_sz2 = 8 if args.window_sz2 is None else args.window_sz2
    try:
        t0 = time.perf_counter()
        patch = create_patch(old, second, compression, window_sz2=window_sz2,
                             lookahead_sz2=min(7, window_sz2 - 1))
        took = time.perf_counter() - t0
    except RuntimeError as exc:  # detools missing
        raise UserError(str(exc)) from None
    out = patch if args.raw else delta_header(old, second) + patch
    with open(args.output, "wb") as f:
        f.write(out)
    kind = "patch" if args.raw else "delta file"
    print(f"old {len(old)} bytes, new {len(second)} bytes, {kind} {len(out)} bytes "
          f"({_ratio(len(out), len(second))} of new, {compression}, {took:.2f} s)")
    print(f"saving {len(second) - len(out)} bytes ({_ratio(len(second) - len(out), len(second))})"
          f" against sending the new image")
    print(f"old sha256 {hashlib.sha256(old).hexdigest()}")
    return 0


def _apply(args: argparse.Namespace, old: bytes, patch: bytes) -> int:
    try:
        head = parse_delta_header(patch)
    except DeltaError as exc:
        raise UserError(f"{args.second}: {exc}") from None
    if head is not None:
        if args.source_sha256 is not None:
            raise UserError("a delta file carries its source SHA-256: drop --source-sha256")
        t0 = time.perf_counter()
        new = apply_delta_file(old, patch)  # DeltaError: a wrong source, a wrong result
        took = time.perf_counter() - t0
        with open(args.output, "wb") as f:
            f.write(new)
        print(f"delta file {len(patch)} bytes + old {head.source_size} bytes -> new {len(new)} "
              f"bytes in {took:.3f} s; new sha256 {hashlib.sha256(new).hexdigest()} (as the "
              f"header says)")
        return 0
    try:
        info = patch_info(patch)
    except ValueError as exc:
        raise UserError(f"{args.second}: {exc}") from None
    if args.source_sha256 is not None:
        try:
            want = bytes.fromhex(args.source_sha256)
        except ValueError:
            want = b""
        if len(want) != 32:
            raise UserError("--source-sha256 must be 64 hex digits")
    else:
        want = None
    t0 = time.perf_counter()
    # A wrong source ends in DeltaError MFOTA_ERR_DELTA_SOURCE from C.
    new = apply_patch(old, patch, check_source=False, source_sha256=want)
    took = time.perf_counter() - t0
    with open(args.output, "wb") as f:
        f.write(new)
    print(f"patch {len(patch)} bytes ({info.compression}) + old {len(old)} bytes -> "
          f"new {len(new)} bytes in {took:.3f} s; new sha256 {hashlib.sha256(new).hexdigest()}")
    return 0
