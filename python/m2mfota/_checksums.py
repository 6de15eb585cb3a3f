"""CRC-32 and SHA-256 from the C core, shaped like zlib and hashlib."""

from __future__ import annotations

from typing import Any

from m2mfota import _args, _fast
from m2mfota._native import ffi, lib

_MASK32 = 0xFFFFFFFF


def _buffer(data: _args.BytesLike, name: str = "data") -> Any:
    # from_buffer hands C a pointer into the object itself: no copy.  The
    # check first refuses what is not a contiguous buffer (an int above all,
    # which cffi would not take, but bytes(n) elsewhere would).
    return ffi.from_buffer(_args.buffer(name, data))


_fast_crc32 = _fast.crc32


def crc32(data: _args.BytesLike, value: int = 0) -> int:
    """CRC-32 of ``data`` continuing from ``value``; equals ``zlib.crc32``.

    ``data`` is any C-contiguous buffer (bytes, bytearray, memoryview,
    array); anything else is a :class:`TypeError`.
    """
    # Call overhead decides small buffers, so this is one type test and one
    # METH_FASTCALL call into m2mfota._fast (python/m2mfota/_ffi/fast.c): it
    # takes the buffer (refusing what is not one contiguous run of bytes),
    # masks the int into uint32_t as zlib does, and releases the GIL only
    # for long buffers.  bench/bench_crc32.py --profile times each layer.
    if type(value) is int:
        return _fast_crc32(data, value)
    return _fast_crc32(data, int(_args.integer("value", value, None, None)))


def crc32_combine(crc_a: int, crc_b: int, len_b: int) -> int:
    """CRC-32 of A‖B from ``crc32(A)``, ``crc32(B)`` and ``len(B)``."""
    crc_a = _args.integer("crc_a", crc_a, None, None)
    crc_b = _args.integer("crc_b", crc_b, None, None)
    len_b = _args.integer("len_b", len_b, 0, _args.U64)
    return lib.mfota_crc32_combine(crc_a & _MASK32, crc_b & _MASK32, len_b)


def _impl(name: str, value: str, impls: dict[str, int]) -> int:
    _args.text(name, value)
    if value not in impls:
        raise ValueError(f"{name} must be one of {sorted(impls)}, not {value!r}")
    return impls[value]


CRC32_IMPLS = {
    ffi.string(lib.mfota_crc32_impl_name(i)).decode(): i
    for i in range(lib.MFOTA_CRC32_IMPL_COUNT_)
}


def crc32_available() -> list[str]:
    """Names of the CRC-32 kernels this build and CPU can run."""
    return [name for name, i in CRC32_IMPLS.items() if lib.mfota_crc32_available(i)]


def crc32_active() -> str:
    """Name of the kernel :func:`crc32` dispatches to on this CPU."""
    return ffi.string(lib.mfota_crc32_impl_name(lib.mfota_crc32_active())).decode()


def crc32_with(impl: str, data: _args.BytesLike, value: int = 0) -> int:
    """CRC-32 with a named kernel (``"bitwise"``, ``"slice8"``, ``"pclmul"``...)."""
    from m2mfota._errors import M2mfotaError

    kernel = _impl("impl", impl, CRC32_IMPLS)
    value = _args.integer("value", value, None, None)
    buf = _buffer(data)
    err = ffi.new("int *")
    out = lib.mfota_crc32_with(kernel, value & _MASK32, buf, len(buf), err)
    if err[0] != 0:
        raise M2mfotaError(err[0], f"CRC-32 kernel {impl!r} is not available here")
    return out


class sha256:  # noqa: N801 - named like hashlib.sha256
    """Streaming SHA-256 from the C core with hashlib's interface."""

    name = "sha256"
    digest_size = 32
    block_size = 64

    def __init__(self, data: _args.BytesLike = b"") -> None:
        self._ctx = ffi.new("struct mfota_sha256 *")
        lib.mfota_sha256_init(self._ctx)
        self.update(data)

    def update(self, data: _args.BytesLike) -> None:
        buf = _buffer(data)
        lib.mfota_sha256_update(self._ctx, buf, len(buf))

    def digest(self) -> bytes:
        # final() consumes the context, so finish a copy and keep hashing.
        ctx = ffi.new("struct mfota_sha256 *", self._ctx[0])
        out = ffi.new("uint8_t[32]")
        lib.mfota_sha256_final(ctx, out)
        return bytes(out)

    def hexdigest(self) -> str:
        return self.digest().hex()

    def copy(self) -> sha256:
        other = sha256.__new__(sha256)
        other._ctx = ffi.new("struct mfota_sha256 *", self._ctx[0])
        return other


SHA256_IMPLS = {
    ffi.string(lib.mfota_sha256_impl_name(i)).decode(): i
    for i in range(lib.MFOTA_SHA256_IMPL_COUNT_)
}


def sha256_available() -> list[str]:
    """Names of the SHA-256 block functions this build and CPU can run."""
    return [name for name, i in SHA256_IMPLS.items() if lib.mfota_sha256_available(i)]


def sha256_active() -> str:
    """Name of the block function :class:`sha256` uses on this CPU."""
    return ffi.string(lib.mfota_sha256_impl_name(lib.mfota_sha256_active())).decode()


def sha256_with(impl: str, data: _args.BytesLike) -> bytes:
    """One-shot SHA-256 digest with a named block function (``"portable"``, ``"shani"``)."""
    from m2mfota._errors import M2mfotaError

    block = _impl("impl", impl, SHA256_IMPLS)
    buf = _buffer(data)
    out = ffi.new("uint8_t[32]")
    err = lib.mfota_sha256_with(block, buf, len(buf), out)
    if err != 0:
        raise M2mfotaError(err, f"SHA-256 block function {impl!r} is not available here")
    return bytes(out)
