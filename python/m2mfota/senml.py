"""SenML (RFC 8428) JSON through the C core's decoder and encoder.

``loads`` returns records resolved as RFC 8428 section 4.6 says: the base
name joined to the name, base time/value/sum added, the base unit filled in.
Records that only set base fields carry no measurement and are left out.
Numbers come back as ``float`` (SenML numbers are doubles).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Union

from m2mfota import _args, _fast
from m2mfota._errors import ERR, M2mfotaError, err_name
from m2mfota._native import ffi, lib

__all__ = ["THINGSML", "SenMLError", "dumps", "format_number", "loads", "parse_number"]

Record = dict[str, Any]
Buffer = Union[bytes, bytearray, memoryview, str]

_KEYS = ("n", "u", "v", "vs", "vb", "vd", "s", "t", "ut")
_VALUE_KEYS = ("v", "vs", "vb", "vd")


class SenMLError(M2mfotaError, ValueError):
    """A pack the decoder refuses (or records the encoder cannot write).

    ``.code`` is the C error's name, ``.offset`` the byte offset in the input
    where the decoder stopped (``None`` for encoder errors)."""

    def __init__(self, code: int | str, message: str = "", offset: int | None = None) -> None:
        self.offset = offset
        if offset is not None:
            message = f"{message} at byte {offset}" if message else f"at byte {offset}"
        super().__init__(code, message)


def _as_bytes(data: Buffer, name: str = "data") -> bytes | memoryview:
    if isinstance(data, str):
        # surrogatepass: a lone surrogate reaches the decoder, which names it
        # (MFOTA_ERR_SENML_ENCODING) with its offset
        return data.encode("utf-8", "surrogatepass")
    return _args.buffer(name, data)


def _str(s: Any) -> str:
    if s.ptr == ffi.NULL:
        return ""
    if not s.escaped:
        return ffi.unpack(s.ptr, s.len).decode("utf-8")
    out = ffi.new("char[]", max(s.dlen, 1))
    n = ffi.new("size_t *")
    lib.mfota_senml_str_decode(ffi.addressof(s), out, s.dlen, n)
    return ffi.unpack(out, n[0]).decode("utf-8")


def _name(rec: Any) -> str:
    if not rec.bn.escaped and not rec.n.escaped:
        return _str(rec.bn) + _str(rec.n)
    size = rec.bn.dlen + rec.n.dlen
    out = ffi.new("char[]", max(size, 1))
    n = ffi.new("size_t *")
    lib.mfota_senml_record_name(rec, out, size, n)
    return ffi.unpack(out, n[0]).decode("utf-8")


def iter_records(data: Buffer, *, lenient: bool = False, base_only: bool = False,
                 thingsml: bool = False) -> Iterator[Record]:
    """Yield resolved records one by one (``loads`` as a generator).

    ``base_only=True`` also yields records that only set base fields."""
    raw = _as_bytes(data)
    _args.flag("lenient", lenient)
    _args.flag("base_only", base_only)
    _args.flag("thingsml", thingsml)
    return _iter_records(raw, lenient, base_only, thingsml)


# Looked up once: attribute access on ``lib`` costs as much as a small C call,
# and the emulator decodes every uplink through this loop.
_DEC_NEXT = lib.mfota_senml_dec_next
_DONE = ERR["MFOTA_DONE"]
_KIND_NONE = lib.MFOTA_SENML_KIND_NONE
_KIND_NUM = lib.MFOTA_SENML_KIND_NUM
_KIND_STR = lib.MFOTA_SENML_KIND_STR
_KIND_BOOL = lib.MFOTA_SENML_KIND_BOOL
_KIND_DATA = lib.MFOTA_SENML_KIND_DATA
_MODE_STRICT = lib.MFOTA_SENML_STRICT
_MODE_LENIENT = lib.MFOTA_SENML_LENIENT_V_STRING
_MODE_THINGSML = lib.MFOTA_SENML_THINGSML
_fast_senml_loads = _fast.senml_loads


def _iter_records(raw: bytes | memoryview, lenient: bool, base_only: bool,
                  thingsml: bool) -> Iterator[Record]:
    buf = ffi.from_buffer(raw)
    dec = ffi.new("struct mfota_senml_dec *")
    rec = ffi.new("struct mfota_senml_record *")
    mode = lib.MFOTA_SENML_LENIENT_V_STRING if lenient else lib.MFOTA_SENML_STRICT
    if thingsml:
        mode |= lib.MFOTA_SENML_THINGSML
    lib.mfota_senml_dec_init(dec, buf, len(buf), mode)
    null, unpack = ffi.NULL, ffi.unpack
    # The base name is the same C slice for every record after the one that
    # set it: decoded once, not per record.
    bn_ptr, bn_text = null, ""
    while True:
        rc = _DEC_NEXT(dec, rec)
        if rc == _DONE:
            return
        if rc < 0:
            raise SenMLError(rc, "bad SenML pack", lib.mfota_senml_dec_offset(dec))
        kind = rec.kind
        if kind == _KIND_NONE and not rec.has_s and not base_only:
            continue
        out: Record = {}
        bn, n = rec.bn, rec.n
        if bn.escaped or n.escaped:
            name = _name(rec)
        else:
            if bn.ptr != bn_ptr:
                bn_ptr = bn.ptr
                bn_text = unpack(bn_ptr, bn.len).decode("utf-8") if bn_ptr != null else ""
            name = bn_text + unpack(n.ptr, n.len).decode("utf-8") if n.ptr != null else bn_text
        if name:
            out["n"] = name
        u = rec.u
        if u.ptr != null:
            out["u"] = _str(u)
        if kind == _KIND_NUM:
            out["v"] = rec.v
        elif kind == _KIND_STR:
            out["vs"] = _str(rec.vs)
        elif kind == _KIND_BOOL:
            out["vb"] = bool(rec.vb)
        elif kind == _KIND_DATA:
            out["vd"] = _str(rec.vs)
        if rec.has_s:
            out["s"] = rec.s
        if rec.has_t:
            out["t"] = rec.t
        if rec.has_ut:
            out["ut"] = rec.ut
        yield out


def loads(data: Buffer, *, lenient: bool = False, thingsml: bool = False) -> list[Record]:
    """Decode a SenML JSON pack into resolved records.

    Each record is a dict with keys among ``n u v vs vb vd s t ut``.
    ``lenient=True`` reads a string under ``v`` as ``vs`` (KPN's downlink
    example).  ``thingsml=True`` resolves KPN ThingsML ``"i_"`` indexes to a
    name and unit (see :data:`THINGSML`) and accepts the empty ``{}`` record
    a gateway pack starts with.  Raises :class:`SenMLError` with ``.code``
    and ``.offset``."""
    raw = _as_bytes(data)
    _args.flag("lenient", lenient)
    _args.flag("thingsml", thingsml)
    mode = _MODE_LENIENT if lenient else _MODE_STRICT
    if thingsml:
        mode |= _MODE_THINGSML
    # One C call for the whole pack (python/m2mfota/_ffi/fast.c), records
    # as _iter_records makes them: the emulator decodes every uplink here.
    out = _fast_senml_loads(raw, mode, False)
    if isinstance(out, tuple):
        raise SenMLError(out[0], "bad SenML pack", out[1])
    return out


def _thingsml_table() -> dict[int, tuple[str, str]]:
    table = {}
    for index in range(lib.MFOTA_THINGSML_INDEX_MIN, lib.MFOTA_THINGSML_INDEX_MAX + 1):
        m = lib.mfota_thingsml_lookup(index)
        if m != ffi.NULL:
            table[index] = (ffi.string(m.name).decode(), ffi.string(m.unit).decode())
    return table


#: KPN ThingsML's measurement table as the C core has it: index -> (name, unit).
THINGSML: dict[int, tuple[str, str]] = _thingsml_table()


# ---- encoding -----------------------------------------------------------------


def _number(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SenMLError("MFOTA_ERR_SENML_TYPE", f"{key!r} must be a number, not {value!r}")
    try:
        f = float(value)
    except OverflowError:
        raise SenMLError("MFOTA_ERR_SENML_RANGE", f"{key!r} overflows a double") from None
    if not math.isfinite(f):
        raise SenMLError("MFOTA_ERR_SENML_RANGE", f"{key!r} must be finite, not {value!r}")
    return f


def _text(value: Any, key: str, keep: list[Any]) -> tuple[Any, int]:
    if not isinstance(value, str):
        raise SenMLError("MFOTA_ERR_SENML_TYPE", f"{key!r} must be a string, not {value!r}")
    try:
        raw = value.encode("utf-8")
    except UnicodeEncodeError:
        raise SenMLError("MFOTA_ERR_SENML_ENCODING", f"{key!r} is not valid Unicode") from None
    cdata = ffi.new("char[]", raw)
    keep.append(cdata)
    return cdata, len(raw)


def _entries(
    records: Iterable[Mapping[str, Any]],
    base_name: str | None,
    base_time: float | None,
    keep: list[Any],
) -> tuple[Any, int]:
    recs = list(records)
    count = max(len(recs), 1 if (base_name is not None or base_time is not None) else 0)
    entries = ffi.new("struct mfota_senml_entry[]", max(count, 1))
    if base_name is not None:
        entries[0].bn, entries[0].bn_len = _text(base_name, "base_name", keep)
    if base_time is not None:
        entries[0].bt = _number(base_time, "base_time")
        entries[0].has_bt = 1
    for i, r in enumerate(recs):
        if not isinstance(r, Mapping):
            raise SenMLError("MFOTA_ERR_SENML_TYPE", f"records[{i}] is not a mapping")
        unknown = set(r) - set(_KEYS)
        if unknown:
            raise SenMLError("MFOTA_ERR_INVAL", f"records[{i}]: unknown keys {sorted(unknown)}")
        e = entries[i]
        values = [k for k in _VALUE_KEYS if k in r]
        if len(values) > 1:
            raise SenMLError("MFOTA_ERR_SENML_TWO_VALUES", f"records[{i}]: {values}")
        if not values and "s" not in r:
            raise SenMLError("MFOTA_ERR_SENML_NO_VALUE", f"records[{i}] has no value or sum")
        if "n" in r:
            e.n, e.n_len = _text(r["n"], f"records[{i}].n", keep)
        if "u" in r:
            e.u, e.u_len = _text(r["u"], f"records[{i}].u", keep)
        if "v" in r:
            e.kind = lib.MFOTA_SENML_KIND_NUM
            e.v = _number(r["v"], f"records[{i}].v")
        elif "vs" in r or "vd" in r:
            key = "vs" if "vs" in r else "vd"
            e.kind = lib.MFOTA_SENML_KIND_STR if key == "vs" else lib.MFOTA_SENML_KIND_DATA
            e.vs, e.vs_len = _text(r[key], f"records[{i}].{key}", keep)
        elif "vb" in r:
            if not isinstance(r["vb"], bool):
                raise SenMLError("MFOTA_ERR_SENML_TYPE", f"records[{i}]: vb must be a bool")
            e.kind = lib.MFOTA_SENML_KIND_BOOL
            e.vb = int(r["vb"])
        for key in ("s", "t", "ut"):
            if key in r:
                setattr(e, key, _number(r[key], f"records[{i}].{key}"))
                setattr(e, "has_" + key, 1)
    return entries, count


def dumps(
    records: Iterable[Mapping[str, Any]],
    *,
    base_name: str | None = None,
    base_time: float | None = None,
) -> bytes:
    """Encode records (dicts with keys among ``n u v vs vb vd s t ut``) as a
    SenML JSON pack.  ``base_name``/``base_time`` go into the first record as
    ``bn``/``bt``; names and times in the records are relative to them."""
    recs = _args.iterable("records", records)
    _args.optional_text("base_name", base_name)
    if base_time is not None:
        _args.number("base_time", base_time)
    keep: list[Any] = []
    entries, count = _entries(recs, base_name, base_time, keep)
    needed = ffi.new("size_t *")
    rc = lib.mfota_senml_encode(entries, count, ffi.NULL, 0, needed)
    if rc < 0 and rc != ERR["MFOTA_ERR_NOSPC"]:
        raise SenMLError(rc, "cannot encode")
    out = ffi.new("char[]", needed[0])
    rc = lib.mfota_senml_encode(entries, count, out, needed[0], needed)
    if rc != 0:
        raise SenMLError(rc, "cannot encode")
    return ffi.unpack(out, needed[0])


# ---- numbers --------------------------------------------------------------------


def parse_number(text: str | bytes) -> float:
    """Parse a JSON number with the C core's correctly rounded parser."""
    raw = bytes(_args.buffer("text", text, text=True, encoding="ascii"))
    out = ffi.new("double *")
    rc = lib.mfota_senml_parse_double(raw, len(raw), out)
    if rc != 0:
        raise SenMLError(rc, f"bad number {text!r}")
    return out[0]


def format_number(value: float) -> str:
    """Shortest JSON text of a double that reads back as the same double."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"value must be a number, not {type(value).__name__}")
    try:
        value = float(value)
    except OverflowError:
        raise SenMLError("MFOTA_ERR_SENML_RANGE", "value overflows a double") from None
    out = ffi.new("char[]", lib.MFOTA_SENML_NUM_MAX)
    n = lib.mfota_senml_format_double(value, out, lib.MFOTA_SENML_NUM_MAX)
    if n == 0:
        raise SenMLError("MFOTA_ERR_SENML_RANGE", f"value {value!r} has no JSON form")
    return ffi.unpack(out, n).decode("ascii")


def error_name(code: int) -> str:
    """The C name of an error code (re-exported for convenience)."""
    return err_name(_args.integer("code", code, -(2**31), 2**31 - 1))
