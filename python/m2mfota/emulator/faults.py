"""Fault settings of the file server, validated against its ``Faults`` dataclass.

The API's view is derived from the dataclass's field annotations, so a fault the
file server gains is settable here (and in the OpenAPI document) at once.  Fields
JSON cannot carry (bytes) stay at their defaults.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

from m2mfota.emulator.errors import ApiError
from m2mfota.emulator.fileserver import Faults
from m2mfota.emulator.jsontypes import JsonObject

_JSON_TYPES = {"bool": "boolean", "int": "integer", "float": "number", "str": "string"}


def _field_types() -> dict[str, tuple[str, bool]]:
    """name -> (JSON type, nullable) of each fault the API can set."""
    out = {}
    for f in dataclasses.fields(Faults):
        ann = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
        parts = [p.strip() for p in ann.replace("Optional[", "").rstrip("]").split("|")]
        nullable = "None" in parts
        kinds = [p for p in parts if p != "None"]
        if len(kinds) == 1 and kinds[0] in _JSON_TYPES:
            out[f.name] = (_JSON_TYPES[kinds[0]], nullable)
    return out


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


def schema() -> JsonObject:
    """OpenAPI schema of a faults object."""
    defaults = {f.name: _default(f) for f in dataclasses.fields(Faults)}
    props = {}
    for name, (kind, nullable) in _field_types().items():
        spec: dict[str, Any] = {"type": kind}
        if kind == "integer":
            spec.update(minimum=0, maximum=2**53 - 1)
        elif kind == "number":
            spec.update(minimum=0, maximum=1e6)
        if nullable:
            spec["nullable"] = True
        if defaults[name] is not None or nullable:
            spec["default"] = defaults[name]
        props[name] = spec
    return {"type": "object", "additionalProperties": False, "properties": props}


def _check(kind: str, value: Any) -> bool:
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 2**53 - 1
    if kind == "number":
        return (isinstance(value, (int, float)) and not isinstance(value, bool)
                and math.isfinite(value) and 0 <= value <= 1e6)
    return isinstance(value, str) and len(value) <= 1000


def parse(value: Any, field: str = "faults") -> JsonObject | None:
    """A JSON faults object checked field by field; None (or {}) means no faults."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ApiError(400, f"{field} must be an object", field)
    types = _field_types()
    out: dict[str, Any] = {}  # JSON values, each checked against its field's type
    for key, item in value.items():
        where = f"{field}.{key}"
        if key not in types:
            raise ApiError(400, f"unknown fault {key}", where)
        kind, nullable = types[key]
        if not ((item is None and nullable) or _check(kind, item)):
            raise ApiError(400, f"{where} must be a non-negative {kind}"
                           + (" or null" if nullable else ""), where)
        out[key] = float(item) if kind == "number" else item
    try:
        Faults(**out)
    except (TypeError, ValueError) as exc:
        raise ApiError(400, f"{field}: {exc}", field) from None
    return out or None


def build(stored: str | None) -> Faults | None:
    """The dataclass for a stored JSON faults object (None when there are none)."""
    if not stored:
        return None
    return Faults(**json.loads(stored))
