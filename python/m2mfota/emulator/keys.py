"""Typed keys under which the aiohttp application keeps the emulator's state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from m2mfota.emulator.app import Emulator

EMULATOR: web.AppKey[Emulator] = web.AppKey("emulator")
