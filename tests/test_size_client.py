"""tools/size_client.py links the whole client engine for a Cortex-M4 and
reports its RAM and code; sanity only (no limits): the context holds at
least its own buffers, and the static RAM the client adds is the context."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from cbuild import ROOT
from conftest import require_tool

pytestmark = pytest.mark.external_build


def test_size_client(tmp_path):
    require_tool("arm-none-eabi-gcc")
    require_tool("arm-none-eabi-size")
    require_tool("arm-none-eabi-nm")
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "size_client.py"),
                           "--build-dir", str(tmp_path)], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = dict(re.findall(r"^\| (.+?) \| (\d+) \|$", proc.stdout, re.M))
    ctx = int(rows["sizeof(struct mfota_client) (context, every buffer inside)"])
    ram = int(rows["static RAM the client adds (.data + .bss)"])
    code = int(rows["code the client adds (.text + .rodata, whole engine, MCUboot HAL)"])
    # uplink request + downlink body + receive buffer + the downloader's request
    assert ctx >= 512 + (256 + 1024 + 512) + 512 + (256 + 1024 + 112)
    assert ctx <= ram < ctx + 256
    assert code > 10_000
    stack = int(rows["deepest stack from mfota_client_run (HAL frames not counted)"])
    assert 1000 < stack < 16_000  # at least the SenML number conversion's frame
    assert int(rows["static RAM + deepest stack"]) == ram + stack
    # The engine's own functions are in the image, not collected away.
    nm = subprocess.run(["arm-none-eabi-nm", str(tmp_path / "client.elf")],
                        capture_output=True, text=True, check=True).stdout
    for fn in ("mfota_client_run", "mfota_client_step", "mfota_dl_step",
               "mfota_flash_writer_part_commit", "mfota_image_verify_writer",
               "mfota_mcuboot_mark_pending", "mfota_things_build_uplink"):
        assert re.search(rf" [tT] {fn}$", nm, re.M), fn
