"""Argument checks shared by the public API.

Every public function checks what it will hand to C before it builds a
struct: a wrong type is a :class:`TypeError`, a wrong size or range a
:class:`ValueError`, and both name the argument.  Without these checks cffi
would take an int as a length (``bytes(5)`` is five NULs), copy past the end
of a short buffer into a fixed-size field, or fail with ``OverflowError`` or
``AttributeError`` that name nothing the caller wrote.
"""

from __future__ import annotations

import math
import operator
from typing import Any, Union

U8 = 0xFF
U16 = 0xFFFF
U32 = 0xFFFFFFFF
U64 = 0xFFFFFFFFFFFFFFFF
INT_MAX = 0x7FFFFFFF

# The Python types a text or byte argument may never be, whatever else it
# supports: an int would pass as a length, a str as a buffer of its codec.
_NOT_BUFFERS = (str, int, float, complex)


def _tname(value: Any) -> str:
    return type(value).__name__


#: what the API takes as bytes: anything with a contiguous buffer
BytesLike = Union[bytes, bytearray, memoryview]


def buffer(
    name: str,
    value: Any,
    *,
    size: int | None = None,
    max_size: int | None = None,
    text: bool = False,
    encoding: str = "utf-8",
) -> bytes | memoryview:
    """A bytes-like ``value`` (bytes, bytearray, memoryview, array...) as
    bytes or a flat unsigned-byte memoryview; ``text=True`` also takes a str
    (encoded with ``encoding``).  ``size``/``max_size`` bound its length."""
    if isinstance(value, str):
        if not text:
            raise TypeError(f"{name} must be bytes-like, not str")
        try:
            out: bytes | memoryview = value.encode(encoding)
        except UnicodeEncodeError:
            raise ValueError(f"{name} must be {encoding} text") from None
    elif isinstance(value, bytes):
        out = value
    else:
        kinds = "str or bytes-like" if text else "bytes-like"
        if isinstance(value, _NOT_BUFFERS) or value is None:
            raise TypeError(f"{name} must be {kinds}, not {_tname(value)}")
        try:
            view = memoryview(value)
        except TypeError:
            raise TypeError(f"{name} must be {kinds}, not {_tname(value)}") from None
        if not view.c_contiguous:
            raise ValueError(f"{name} must be a contiguous buffer")
        out = view.cast("B") if view.format != "B" or view.ndim != 1 else view
    n = len(out)
    if size is not None and n != size:
        raise ValueError(f"{name} must be {size} bytes, not {n}")
    if max_size is not None and n > max_size:
        raise ValueError(f"{name} must be at most {max_size} bytes, not {n}")
    return out


def optional_buffer(name: str, value: Any, **kw: Any) -> bytes | memoryview | None:
    return None if value is None else buffer(name, value, **kw)


def text(
    name: str,
    value: Any,
    *,
    ascii: bool = False,
    max_len: int | None = None,
    nul: bool = False,
) -> str:
    """A str; ``ascii=True`` refuses other characters, ``nul=False`` refuses
    NUL (the text goes to C as a NUL-terminated string)."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be str, not {_tname(value)}")
    if ascii and not value.isascii():
        raise ValueError(f"{name} must be ASCII")
    if not nul and "\0" in value:
        raise ValueError(f"{name} must not contain NUL")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{name} must be valid Unicode (no lone surrogates)") from None
    if max_len is not None and len(value) > max_len:
        raise ValueError(f"{name} must be at most {max_len} characters, not {len(value)}")
    return value


def optional_text(name: str, value: Any, **kw: Any) -> str | None:
    return None if value is None else text(name, value, **kw)


def integer(name: str, value: Any, lo: int | None = 0, hi: int | None = U32) -> int:
    """An int (not a bool) in ``lo..hi`` (``None``: unbounded)."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be int, not bool")
    try:
        n = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be int, not {_tname(value)}") from None
    if (lo is not None and n < lo) or (hi is not None and n > hi):
        raise ValueError(f"{name} must be in {lo}..{hi}, not {n}")
    return n


