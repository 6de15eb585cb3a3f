"""Signed MCUboot images for the image acceptance tests, made by imgtool (the
upstream signer, an oracle independent of m2mfota's own demo helper)."""

from __future__ import annotations

import contextlib
import io
import struct
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

HEADER = 32


class SigningKey:
    """A private key file imgtool can load, and its public key as PEM and DER."""

    def __init__(self, directory: Path, name: str, alg: str) -> None:
        priv = ed25519.Ed25519PrivateKey.generate() if alg == "ed25519" else \
            ec.generate_private_key(ec.SECP256R1())
        self.alg = alg
        self.path = directory / f"{name}.pem"
        self.path.write_bytes(priv.private_bytes(serialization.Encoding.PEM,
                                                 serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()))
        pub = priv.public_key()
        self.pub_pem = pub.public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
        self.pub_der = pub.public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
        self.pub_path = directory / f"{name}.pub.pem"
        self.pub_path.write_bytes(self.pub_pem)


def imgtool_image(payload: bytes, tmp: Path, key: SigningKey | None = None,
                  version: str = "1.2.3", key_format: str = "hash",
                  pad_sig: bool = False) -> bytes:
    """``imgtool sign`` of ``payload`` (header padded in, SHA-256, optional signature)."""
    from imgtool import image, keys
    from imgtool import version as imgversion

    src = tmp / "payload.bin"
    src.write_bytes(payload)
    img = image.Image(version=imgversion.decode_version(version), header_size=HEADER,
                      pad_header=True, slot_size=1 << 20)
    with contextlib.redirect_stdout(io.StringIO()):  # imgtool prints what it signs
        img.load(str(src))
        k = keys.load(str(key.path)) if key is not None else None
        if k is not None and pad_sig:
            k.pad_sig = True
        img.create(k, key_format, None)
    return bytes(img.payload)


def tlvs(image: bytes) -> list[tuple[int, int, int]]:
    """(type, offset of the value, length) of each TLV in the unprotected area."""
    hdr_size, prot, img_size = struct.unpack_from("<HHI", image, 8)
    pos = hdr_size + img_size + prot
    magic, tot = struct.unpack_from("<HH", image, pos)
    assert magic == 0x6907
    out, p = [], pos + 4
    while p < pos + tot:
        t, n = struct.unpack_from("<HH", image, p)
        out.append((t, p + 4, n))
        p += 4 + n
    return out


def without_tlv(image: bytes, kind: int) -> bytes:
    """The image with every TLV of type ``kind`` cut out (info length fixed)."""
    hdr_size, prot, img_size = struct.unpack_from("<HHI", image, 8)
    pos = hdr_size + img_size + prot
    body = b"".join(image[off - 4:off + n] for t, off, n in tlvs(image) if t != kind)
    return image[:pos] + struct.pack("<HH", 0x6907, 4 + len(body)) + body


def flip_tlv(image: bytes, kind: int, at: int = -3) -> bytes:
    """The image with one bit of the TLV of type ``kind`` flipped."""
    out = bytearray(image)
    for t, off, n in tlvs(image):
        if t == kind:
            out[off + at % n] ^= 0x01
            return bytes(out)
    raise AssertionError(f"no TLV {kind:#x}")
