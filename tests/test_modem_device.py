"""mfota-device (the POSIX reference device) with --modem: both of its
transports are sockets of the SARA-R4 AT driver, its UART a TCP connection
to the modem simulator, and it updates itself from the emulator through it:
the flash holds the firmware byte for byte and the server marks it done."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
from cbuild import build_mfota_device
from client_harness import api, upload
from emulator_harness import ServerThread

from m2mfota.modem_sim import ModemSim, RunningSim

pytestmark = pytest.mark.external_build


@pytest.fixture(scope="module")
def device_exe(tmp_path_factory):
    return build_mfota_device(tmp_path_factory.mktemp("device-build"))


@pytest.fixture(scope="module")
def srv():
    with ServerThread() as server:
        yield server


def _update(exe, srv, tmp_path, imei, sim, firmware, version):
    meta = upload(srv, firmware, version)
    api(srv, "POST", "/api/devices", {"imei": imei, "secret": "device-secret"})
    api(srv, "PUT", f"/api/devices/{imei}/desired", {"firmware_id": meta["id"]})
    return subprocess.run(
        [str(exe), "--imei", imei, "--secret", "device-secret", "--version", "1.0.0",
         "--server", srv.base, "--slot", str(tmp_path / "slot.bin"), "--journal",
         str(tmp_path / "journal.bin"), "--slot-size", str(128 * 1024),
         "--modem", f"127.0.0.1:{sim.port}", "--timeout", "60",
         "--bootloader", "file"],  # raw test firmware: the explicit raw choice
        capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("faults", ["", "urc,split,cme-write,close-after=20000,silent=1.5@30"])
def test_device_updates_through_the_modem(device_exe, srv, tmp_path, faults):
    firmware = os.urandom(50_001)
    imei = "861000000000101" if not faults else "861000000000102"
    with RunningSim(ModemSim(faults=faults, seed=3), max_lifetime=120) as sim:
        proc = _update(device_exe, srv, tmp_path, imei, sim, firmware, "2.3.0")
        stats = sim.sim.stats
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "running 2.3.0, reported result 1" in proc.stdout
    slot = (tmp_path / "slot.bin").read_bytes()
    assert slot[: len(firmware)] == firmware
    info = api(srv, "GET", f"/api/devices/{imei}")
    assert info["update"]["status"] == "done" and info["reported"]["firmware"] == "2.3.0"
    # Everything went through the simulated modem: both sockets, uplinks included.
    assert stats.air_bytes_down >= len(firmware) and stats.connects >= 2
    m = re.search(r"modem: (\d+) commands, (\d+) timeouts", proc.stdout)
    assert m and int(m.group(1)) > 20, proc.stdout
    if faults:
        assert set(stats.faults) == {"urc", "split", "cme-write", "close-after", "silent"}, \
            stats.faults
        assert int(m.group(2)) >= 1  # the silence was noticed and survived
