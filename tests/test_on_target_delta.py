"""Delta updates on the QEMU mps2-an386 board: the app (built with
MFOTA_DELTA=1, its source bound to MCUboot's primary slot) downloads a delta
file through the modem simulator, rebuilds v2 in the secondary slot from the
running v1, checks it like a full image (hash and ECDSA signature), and
MCUboot swaps it in.

The board build, the emulator and the helpers are test_on_target's: this
module imports its fixtures (a module-scoped fixture is set up once per
module that uses it, so the board is built once more here).  The delta
file is what a campaign uploads instead of the image:
``create_delta_file(v1, v2)``, the signed files as uploaded, so the source
is the first bytes of the primary slot.
"""

from __future__ import annotations

import importlib.util
import random
import subprocess
from pathlib import Path

import pytest
from cbuild import ROOT, TOOLCHAIN, _run, generator_args
from client_harness import api, upload
from conftest import require_tool
from test_on_target import (  # noqa: F401 (board, emu: fixtures shared with test_on_target)
    SECRET,
    V1,
    V2,
    _assert_healthy,
    _confirmed,
    _cut_phase,
    _device_info,
    _imeis,
    _mcuboot_dir,
    _modem,
    _net_boot,
    _net_final,
    _net_flash,
    _nth_match,
    board,
    emu,
)

from m2mfota import qemu_device as qd
from m2mfota.delta import create_delta_file, parse_delta_header

#: A delta for this small change must be at most this share of the image.
DELTA_SHARE_MAX = 0.10
#: Random power cuts during the delta apply (each followed by a reboot).
DELTA_CUTS = 5
BOOT_MAGIC = bytes.fromhex("77c295f360d2ef7f3552500f2cb67980")  # MCUboot's trailer magic


def _other_v1(board: Path, tmp_path: Path, size: int) -> bytes:  # noqa: F811
    """The same v1 code signed as 1.0.1, of ``size`` bytes like v1, so only
    the source hash in the delta header tells them apart.  An ECDSA
    signature's DER length varies (70..72 bytes): sign again until it fits."""
    imgtool = require_tool("imgtool")
    key = ROOT / "embedded_port" / "keys" / "test-signing-key-ec-p256.pem"
    out = tmp_path / "app-v1.0.1.signed.bin"
    for _ in range(20):
        subprocess.run([imgtool, "sign", "--key", str(key), "--header-size", "0x200",
                        "--pad-header", "--align", "8", "--max-sectors", "64", "--slot-size",
                        "0x20000", "--version", "1.0.1", str(board / "app-v1.bin"), str(out)],
                       check=True, capture_output=True)
        if out.stat().st_size == size:
            break
    return out.read_bytes()


@pytest.fixture(scope="module")
def images(board) -> dict[str, bytes]:  # noqa: F811
    return {name: (board / f"{name}.signed.bin").read_bytes() for name in ("app-v1", "app-v2")}


@pytest.fixture(scope="module")
def delta(images) -> bytes:
    """The v1 -> v2 delta file (heatshrink, the default)."""
    return create_delta_file(images["app-v1"], images["app-v2"])


def _delta_device(emu, data: bytes) -> str:  # noqa: F811
    """A new device whose desired firmware is ``data`` uploaded as plain
    firmware 2.0.0 (the file server serves whatever was uploaded)."""
    fw = upload(emu, data, "2.0.0")
    imei = f"3569380357{next(_imeis):05d}"
    api(emu, "POST", "/api/devices", {"imei": imei, "secret": SECRET})
    api(emu, "PUT", f"/api/devices/{imei}/desired", {"firmware_id": fw["id"]})
    return imei


def _sent(emu, imei: str) -> int:  # noqa: F811
    """Bytes the file server sent for this device's file."""
    return api(emu, "GET", f"/api/devices/{imei}/download")["stats"]["bytes_sent"]


def _primary_writes(boot: qd.Boot) -> list[str]:
    """Programs and erases of the primary slot (the delta's source) in a boot's trace."""
    return [op for op in boot.op_log
            if qd.PRIMARY_OFF <= int(op.split()[1], 16) < qd.PRIMARY_OFF + qd.PRIMARY_SIZE]


