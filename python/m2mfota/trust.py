"""Trusted keys for MCUboot image signatures, verified with ``cryptography``.

The C core checks an MCUboot image's header, TLVs and SHA-256 itself; for
the signature it calls a verifier HAL (``sig_verify.h``).  This module is
that HAL for Python: :class:`Trust` holds the keys and hands the C side a
verifier whose callback uses the ``cryptography`` package (ECDSA P-256 over
the image hash, Ed25519 over the same 32 bytes, as MCUboot signs them).

Keys are what ``imgtool getpub -e pem`` (PEM) or ``-e raw`` (DER) prints:
a SubjectPublicKeyInfo.  A private key (``imgtool keygen`` output) is
accepted too, and only its public half is kept.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Union

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from m2mfota._bridge import Bridge, trampoline
from m2mfota._errors import ERR
from m2mfota._native import ffi, lib

__all__ = ["KeyLike", "TrustedKey", "Trust", "load_key", "mcuboot_verify"]

_OK = 0
_ERR_SIG = ERR["MFOTA_ERR_MCUBOOT_SIG"]
_ERR_UNSUPPORTED = ERR["MFOTA_ERR_UNSUPPORTED"]

#: a key as the API takes it: PEM or DER bytes, PEM text, or a path to either
KeyLike = Union[bytes, bytearray, str, "os.PathLike[str]", "TrustedKey"]


@dataclass(frozen=True)
class TrustedKey:
    """One public key: ``alg`` is ``"ecdsa-p256"`` or ``"ed25519"``, ``der``
    its SubjectPublicKeyInfo (what MCUboot's KEYHASH TLV hashes)."""

    alg: str
    der: bytes


def _public_of(data: bytes) -> Any:
    loaders = (
        serialization.load_pem_public_key, serialization.load_der_public_key,
        lambda d: serialization.load_pem_private_key(d, None).public_key(),
        lambda d: serialization.load_der_private_key(d, None).public_key(),
    )
    for load in loaders:
        try:
            return load(data)
        except (ValueError, TypeError):
            continue
    raise ValueError("key: not a PEM or DER public (or unencrypted private) key")


def load_key(key: KeyLike) -> TrustedKey:
    """Parse one key (see :data:`KeyLike`).  ``TypeError`` for another type,
    ``ValueError`` for bytes that are no key, or a key other than ECDSA P-256
    and Ed25519."""
    if isinstance(key, TrustedKey):
        return key
    if isinstance(key, os.PathLike):
        with open(key, "rb") as f:
            data = f.read()
    elif isinstance(key, str):
        if "-----BEGIN" in key:
            data = key.encode("ascii", "strict")
        else:
            with open(key, "rb") as f:
                data = f.read()
    elif isinstance(key, (bytes, bytearray)):
        data = bytes(key)
    else:
        raise TypeError(f"key: expected PEM/DER bytes, PEM text or a path, not "
                        f"{type(key).__name__}")
    pub = _public_of(data)
    if isinstance(pub, ed25519.Ed25519PublicKey):
        alg = "ed25519"
    elif isinstance(pub, ec.EllipticCurvePublicKey) and isinstance(pub.curve, ec.SECP256R1):
        alg = "ecdsa-p256"
    else:
        raise ValueError(f"key: {type(pub).__name__} is neither ECDSA P-256 nor Ed25519")
    der = pub.public_bytes(serialization.Encoding.DER,
                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return TrustedKey(alg, der)


_ALG_C = {"ecdsa-p256": lib.MFOTA_SIG_ECDSA_P256, "ed25519": lib.MFOTA_SIG_ED25519}


def _verify(alg: int, key_der: bytes, digest: bytes, sig: bytes) -> bool:
    pub = serialization.load_der_public_key(key_der)
    try:
        if alg == lib.MFOTA_SIG_ECDSA_P256 and isinstance(pub, ec.EllipticCurvePublicKey):
            pub.verify(sig, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        elif alg == lib.MFOTA_SIG_ED25519 and isinstance(pub, ed25519.Ed25519PublicKey):
            pub.verify(sig, digest)
        else:
            return False
    except InvalidSignature:
        return False
    return True


# A verifier's failure hands C MFOTA_ERR_HAL (the default of the bridge); a
# HalFailure has no port code to give here, so it is re-raised like any other.
@trampoline("_py_sig_verify", hal_failure=False)
def _sig_verify(trust: Trust, alg: int, key: Any, key_len: int, digest: Any, sig: Any,
                sig_len: int) -> int:
    if alg not in (lib.MFOTA_SIG_ECDSA_P256, lib.MFOTA_SIG_ED25519):
        return _ERR_UNSUPPORTED
    try:
        ok = _verify(alg, bytes(ffi.buffer(key, key_len)), bytes(ffi.buffer(digest, 32)),
                     bytes(ffi.buffer(sig, sig_len)))
    except ValueError:
        return _ERR_SIG  # a signature (or key) that does not even parse
    # Anything else is a failure of the verifier, not a bad image: the bridge
    # gives C MFOTA_ERR_HAL and the caller re-raises this very exception.
    return _OK if ok else _ERR_SIG


class Trust:
    """The C ``struct mfota_mcuboot_trust`` for a list of keys, with a
    ``cryptography``-backed verifier.  Keep it alive as long as C uses it."""

    def __init__(self, keys: Iterable[KeyLike]) -> None:
        if isinstance(keys, (str, bytes, bytearray, os.PathLike, TrustedKey)):
            raise TypeError("keys: expected a list of keys, not a single key")
        self.keys = [load_key(k) for k in keys]
        self.bridge = Bridge(self)
        self._verifier = ffi.new("struct mfota_sig_verifier *")
        self._verifier.verify = lib._py_sig_verify
        self._verifier.ctx = self.bridge.handle
        self._ders = [ffi.new("uint8_t[]", k.der) for k in self.keys]
        self._c_keys = ffi.new("struct mfota_sig_key[]", max(1, len(self.keys)))
        for i, k in enumerate(self.keys):
            self._c_keys[i].alg = _ALG_C[k.alg]
            self._c_keys[i].der = self._ders[i]
            self._c_keys[i].der_len = len(k.der)
        self.c = ffi.new("struct mfota_mcuboot_trust *")
        self.c.keys = self._c_keys
        self.c.n_keys = len(self.keys)
        self.c.verifier = self._verifier

    def fill(self, c_trust: Any) -> None:
        """Copy into a ``struct mfota_mcuboot_trust`` (e.g. a port's member)."""
        c_trust.keys = self.c.keys
        c_trust.n_keys = self.c.n_keys
        c_trust.verifier = self.c.verifier

    def reraise(self) -> None:
        """Raise what the verifier callback raised during the last C call."""
        self.bridge.reraise()


def mcuboot_verify(image: bytes, keys: Iterable[KeyLike] = ()) -> Any:
    """Check an MCUboot image in memory as the MCUboot bootloader HAL does:
    header, TLVs, SHA-256 and -- with ``keys`` -- one signature by one of
    them.  Returns a :class:`~m2mfota.flash.McubootImage`; raises
    :class:`~m2mfota.flash.ImageError` (``.code`` e.g.
    ``MFOTA_ERR_MCUBOOT_SIG``, ``.result`` the LwM2M /5 result)."""
    from m2mfota.flash import ImageError
    from m2mfota.flash.mcuboot import _mcuboot

    if not isinstance(image, (bytes, bytearray, memoryview)):
        raise TypeError(f"image: expected bytes, not {type(image).__name__}")
    trust = Trust(keys)
    out = ffi.new("struct mfota_mcuboot_image *")
    rc = lib.mfota_mcuboot_verify_mem(ffi.from_buffer(image), len(image), trust.c, out)
    trust.reraise()
    if rc < 0:
        raise ImageError(rc, "the bootloader would refuse this image")
    return _mcuboot(out)
