"""The bootloader decides what may be marked pending: the MCUboot check the
engine calls before mark_pending (header, TLV areas, SHA-256 TLV, and a
signature by a trusted key), through the C core and its verifier HAL."""

from __future__ import annotations

import os
import random
import struct

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from image_signing import SigningKey, flip_tlv, imgtool_image, tlvs, without_tlv

import m2mfota.trust
from m2mfota._errors import ERR
from m2mfota._native import ffi, lib
from m2mfota.client import Client
from m2mfota.flash import ImageError, McubootBootloader, NorFlash
from m2mfota.trust import load_key, mcuboot_verify

SIG_TLV = {"ecdsa-p256": 0x22, "ed25519": 0x24}


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("keys")
    return {name: SigningKey(tmp, name, alg) for name, alg in [
        ("ec", "ecdsa-p256"), ("ec2", "ecdsa-p256"), ("ed", "ed25519"), ("ed2", "ed25519")]}


@pytest.fixture(scope="module")
def payload():
    return random.Random(10).randbytes(3000)


@pytest.fixture(scope="module")
def unsigned(tmp_path_factory, payload):
    return imgtool_image(payload, tmp_path_factory.mktemp("unsigned"))


def refused(image: bytes, keys=()) -> ImageError:
    with pytest.raises(ImageError) as info:
        mcuboot_verify(image, keys)
    return info.value


def with_header(image: bytes, **fields: int) -> bytes:
    """The image with header fields overwritten (no hash fix-up)."""
    at = {"header_size": (8, "<H"), "protect_tlv_size": (10, "<H"), "image_size": (12, "<I")}
    out = bytearray(image)
    for name, value in fields.items():
        off, fmt = at[name]
        struct.pack_into(fmt, out, off, value)
    return bytes(out)


# ---- header and TLV areas --------------------------------------------------------


def test_intact_unsigned_image_passes_without_keys(unsigned):
    assert mcuboot_verify(unsigned).version == "1.2.3+0"


def test_no_magic_is_an_unsupported_package(payload):
    err = refused(payload)
    assert (err.code, err.result) == ("MFOTA_ERR_MCUBOOT_MAGIC", 6)


@pytest.mark.parametrize("header_size", [0, 31])
def test_header_size_below_the_header_is_refused(unsigned, header_size):
    err = refused(with_header(unsigned, header_size=header_size))
    assert (err.code, err.result) == ("MFOTA_ERR_MCUBOOT_HEADER", 5)


def test_image_size_beyond_the_slot_is_refused(unsigned):
    err = refused(with_header(unsigned, image_size=len(unsigned)))
    assert (err.code, err.result) == ("MFOTA_ERR_MCUBOOT_HEADER", 5)
    err = refused(with_header(unsigned, image_size=0xFFFFFFF0))
    assert (err.code, err.result) == ("MFOTA_ERR_MCUBOOT_HEADER", 5)


@pytest.mark.parametrize("cut", [1, 40, 1000])
def test_truncated_image_is_an_integrity_failure(unsigned, cut):
    err = refused(unsigned[:-cut])
    assert err.code in ("MFOTA_ERR_MCUBOOT_HEADER", "MFOTA_ERR_MCUBOOT_TLV")
    assert err.result == 5


def test_protected_tlv_size_that_matches_no_area_is_refused(unsigned):
    err = refused(with_header(unsigned, protect_tlv_size=8))
    assert (err.code, err.result) == ("MFOTA_ERR_MCUBOOT_TLV", 5)


def test_wrong_hash_tlv_is_refused(unsigned):
    err = refused(flip_tlv(unsigned, 0x10))
    assert (err.code, err.result) == ("MFOTA_ERR_MCUBOOT_HASH", 5)


def test_image_without_a_hash_tlv_is_refused(unsigned):
    err = refused(without_tlv(unsigned, 0x10))
    assert (err.code, err.result) == ("MFOTA_ERR_MCUBOOT_NO_HASH", 5)


# ---- signatures ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ec", "ed"])
def test_signed_image_with_its_key_is_accepted(keys, payload, tmp_path, name):
    image = imgtool_image(payload, tmp_path, keys[name])
    for form in (keys[name].pub_pem, keys[name].pub_der, keys[name].pub_path,
                 str(keys[name].pub_path), keys[name].pub_pem.decode()):
        assert mcuboot_verify(image, [form]).version == "1.2.3+0"
    # Among other keys too, the trusted one first or last.
    others = [keys[n].pub_pem for n in keys if n != name]
    assert mcuboot_verify(image, others + [keys[name].pub_pem]).image_size == len(payload)


@pytest.mark.parametrize(("name", "other"), [("ec", "ec2"), ("ed", "ed2"), ("ec", "ed"),
                                             ("ed", "ec")])
