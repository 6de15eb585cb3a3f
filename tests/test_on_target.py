"""The QEMU mps2-an386 board: real MCUboot (bootutil from MCUBOOT_DIR) and the
firmware app on a semihosted NOR flash file, booted and rebooted by
``m2mfota qemu-device`` (python/m2mfota/qemu_device.py).

The board is built once per module (embedded_port/board, cross, MinSizeRel);
each test provisions its own flash file.  Until the modem transport lands the
update reaches the secondary slot from the host, as a finished download would
leave it; everything after that -- check, signature, trailer, reboot, swap,
confirm, revert -- runs on the board.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from cbuild import ROOT, cmake_build
from conftest import IN_CI, require_tool

from m2mfota import qemu_device as qd
from m2mfota.flash import (
    FlashViolation,
    NorFlash,
    PowerCut,
    mcuboot_check,
    mcuboot_info,
    mcuboot_mark_pending,
)

V1, V2, V2_NOCONFIRM = "1.0.0+0", "2.0.0+0", "2.0.0+1"
CUTS = 30


def _mcuboot_dir() -> Path:
    path = Path(os.environ.get("MCUBOOT_DIR", ROOT.parent / "shared" / "vendor" / "mcuboot-v2.4.0"))
    if not (path / "boot" / "bootutil" / "src" / "loader.c").is_file():
        message = f"MCUboot sources not found at {path} (set MCUBOOT_DIR)"
        if IN_CI:
            pytest.fail(message + " (CI=true: missing dependencies fail)")
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def board(tmp_path_factory) -> Path:
    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-system-arm")
    require_tool("imgtool")
    build = tmp_path_factory.mktemp("board")
    cmake_build(ROOT / "embedded_port" / "board", build, f"MCUBOOT_DIR={_mcuboot_dir()}",
                cross=True)
    return build


def _flash(board: Path, tmp_path: Path, stage: str | None = None, *,
           mark_pending: bool = False, name: str = "flash.bin") -> Path:
    flash = tmp_path / name
    qd.provision(flash, (board / "app-v1.signed.bin").read_bytes(), imei="356938035643809",
                 secret="s3cret", server="http://127.0.0.1:8080",
                 stage=None if stage is None else (board / stage).read_bytes(),
                 mark_pending=mark_pending)
    return flash


def _boot(board: Path, flash: Path, **kw) -> qd.BoardRun:
    return qd.run_board(flash, board / "bootloader.elf", **kw)


def _assert_healthy(run: qd.BoardRun) -> None:
    """No boot ended in a fault, with nothing bootable, or timed out."""
    for boot in run.boots:
        assert boot.status in (qd.EXIT_IDLE, qd.EXIT_REBOOT, None), "\n".join(run.lines)
    assert not any("[host] boot timed out" in line for line in run.lines), "\n".join(run.lines)


def test_layout_agrees_with_the_c_header():
    """qemu_device.py and board_layout.h describe the same flash file."""
    text = (ROOT / "embedded_port" / "board" / "board_layout.h").read_text()
    hexes = re.findall(r"#define BOARD_(\w+) (0x[0-9a-fA-F]+)u", text)
    defines = {name: int(value, 16) for name, value in hexes}
    defines.update({m[0]: int(m[1]) for m in re.findall(r"#define BOARD_(\w+) (\d+)u?\b", text)})
    for name in ("SECTOR_SIZE", "PROGRAM_SIZE", "CONFIG_OFF", "CONFIG_SIZE", "JOURNAL_OFF",
                 "JOURNAL_SIZE", "STATE_OFF", "STATE_SIZE", "PRIMARY_OFF", "PRIMARY_SIZE",
                 "SECONDARY_OFF", "SECONDARY_SIZE", "FLASH_SIZE", "CONFIG_MAGIC",
                 "CONFIG_IMEI_MAX", "CONFIG_SECRET_MAX", "CONFIG_SERVER_MAX"):
        assert defines[name] == getattr(qd, name), name
    for name in ("IDLE", "FAULT", "REBOOT", "NO_IMAGE", "FLASH"):
        assert defines[f"EXIT_{name}"] == getattr(qd, f"EXIT_{name}"), name
    # swap-using-move: the primary slot has exactly one sector more.
    assert qd.PRIMARY_SIZE == qd.SECONDARY_SIZE + qd.SECTOR_SIZE


def test_file_flash_keeps_nor_rules(tmp_path):
    flash = tmp_path / "f.bin"
    flash.write_bytes(b"\xff" * qd.FLASH_SIZE)
    dev = qd.FileFlash(flash)
    dev.program(0, b"\x0f" * 8)
    with pytest.raises(Exception, match="not erased"):
        dev.program(0, b"\x00" * 8)
    with pytest.raises(Exception, match="misaligned"):
        dev.program(4, b"\x00" * 8)
    dev.erase(0)
    assert dev.read(0, 8) == b"\xff" * 8


def _pattern(seed: int, n: int) -> bytes:
    """flashtest.c's fill()."""
    return bytes(((seed + i * 7) ^ (i >> 3)) & 0xFF for i in range(n))


