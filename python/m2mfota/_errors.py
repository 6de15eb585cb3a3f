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