@pytest.mark.external_build
def test_delta_update_through_the_modem(board, emu, images, delta, tmp_path):  # noqa: F811
    """v1 downloads the delta file (a few KiB, not the image) through the
    modem, rebuilds v2 from its own primary slot, checks its signature and
    marks it pending; MCUboot swaps; v2 confirms; the emulator shows done on
    2.0.0.  The primary slot then holds v2 bit for bit, and the v1 boot never
    wrote the primary slot (the source)."""
    v2 = images["app-v2"]
    header = parse_delta_header(delta)
    assert header is not None and header.target_size == len(v2)
    assert len(delta) <= DELTA_SHARE_MAX * len(v2), (len(delta), len(v2))
    imei = _delta_device(emu, delta)
    flash = _net_flash(board, tmp_path, emu, imei)
    with _modem() as sim:
        # v1's boot alone first: the emulator withdraws the file once v2 reports.
        # Counting the flash operations traces them (op_log).
        first = _net_boot(board, flash, sim, boots=1, power_cut_after_ops=10**9)
        sent = _sent(emu, imei)
        second = _net_boot(board, flash, sim)
    run = qd.BoardRun(first.boots + second.boots)
    _assert_healthy(run)
    assert [b.status for b in run.boots] == [qd.EXIT_REBOOT, qd.EXIT_IDLE], "\n".join(run.lines)
    assert run.running_images() == [V1, V2]
    assert any("v2 feature" in ln for ln in run.boots[1].lines)
    assert "[app] client start_boot (confirm): MFOTA_OK" in run.boots[1].lines
    assert _confirmed(flash)
    assert sum(map(_applying, run.boots[0].op_log)) > 20, run.boots[0].op_log  # traced
    assert not _primary_writes(run.boots[0]), run.boots[0].op_log
    dev = qd.FileFlash(flash)
    assert dev.read(qd.PRIMARY_OFF, len(v2)) == v2
    # Only the delta file came from the file server.
    assert sent == len(delta), (sent, len(delta))
    info = _device_info(emu, imei)
    assert info["update"]["status"] == "done", info
    assert info["reported"]["firmware"] == "2.0.0" and info["reported"]["result"] == 1, info


@pytest.mark.external_build
def test_delta_for_another_source_is_refused(board, emu, images, tmp_path):  # noqa: F811
    """A delta made against another v1 (the same code signed as 1.0.1): the
    board refuses it before it writes the update slot's trailer, reports the
    delta source error, marks nothing pending and keeps running v1."""
    other = _other_v1(board, tmp_path, len(images["app-v1"]))
    assert len(other) == len(images["app-v1"]) and other != images["app-v1"]
    imei = _delta_device(emu, create_delta_file(other, images["app-v2"]))
    flash = _net_flash(board, tmp_path, emu, imei)
    with _modem() as sim:
        run = _net_boot(board, flash, sim)
    _assert_healthy(run)
    assert [b.status for b in run.boots] == [qd.EXIT_IDLE], "\n".join(run.lines)
    assert run.running_images() == [V1]
    assert any("MFOTA_ERR_DELTA_SOURCE" in ln for ln in run.lines), "\n".join(run.lines)
    trailer = qd.SECONDARY_OFF + qd.SECONDARY_SIZE - 48
    dev = qd.FileFlash(flash)
    assert dev.read(trailer + 32, 16) != BOOT_MAGIC and not _confirmed(flash)
    assert dev.read(qd.STATE_OFF, 32) == b"\xff" * 32  # no attempt recorded
    info = _device_info(emu, imei)
    assert info["reported"]["firmware"] == "1.0.0", info
    assert info["reported"]["error"] == "delta_source", info
    assert info["update"]["status"] != "done", info


def _applying(op: str) -> bool:
    """A program or erase of the update slot below its trailer sector: the
    rebuilt image being written."""
    at = int(op.split()[1], 16)
    return qd.SECONDARY_OFF <= at < qd.SECONDARY_OFF + qd.SECONDARY_SIZE - qd.SECTOR_SIZE


