"""The examples build and run as their READMEs say: the bare-metal client on
the host and on a Cortex-M4 (QEMU mps2-an386), the POSIX reference device on
the host, where it updates from the emulator."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
from cbuild import ROOT, cmake_build, run_qemu
from client_harness import api, upload
from conftest import require_tool
from emulator_harness import ServerThread

pytestmark = pytest.mark.external_build

EXAMPLES = ROOT / "examples"
DONE_LINE = re.compile(
    r"bare-metal example: cycle done after (\d+) steps: state=idle result=initial uplinks=1")


def _check_stepped(output: str) -> None:
    m = DONE_LINE.search(output)
    assert m, output
    # The stub transport makes the first recv() wait: the loop must have
    # seen MFOTA_WOULD_BLOCK and stepped again.
    assert int(m.group(1)) >= 2, output


def test_bare_metal_example_runs_on_the_host(tmp_path):
    cmake_build(EXAMPLES / "bare-metal", tmp_path / "build")
    exe = tmp_path / "build" / "bare_metal_example"
    proc = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    _check_stepped(proc.stdout)


def test_bare_metal_example_links_for_mps2_an386_and_runs_on_qemu(tmp_path):
    require_tool("arm-none-eabi-gcc")
    log = cmake_build(EXAMPLES / "bare-metal", tmp_path / "build", cross=True)
    elf = tmp_path / "build" / "bare_metal_example.elf"
    assert elf.exists(), log
    # The example's config header reached the core: the nibble CRC kernel's
    # 64-byte table is linked, the default byte kernel's 1 KiB table is not.
    nm = require_tool("arm-none-eabi-nm")
    symbols = subprocess.run([nm, str(elf)], capture_output=True, text=True,
                             check=True).stdout.split()
    assert "crc32_nibble_table" in symbols and "crc32_byte_table" not in symbols
    status, output = run_qemu(elf)
    assert status == 0, output
    _check_stepped(output)


def test_posix_device_example_builds_and_updates_from_the_emulator(tmp_path):
    cmake_build(EXAMPLES / "posix-device", tmp_path / "build")
    exe = tmp_path / "build" / "mfota-device"
    firmware = os.urandom(30_000)
    imei = "861000000000077"
    with ServerThread() as srv:
        meta = upload(srv, firmware, "3.0.0")
        api(srv, "POST", "/api/devices", {"imei": imei, "secret": "device-secret"})
        api(srv, "PUT", f"/api/devices/{imei}/desired", {"firmware_id": meta["id"]})
        proc = subprocess.run(
            [str(exe), "--imei", imei, "--secret", "device-secret", "--version", "1.0.0",
             "--server", srv.base, "--slot", str(tmp_path / "slot.bin"),
             "--journal", str(tmp_path / "journal.bin"), "--slot-size", str(64 * 1024),
             "--bootloader", "file"],
            capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert api(srv, "GET", f"/api/devices/{imei}")["reported"]["firmware"] == "3.0.0"
    assert (tmp_path / "slot.bin").read_bytes()[: len(firmware)] == firmware