def optional_integer(name: str, value: Any, lo: int | None = 0, hi: int | None = U32) -> int | None:
    return None if value is None else integer(name, value, lo, hi)


def number(
    name: str,
    value: Any,
    lo: float | None = None,
    hi: float | None = None,
    *,
    lo_open: bool = False,
) -> float:
    """A finite real number (int or float, not bool) in ``lo..hi``
    (``lo_open``: strictly above ``lo``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, not {_tname(value)}")
    try:
        f = float(value)
    except OverflowError:
        raise ValueError(f"{name} is too large") from None
    if not math.isfinite(f):
        raise ValueError(f"{name} must be finite, not {value!r}")
    if lo is not None and (f < lo or (lo_open and f == lo)):
        raise ValueError(f"{name} must be {'>' if lo_open else '>='} {lo}, not {value!r}")
    if hi is not None and f > hi:
        raise ValueError(f"{name} must be <= {hi}, not {value!r}")
    return f


def optional_number(
    name: str,
    value: Any,
    lo: float | None = None,
    hi: float | None = None,
    *,
    lo_open: bool = False,
) -> float | None:
    return None if value is None else number(name, value, lo, hi, lo_open=lo_open)


def flag(name: str, value: Any) -> bool:
    """A bool (an int 0/1 could be a typo for a count: refused)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be bool, not {_tname(value)}")
    return value


def optional_flag(name: str, value: Any) -> bool | None:
    return None if value is None else flag(name, value)


def function(name: str, value: Any, *, optional: bool = False) -> Any:
    if value is None and optional:
        return None
    if not callable(value):
        raise TypeError(f"{name} must be callable, not {_tname(value)}")
    return value


def iterable(name: str, value: Any) -> list[Any]:
    """The items of an iterable that is not itself a str or bytes-like."""
    if isinstance(value, (str, bytes, bytearray, memoryview)):
        raise TypeError(f"{name} must be an iterable of items, not {_tname(value)}")
    try:
        return list(value)
    except TypeError:
        raise TypeError(f"{name} must be iterable, not {_tname(value)}") from None


def has_methods(name: str, value: Any, methods: tuple[str, ...], what: str) -> Any:
    """An object with callable ``methods`` (a duck-typed HAL)."""
    for m in methods:
        if not callable(getattr(value, m, None)):
            raise TypeError(f"{name} must be {what} with a {m}() method, not {_tname(value)}")
    return value


def flash_device(name: str, value: Any) -> Any:
    """An object following the flash protocol of :mod:`m2mfota.flash`."""
    has_methods(name, value, ("read", "program", "erase"), "a flash object")
    for attr, hi in (("size", U32), ("sector_size", U32), ("program_size", U32),
                     ("erased_value", U8)):
        if not hasattr(value, attr):
            raise TypeError(f"{name} must be a flash object with a {attr} attribute")
        integer(f"{name}.{attr}", getattr(value, attr), 0, hi)
    return value


def transport_holder(name: str, value: Any) -> Any:
    """An object carrying a C transport in ``.transport`` (a
    ``struct mfota_transport *``), such as :class:`m2mfota.modem.ModemSocket`."""
    from m2mfota._native import ffi

    t = getattr(value, "transport", None)
    if not isinstance(t, ffi.CData) or ffi.typeof(t) is not ffi.typeof("struct mfota_transport *"):
        raise TypeError(f"{name} must carry a struct mfota_transport * in .transport, "
                        f"not {_tname(value)}")
    return value


def clock_holder(name: str, value: Any) -> Any:
    """An object carrying a C clock in ``.clock`` (a ``struct mfota_clock *``),
    such as :class:`m2mfota.hal.PythonClock`."""
    from m2mfota._native import ffi

    c = getattr(value, "clock", None)
    if not isinstance(c, ffi.CData) or ffi.typeof(c) is not ffi.typeof("struct mfota_clock *"):
        raise TypeError(f"{name} must carry a struct mfota_clock * in .clock, "
                        f"not {_tname(value)}")
    return value