@pytest.mark.external_build
def test_random_power_cuts_during_the_delta_apply(board, emu, images, delta, tmp_path):  # noqa: F811
    """DELTA_CUTS kills of QEMU, each at a random one of the flash
    operations that write the rebuilt image into the update slot (the delta
    being applied), each followed by a reboot: the apply starts again from
    the patch's first byte and the update ends with v2 confirmed (or v1
    retrying; here every cut is survivable, so v2), never an unbootable
    board, and v1 never writes the primary slot (the source)."""
    rng = random.Random(15)
    imei = _delta_device(emu, delta)
    with _modem() as sim:
        probe = _net_boot(board, _net_flash(board, tmp_path, emu, imei, "probe.bin"), sim,
                          power_cut_after_ops=10**9)  # counts, never cuts
        assert probe.running_images() == [V1, V2], "\n".join(probe.lines)
        apply_ops = sum(map(_applying, probe.boots[0].op_log))
        assert apply_ops > 20, probe.boots[0].op_log  # the rebuilt image's erases and programs
    imei = _delta_device(emu, delta)
    flash = _net_flash(board, tmp_path, emu, imei)
    with _modem() as sim:
        phases: list[str] = []
        for _ in range(DELTA_CUTS):
            run = _net_boot(board, flash, sim,
                            cut_when=_nth_match(_applying, rng.randint(1, apply_ops)))
            _assert_healthy(run)
            assert run.power_cut, "\n".join(run.lines)
            assert run.running_images() == [V1], "\n".join(run.lines)
            assert not _primary_writes(run.boots[-1]), run.boots[-1].op_log
            phases.append(_cut_phase(run.boots[-1]))
        final = _net_final(board, flash, sim)
        air_down = sim.sim.stats.air_bytes_down
    print(f"{DELTA_CUTS} cuts among {apply_ops} apply operations: {phases}; final {final}, "
          f"{air_down} bytes down the air for a {len(delta)}-byte delta file")
    assert phases == ["v1 download"] * DELTA_CUTS, phases
    # Nothing failed for good: after the last cut the apply, restarted from
    # the patch's first byte, rebuilds v2 bit for bit.
    assert final == V2
    assert _device_info(emu, imei)["update"]["status"] == "done"
    v2 = images["app-v2"]
    assert qd.FileFlash(flash).read(qd.PRIMARY_OFF, len(v2)) == v2
    # Each attempt downloads at most the delta file, never the image (the
    # air bytes also count the uplinks' responses and HTTP headers).
    assert air_down < (DELTA_CUTS + 1) * (len(delta) + 4096) < len(images["app-v2"]), air_down