def test_image_signed_with_another_key_is_refused(keys, payload, tmp_path, name, other):
    image = imgtool_image(payload, tmp_path, keys[name])
    err = refused(image, [keys[other].pub_pem])
    assert (err.code, err.result) == ("MFOTA_ERR_MCUBOOT_SIG", 5)


@pytest.mark.parametrize("name", ["ec", "ed"])
def test_flipped_signature_is_refused(keys, payload, tmp_path, name):
    image = imgtool_image(payload, tmp_path, keys[name])
    for at in (-3, -1, 10):
        err = refused(flip_tlv(image, SIG_TLV[keys[name].alg], at), [keys[name].pub_pem])
        assert (err.code, err.result) == ("MFOTA_ERR_MCUBOOT_SIG", 5)


@pytest.mark.parametrize("name", ["ec", "ed"])
def test_flipped_payload_of_a_signed_image_is_refused(keys, payload, tmp_path, name):
    image = bytearray(imgtool_image(payload, tmp_path, keys[name]))
    image[100] ^= 0x80
    err = refused(bytes(image), [keys[name].pub_pem])
    assert (err.code, err.result) == ("MFOTA_ERR_MCUBOOT_HASH", 5)


@pytest.mark.parametrize("name", ["ec", "ed"])
def test_no_signature_when_keys_are_configured_is_refused(keys, unsigned, tmp_path, payload,
                                                          name):
    err = refused(unsigned, [keys[name].pub_pem])
    assert (err.code, err.result) == ("MFOTA_ERR_MCUBOOT_NO_SIG", 5)
    # A signed image with its signature TLV cut out: the KEYHASH alone is no signature.
    image = imgtool_image(payload, tmp_path, keys[name])
    err = refused(without_tlv(image, SIG_TLV[keys[name].alg]), [keys[name].pub_pem])
    assert err.code == "MFOTA_ERR_MCUBOOT_NO_SIG"


@pytest.mark.parametrize("name", ["ec", "ed"])
def test_keyhash_names_the_key_to_try(keys, payload, tmp_path, name):
    image = imgtool_image(payload, tmp_path, keys[name])
    assert [t for t, _, _ in tlvs(image)][:2] == [0x10, 0x01]
    # The KEYHASH points at another key: refused even though the trusted key would verify.
    err = refused(flip_tlv(image, 0x01, 0), [keys[name].pub_pem])
    assert err.code == "MFOTA_ERR_MCUBOOT_SIG"
    # No KEYHASH but the full key (imgtool --public-key-format full): every key is tried.
    full = imgtool_image(payload, tmp_path, keys[name], key_format="full")
    assert 0x01 not in [t for t, _, _ in tlvs(full)]
    assert mcuboot_verify(full, [keys[n].pub_pem for n in keys]).version == "1.2.3+0"


def test_padded_ecdsa_signature_is_accepted(keys, payload, tmp_path):
    image = imgtool_image(payload, tmp_path, keys["ec"], pad_sig=True)
    assert [n for t, _, n in tlvs(image) if t == 0x22] == [72]
    assert mcuboot_verify(image, [keys["ec"].pub_pem]).version == "1.2.3+0"


def test_demo_signer_agrees_with_the_c_check(keys):
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from m2mfota.demo import mcuboot_image, public_pem

    for priv in (ed25519.Ed25519PrivateKey.generate(), ec.generate_private_key(ec.SECP256R1())):
        image = mcuboot_image(b"fw" * 500, (3, 2, 1), key=priv)
        assert mcuboot_verify(image, [public_pem(priv)]).version == "3.2.1+0"
        assert refused(image, [keys["ed"].pub_pem, keys["ec"].pub_pem]).code == \
            "MFOTA_ERR_MCUBOOT_SIG"


# ---- keys ------------------------------------------------------------------------


def test_private_key_files_give_their_public_half(keys):
    for name in ("ec", "ed"):
        assert load_key(keys[name].path).der == keys[name].pub_der


@pytest.mark.parametrize("bad", [5, 1.5, None, ["nested"]])
def test_key_of_the_wrong_type_is_a_type_error(unsigned, bad):
    with pytest.raises(TypeError, match="key"):
        mcuboot_verify(unsigned, [bad])


def test_single_key_instead_of_a_list_is_a_type_error(keys, unsigned):
    with pytest.raises(TypeError, match="keys"):
        mcuboot_verify(unsigned, keys["ec"].pub_pem)


