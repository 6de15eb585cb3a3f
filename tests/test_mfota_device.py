"""mfota-device, the C reference device (embedded_port/posix/mfota_device.c),
updates from the emulator over loopback: the flash file then holds the
firmware byte for byte, and the server marks the device done."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
from cbuild import build_mfota_device
from client_harness import api, upload
from emulator_harness import ServerThread

from m2mfota.demo import mcuboot_image

pytestmark = pytest.mark.external_build


@pytest.fixture(scope="module")
def device_exe(tmp_path_factory):
    return build_mfota_device(tmp_path_factory.mktemp("device-build"))


@pytest.fixture(scope="module")
def srv():
    with ServerThread() as server:
        yield server


def _run(exe, srv, tmp_path, imei, *extra):
    return subprocess.run(
        [str(exe), "--imei", imei, "--secret", "device-secret", "--version", "1.0.0",
         "--server", srv.base, "--slot", str(tmp_path / "slot.bin"), "--journal",
         str(tmp_path / "journal.bin"), "--slot-size", str(128 * 1024), *extra],
        capture_output=True, text=True, timeout=120)


def test_device_updates_and_reports_the_new_version(device_exe, srv, tmp_path):
    firmware = os.urandom(70_001)
    meta = upload(srv, firmware, "2.1.0")
    imei = "861000000000001"
    api(srv, "POST", "/api/devices", {"imei": imei, "secret": "device-secret"})
    api(srv, "PUT", f"/api/devices/{imei}/desired", {"firmware_id": meta["id"]})
    proc = _run(device_exe, srv, tmp_path, imei, "--bootloader", "file")  # raw: said so
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "running 2.1.0, reported result 1" in proc.stdout
    slot = (tmp_path / "slot.bin").read_bytes()
    assert slot[: len(firmware)] == firmware
    assert slot[len(firmware):] == b"\xff" * (len(slot) - len(firmware))
    assert (tmp_path / "slot.bin.boot").read_text() == "confirmed\n"
    info = api(srv, "GET", f"/api/devices/{imei}")
    assert info["update"]["status"] == "done"
    assert info["reported"]["firmware"] == "2.1.0"
    # Run again: nothing to do now.
    proc = _run(device_exe, srv, tmp_path, imei, "--bootloader", "file")
    assert proc.returncode == 3 and "no update offered" in proc.stdout


def test_device_with_mcuboot_image_and_trailer(device_exe, srv, tmp_path):
    image = mcuboot_image(os.urandom(50_000), (5, 0, 1))
    meta = upload(srv, image)
    imei = "861000000000002"
    api(srv, "POST", "/api/devices", {"imei": imei, "secret": "device-secret"})
    api(srv, "PUT", f"/api/devices/{imei}/desired", {"firmware_id": meta["id"]})
    proc = _run(device_exe, srv, tmp_path, imei)  # MCUboot is the default
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "running 5.0.1, reported result 1" in proc.stdout
    slot = (tmp_path / "slot.bin").read_bytes()
    assert slot[: len(image)] == image
    assert slot[-16:] != b"\xff" * 16  # MCUboot's magic: install requested
    assert slot[-24] == 0x01           # image_ok: confirmed by the new image
    assert api(srv, "GET", f"/api/devices/{imei}")["update"]["status"] == "done"


def test_device_reports_a_failed_update(device_exe, srv, tmp_path):
    firmware = os.urandom(20_000)
    meta = upload(srv, firmware, "2.2.0")
    imei = "861000000000003"
    api(srv, "POST", "/api/devices", {"imei": imei, "secret": "device-secret"})
    api(srv, "PUT", f"/api/devices/{imei}/faults", {"not_found": True})
    api(srv, "PUT", f"/api/devices/{imei}/desired", {"firmware_id": meta["id"]})
    proc = _run(device_exe, srv, tmp_path, imei)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    # the LwM2M number, its name, the reason and the C error behind it
    assert re.search(r"update failed: result 4 \(connection_lost\) not_found: MFOTA_ERR_\w+"
                     r" \(file server answered 404\)$", proc.stdout, re.M), proc.stdout
    info = api(srv, "GET", f"/api/devices/{imei}")
    assert (info["reported"]["result"], info["reported"]["error"]) == (4, "not_found")


def _progress_uplinks(srv, imei: str) -> list[float]:
    ups = api(srv, "GET", f"/api/devices/{imei}/uplinks?limit=1000")
    return [r["v"] for u in reversed(ups) for r in u["records"]
            if r["n"].endswith(":fota.progress") and r["v"] < 100]


def test_progress_uplinks_follow_the_devices_own_policy(device_exe, srv, tmp_path):
    """--progress-step/--progress-interval set the device's report policy:
    every 10 % with no minimum interval gives a progress uplink per step;
    a 100 % step gives none between the start and completion, and neither
    does a 10 % step with an hour between two progress uplinks."""
    meta = upload(srv, os.urandom(100_000), "2.2.0")
    counts = {}
    for imei, step, interval in (("861000000000011", "10", "0"),
                                 ("861000000000012", "100", "0"),
                                 ("861000000000014", "10", "3600")):
        api(srv, "POST", "/api/devices", {"imei": imei, "secret": "device-secret"})
        api(srv, "PUT", f"/api/devices/{imei}/desired", {"firmware_id": meta["id"]})
        run_dir = tmp_path / imei
        run_dir.mkdir()
        proc = _run(device_exe, srv, run_dir, imei, "--part-size", "4096",
                    "--progress-step", step, "--progress-interval", interval,
                    "--bootloader", "file")  # raw test firmware
        assert proc.returncode == 0, proc.stdout + proc.stderr
        counts[step, interval] = _progress_uplinks(srv, imei)
    assert len(counts["10", "0"]) >= 8 and counts["10", "0"] == sorted(counts["10", "0"])
    assert set(counts["100", "0"]) <= {0.0}  # only the state change into "downloading"
    assert set(counts["10", "3600"]) <= {0.0}  # the interval holds the 10 % steps back
    # refused with the usage, never run with a value nobody asked for ("-1" was
    # strtoul's ULONG_MAX, the engine-default marker; "abc" was 0)
    for opt, value in (("--progress-step", "0"), ("--progress-interval", "-1"),
                       ("--progress-interval", "abc"), ("--part-size", "4k")):
        bad = _run(device_exe, srv, tmp_path, "861000000000013", opt, value)
        assert bad.returncode == 2 and "usage: mfota-device" in bad.stderr, (opt, value)


def test_refused_uplink_is_printed_with_its_status_and_name(device_exe, srv, tmp_path):
    """An unknown IMEI or a wrong secret: the server answers 401, the device
    prints that status (the client's uplink_http_status) and the error."""
    api(srv, "POST", "/api/devices", {"imei": "861000000000021", "secret": "other-secret"})
    for imei in ("861000000000020", "861000000000021"):  # unknown; wrong secret
        proc = _run(device_exe, srv, tmp_path, imei, "--bootloader", "file")
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert ("uplink refused: 401 MFOTA_ERR_CLIENT_REFUSED (unknown IMEI or wrong secret?)"
                in proc.stdout), proc.stdout
        assert ("update failed: result 4 (connection_lost) uplink: MFOTA_ERR_CLIENT_REFUSED"
                in proc.stdout)
