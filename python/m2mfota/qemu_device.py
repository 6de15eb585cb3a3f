"""``m2mfota qemu-device``: run the QEMU mps2-an386 board (MCUboot + firmware app).

The board's NOR flash is a host file the firmware reaches through semihosting
(``embedded_port/board/semihost_flash.c``).  Killing QEMU is a power cut;
starting it again is a reboot, and the file keeps every finished flash
operation.  The reboot protocol is the QEMU exit status
(``embedded_port/board/board_layout.h``):

====  ==================================================================
0     the app has nothing more to do (idle): stop
3     the app asks for a reset (an update is pending): start QEMU again
2     a CPU fault (startup.S)
4     MCUboot found no bootable image
5     the flash file could not be opened
====  ==================================================================

The app reaches the network through a SARA-R4 modem on the board's UART1:
``--modem HOST:PORT`` makes QEMU connect that UART to ``m2mfota modem-sim``
(``qemu_command``); without it the app finds no modem and runs offline.

``provision`` writes a fresh flash file: config area (IMEI, secret, server),
v1 in the primary slot and, optionally, an image in the secondary slot
(``--stage``, as a finished download leaves it; for tests of MCUboot
itself) and with ``--mark-pending`` the MCUboot trailer too, written by the
project's own ``mfota_mcuboot_mark_pending``.
"""

from __future__ import annotations

import argparse
import os
import random
import select
import shutil
import signal
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# Flash layout: the same numbers as embedded_port/board/board_layout.h (a
# test checks that they agree).
SECTOR_SIZE = 0x1000
PROGRAM_SIZE = 8
CONFIG_OFF = 0x00000
CONFIG_SIZE = 0x01000
JOURNAL_OFF = 0x01000
JOURNAL_SIZE = 0x02000
STATE_OFF = 0x03000
STATE_SIZE = 0x01000
PRIMARY_OFF = 0x04000
PRIMARY_SIZE = 0x21000
SECONDARY_OFF = 0x25000
SECONDARY_SIZE = 0x20000
FLASH_SIZE = 0x45000

CONFIG_MAGIC = 0x4643464D
CONFIG_IMEI_MAX = 16
CONFIG_SECRET_MAX = 64
CONFIG_SERVER_MAX = 128

EXIT_IDLE = 0
EXIT_FAULT = 2
EXIT_REBOOT = 3
EXIT_NO_IMAGE = 4
EXIT_FLASH = 5

# CLI exit statuses.
CLI_IDLE, CLI_POWER_CUT, CLI_FAILED, CLI_BOOTS_EXHAUSTED = 0, 1, 2, 3


class BoardError(Exception):
    """A user-facing problem: missing tool or file, bad argument."""


def config_record(imei: str, secret: str, server: str) -> bytes:
    """The config area's record: magic, format 1, NUL-padded fields, CRC-32."""
    fields = ((imei, CONFIG_IMEI_MAX, "IMEI"), (secret, CONFIG_SECRET_MAX, "secret"),
              (server, CONFIG_SERVER_MAX, "server"))
    body = CONFIG_MAGIC.to_bytes(4, "little") + (1).to_bytes(4, "little")
    for value, cap, name in fields:
        raw = value.encode()
        if len(raw) > cap or b"\0" in raw:
            raise BoardError(f"{name} must be at most {cap} bytes, without NUL")
        body += raw.ljust(cap, b"\0")
    return body + zlib.crc32(body).to_bytes(4, "little")


class FileFlash:
    """The flash file as a :class:`m2mfota.flash.FlashDevice`, with the NOR
    rules of :class:`m2mfota.flash.NorFlash` (whole-sector erase to 0xFF;
    programming a byte that is not erased is refused)."""

    size = FLASH_SIZE
    sector_size = SECTOR_SIZE
    program_size = PROGRAM_SIZE
    erased_value = 0xFF

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if self.path.stat().st_size != FLASH_SIZE:
            raise BoardError(f"{path}: not a board flash file ({FLASH_SIZE} bytes)")

    def read(self, offset: int, size: int) -> bytes:
        with open(self.path, "rb") as f:
            f.seek(offset)
            return f.read(size)

    def program(self, offset: int, data: bytes) -> None:
        from m2mfota.flash import FlashViolation

        if offset % PROGRAM_SIZE or len(data) % PROGRAM_SIZE or offset + len(data) > FLASH_SIZE:
            raise FlashViolation(f"misaligned or outside program at {offset} (+{len(data)})")
        if self.read(offset, len(data)).count(0xFF) != len(data):
            raise FlashViolation(f"programming bytes that are not erased at {offset}")
        with open(self.path, "r+b") as f:
            f.seek(offset)
            f.write(data)

    def erase(self, offset: int) -> None:
        from m2mfota.flash import FlashViolation

        if offset % SECTOR_SIZE or not 0 <= offset < FLASH_SIZE:
            raise FlashViolation(f"misaligned or outside erase at {offset}")
        with open(self.path, "r+b") as f:
            f.seek(offset)
            f.write(b"\xff" * SECTOR_SIZE)

    def write_erased(self, offset: int, size: int, data: bytes) -> None:
        """Erase [offset, offset+size) and program ``data`` at its start."""
        if len(data) > size:
            raise BoardError(f"{len(data)} bytes do not fit a {size}-byte area")
        for s in range(offset, offset + size, SECTOR_SIZE):
            self.erase(s)
        pad = (-len(data)) % PROGRAM_SIZE
        if data:
            self.program(offset, data + b"\xff" * pad)