def test_unusable_keys_are_value_errors(unsigned):
    p384 = ec.generate_private_key(ec.SECP384R1()).public_key()
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    for pub in (p384, rsa_key):
        pem = pub.public_bytes(serialization.Encoding.PEM,
                               serialization.PublicFormat.SubjectPublicKeyInfo)
        with pytest.raises(ValueError, match="neither ECDSA P-256 nor Ed25519"):
            mcuboot_verify(unsigned, [pem])
    for junk in (b"", b"not a key", os.urandom(91),
                 "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"):
        with pytest.raises(ValueError, match="key"):
            mcuboot_verify(unsigned, [junk])


def test_verifier_exception_reaches_the_caller(keys, payload, tmp_path, monkeypatch):
    image = imgtool_image(payload, tmp_path, keys["ed"])

    class CryptoDown(Exception):
        pass

    def broken(*_args):
        raise CryptoDown("secure element gone")

    monkeypatch.setattr(m2mfota.trust, "_verify", broken)
    with pytest.raises(CryptoDown):
        mcuboot_verify(image, [keys["ed"].pub_pem])


def test_keys_without_a_verifier_are_refused_by_c(keys, unsigned):
    trust = ffi.new("struct mfota_mcuboot_trust *")
    key = ffi.new("struct mfota_sig_key *")
    der = ffi.new("uint8_t[]", keys["ed"].pub_der)
    key.alg, key.der, key.der_len = lib.MFOTA_SIG_ED25519, der, len(keys["ed"].pub_der)
    trust.keys, trust.n_keys, trust.verifier = key, 1, ffi.NULL
    out = ffi.new("struct mfota_mcuboot_image *")
    rc = lib.mfota_mcuboot_verify_mem(unsigned, len(unsigned), trust, out)
    assert rc == ERR["MFOTA_ERR_INVAL"]


# ---- the C bootloader HAL through cffi -------------------------------------------


@pytest.mark.parametrize("name", ["ec", "ed"])
def test_mcuboot_bootloader_hal_checks_the_slot(keys, payload, tmp_path, name):
    image = imgtool_image(payload, tmp_path, keys[name], version="4.5.6")
    nor = NorFlash(0x4000, sector_size=0x1000, program_size=8)
    nor.program(0, image + b"\xff" * (-len(image) % 8))
    good = McubootBootloader(nor, nor, keys=[keys[name].pub_pem])
    assert good.check_image(len(image)) == "4.5.6"  # the "+0" build dropped
    assert McubootBootloader(nor, nor).check_image(len(image)) == "4.5.6"  # hash only
    other = "ec2" if name == "ec" else "ed2"
    with pytest.raises(ImageError) as info:
        McubootBootloader(nor, nor, keys=[keys[other].pub_pem]).check_image(len(image))
    assert info.value.code == "MFOTA_ERR_MCUBOOT_SIG"
    with pytest.raises(ImageError) as info:
        good.check_image(len(image) - 10)  # what was downloaded ends early
    assert info.value.result == 5


def test_raw_bootloader_is_an_explicit_accept_all():
    ver = ffi.new("char[8]", b"junk")
    assert lib.mfota_bootloader_accept_raw(ffi.NULL, 123, ver, 8) == 0
    assert ffi.string(ver) == b""


# ---- the client refuses a bootloader that cannot check ---------------------------


def _client(**kw):
    nor = NorFlash(0x4000, sector_size=0x1000, program_size=8)
    return Client(imei="350000000000001", secret="s", version="1.0.0",
                  server="http://127.0.0.1:9", flash=nor, **kw)


class NoCheck:
    def mark_pending(self, image_size, permanent):
        pass

    def confirm(self):
        pass

    def running_version(self):
        return "1.0.0"


def test_bootloader_object_without_check_image_is_a_type_error():
    with pytest.raises(TypeError, match="check_image"):
        _client(bootloader=NoCheck())


def test_unknown_bootloader_name_and_keys_without_mcuboot_are_value_errors(keys):
    with pytest.raises(ValueError, match="bootloader"):
        _client(bootloader="mcuboot2")
    with pytest.raises(ValueError, match="keys"):
        _client(bootloader="none", keys=[keys["ed"].pub_pem])
    with pytest.raises(TypeError, match="key"):
        _client(keys=[12])


def test_c_client_init_refuses_a_bootloader_without_check_image():
    client = _client(bootloader="none")
    cfg_type = ffi.typeof("struct mfota_client_config *")
    cfg = next(o for o in client._keep if ffi.typeof(o) is cfg_type)
    bl = ffi.new("struct mfota_bootloader *", cfg.bootloader[0])
    cfg.bootloader = bl
    assert lib.mfota_client_init(ffi.new("struct mfota_client *"), cfg) == 0
    bl.check_image = ffi.NULL
    assert lib.mfota_client_init(ffi.new("struct mfota_client *"), cfg) == ERR["MFOTA_ERR_INVAL"]
