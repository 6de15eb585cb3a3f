"""Exceptions that carry the C core's error name."""

from __future__ import annotations

from m2mfota._native import ffi, lib


def err_name(code: int) -> str:
    """The C enumerator's name for an error code, e.g. ``"MFOTA_ERR_NOSPC"``."""
    return ffi.string(lib.mfota_err_name(code)).decode("ascii")


class M2mfotaError(Exception):
    """Base of every m2mfota exception; ``.code`` is the C error's name."""

    def __init__(self, code: int | str, message: str = "") -> None:
        self.code = code if isinstance(code, str) else err_name(code)
        super().__init__(f"{self.code}: {message}" if message else self.code)


def _error_codes() -> dict[str, int]:
    # Read the enum back from the C side so Python never keeps a second copy
    # of the numbers: every module's range (and every status) lies within -600..15.
    codes = {}
    for code in range(-600, 16):
        name = err_name(code)
        if name != "MFOTA_ERR_UNKNOWN":
            codes[name] = code
    return codes


#: name -> value of every ``enum mfota_err`` member, e.g. ``ERR["MFOTA_ERR_NOSPC"]``.
ERR: dict[str, int] = _error_codes()
