"""argparse ``type=`` validators of the ``m2mfota`` subcommands, and the
one exception a subcommand raises for a user's mistake.

A validator raises ``argparse.ArgumentTypeError`` with a message that names
the limit, so ``m2mfota demo --devices 100000`` says what is allowed
instead of starting something that never ends.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit


class UserError(Exception):
    """A mistake in what the user asked for: printed as one line, exit 1."""


def int_range(low: int, high: int, *, multiple_of: int = 1,
              power_of_two: bool = False) -> Callable[[str], int]:
    """An integer in [low, high] (optionally a multiple, or a power of two)."""

    def parse(text: str) -> int:
        try:
            value = int(text, 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is outside {low}-{high}")
        if value % multiple_of:
            raise argparse.ArgumentTypeError(f"{value} is not a multiple of {multiple_of}")
        if power_of_two and value & (value - 1):
            raise argparse.ArgumentTypeError(f"{value} is not a power of two")
        return value

    parse.__name__ = "integer"  # argparse names the type in its messages
    return parse


def float_range(low: float, high: float, *, low_open: bool = False) -> Callable[[str], float]:
    """A finite number in [low, high] (``(low, high]`` with ``low_open``)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        below = value <= low if low_open else value < low
        if value != value or below or value > high:
            bound = f"more than {low:g}" if low_open else f"at least {low:g}"
            raise argparse.ArgumentTypeError(f"{text} must be {bound} and at most {high:g}")
        return value

    parse.__name__ = "number"
    return parse


PORT = int_range(0, 65535)


def existing_dir(text: str) -> Path:
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{text}: no such directory")
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: not a directory")
    return path


def input_file(text: str) -> str:
    """A readable file, or '-' for standard input."""
    if text == "-":
        return text
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{text}: no such file")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: is a directory")
    return text


def database_path(text: str) -> str:
    """':memory:', or a file whose directory exists (the file may be new)."""
    if text == ":memory:":
        return text
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: is a directory")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: directory {parent} does not exist")
    if not path.exists() and not os.access(parent, os.W_OK):
        raise argparse.ArgumentTypeError(f"{text}: directory {parent} is not writable")
    return text


def http_base_url(text: str) -> str:
    """``http://host[:port]`` (a trailing '/' allowed): where devices reach a server."""
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc}") from None
    if parts.scheme != "http" or not parts.hostname:
        raise argparse.ArgumentTypeError(f"{text!r} is not http://host[:port]")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise argparse.ArgumentTypeError(f"{text!r}: only http://host[:port], no path")
    if port == 0:
        raise argparse.ArgumentTypeError(f"{text!r}: port 0")
    return text.rstrip("/")