def provision(flash: Path, image: bytes, *, imei: str, secret: str, server: str,
              stage: bytes | None = None, mark_pending: bool = False) -> None:
    """Write a fresh flash file: config, ``image`` (signed v1) in the primary
    slot, optionally ``stage`` in the secondary slot (and its trailer)."""
    record = config_record(imei, secret, server)
    flash = Path(flash)
    flash.write_bytes(b"\xff" * FLASH_SIZE)
    dev = FileFlash(flash)
    dev.write_erased(CONFIG_OFF, CONFIG_SIZE, record)
    dev.write_erased(PRIMARY_OFF, PRIMARY_SIZE, image)
    if stage is not None:
        stage_update(flash, stage, mark_pending=mark_pending)


def stage_update(flash: Path, image: bytes, *, mark_pending: bool = False) -> None:
    """Put ``image`` in the secondary slot as a finished download would; with
    ``mark_pending``, also ask MCUboot to test it (mfota_mcuboot_mark_pending,
    without any signature check: the bootloader must refuse a bad one)."""
    dev = FileFlash(flash)
    dev.write_erased(SECONDARY_OFF, SECONDARY_SIZE, image)
    if mark_pending:
        from m2mfota.flash import mcuboot_check, mcuboot_mark_pending

        img = mcuboot_check(dev, len(image), offset=SECONDARY_OFF, slot_size=SECONDARY_SIZE)
        mcuboot_mark_pending(dev, img.total_size, offset=SECONDARY_OFF,
                             slot_size=SECONDARY_SIZE)


@dataclass
class Boot:
    """One QEMU run: its exit status (None when killed) and console lines."""

    status: int | None
    lines: list[str] = field(default_factory=list)
    started: float = 0.0  # seconds after the run's start
    ended: float = 0.0
    flash_ops: int = 0  # traced flash programs/erases (op-count cuts only)
    last_op: str = ""  # the last traced operation, "P 0x25000" (op-count cuts only)
    op_log: list[str] = field(default_factory=list)  # every traced operation, in order
    op_cut: bool = False  # killed at a traced operation (a power cut, not a timeout)


@dataclass
class BoardRun:
    boots: list[Boot] = field(default_factory=list)
    power_cut: bool = False
    flash_ops: int = 0  # traced flash programs/erases (only with an op-count cut)

    @property
    def lines(self) -> list[str]:
        return [line for b in self.boots for line in b.lines]

    @property
    def last_status(self) -> int | None:
        return self.boots[-1].status if self.boots else None

    def running_images(self) -> list[str]:
        """The image version each app boot reported, in order."""
        mark = " running image "
        return [line.split(mark, 1)[1].strip() for line in self.lines if mark in line]