def _board_sizes():
    spec = importlib.util.spec_from_file_location("board_sizes", ROOT / "tools" / "board_sizes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.external_build
def test_delta_option_cost_on_the_board(board, tmp_path_factory, capsys):  # noqa: F811
    """The board built with -DMFOTA_BOARD_DELTA=OFF against the default
    (delta on): tools/board_sizes.py --baseline shows what MFOTA_DELTA adds
    to the app -- the applier's code in the core, and its context (at
    least MFOTA_DELTA_RAM_BOUND bytes) in the app's struct mfota_client --
    and nothing to the bootloader."""
    base = tmp_path_factory.mktemp("board-nodelta")
    cmake = require_tool("cmake")
    _run([cmake, "-S", ROOT / "embedded_port" / "board", "-B", base, *generator_args(),
          f"-DCMAKE_TOOLCHAIN_FILE={TOOLCHAIN}", f"-DMCUBOOT_DIR={_mcuboot_dir()}",
          "-DMFOTA_BOARD_DELTA=OFF"])
    _run([cmake, "--build", base, "-j2", "--target", "app-v1", "bootloader"])  # the two maps
    sizes = _board_sizes()
    with_delta, parts = sizes.parse_map(board / "app-v1.map")
    without, base_parts = sizes.parse_map(base / "app-v1.map")
    core = "m2mfota core"
    added_code = parts[core]["text"] - base_parts[core]["text"]
    added_ram = with_delta["bss"] - without["bss"]
    ram_bound = (1 << 8) + 2 * 64 + 96  # MFOTA_DELTA_RAM_BOUND with the defaults (delta.h)
    assert added_code > 2000, (added_code, parts[core], base_parts[core])
    assert added_ram >= ram_bound, (added_ram, with_delta, without)
    assert sizes.parse_map(board / "bootloader.map")[0] == sizes.parse_map(
        base / "bootloader.map")[0]
    assert sizes.main([str(board), "--baseline", str(base)]) == 0
    out = capsys.readouterr().out
    assert f"| app v1 | {with_delta['text']} |" in out
    assert f"| +{with_delta['text'] - without['text']} |" in out
    print(f"MFOTA_DELTA on the board app: +{with_delta['text'] - without['text']} B text "
          f"(core +{added_code}), +{added_ram} B bss")


@pytest.mark.external_build
def test_qemu_demo_delta(board, delta, images, capsys):  # noqa: F811
    """`m2mfota qemu-demo --delta`: the campaign uploads the delta file; the
    board ends on 2.0.0, and the summary shows the file server's bytes (the
    delta file's) and the bytes saved against the image."""
    from m2mfota.cli import main

    rc = main(["qemu-demo", "--board-dir", str(board), "--link", "none", "--delta"])
    out = capsys.readouterr().out
    assert rc == 0, out
    flat = " ".join(out.split())  # rich wraps long lines at 80 columns
    assert "the board runs 2.0.0, confirmed" in flat
    assert f"delta file of {len(delta)} bytes" in flat
    assert f"{len(delta)} bytes sent" in flat
    saved = len(images["app-v2"]) - len(delta)
    assert f"{len(delta)} bytes instead of {len(images['app-v2'])}: {saved} bytes" in flat, out


@pytest.mark.external_build
def test_bench_measures_the_board_update_through_the_engine(board, images, tmp_path):  # noqa: F811
    """bench_delta.py's on-board figures come from the real engine path: the
    board app downloading the image, then the delta file, through the modem
    simulator; the file server sends the delta file once, and each phase is
    timed."""
    spec = importlib.util.spec_from_file_location("bench_delta",
                                                  ROOT / "bench" / "bench_delta.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    # The delta run only: the image run is the same code with other bytes
    # (and test_clean_update's update).
    runs = bench.board_update(board, tmp_path, ("delta",))
    delta_size = len(create_delta_file(images["app-v1"], images["app-v2"]))
    assert list(runs) == ["delta"], runs
    assert runs["delta"]["file"] == runs["delta"]["sent"] == delta_size, runs
    assert runs["delta"]["download_s"] > 0 and runs["delta"]["mark_s"] > 0, runs


#: docs/delta.md's watchdog figures: what the hash of the source costs per
#: byte, and the longest the applier runs without calling the read HAL.
HASH_INSNS_PER_BYTE = (50, 90)
HASH_MAX_GAP_INSNS = 12_000


@pytest.mark.external_build
def test_source_hash_of_the_largest_source_on_the_cortex_m4(tmp_path):
    """mfota_delta_begin() hashes the board's largest source (its primary
    slot) in one call: the figure docs/delta.md gives for watchdogs, on the
    emulated Cortex-M4 (bench_delta.py --source-hash).  The read HAL is
    called every MFOTA_DELTA_BUF bytes, and never more than
    HASH_MAX_GAP_INSNS instructions apart: a port may feed its watchdog
    there."""
    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-system-arm")
    import re

    from m2mfota._native import lib

    spec = importlib.util.spec_from_file_location("bench_delta",
                                                  ROOT / "bench" / "bench_delta.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    layout = (ROOT / "embedded_port" / "board" / "board_layout.h").read_text()
    primary = int(re.search(r"BOARD_PRIMARY_SIZE (0x[0-9a-fA-F]+)u", layout).group(1), 16)
    assert bench.BOARD_PRIMARY_SIZE == primary == qd.PRIMARY_SIZE
    h = bench.mcu_source_hash(tmp_path)
    print(bench._hash_line(h))
    assert h["size"] == primary
    assert h["reads"] == -(-primary // lib.MFOTA_DELTA_BUF), h
    lo, hi = HASH_INSNS_PER_BYTE
    assert lo <= h["instructions_per_byte"] <= hi, h
    assert 0 < h["max_gap_instructions"] <= HASH_MAX_GAP_INSNS, h
