"""Delta files through the C client engine, end to end over loopback: the
emulator serves a delta file (MFDP header + detools patch) uploaded instead
of an image; the device applies it against its running image (a separate
NOR chip, ``delta_source``) into the update slot, verifies the rebuilt
MCUboot image and hands it to the bootloader."""

from __future__ import annotations

import hashlib
import random
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from client_harness import Device, uplinks, upload
from conftest import require_tool
from emulator_harness import ServerThread

from m2mfota._native import lib
from m2mfota.delta import create_delta_file
from m2mfota.demo import mcuboot_image
from m2mfota.flash import Journal, NorFlash, PowerCut

SECTOR = 4096


@pytest.fixture(scope="module")
def srv():
    with ServerThread() as server:
        yield server


def firmware_pair(seed: int, n: int) -> tuple[bytes, bytes]:
    """Two MCUboot images, v1 and v2, that differ by a version and a small change."""
    rng = random.Random(seed)
    words = [rng.getrandbits(32).to_bytes(4, "little") for _ in range(64)]
    code = b"".join(rng.choice(words) for _ in range(n // 4))
    v2 = code[:n // 3] + b"fixed: one function changed" + code[n // 3 + 27:]
    return mcuboot_image(code, (1, 0, 0)), mcuboot_image(v2, (2, 0, 0))


def running_image(image: bytes) -> NorFlash:
    """The primary slot: the v1 file as uploaded, then erased flash."""
    size = -(-len(image) // SECTOR) * SECTOR + SECTOR
    nor = NorFlash(size, sector_size=SECTOR, program_size=8)
    nor.data[:len(image)] = image
    return nor


V1, V2 = firmware_pair(1, 24_000)


@pytest.fixture(scope="module")
def delta(srv):
    data = create_delta_file(V1, V2)
    assert len(data) < len(V2) // 5
    return data, upload(srv, data, "2.0.0")


def test_delta_update_end_to_end(srv, delta):
    data, meta = delta
    dev = Device(srv, image_size=len(V2))
    src = running_image(V1)
    before = bytes(src.data)
    dev.desire(meta["id"])
    out = dev.client(delta_source=src).run(timeout=30)
    assert (out.result, out.state, out.version, out.reason) == (0, "updating", "2.0.0", None)
    assert dev.image(len(V2)) == V2
    assert dev.trailer_magic_set()  # MCUboot's install request, as for a full image
    assert bytes(src.data) == before and src.programs == src.erases == 0
    assert out.stats["bytes"] == len(data)  # only the delta file went over the air
    ups = uplinks(srv, dev.imei)
    assert [u.get("fota.state") for u in ups] == ["idle", "downloading", "updating"]
    dev.version = out.version
    assert dev.client(delta_source=src).confirm_boot(timeout=10).result == 1
    assert dev.info()["update"]["status"] == "done"


def _refused(srv, dev, out, result, reason):
    assert (out.result, out.reason, out.version) == (result, reason, None)
    last = uplinks(srv, dev.imei)[-1]
    assert (last["fota.result"], last["fota.error"]) == (result, reason)
    # Nothing of the file reached the slot, and no install request.
    assert bytes(dev.nor.data[:dev.slot_size]) == b"\xff" * dev.slot_size


def test_wrong_source_is_refused_before_anything_is_written(srv, delta):
    _, meta = delta
    dev = Device(srv, image_size=len(V2))
    other, _ = firmware_pair(7, 24_000)  # the device runs another image
    dev.desire(meta["id"])
    out = dev.client(delta_source=running_image(other)).run(timeout=30)
    _refused(srv, dev, out, 6, "delta_source")
    assert out.stats["retries"] == 0  # the engine falls back to nothing by itself


def test_delta_file_without_a_source_is_refused(srv, delta):
    _, meta = delta
    dev = Device(srv, image_size=len(V2))
    dev.desire(meta["id"])
    out = dev.client().run(timeout=30)
    _refused(srv, dev, out, 6, "delta_unsupported")


def test_bad_header_is_refused_never_written_as_an_image(srv, delta):
    data, _ = delta
    bad = bytearray(data)
    bad[10] ^= 0x01  # inside the source size: the header CRC no longer matches
    meta = upload(srv, bytes(bad), "2.0.0")
    dev = Device(srv, image_size=len(V2))
    dev.desire(meta["id"])
    out = dev.client(delta_source=running_image(V1)).run(timeout=30)
    _refused(srv, dev, out, 5, "delta_header")


def test_target_hash_is_checked(srv, delta):
    data, _ = delta
    head = bytearray(data[:80])
    head[48:80] = hashlib.sha256(b"not the target").digest()
    forged = bytes(head) + struct.pack("<I", zlib.crc32(head)) + data[84:]
    meta = upload(srv, forged, "2.0.0")
    dev = Device(srv, image_size=len(V2))
    dev.desire(meta["id"])
    out = dev.client(delta_source=running_image(V1)).run(timeout=30)
    assert (out.result, out.reason, out.version) == (5, "delta_target", None)
    assert not dev.trailer_magic_set()


def test_full_image_still_works_with_a_delta_source(srv):
    meta = upload(srv, V2, "2.0.0")
    dev = Device(srv, image_size=len(V2))
    dev.desire(meta["id"])
    out = dev.client(delta_source=running_image(V1)).run(timeout=30)
    assert out.version == "2.0.0" and dev.image(len(V2)) == V2


@pytest.mark.parametrize("prefix", [b"M", b"MF", b"MFD", b"MFDp"])
def test_an_image_that_starts_like_the_magic_is_written_whole(srv, prefix):
    # The held bytes go to the slot once a byte differs from "MFDP".
    image = prefix + random.Random(len(prefix)).randbytes(9_000)
    meta = upload(srv, image, "2.0.0")
    dev = Device(srv, image_size=len(image))
    dev.desire(meta["id"])
    out = dev.client(bootloader="none", delta_source=running_image(V1),
                     part_size=SECTOR).run(timeout=30)
    assert out.version == "2.0.0" and dev.image(len(image)) == image


@pytest.mark.parametrize("faults", [
    {"corrupt_byte_at": 6000, "corrupt_times": 1},
    # Garbled inside the header: the header CRC fails at once, but the error
    # waits for the part's verdict (its Digest fails too), and the file is
    # fetched again instead of the update ending with "delta_header".
    {"corrupt_byte_at": 20, "corrupt_times": 1},
    {"drop_after_bytes": 3000, "drop_times": 2}])
def test_a_failed_part_starts_the_delta_again(srv, faults):
    # A new feature's worth of code: a delta file of three parts.
    rng = random.Random(11)
    v2 = mcuboot_image(V1[32:20_032] + rng.randbytes(10_000), (2, 0, 0))
    data = create_delta_file(V1, v2)
    assert 2 * SECTOR < len(data) < 3 * SECTOR
    meta = upload(srv, data, "2.0.0")
    dev = Device(srv, image_size=len(v2))
    dev.desire(meta["id"])
    dev.faults(faults)
    out = dev.client(delta_source=running_image(V1), part_size=SECTOR).run(timeout=30)
    assert out.version == "2.0.0" and dev.image(len(v2)) == v2
    assert len(data) < out.stats["bytes"] <= 4 * len(data)
    if faults.get("corrupt_byte_at", 0) > SECTOR:
        # The second part failed its CRC.  Patch offsets are not image
        # offsets: the file is fetched again from its first byte.
        assert out.stats["restarts"] >= 1
        assert out.stats["bytes"] >= len(data) + SECTOR


def test_delta_source_arguments(srv):
    dev = Device(srv, image_size=1000)
    with pytest.raises(ValueError, match="delta_source"):
        dev.client(delta_source=dev.slot)
    with pytest.raises(ValueError, match="delta_source_offset"):
        dev.client(delta_source_offset=4)
    with pytest.raises(TypeError, match="delta_source"):
        dev.client(delta_source=b"image")


# ---- power cuts at every flash operation ---------------------------------------------


def test_power_cut_at_every_flash_operation_of_a_delta_update(srv):
    v1, v2 = firmware_pair(3, 6_000)
    data = create_delta_file(v1, v2)
    meta = upload(srv, data, "2.0.0")
    # How many flash operations (slot + journal) a whole update takes.
    dev = Device(srv, image_size=len(v2))
    dev.desire(meta["id"])
    assert dev.client(delta_source=running_image(v1)).run(timeout=30).version == "2.0.0"
    total = dev.nor.ops
    assert total > 20
    for cut in range(total):
        dev = Device(srv, image_size=len(v2), cut_after=cut)
        src = running_image(v1)
        dev.desire(meta["id"])
        with pytest.raises(PowerCut):
            dev.client(delta_source=src).run(timeout=30)
        dev.nor.power_on()
        record = Journal(dev.journal).load()
        if bytes(dev.nor.data[:dev.slot_size]) != b"\xff" * dev.slot_size:
            # The delta was recognised before the first slot write, and the
            # journal said so first: its offsets are not image offsets.
            assert record is not None and record.offset == 0, cut
            assert record._c.flags & lib.MFOTA_JOURNAL_DELTA, cut
        # The reboot: the server sends the same URL again.
        out = dev.client(delta_source=src).run(timeout=30)
        assert out.version == "2.0.0", (cut, out)
        assert dev.image(len(v2)) == v2, cut
        assert bytes(src.data[:len(v1)]) == v1 and src.programs == src.erases == 0
        # Re-download is at most the delta file.
        assert out.stats["bytes"] == len(data), cut
        assert out.stats["resumes"] == 0, cut


# ---- MFOTA_DELTA 0 (the default on microcontrollers) ---------------------------------

STRICT = ["-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Wshadow", "-Wconversion", "-Werror"]


@pytest.mark.external_build
def test_c_client_selftest_without_delta(tmp_path):
    """The engine's C self-test (tests/c/selftest_client.c) built with
    MFOTA_DELTA 0 refuses the delta file ("delta_unsupported", the slot
    untouched, never written as an image).  With 1 (the host default) the
    same suite applies it: tests/test_c_build.py runs it through ctest."""
    delta = 0
    cc = require_tool("gcc")
    root = Path(__file__).resolve().parent.parent
    main = tmp_path / "main.c"
    main.write_text("#include <stdio.h>\nint mfota_selftest_client(void);\n"
                    "int main(void) { return mfota_selftest_client() != 0; }\n")
    exe = tmp_path / "selftest_client"
    srcs = sorted((root / "csrc" / "src").glob("*.c"))
    subprocess.run([cc, *STRICT, "-O1", f"-DMFOTA_DELTA={delta}", f"-I{root / 'csrc' / 'include'}",
                    f"-I{root / 'tests' / 'c'}", *map(str, srcs),
                    str(root / "tests" / "c" / "selftest_client.c"),
                    str(root / "tests" / "c" / "fake_hal.c"), str(main), "-o", str(exe)],
                   check=True, capture_output=True, timeout=600)
    out = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout
    assert "ok client delta file\n" in out.stdout, out.stdout
    assert "ok client delta file, wrong source\n" in out.stdout, out.stdout
    assert "ok client delta magic split\n" in out.stdout, out.stdout


# ---- a failing read of the running image ---------------------------------------------


def test_a_source_read_failing_ends_the_cycle_and_the_next_one_starts_clean(srv, delta):
    """The n-th read of the running image fails (n across the source hash and
    the application of the patch): the cycle ends as MFOTA_ERR_HAL with the
    port's own code, no HAL is used after it, nothing is marked pending, the
    journal claims no progress, and after a reboot the update starts again
    from the file's first byte and completes."""
    from test_client_hal_errors import PORT_EIO, Calls, FaultyFlash

    from m2mfota.client import Client, ClientError

    data, meta = delta
    hash_reads = -(-len(V1) // lib.MFOTA_DELTA_BUF)

    def run(calls: Calls):
        dev = Device(srv, image_size=len(V2))
        dev.desire(meta["id"])
        # The slot and the journal are counted too: nothing may touch them after the fault.
        client = Client(imei=dev.imei, secret=dev.secret, version=dev.version,
                        server=srv.base, flash=FaultyFlash(dev.slot, calls, "slot"),
                        journal=FaultyFlash(dev.journal, calls, "journal"),
                        delta_source=FaultyFlash(running_image(V1), calls, "source"),
                        io_timeout=3.0, retry_base=0.05, retry_max=0.5)
        return dev, client

    calls = Calls()
    dev, client = run(calls)
    assert client.run(timeout=30).version == "2.0.0"
    total = calls.count["source.read"]
    assert total > hash_reads + 50  # the patch reads the source as well
    for nth in (1, hash_reads // 2, hash_reads, hash_reads + 1, (hash_reads + total) // 2, total):
        calls = Calls("source.read", nth)
        dev, client = run(calls)
        where = f"source read {nth} of {total}"
        with pytest.raises(ClientError) as info:
            client.run(timeout=30)
        assert info.value.code == "MFOTA_ERR_HAL" and client.hal_error == PORT_EIO, where
        assert calls.after_fault == 0, f"{where}: a HAL was used after the failure"
        assert client.stats["retries"] == 0, where
        assert not client.c.has_pending and not dev.trailer_magic_set(), where
        ups = uplinks(srv, dev.imei)
        assert "updating" not in [u.get("fota.state") for u in ups], where
        record = Journal(dev.journal).load()
        assert record is None or (record.offset == 0 and record.crc32 == 0 and not
                                  record._c.flags & lib.MFOTA_JOURNAL_COMPLETE), where
        if nth <= hash_reads:
            # The source is checked before anything reaches the slot.
            assert bytes(dev.nor.data[:dev.slot_size]) == b"\xff" * dev.slot_size, where
        # The reboot: a new client, a healthy running image, the same URL.
        out = dev.client(delta_source=running_image(V1)).run(timeout=30)
        assert (out.version, out.result) == ("2.0.0", 0), (where, out)
        assert dev.image(len(V2)) == V2, where
        assert out.stats["bytes"] == len(data) and out.stats["resumes"] == 0, where


def test_a_delta_source_of_unusable_geometry_refuses_the_delta_at_once(srv, delta, monkeypatch):
    """A port's delta_source the applier cannot use (here its offset is not
    sector-aligned; the C engine does not check it at init): the delta file
    is refused with "delta_unsupported" after one download, not retried as if
    the connection had failed."""
    import m2mfota.client as client_module
    from m2mfota.flash._hal import FlashHal

    class MisplacedSource(FlashHal):
        def __init__(self, *args, **kw) -> None:
            super().__init__(*args, **kw)  # checked here, as the Python wrapper does
            if kw.get("name") == "delta_source":
                self.c.slot_offset = 8  # what a C port could pass unchecked

    data, meta = delta
    dev = Device(srv, image_size=len(V2))
    dev.desire(meta["id"])
    monkeypatch.setattr(client_module, "FlashHal", MisplacedSource)
    out = dev.client(delta_source=running_image(V1)).run(timeout=30)
    _refused(srv, dev, out, 6, "delta_unsupported")
    assert out.stats["retries"] == 0 and out.stats["bytes"] <= len(data)