def parse_modem(text: str) -> tuple[str, int]:
    """``HOST:PORT`` of the modem simulator; the host must be a loopback
    IPv4 literal (QEMU connects the board's UART there)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise BoardError(f"--modem wants HOST:PORT, not {text!r}")
    if not host.startswith("127."):
        raise BoardError(f"--modem: {host!r} is not a 127.x.x.x address (the simulator "
                         "runs on this machine)")
    return host, int(port)


def qemu_command(flash: Path, bootloader: Path, qemu: str = "qemu-system-arm",
                 trace: bool = False, modem: tuple[str, int] | None = None) -> list[str]:
    """The QEMU command line of one boot; ``trace`` asks the firmware to print
    a ``[flash] P|E offset`` line before each flash program/erase.

    UART0 (QEMU's first ``-serial``) stays unconnected: the console is
    semihosting.  UART1 (the second ``-serial``, 0x40005000) is the modem's:
    with ``modem`` QEMU connects it as a TCP client to the simulator, else it
    has no backend and the app finds no modem."""
    # QEMU's option parser doubles commas inside a value.
    arg = str(Path(flash).resolve()).replace(",", ",,") + (" trace" if trace else "")
    uart1 = "none" if modem is None else f"tcp:{modem[0]}:{modem[1]},nodelay=on"
    return [qemu, "-M", "mps2-an386", "-nographic", "-monitor", "none", "-serial", "none",
            "-serial", uart1,
            "-semihosting-config", f"enable=on,target=native,arg={arg}",
            "-kernel", str(bootloader)]


FLASH_TRACE = "[flash] "


def _one_boot(cmd: list[str], deadline: float, ops_left: int | None, start: float,
              on_line: Callable[[str], None] | None = None,
              cut_when: Callable[[str], bool] | None = None) -> tuple[Boot, int, bool]:
    """Run QEMU until it exits, ``deadline`` passes or ``ops_left`` traced
    flash operations were seen; then SIGKILL it.  Returns the boot, the
    flash operations seen and whether it was killed."""
    began = time.monotonic() - start
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    buf, lines, ops, killed, last_op, op_cut = b"", [], 0, False, "", False
    op_log: list[str] = []
    while True:
        remaining = deadline - time.monotonic()
        ready = select.select([fd], [], [], max(0.0, remaining))[0] if remaining > 0 else []
        if not ready:
            proc.send_signal(signal.SIGKILL)
            killed = True
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        buf += chunk
        *complete, buf = buf.split(b"\n")
        for raw in complete:
            line = raw.decode(errors="replace")
            if line.startswith(FLASH_TRACE):
                ops += 1
                last_op = line[len(FLASH_TRACE):].strip()
                op_log.append(last_op)
                if (ops_left is not None and ops >= ops_left) or (
                        cut_when is not None and cut_when(last_op)):
                    proc.send_signal(signal.SIGKILL)
                    killed = op_cut = True
            else:
                lines.append(line)
                if on_line is not None:
                    on_line(line)
        if killed:
            break
    proc.stdout.close()
    status = proc.wait()
    if buf and not buf.startswith(FLASH_TRACE.encode()):
        lines.append(buf.decode(errors="replace"))
    boot = Boot(None if killed else status, lines, began, time.monotonic() - start, ops, last_op,
                op_log, op_cut)
    return boot, ops, killed


def run_board(flash: Path, bootloader: Path, *, boots: int = 8,
              power_cut_after_ms: float | None = None, power_cut_after_ops: int | None = None,
              boot_timeout: float = 60.0, qemu: str = "qemu-system-arm",
              echo: bool = False, modem: tuple[str, int] | None = None,
              on_line: Callable[[int, str], None] | None = None,
              cut_when: Callable[[str], bool] | None = None) -> BoardRun:
    """Boot the board until the app idles, fails, or ``boots`` boots were
    used.  A power cut (SIGKILL of QEMU) comes ``power_cut_after_ms`` after
    the first boot started, or as soon as the host has seen
    ``power_cut_after_ops`` flash programs/erases (counted over all boots,
    bootloader and app), whichever boot is running then.  ``modem``
    (host, port) wires the board's UART1 to a modem simulator; ``on_line``
    gets (boot number from 1, console line) as each line arrives.
    ``cut_when`` (tests) gets each traced operation ("P 0x00044ff0") and
    cuts the power when it returns True."""
    if not Path(bootloader).is_file():
        raise BoardError(f"no bootloader ELF at {bootloader}")
    FileFlash(flash)  # size check
    run = BoardRun()
    start = time.monotonic()
    cut_at = None if power_cut_after_ms is None else start + power_cut_after_ms / 1000.0
    ops_left = power_cut_after_ops
    tracing = power_cut_after_ops is not None or cut_when is not None
    cmd = qemu_command(flash, bootloader, qemu, trace=tracing, modem=modem)
    for n in range(boots):
        boot_end = time.monotonic() + boot_timeout
        deadline = boot_end if cut_at is None else min(cut_at, boot_end)
        line_cb = None if on_line is None else (lambda text, n=n: on_line(n + 1, text))
        boot, ops, killed = _one_boot(cmd, deadline, ops_left, start, line_cb, cut_when)
        run.boots.append(boot)
        run.flash_ops += ops
        if ops_left is not None:
            ops_left -= ops
        _echo(echo, n, boot)
        if killed:
            run.power_cut = (cut_at is not None and time.monotonic() >= cut_at) or (
                ops_left is not None and ops_left <= 0) or boot.op_cut
            if not run.power_cut:
                boot.lines.append(f"[host] boot timed out after {boot_timeout} s")
            return run
        if boot.status != EXIT_REBOOT:
            break
    return run


def _echo(echo: bool, n: int, boot: Boot) -> None:
    if not echo:
        return
    for line in boot.lines:
        print(f"boot {n + 1}: {line}")
    status = "killed (power cut)" if boot.status is None else f"exit {boot.status}"
    print(f"boot {n + 1}: QEMU {status}")


def _default_bootloader() -> Path | None:
    board = os.environ.get("M2MFOTA_BOARD_DIR")
    return Path(board) / "bootloader.elf" if board else None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Run the QEMU mps2-an386 board (MCUboot + app) on a flash file, restarting it on "
        "every reboot request; or `provision` a fresh flash file.")
    parser.add_argument("action", nargs="?", choices=("run", "provision"), default="run",
                        help="run (default): boot the board; provision: write a flash file")
    parser.add_argument("--flash", type=Path, required=True, help="the board's flash file")
    parser.add_argument("--bootloader", type=Path, default=_default_bootloader(),
                        help="bootloader ELF (default: $M2MFOTA_BOARD_DIR/bootloader.elf)")
    parser.add_argument("--boots", type=int, default=8, help="at most this many boots")
    parser.add_argument("--power-cut-after-ms", default=None,
                        help="kill QEMU this many ms after the start, or 'random'")
    parser.add_argument("--power-cut-after-ops", type=int, default=None,
                        help="kill QEMU once the firmware has done this many flash "
                             "programs/erases (traced on the console)")
    parser.add_argument("--seed", type=int, default=None, help="seed for a random power cut")
    parser.add_argument("--qemu", default="qemu-system-arm", help="the QEMU binary")
    parser.add_argument("--modem", metavar="HOST:PORT", default=None,
                        help="connect the board's UART1 to a modem simulator there "
                             "(m2mfota modem-sim); default: no modem (the app runs offline)")
    parser.add_argument("--boot-timeout", type=float, default=60.0,
                        help="kill a boot that runs longer than this many seconds [%(default)s]")
    parser.add_argument("--image", type=Path, help="provision: signed v1 for the primary slot")
    parser.add_argument("--stage", type=Path,
                        help="provision: signed image left in the secondary slot (MCUboot tests)")
    parser.add_argument("--mark-pending", action="store_true",
                        help="provision: also write the staged image's MCUboot trailer")
    parser.add_argument("--imei", default="123456789012345",
                        help="IMEI written to the config area [%(default)s]")
    parser.add_argument("--secret", default="device-secret",
                        help="shared secret for Things-Message-Token [%(default)s]")
    parser.add_argument("--server", default="http://127.0.0.1:8080",
                        help="ingestion endpoint base URL [%(default)s]")


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except (BoardError, OSError) as exc:
        # exit status 1 means "power cut" here (docs/board.md), so a failure is 2
        print(f"m2mfota qemu-device: error: {exc}", file=sys.stderr)
        return CLI_FAILED


def _run(args: argparse.Namespace) -> int:
    if args.action == "provision":
        if args.image is None:
            raise BoardError("provision needs --image (the signed v1)")
        stage = args.stage.read_bytes() if args.stage else None
        provision(args.flash, args.image.read_bytes(), imei=args.imei, secret=args.secret,
                  server=args.server, stage=stage, mark_pending=args.mark_pending)
        print(f"provisioned {args.flash}")
        return CLI_IDLE
    modem = None if args.modem is None else parse_modem(args.modem)
    if args.bootloader is None:
        raise BoardError("no bootloader: pass --bootloader or set M2MFOTA_BOARD_DIR")
    if shutil.which(args.qemu) is None:
        raise BoardError(f"{args.qemu} not found (Debian: apt-get install qemu-system-arm)")
    if args.boots < 1:
        raise BoardError("--boots must be at least 1")
    if not args.boot_timeout > 0:
        raise BoardError("--boot-timeout must be more than 0 seconds")
    cut = args.power_cut_after_ms
    if cut == "random":
        # An update through the modem takes seconds; a staged one about 2.
        cut = random.Random(args.seed).uniform(0, 2000 if modem is None else 15000)
        print(f"power cut after {cut:.0f} ms")
    elif cut is not None:
        try:
            cut = float(cut)
        except ValueError:
            raise BoardError("--power-cut-after-ms takes a number or 'random'") from None
    if args.power_cut_after_ops is not None and args.power_cut_after_ops < 1:
        raise BoardError("--power-cut-after-ops must be at least 1")
    result = run_board(args.flash, args.bootloader, boots=args.boots, power_cut_after_ms=cut,
                       power_cut_after_ops=args.power_cut_after_ops, qemu=args.qemu, echo=True,
                       modem=modem, boot_timeout=args.boot_timeout)
    if result.power_cut:
        return CLI_POWER_CUT
    status = result.last_status
    if status == EXIT_IDLE:
        return CLI_IDLE
    if status == EXIT_REBOOT:
        return CLI_BOOTS_EXHAUSTED
    return CLI_FAILED
