"""End to end through the emulator: the file on the server is replaced in the
middle of the download, the downlink carries only url and token (as KPN's
does), so the image's own header, hash and signature are the only whole-file
check.  Each bad replacement ends with no pending mark, the LwM2M /5 result
and a fota.error the server sees; a good signed one ends pending and exact."""

from __future__ import annotations

import os
import random
import subprocess

import pytest
from cbuild import build_mfota_device
from client_harness import Device, uplinks, upload
from emulator_harness import ServerThread
from image_signing import SigningKey, flip_tlv, imgtool_image

from m2mfota.emulator.fileserver import Faults
from m2mfota.emulator.keys import EMULATOR
from m2mfota.flash import Journal, mcuboot_mark_pending

PART = 1024
ORIGINAL = 6000  # payload bytes of the file first served: 6 parts


@pytest.fixture(scope="module")
def srv():
    with ServerThread(downlink_extras=False) as server:
        yield server


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e-keys")
    return {"trusted": SigningKey(tmp, "trusted", "ed25519"),
            "trusted_ec": SigningKey(tmp, "trusted_ec", "ecdsa-p256"),
            "stranger": SigningKey(tmp, "stranger", "ed25519")}


@pytest.fixture(scope="module")
def files(tmp_path_factory, keys):
    """The original (signed, trusted) file and each replacement, all of other sizes."""
    tmp = tmp_path_factory.mktemp("e2e-images")
    rnd = random.Random(7)
    good = imgtool_image(rnd.randbytes(5000), tmp, keys["trusted"], version="2.0.0")
    return {
        "original": imgtool_image(rnd.randbytes(ORIGINAL), tmp, keys["trusted"], version="1.9.0"),
        "non_image": rnd.randbytes(4500),
        "truncated": good[: len(good) // 2],
        "wrong_hash": flip_tlv(imgtool_image(rnd.randbytes(4000), tmp, keys["trusted"],
                                             version="2.0.0"), 0x10),
        "other_key": imgtool_image(rnd.randbytes(4200), tmp, keys["stranger"], version="2.0.0"),
        "valid": good,
        "valid_ecdsa": imgtool_image(rnd.randbytes(5200), tmp, keys["trusted_ec"],
                                     version="2.0.1"),
    }


def replace_mid_download(srv, imei: str, data: bytes) -> None:
    """Every file published for ``imei`` changes into ``data`` after its first request."""
    srv.app[EMULATOR].fileserver.set_device_faults(
        imei, Faults(replace_after_requests=1, replacement=data))


REFUSED = {
    "non_image": (6, "image_no_header"),
    "truncated": (5, "image_header"),
    "wrong_hash": (5, "image_hash"),
    "other_key": (5, "image_signature"),
}


@pytest.mark.parametrize("kind", sorted(REFUSED))
def test_client_refuses_a_bad_replacement(srv, keys, files, kind):
    result, reason = REFUSED[kind]
    meta = upload(srv, files["original"], None)
    dev = Device(srv, image_size=max(len(f) for f in files.values()))
    replace_mid_download(srv, dev.imei, files[kind])
    dev.desire(meta["id"])
    mcuboot_mark_pending(dev.slot, 100)  # a stale install request from an earlier update
    assert dev.trailer_magic_set()
    out = dev.client(keys=[keys["trusted"].pub_pem, keys["trusted_ec"].pub_pem],
                     part_size=PART).run(timeout=30)
    # The engine saw the new size, started over and got the whole replacement.
    assert out.stats["restarts"] >= 1
    assert dev.image(len(files[kind])) == files[kind]
    assert (out.result, out.reason, out.version, out.state) == (result, reason, None, "idle")
    assert not dev.trailer_magic_set()
    rec = Journal(dev.journal).load()
    assert rec is None or (rec.offset, rec.complete) == (0, False)
    last = uplinks(srv, dev.imei)[-1]
    assert (last["fota.state"], last["fota.result"], last["fota.error"]) == \
        ("idle", result, reason)
    assert dev.info()["reported"]["result"] == result


@pytest.mark.parametrize("kind", ["valid", "valid_ecdsa"])
def test_client_accepts_a_valid_signed_replacement(srv, keys, files, kind):
    image = files[kind]
    meta = upload(srv, files["original"], None)
    dev = Device(srv, image_size=max(len(f) for f in files.values()))
    replace_mid_download(srv, dev.imei, image)
    dev.desire(meta["id"])
    out = dev.client(keys=[keys["trusted"].pub_pem, keys["trusted_ec"].pub_pem],
                     part_size=PART).run(timeout=30)
    assert out.stats["restarts"] >= 1
    assert (out.result, out.state) == (0, "updating")
    assert out.version == ("2.0.0" if kind == "valid" else "2.0.1")  # from the header
    assert dev.image(len(image)) == image
    assert dev.nor.data[len(image):dev.slot_size - 48] == b"\xff" * (dev.slot_size - 48 -
                                                                     len(image))
    assert dev.trailer_magic_set()
    last = uplinks(srv, dev.imei)[-1]
    assert (last["fota.state"], last["fota.result"]) == ("updating", 0)
    assert "fota.error" not in last


def test_raw_bootloader_is_an_explicit_choice(srv, files):
    """The case that matters: a non-image marked pending happens only when the
    device said bootloader="none"."""
    meta = upload(srv, files["original"], None)
    dev = Device(srv, image_size=max(len(f) for f in files.values()))
    replace_mid_download(srv, dev.imei, files["non_image"])
    dev.desire(meta["id"])
    client = dev.client(bootloader="none", part_size=PART)
    out = client.run(timeout=30)
    assert out.state == "updating" and dev.image(len(files["non_image"])) == files["non_image"]
    assert client.raw_bootloader.pending == (len(files["non_image"]), False)
    assert not dev.trailer_magic_set()


def test_default_client_without_keys_still_checks_the_header_and_hash(srv, files):
    meta = upload(srv, files["original"], None)
    dev = Device(srv, image_size=max(len(f) for f in files.values()))
    replace_mid_download(srv, dev.imei, files["non_image"])
    dev.desire(meta["id"])
    out = dev.client(part_size=PART).run(timeout=30)
    assert (out.result, out.reason) == (6, "image_no_header")
    assert not dev.trailer_magic_set()


# ---- the POSIX reference device ----------------------------------------------------


@pytest.fixture(scope="module")
def device_exe(tmp_path_factory):
    return build_mfota_device(tmp_path_factory.mktemp("device-build-trust"))


def _device(exe, srv, tmp_path, imei, *extra):
    return subprocess.run(
        [str(exe), "--imei", imei, "--secret", "s3cret", "--version", "1.0.0",
         "--server", srv.base, "--slot", str(tmp_path / "slot.bin"), "--journal",
         str(tmp_path / "journal.bin"), "--slot-size", str(16 * 1024), "--sector", "4096",
         "--part-size", str(PART), *extra],
        capture_output=True, text=True, timeout=60)


@pytest.mark.external_build
@pytest.mark.parametrize("kind", ["non_image", "other_key", "valid_ecdsa"])
def test_mfota_device_decides_with_its_keys(srv, keys, files, device_exe, tmp_path, kind):
    meta = upload(srv, files["original"], None)
    dev = Device(srv, image_size=16 * 1024 - 4096)  # registers the IMEI; its flash is unused
    replace_mid_download(srv, dev.imei, files[kind])
    dev.desire(meta["id"])
    der = tmp_path / "trusted_ec.der"  # as imgtool getpub -e raw writes it
    der.write_bytes(keys["trusted_ec"].pub_der)
    proc = _device(device_exe, srv, tmp_path, dev.imei, "--key", str(keys["trusted"].pub_path),
                   "--key", str(der))
    slot = (tmp_path / "slot.bin").read_bytes()
    assert slot[: len(files[kind])] == files[kind]  # the replacement, downloaded whole
    if kind == "valid_ecdsa":
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "running 2.0.1, reported result 1" in proc.stdout
        assert slot[: len(files[kind])] == files[kind]
        assert slot[-16:] != b"\xff" * 16
        return
    result, reason = REFUSED[kind]
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"update failed: result {result}" in proc.stdout and reason in proc.stdout
    assert slot[-48:] == b"\xff" * 48  # no trailer: nothing marked
    last = uplinks(srv, dev.imei)[-1]
    assert (last["fota.result"], last["fota.error"]) == (result, reason)


@pytest.mark.external_build
def test_mfota_device_refuses_a_bad_key_file(device_exe, srv, tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_bytes(os.urandom(64))
    proc = _device(device_exe, srv, tmp_path, "350000000000001", "--key", str(bad))
    assert proc.returncode == 2 and "not an ECDSA P-256 or Ed25519 public key" in proc.stderr
    proc = _device(device_exe, srv, tmp_path, "350000000000001", "--bootloader", "file",
                   "--key", str(bad))
    assert proc.returncode == 2  # keys only make sense with the MCUboot check


def test_port_failure_in_check_image_ends_the_cycle(srv, files):
    """A check_image that fails as a port (-5, EIO) is not a verdict on the
    image: the cycle ends with an error, nothing is marked or reported."""
    from m2mfota._native import ffi
    from m2mfota.client import ClientError

    class Bootloader:
        marked = False

        def check_image(self, image_size):
            return None

        def mark_pending(self, image_size, permanent):
            self.marked = True

        def confirm(self):
            pass

        def running_version(self):
            return "1.0.0"

    meta = upload(srv, files["valid"], None)
    dev = Device(srv, image_size=len(files["valid"]))
    dev.desire(meta["id"])
    bl = Bootloader()
    client = dev.client(bootloader=bl, part_size=PART)
    eio = ffi.callback("int(void *, uint32_t, char *, size_t)", lambda *_: -5)
    client._bl.c.check_image = eio  # the C struct the engine calls, as a C port would fill it
    with pytest.raises(ClientError):
        client.run(timeout=30)
    assert not bl.marked
    assert uplinks(srv, dev.imei)[-1].get("fota.state") == "downloading"
