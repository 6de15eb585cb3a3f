"""Fault settings of the file server, validated against its ``Faults`` dataclass."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from m2mfota.emulator.errors import ApiError
from m2mfota.emulator.fileserver import Faults


def schema() -> dict:
    """OpenAPI schema of a faults object, derived from the dataclass so they never drift."""
    props = {}
    for f in dataclasses.fields(Faults):
        default = _default(f)
        kind = {bool: "boolean", int: "integer", float: "number", str: "string"}.get(
            type(default), None)
        props[f.name] = {"type": kind} if kind else {}
        if kind in ("integer", "number"):
            props[f.name]["minimum"] = 0
        if default is not None and kind:
            props[f.name]["default"] = default
    return {"type": "object", "additionalProperties": False, "properties": props}


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
        return f.default_factory()  # type: ignore[misc]
    return None


def parse(value: Any, field: str = "faults") -> dict | None:
    """A JSON faults object checked field by field; None (or {}) means no faults."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ApiError(400, f"{field} must be an object", field)
    known = {f.name: f for f in dataclasses.fields(Faults)}
    out = {}
    for key, item in value.items():
        if key not in known:
            raise ApiError(400, f"unknown fault {key}", f"{field}.{key}")
        default = _default(known[key])
        if default is not None and not _same_type(item, default):
            raise ApiError(400, f"{field}.{key} must be of type {type(default).__name__}",
                           f"{field}.{key}")
        if isinstance(item, (int, float)) and not isinstance(item, bool) and item < 0:
            raise ApiError(400, f"{field}.{key} must not be negative", f"{field}.{key}")
        out[key] = item
    try:
        Faults(**out)
    except (TypeError, ValueError) as exc:
        raise ApiError(400, f"{field}: {exc}", field) from None
    return out or None


def _same_type(item: Any, default: Any) -> bool:
    if isinstance(default, bool):
        return isinstance(item, bool)
    if isinstance(default, float):
        return isinstance(item, (int, float)) and not isinstance(item, bool)
    if isinstance(default, int):
        return isinstance(item, int) and not isinstance(item, bool)
    if default is None:
        return True
    return isinstance(item, type(default))


def build(stored: str | None) -> Faults | None:
    """The dataclass for a stored JSON faults object (None when there are none)."""
    if not stored:
        return None
    return Faults(**json.loads(stored))
