"""The QEMU mps2-an386 board: real MCUboot (bootutil from MCUBOOT_DIR) and the
firmware app on a semihosted NOR flash file, booted and rebooted by
``m2mfota qemu-device`` (python/m2mfota/qemu_device.py).

The board is built once per module (embedded_port/board, cross, MinSizeRel);
each test provisions its own flash file.  The update tests run the whole
chain: the KPN Things emulator (one per module, each test its own device),
the SARA-R4 modem simulator on the board's UART1, the app downloading
through the modem into the secondary slot, its own signature check, the
reboot, MCUboot's swap, the confirm (or the revert) and the report the
emulator stores.  Tests of MCUboot itself (another key, torn trailers) still
stage an image from the host.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import random
import re
import struct
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest
from cbuild import ROOT, cmake_build
from client_harness import api, upload
from conftest import IN_CI, require_tool
from emulator_harness import ServerThread

from m2mfota import qemu_device as qd
from m2mfota.flash import (
    FlashViolation,
    NorFlash,
    PowerCut,
    mcuboot_check,
    mcuboot_info,
    mcuboot_mark_pending,
)
from m2mfota.modem_sim import ModemSim, RunningSim

V1, V2, V2_NOCONFIRM = "1.0.0+0", "2.0.0+0", "2.0.0+1"
CUTS = 30
SECRET = "s3cret"
_imeis = itertools.count(1)


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


@pytest.fixture(scope="module")
def emu():
    """The KPN Things emulator (aiohttp + SQLite in memory) on 127.0.0.1."""
    with ServerThread() as server:
        yield server


@pytest.fixture(scope="module")
def firmware_ids(board, emu) -> dict[str, int]:
    """Each signed update uploaded once: file name -> firmware id."""
    versions = {"app-v2.signed.bin": "2.0.0", "app-v2-noconfirm.signed.bin": "2.0.0%2B1",
                "app-v2-otherkey.signed.bin": "2.0.0"}
    return {name: upload(emu, (board / name).read_bytes(), ver)["id"]
            for name, ver in versions.items()}


def _device(emu, firmware_ids, update: str = "app-v2.signed.bin") -> str:
    """A new device on the emulator whose desired firmware is ``update``."""
    imei = f"3569380356{next(_imeis):05d}"
    api(emu, "POST", "/api/devices", {"imei": imei, "secret": SECRET})
    api(emu, "PUT", f"/api/devices/{imei}/desired", {"firmware_id": firmware_ids[update]})
    return imei


def _net_flash(board: Path, tmp_path: Path, emu, imei: str, name: str = "flash.bin") -> Path:
    """A fresh board: config (this IMEI, the emulator's URL) and v1; nothing staged."""
    flash = tmp_path / name
    qd.provision(flash, (board / "app-v1.signed.bin").read_bytes(), imei=imei, secret=SECRET,
                 server=emu.base)
    return flash


@contextmanager
def _modem(faults: str = "", **kw):
    with RunningSim(ModemSim(faults=faults, seed=3, **kw), max_lifetime=600) as sim:
        yield sim


def _net_boot(board: Path, flash: Path, sim: RunningSim, **kw) -> qd.BoardRun:
    kw.setdefault("boot_timeout", 400.0)  # above the app's own 300 s cycle bound
    return qd.run_board(flash, board / "bootloader.elf", modem=("127.0.0.1", sim.port), **kw)


def _device_info(emu, imei: str) -> dict:
    return api(emu, "GET", f"/api/devices/{imei}")


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
def test_clean_update(board, emu, firmware_ids, tmp_path):
    """v1 downloads v2 from the emulator through the modem, checks it (hash
    and ECDSA signature), marks it pending, asks for a reboot; MCUboot swaps;
    v2 (its own code: the 'v2 feature' line) confirms and reports 2.0.0, and
    the emulator marks the update done."""
    imei = _device(emu, firmware_ids)
    flash = _net_flash(board, tmp_path, emu, imei)
    v2 = (board / "app-v2.signed.bin").read_bytes()
    with _modem() as sim:
        run = _net_boot(board, flash, sim)
        again = _net_boot(board, flash, sim)
        stats = sim.sim.stats
    _assert_healthy(run)
    assert [b.status for b in run.boots] == [qd.EXIT_REBOOT, qd.EXIT_IDLE], "\n".join(run.lines)
    assert run.running_images() == [V1, V2]
    assert "[app] modem on UART1 answers: 2 sockets" in run.boots[0].lines
    assert "[app] client start: MFOTA_OK" in run.boots[0].lines
    assert any("state updating" in ln for ln in run.boots[0].lines)
    assert any("Starting swap using move algorithm" in ln for ln in run.boots[1].lines)
    assert any("v2 feature" in ln for ln in run.boots[1].lines)
    assert not any("v2 feature" in ln for ln in run.boots[0].lines)
    assert "[app] client start_boot (confirm): MFOTA_OK" in run.boots[1].lines
    assert _confirmed(flash)
    # The image came over the simulated air, and v1 now waits in the secondary slot.
    assert stats.air_bytes_down >= len(v2) and stats.connects >= 3
    info = _device_info(emu, imei)
    assert info["update"]["status"] == "done", info
    assert info["reported"]["firmware"] == "2.0.0" and info["reported"]["result"] == 1, info
    # Confirmed: the next power-up boots v2 again without any swap.
    assert again.running_images() == [V2]
    assert any("Swap type: none" in ln for ln in again.lines)
    assert again.last_status == qd.EXIT_IDLE


@pytest.mark.external_build
def test_unconfirmed_v2_is_reverted_and_reported(board, emu, firmware_ids, tmp_path):
    """A v2 that never confirms: MCUboot reverts it at the next boot, and v1
    reports the failed update to the emulator (LwM2M /5 result 8) instead
    of trying the same image again."""
    imei = _device(emu, firmware_ids, "app-v2-noconfirm.signed.bin")
    flash = _net_flash(board, tmp_path, emu, imei)
    with _modem() as sim:
        run = _net_boot(board, flash, sim)
    _assert_healthy(run)
    assert run.running_images() == [V1, V2_NOCONFIRM, V1], "\n".join(run.lines)
    assert any("Swap type: revert" in ln for ln in run.boots[2].lines)
    assert any("the bootloader reverted it (result 8)" in ln for ln in run.boots[2].lines)
    assert any("result update_failed" in ln for ln in run.boots[2].lines)
    assert run.last_status == qd.EXIT_IDLE
    info = _device_info(emu, imei)
    assert info["reported"]["firmware"] == "1.0.0" and info["reported"]["result"] == 8, info
    assert info["update"]["status"] != "done", info
    # v1 stays: the image it was offered again is refused before any trailer write.
    trailer = qd.SECONDARY_OFF + qd.SECONDARY_SIZE - 48
    assert qd.FileFlash(flash).read(trailer + 32, 16) != bytes.fromhex(
        "77c295f360d2ef7f3552500f2cb67980")  # no new test request (MCUboot's magic)


@pytest.mark.external_build
def test_image_signed_with_another_key_is_never_marked_pending(board, emu, firmware_ids,
                                                               tmp_path):
    """The download completes, but the app's own signature check (tinycrypt,
    the trusted key in the MCUboot port) refuses it: no trailer, no reboot,
    and the emulator gets result 5 (integrity check failure)."""
    imei = _device(emu, firmware_ids, "app-v2-otherkey.signed.bin")
    flash = _net_flash(board, tmp_path, emu, imei)
    trailer = qd.SECONDARY_OFF + qd.SECONDARY_SIZE - 48
    with _modem() as sim:
        run = _net_boot(board, flash, sim)
        downloaded = sim.sim.stats.air_bytes_down
    assert [b.status for b in run.boots] == [qd.EXIT_IDLE], "\n".join(run.lines)
    assert run.running_images() == [V1]
    assert "[app] downloaded image refused: MFOTA_ERR_MCUBOOT_SIG" in run.lines
    assert downloaded >= (board / "app-v2-otherkey.signed.bin").stat().st_size
    assert qd.FileFlash(flash).read(trailer, 48) == b"\xff" * 48
    info = _device_info(emu, imei)
    assert info["reported"]["result"] == 5 and info["reported"]["error"] == "image_signature", info
    assert info["reported"]["firmware"] == "1.0.0"


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
    stale one that must be erased first; each followed by reboots (no
    modem: whatever MCUboot makes of the torn trailer, the board boots v1,
    or v2 which confirms itself).  The network retry after a trailer cut is
    in test_random_power_cuts_during_the_update."""
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
                _final_state(board, flash)  # offline: v1 cannot fetch it again
                continue
            break
    assert cuts >= 5  # 2 programs on a clean trailer, erase + 2 on a stale one


def _cut_phase(boot: qd.Boot) -> str:
    """Where a power cut fell: the operation the firmware was about to do
    (traced), in the bootloader or in which app."""
    if not any("[boot] starting image" in ln for ln in boot.lines):
        swapping = any("Starting swap" in ln or "Swap type: test" in ln for ln in boot.lines)
        return "MCUboot swap" if swapping and boot.last_op else "MCUboot start"
    images = [ln for ln in boot.lines if " running image " in ln]
    if not boot.last_op or not images:
        # Cut before the app named its image (reading the primary slot's
        # header is a traced flash operation too).
        return "app start"
    off = int(boot.last_op.split()[1], 16)
    image = images[-1].rsplit(" ", 1)[1]
    if image != V1:
        return "v2 confirm"
    if off >= qd.SECONDARY_OFF + qd.SECONDARY_SIZE - qd.SECTOR_SIZE:
        return "v1 trailer"
    if qd.STATE_OFF <= off < qd.STATE_OFF + qd.STATE_SIZE:
        return "v1 attempt log"
    return "v1 download"


def _trailer_or_log(op: str) -> bool:
    """A program of the secondary slot's trailer sector or of the attempt log."""
    kind, off = op.split()
    at = int(off, 16)
    return kind == "P" and (at >= qd.SECONDARY_OFF + qd.SECONDARY_SIZE - qd.SECTOR_SIZE
                            or qd.STATE_OFF <= at < qd.STATE_OFF + qd.STATE_SIZE)


def _nth_match(pred, n: int):
    """A cut_when predicate true at the n-th operation ``pred`` accepts."""
    seen = 0

    def check(op: str) -> bool:
        nonlocal seen
        seen += pred(op)
        return seen >= n

    return check


def _net_final(board: Path, flash: Path, sim: RunningSim) -> str:
    """Power up after the last cut and boot until the app idles: it must end
    on confirmed v2 or on v1, never unbootable.  The final image."""
    run = _net_boot(board, flash, sim, boots=8)
    _assert_healthy(run)
    assert run.last_status == qd.EXIT_IDLE, "\n".join(run.lines)
    final = run.running_images()[-1]
    assert final in (V1, V2), "\n".join(run.lines)
    if final == V2:
        assert _confirmed(flash), "\n".join(run.lines)
    return final


@pytest.mark.external_build
def test_random_power_cuts_during_the_update(board, emu, firmware_ids, tmp_path):
    """At least CUTS kills of QEMU (SIGKILL: the flash file keeps what was
    written) during network updates, each followed by reboots: every update
    ends with v2 confirmed (and the emulator done) or v1 running -- never an
    unbootable board.

    Cuts are chained: one update (one device on the emulator) takes cut after
    cut, each at a random flash operation counted from the reboot before it
    (the host counts the traced programs/erases), until it finishes; a cut
    mid-download resumes from the journal (the emulator resends the same URL).
    The first cut of every other chain falls on v1 programming its trailer or
    its attempt-log record (the host watches the traced offsets), which random
    cuts rarely hit."""
    rng = random.Random(11)
    with _modem() as sim:
        imei = _device(emu, firmware_ids)
        probe = _net_boot(board, _net_flash(board, tmp_path, emu, imei, "probe.bin"), sim,
                          power_cut_after_ops=10**9)  # counts, never cuts
        assert not probe.power_cut and probe.running_images() == [V1, V2], probe.lines
        v1_ops, total_ops = probe.boots[0].flash_ops, probe.flash_ops
        assert v1_ops > 50 and total_ops > v1_ops + 100, (v1_ops, total_ops)
        phases: dict[str, int] = {}
        finals: dict[str, int] = {}
        cuts = chains = 0
        while (cuts < CUTS or chains < 3) and chains < 12:
            chains += 1
            imei = _device(emu, firmware_ids)
            flash = _net_flash(board, tmp_path, emu, imei, f"chain-{chains}.bin")
            for link in range(12):
                if link == 0 and chains % 2 == 1:
                    # v1 programming its trailer or its attempt-log record
                    run = _net_boot(board, flash, sim,
                                    cut_when=_nth_match(_trailer_or_log, rng.randint(1, 3)))
                else:
                    run = _net_boot(board, flash, sim,
                                    power_cut_after_ops=rng.randint(1, total_ops // 8))
                _assert_healthy(run)
                if not run.power_cut:
                    break
                cuts += 1
                phase = _cut_phase(run.boots[-1])
                phases[phase] = phases.get(phase, 0) + 1
            final = _net_final(board, flash, sim)
            finals[final] = finals.get(final, 0) + 1
            if final == V2:
                info = _device_info(emu, imei)
                assert info["update"]["status"] == "done", info
    print(f"{cuts} cuts in {chains} updates ({v1_ops} flash ops in v1, {total_ops} in all): "
          f"{phases}; final images {finals}")
    assert cuts >= CUTS, phases
    assert phases.get("v1 download", 0) >= 5, phases
    assert phases.get("MCUboot swap", 0) >= 5, phases
    assert phases.get("v1 trailer", 0) + phases.get("v1 attempt log", 0) >= 2, phases
    assert finals.get(V2, 0) >= chains // 2, finals  # most updates get there


@pytest.mark.external_build
def test_modem_faults_during_the_update(board, emu, firmware_ids, tmp_path):
    """Every fault of the modem simulator in one update: URCs inside
    responses, responses split at random bytes, +CME ERROR on a connect and
    on a write, a remote close mid-download, a modem silent for 2 s, and a
    UART paced at 115200 baud.  The engine's retries and the driver's
    recovery (probe, drain, reconnect, resume) still end with v2 confirmed
    and the emulator done."""
    imei = _device(emu, firmware_ids)
    flash = _net_flash(board, tmp_path, emu, imei)
    faults = "urc,split,cme-connect=1,cme-write=1,close-after=30000,silent=2@40"
    with _modem(faults, baud=115200) as sim:
        run = _net_boot(board, flash, sim)
        seen = dict(sim.sim.stats.faults)
    _assert_healthy(run)
    assert run.running_images() == [V1, V2], "\n".join(run.lines)
    assert set(seen) == {"urc", "split", "cme-connect", "cme-write", "close-after", "silent"}, seen
    m = re.search(r"\[app\] modem: (\d+) commands, (\d+) timeouts", "\n".join(run.boots[0].lines))
    assert m and int(m.group(2)) >= 1, run.boots[0].lines  # the silence was noticed
    assert _confirmed(flash)
    info = _device_info(emu, imei)
    assert info["update"]["status"] == "done" and info["reported"]["firmware"] == "2.0.0", \
        (info, run.boots[-1].lines)


@pytest.mark.external_build
def test_no_modem_means_offline(board, tmp_path):
    """A board whose UART1 has nothing attached: the probe times out and the
    client runs on the offline transport (its uplink fails), then idles."""
    run = _boot(board, _flash(board, tmp_path))
    assert any("no modem on UART1 (MFOTA_ERR_DL_TIMEOUT): offline" in ln for ln in run.lines)
    assert any("error MFOTA_ERR_CLIENT_UPLINK" in ln for ln in run.lines), run.lines
    assert run.last_status == qd.EXIT_IDLE


@pytest.mark.external_build
def test_qemu_device_cli(board, emu, firmware_ids, tmp_path, capsys):
    """provision, a power cut at a flash operation mid-download, then boots
    with --modem to the end: v2 confirmed."""
    from m2mfota.cli import main

    imei = _device(emu, firmware_ids)
    flash = tmp_path / "cli.bin"
    boot = ["--bootloader", str(board / "bootloader.elf")]
    assert main(["qemu-device", "provision", "--flash", str(flash), "--image",
                 str(board / "app-v1.signed.bin"), "--imei", imei, "--secret", SECRET,
                 "--server", emu.base]) == 0
    with _modem() as sim:
        modem = ["--modem", f"127.0.0.1:{sim.port}"]
        assert main(["qemu-device", "--flash", str(flash), "--power-cut-after-ops", "40",
                     *modem, *boot]) == qd.CLI_POWER_CUT
        out = capsys.readouterr().out
        assert "QEMU killed (power cut)" in out and "[flash]" not in out
        assert "modem on UART1 answers" in out
        assert main(["qemu-device", "--flash", str(flash), "--boots", "8", *modem,
                     *boot]) == qd.CLI_IDLE
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
    (["--flash", "{tmp}/x.bin", "--modem", "5555"], "--modem wants HOST:PORT"),
    (["--flash", "{tmp}/x.bin", "--modem", "10.1.2.3:5555"], "is not a 127.x.x.x address"),
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


@pytest.mark.external_build
def test_qemu_demo_end_to_end(board, tmp_path, capsys):
    """`m2mfota qemu-demo`: emulator, modem simulator and QEMU together; exit 0
    only when the emulator shows the board done on 2.0.0."""
    from m2mfota.cli import main

    rc = main(["qemu-demo", "--board-dir", str(board), "--link", "none", "--workdir",
               str(tmp_path / "work")])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "the board runs 2.0.0, confirmed" in out
    assert "1.0.0+0 → 2.0.0+0" in out
    assert "progress" in out or "state downloading" in out
    assert (tmp_path / "work" / "flash.bin").is_file()


@pytest.mark.external_build
def test_qemu_demo_fails_when_the_update_does_not_complete(board, tmp_path, capsys):
    """An update signed with another key: the board refuses it, the demo says
    so and exits 1."""
    from m2mfota.cli import main

    rc = main(["qemu-demo", "--board-dir", str(board), "--link", "none", "--update",
               str(board / "app-v2-otherkey.signed.bin")])
    out = capsys.readouterr().out
    assert rc == 1, out
    assert "the update did not complete" in out and "Traceback" not in out


@pytest.mark.parametrize("args, message", [
    ([], "no board build"),
    (["--board-dir", "{tmp}"], "bootloader.elf: missing"),
    (["--board-dir", "{board}", "--update", "{tmp}/none.bin"], "no such update image"),
    (["--board-dir", "{board}", "--faults", "bogus"], "bad fault 'bogus'"),
    (["--board-dir", "{board}", "--link", "5g"], "invalid choice"),
])
def test_qemu_demo_user_mistakes(tmp_path, capsys, monkeypatch, args, message):
    """One line on stderr, exit status 1, no traceback (the CLI's error path)."""
    from m2mfota.cli import main

    monkeypatch.delenv("M2MFOTA_BOARD_DIR", raising=False)
    fake = tmp_path / "board"
    fake.mkdir()
    for name in ("bootloader.elf", "app-v1.signed.bin", "app-v2.signed.bin"):
        (fake / name).write_bytes(b"\0")
    argv = [a.replace("{tmp}", str(tmp_path)).replace("{board}", str(fake)) for a in args]
    with pytest.raises(SystemExit) if message == "invalid choice" else _nothing() as exited:
        rc = main(["qemu-demo", *argv])
    err = capsys.readouterr().err
    if exited is not None:
        rc = exited.value.code
    assert rc == 1, err
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err


@contextmanager
def _nothing():
    yield None