@pytest.mark.external_build
def test_semihosted_flash_follows_the_nor_model(board, tmp_path):
    """flashtest.elf's operations on the flash file give the results and the
    bytes the reference model (NorFlash) gives: refused programs of
    non-erased bytes, misaligned or outside operations, erase to 0xFF."""
    start = random.Random(5).randbytes(qd.FLASH_SIZE)
    flash = tmp_path / "f.bin"
    flash.write_bytes(start)
    proc = subprocess.run(qd.qemu_command(flash, board / "flashtest.elf"), capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ops = re.findall(r"^op (\w) 0x([0-9a-f]+) (\d+) -> (-?\d+)$", proc.stdout, re.M)
    assert len(ops) == 15, proc.stdout
    nor = NorFlash(qd.FLASH_SIZE, qd.SECTOR_SIZE, qd.PROGRAM_SIZE)
    nor.data[:] = start
    seeds = iter((1, 2, 3, 4, 5, 6, 7, 8))
    codes = {"ok": 0, "not erased": -305, "outside": -301}
    for kind, off_hex, length, rc in ops:
        off, n = int(off_hex, 16), int(length)
        try:
            if kind == "P":
                nor.program(off, _pattern(next(seeds), n))
            elif kind == "E":
                nor.erase(off)
            else:
                nor.read(off, n)
            want = codes["ok"]
        except FlashViolation as exc:
            want = codes["not erased"] if "not erased" in str(exc) else codes["outside"]
        assert int(rc) == want, (kind, off_hex, length, rc, str(want))
    assert flash.read_bytes() == bytes(nor.data)


@pytest.mark.external_build
def test_provisioned_v1_boots_and_idles(board, tmp_path):
    run = _boot(board, _flash(board, tmp_path))
    _assert_healthy(run)
    assert run.running_images() == [V1]
    assert run.last_status == qd.EXIT_IDLE
    assert any("imei 356938035643809 server http://127.0.0.1:8080" in ln for ln in run.lines)


@pytest.mark.external_build
def test_unprovisioned_board_says_so(board, tmp_path):
    flash = _flash(board, tmp_path)
    qd.FileFlash(flash).erase(qd.CONFIG_OFF)
    run = _boot(board, flash)
    assert any("no config" in ln for ln in run.lines), run.lines
    assert run.last_status == qd.EXIT_IDLE


@pytest.mark.external_build
def test_clean_update(board, tmp_path):
    """v1 verifies the staged v2, marks it pending, reboots; MCUboot swaps;
    v2 (its own code: the 'v2 feature' line) confirms and stays."""
    flash = _flash(board, tmp_path, "app-v2.signed.bin")
    run = _boot(board, flash)
    _assert_healthy(run)
    assert [b.status for b in run.boots] == [qd.EXIT_REBOOT, qd.EXIT_IDLE]
    assert run.running_images() == [V1, V2]
    assert any("Starting swap using move algorithm" in ln for ln in run.boots[1].lines)
    assert any("v2 feature" in ln for ln in run.boots[1].lines)
    assert not any("v2 feature" in ln for ln in run.boots[0].lines)
    assert "[app] client start: MFOTA_OK" in run.boots[0].lines
    assert "[app] client start_boot (confirm): MFOTA_OK" in run.boots[1].lines
    assert _confirmed(flash)
    # Confirmed: the next power-up boots v2 again without any swap.
    again = _boot(board, flash)
    assert again.running_images() == [V2]
    assert any("Swap type: none" in ln for ln in again.lines)


@pytest.mark.external_build
def test_unconfirmed_v2_is_reverted_and_reported(board, tmp_path):
    flash = _flash(board, tmp_path, "app-v2-noconfirm.signed.bin")
    run = _boot(board, flash)
    _assert_healthy(run)
    assert run.running_images() == [V1, V2_NOCONFIRM, V1]
    assert any("Swap type: revert" in ln for ln in run.boots[2].lines)
    assert any("failed: the bootloader reverted it (result 8)" in ln for ln in run.lines)
    assert run.last_status == qd.EXIT_IDLE
    # v1 stays, and does not try the same image again.
    again = _boot(board, flash)
    assert again.running_images() == [V1]
    assert again.last_status == qd.EXIT_IDLE


@pytest.mark.external_build
def test_image_signed_with_another_key_is_never_marked_pending(board, tmp_path):
    flash = _flash(board, tmp_path, "app-v2-otherkey.signed.bin")
    trailer = qd.SECONDARY_OFF + qd.SECONDARY_SIZE - 48
    run = _boot(board, flash)
    assert run.running_images() == [V1]
    assert any("refused: MFOTA_ERR_MCUBOOT_SIG (result 5)" in ln for ln in run.lines)
    assert qd.FileFlash(flash).read(trailer, 48) == b"\xff" * 48


@pytest.mark.external_build
def test_mcuboot_refuses_an_image_signed_with_another_key(board, tmp_path):
    """Even when something marks it pending, MCUboot checks the signature
    itself and keeps booting v1."""
    flash = _flash(board, tmp_path, "app-v2-otherkey.signed.bin", mark_pending=True)
    run = _boot(board, flash)
    _assert_healthy(run)
    assert any("Image in the secondary slot is not valid" in ln for ln in run.lines)
    assert run.running_images() == [V1]


def _sigtest(board: Path, image: Path) -> tuple[int, str]:
    proc = subprocess.run(qd.qemu_command(image, board / "sigtest.elf"), capture_output=True,
                          text=True, timeout=120)
    return proc.returncode, proc.stdout + proc.stderr


def _flip_payload_byte(image: bytes) -> bytes:
    """Flip one code byte and recompute the hash TLV, so only the signature
    can tell."""
    hdr_size, prot, img_size = struct.unpack_from("<HHI", image, 8)
    data = bytearray(image)
    data[hdr_size + img_size // 2] ^= 0x01
    hashed = hdr_size + img_size + prot
    digest = hashlib.sha256(bytes(data[:hashed])).digest()
    pos, end = hashed + 4, hashed + struct.unpack_from("<H", data, hashed + 2)[0]
    while pos < end:
        kind, length = struct.unpack_from("<HH", data, pos)
        if kind == 0x10:
            data[pos + 4:pos + 4 + length] = digest
        pos += 4 + length
    return bytes(data)


@pytest.mark.external_build
def test_tinycrypt_signature_verifier_on_target(board, tmp_path):
    """Good image, another key, a flipped byte; and (inside sigtest, exit
    status 4 otherwise) malformed DER keys and signatures are refused."""
    good = board / "app-v2.signed.bin"
    flipped = tmp_path / "flipped.bin"
    flipped.write_bytes(_flip_payload_byte(good.read_bytes()))
    mcuboot_info(flipped.read_bytes())  # well-formed: its hash TLV matches
    rc, out = _sigtest(board, good)
    assert rc == 0 and "verify: MFOTA_OK" in out, out
    rc, out = _sigtest(board, board / "app-v2-otherkey.signed.bin")
    assert rc == 1 and "MFOTA_ERR_MCUBOOT_SIG" in out, out
    rc, out = _sigtest(board, flipped)
    assert rc == 1 and "MFOTA_ERR_MCUBOOT_SIG" in out, out


def _confirmed(flash: Path) -> bool:
    """The primary slot's trailer says image_ok (MCUboot keeps the image)."""
    end = qd.PRIMARY_OFF + qd.PRIMARY_SIZE
    dev = qd.FileFlash(flash)
    return dev.read(end - 24, 1) == b"\x01"


def _final_state(board: Path, flash: Path) -> qd.BoardRun:
    """Power up after a cut and boot until idle: must end on confirmed v2 or
    on v1, never unbootable."""
    run = _boot(board, flash, boots=8)
    _assert_healthy(run)
    assert run.last_status == qd.EXIT_IDLE, "\n".join(run.lines)
    final = run.running_images()[-1]
    assert final in (V1, V2), "\n".join(run.lines)
    if final == V2:
        assert _confirmed(flash), "\n".join(run.lines)
    return run


@pytest.mark.external_build
def test_power_cut_at_every_trailer_write(board, tmp_path):
    """A cut at each flash operation of mfota_mcuboot_mark_pending (torn the
    NorFlash way: half the blocks written), with a clean trailer and with a
    stale one that must be erased first; each followed by reboots."""
    template = _flash(board, tmp_path, "app-v2.signed.bin", name="template.bin")
    dev = qd.FileFlash(template)
    img = mcuboot_check(dev, qd.SECONDARY_SIZE, offset=qd.SECONDARY_OFF,
                        slot_size=qd.SECONDARY_SIZE)
    stale = bytearray(dev.read(0, qd.FLASH_SIZE))
    stale[qd.SECONDARY_OFF + qd.SECONDARY_SIZE - 32] = 0x01  # a copy_done left over
    cuts = 0
    for start in (dev.read(0, qd.FLASH_SIZE), bytes(stale)):
        for k in range(10):
            nor = NorFlash(qd.FLASH_SIZE, qd.SECTOR_SIZE, qd.PROGRAM_SIZE)
            nor.data[:] = start
            nor.power_on(cut_after=k)
            try:
                mcuboot_mark_pending(nor, img.total_size, offset=qd.SECONDARY_OFF,
                                     slot_size=qd.SECONDARY_SIZE)
            except PowerCut:
                cuts += 1
                flash = tmp_path / f"cut-{cuts}.bin"
                flash.write_bytes(bytes(nor.data))
                run = _final_state(board, flash)
                assert run.running_images()[-1] == V2  # v1 retries and gets there
                continue
            break
    assert cuts >= 5  # 2 programs on a clean trailer, erase + 2 on a stale one


def _slot_phase(flash: Path, v1: bytes, v2: bytes) -> str:
    dev = qd.FileFlash(flash)
    pri = dev.read(qd.PRIMARY_OFF, len(v2))
    if pri[: len(v1)] == v1:
        return "before swap"
    if pri == v2:
        return "after swap"
    return "mid swap"


@pytest.mark.external_build
def test_random_power_cuts_during_the_update(board, tmp_path):
    """CUTS kills of QEMU (SIGKILL: the flash file keeps what was written)
    during an update, each followed by reboots: always v2 confirmed or v1
    running -- never an unbootable board.

    Most cuts come at a random flash operation (the host counts the traced
    programs/erases and kills QEMU on the chosen one): over the whole update,
    and over v1's own writes (trailer, attempt log).  Every fifth comes at a
    random time instead, wherever the boot is then."""
    template = _flash(board, tmp_path, "app-v2.signed.bin", name="template.bin")
    v1 = (board / "app-v1.signed.bin").read_bytes()
    v2 = (board / "app-v2.signed.bin").read_bytes()
    probe = tmp_path / "probe.bin"
    shutil.copy(template, probe)
    whole = _boot(board, probe, power_cut_after_ops=10**9)  # counts, never cuts
    assert not whole.power_cut and whole.running_images() == [V1, V2]
    total_ops, app_ops = whole.flash_ops, whole.boots[0].flash_ops
    assert app_ops >= 2 and total_ops > 100, (app_ops, total_ops)  # trailer; swap
    span = whole.boots[-1].ended
    rng = random.Random(11)
    phases: dict[str, int] = {}
    cuts = attempts = 0
    while cuts < CUTS and attempts < 2 * CUTS:
        attempts += 1
        flash = tmp_path / f"cut-{attempts}.bin"
        shutil.copy(template, flash)
        kind = attempts % 5
        if kind == 0:
            cut = _boot(board, flash, power_cut_after_ms=rng.uniform(0.0, span) * 1000.0)
        elif kind == 1:
            cut = _boot(board, flash, power_cut_after_ops=rng.randint(1, app_ops))
        else:
            cut = _boot(board, flash, power_cut_after_ops=rng.randint(1, total_ops))
        if not cut.power_cut:
            continue  # a timed cut after the update had finished
        cuts += 1
        phase = _slot_phase(flash, v1, v2)
        if len(cut.boots) == 1:
            phase = "v1 writing the trailer" if cut.boots[0].flash_ops else "v1 booting"
        phases[phase] = phases.get(phase, 0) + 1
        _final_state(board, flash)
    print(f"{cuts} cuts in {attempts} runs ({total_ops} flash ops, {span * 1000:.0f} ms): {phases}")
    assert cuts >= CUTS, phases
    assert phases.get("mid swap", 0) >= CUTS // 3, phases
    assert phases.get("v1 writing the trailer", 0) >= 3, phases


@pytest.mark.external_build
def test_qemu_device_cli(board, tmp_path, capsys):
    """provision, a power cut at a flash operation, then boots to the end."""
    from m2mfota.cli import main

    flash = tmp_path / "cli.bin"
    boot = ["--bootloader", str(board / "bootloader.elf")]
    assert main(["qemu-device", "provision", "--flash", str(flash), "--image",
                 str(board / "app-v1.signed.bin"), "--stage",
                 str(board / "app-v2.signed.bin"), "--imei", "356938035643809"]) == 0
    assert main(["qemu-device", "--flash", str(flash), "--power-cut-after-ops", "40",
                 *boot]) == qd.CLI_POWER_CUT
    out = capsys.readouterr().out
    assert "QEMU killed (power cut)" in out and "[flash]" not in out
    assert main(["qemu-device", "--flash", str(flash), "--power-cut-after-ms", "random",
                 "--seed", "3", *boot]) in (qd.CLI_POWER_CUT, qd.CLI_IDLE)
    assert "power cut after" in capsys.readouterr().out
    assert main(["qemu-device", "--flash", str(flash), "--boots", "8", *boot]) == qd.CLI_IDLE
    out = capsys.readouterr().out
    assert out.rstrip().endswith("QEMU exit 0")
    assert [ln for ln in out.splitlines() if "running image" in ln][-1].endswith(V2)
    assert _confirmed(flash)


@pytest.mark.parametrize("args, message", [
    (["provision", "--flash", "{tmp}/x.bin"], "provision needs --image"),
    (["provision", "--flash", "{tmp}/x.bin", "--image", "{tmp}/missing.bin"], "missing.bin"),
    (["--flash", "{tmp}/x.bin", "--bootloader", "{tmp}/missing.elf"], "no bootloader ELF"),
    (["--flash", "{tmp}/x.bin"], "no bootloader"),
    (["provision", "--flash", "{tmp}/x.bin", "--image", "{tmp}/v1.bin", "--imei", "1" * 17],
     "IMEI must be at most 16 bytes"),
])
def test_qemu_device_cli_user_mistakes(tmp_path, capsys, monkeypatch, args, message):
    """A user's mistake is one line on stderr and exit status 2, no traceback."""
    from m2mfota.cli import main

    monkeypatch.delenv("M2MFOTA_BOARD_DIR", raising=False)
    (tmp_path / "v1.bin").write_bytes(b"\0" * 64)
    rc = main(["qemu-device", *[a.replace("{tmp}", str(tmp_path)) for a in args]])
    err = capsys.readouterr().err
    assert rc == qd.CLI_FAILED
    assert message in err and "Traceback" not in err
