"""Inspect an MCUboot image the way the bootloader would: its SHA-256 TLV and,
against the public keys given with ``m2mfota serve --mcuboot-key``, its
signature TLV.

Written independently of the C core's check (the emulator is the oracle of
the device side).  The image layout is MCUboot's (docs/design.md, "Image
format"): header, payload, then an optional protected TLV area (magic
0x6908) and the TLV area (magic 0x6907); the SHA-256 covers header, payload
and the protected area; the signature TLV signs that SHA-256.
"""

from __future__ import annotations

import hashlib
import struct
from typing import Any

MAGIC = 0x96F3B83D
TLV_INFO_MAGIC = 0x6907
TLV_PROT_INFO_MAGIC = 0x6908
TLV_SHA256 = 0x10
TLV_RSA2048_PSS = 0x20
TLV_ECDSA_SIG = 0x22
TLV_RSA3072_PSS = 0x23
TLV_ED25519 = 0x24
SIGNATURE_TLVS = {TLV_RSA2048_PSS: "rsa-pss", TLV_ECDSA_SIG: "ecdsa-p256",
                  TLV_RSA3072_PSS: "rsa-pss", TLV_ED25519: "ed25519"}


class ImageFormatError(ValueError):
    """The TLV area is missing or does not fit the file."""


def tlvs(data: bytes) -> tuple[int, list[tuple[int, bytes]]]:
    """(bytes the hash covers, [(type, value)]) of both TLV areas."""
    hdr_size, protect_size = struct.unpack_from("<HH", data, 8)
    img_size = struct.unpack_from("<I", data, 12)[0]
    off = hdr_size + img_size
    covered = off + protect_size
    out: list[tuple[int, bytes]] = []
    for magic in ((TLV_PROT_INFO_MAGIC, TLV_INFO_MAGIC) if protect_size else (TLV_INFO_MAGIC,)):
        if off + 4 > len(data):
            raise ImageFormatError("the TLV area is missing")
        got, total = struct.unpack_from("<HH", data, off)
        if got != magic or total < 4 or off + total > len(data):
            raise ImageFormatError(f"bad TLV info at byte {off}")
        end, off = off + total, off + 4
        while off < end:
            if off + 4 > end:
                raise ImageFormatError(f"truncated TLV at byte {off}")
            kind, length = struct.unpack_from("<HH", data, off)
            if off + 4 + length > end:
                raise ImageFormatError(f"TLV at byte {off} runs past its area")
            out.append((kind, data[off + 4: off + 4 + length]))
            off += 4 + length
    return covered, out


def _verify(kind: int, sig: bytes, digest: bytes, pem: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils

    key = serialization.load_pem_public_key(pem)
    prehashed = utils.Prehashed(hashes.SHA256())
    try:
        if kind == TLV_ECDSA_SIG and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(sig, digest, ec.ECDSA(prehashed))
        elif kind == TLV_ED25519 and isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(sig, digest)  # imgtool signs the image's SHA-256 with Ed25519
        elif kind in (TLV_RSA2048_PSS, TLV_RSA3072_PSS) and isinstance(key, rsa.RSAPublicKey):
            key.verify(sig, digest, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                                salt_length=32), prehashed)
        else:
            return False  # a key of another type cannot have made this signature
    except InvalidSignature:
        return False
    return True


def inspect(data: bytes, keys: list[bytes]) -> dict[str, Any]:
    """``{"hash": "ok"|"bad"|"missing", "signature": ...}`` of an MCUboot image.

    ``signature`` is "verified" (by one of ``keys``, PEM public keys), "bad"
    (no key verifies it, or the hash is wrong), "unsigned", "no key
    configured" or "cannot check" (the ``cryptography`` package is missing);
    ``error`` says why the TLVs could not be read."""
    try:
        covered, entries = tlvs(data)
    except (ImageFormatError, struct.error) as exc:
        return {"hash": "missing", "signature": "unsigned", "error": str(exc)}
    digest = hashlib.sha256(data[:covered]).digest()
    stored = next((v for k, v in entries if k == TLV_SHA256), None)
    out: dict[str, Any] = {
        "hash": "missing" if stored is None else ("ok" if stored == digest else "bad")}
    sigs = [(k, v) for k, v in entries if k in SIGNATURE_TLVS]
    if not sigs:
        out["signature"] = "unsigned"
        return out
    out["signature_type"] = SIGNATURE_TLVS[sigs[0][0]]
    if not keys:
        out["signature"] = "no key configured"
        return out
    try:
        import cryptography  # noqa: F401
    except ImportError:
        out["signature"] = "cannot check"
        return out
    ok = out["hash"] == "ok" and any(_verify(k, v, digest, pem) for k, v in sigs for pem in keys)
    out["signature"] = "verified" if ok else "bad"
    return out
