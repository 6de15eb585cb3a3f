"""``m2mfota qemu-demo``: the QEMU board updates itself over the simulated air.

Everything runs on this machine, on 127.0.0.1:

- the KPN Things emulator (the real aiohttp app, SQLite in the work
  directory) with the signed v2 uploaded and set as the device's desired
  firmware;
- the SARA-R4 modem simulator (``m2mfota modem-sim``) with a link profile
  (LTE-M by default) and optional faults;
- a flash file provisioned with the config (IMEI, secret, the emulator's URL)
  and the signed v1;
- QEMU's mps2-an386 running MCUboot and the app, its UART1 connected to the
  simulator, restarted on every reboot request until the app idles.

v1 downloads v2 through the modem, checks it, marks it pending and asks for a
reboot; MCUboot swaps; v2 confirms and reports 2.0.0.  Exit status 0 only
when the emulator shows the device done on the desired version.

With ``--delta`` the campaign uploads a delta file from v1 to the update
(``create_delta_file``) instead of the image: the board downloads only that
and rebuilds the update from its running v1; the demo prints the bytes saved.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from m2mfota._cli_types import UserError, float_range, int_range

IMEI = "356938035643809"
BOARD_FILES = ("bootloader.elf", "app-v1.signed.bin")
_PROGRESS = re.compile(r"\[app\] progress (\d+)/(\d+)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Run the KPN Things emulator, the SARA-R4 modem simulator and the QEMU board "
        "together: v1 downloads the update through the modem, MCUboot swaps, v2 confirms.")
    parser.add_argument("--board-dir", type=Path, default=None,
                        help="the board build (bootloader.elf, app-*.signed.bin; "
                             "default: $M2MFOTA_BOARD_DIR)")
    parser.add_argument("--update", type=Path, default=None,
                        help="signed update image (default: BOARD_DIR/app-v2.signed.bin)")
    parser.add_argument("--delta", action="store_true",
                        help="upload a delta file from v1 to the update instead of the image "
                             "(the board rebuilds the update from its running v1)")
    parser.add_argument("--version", dest="update_version", default="2.0.0",
                        help="the update's version as the server knows it [%(default)s]")
    parser.add_argument("--link", choices=("ltem", "nbiot", "none"), default="ltem",
                        help="radio link profile of the modem simulator [%(default)s]")
    parser.add_argument("--uart-baud", type=int_range(1200, 4_000_000), default=None,
                        help="pace the modem UART at this baud (default: unpaced)")
    parser.add_argument("--faults", default="",
                        help="modem faults, comma separated: urc, split, cme-connect[=N], "
                             "cme-write[=N], close-after=BYTES, silent=S[@K]")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random faults [0]")
    parser.add_argument("--boots", type=int_range(1, 100), default=8,
                        help="at most this many boots [%(default)s]")
    parser.add_argument("--timeout", type=float_range(0, 86400, low_open=True), default=600.0,
                        help="seconds one boot may take [%(default)s]")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="keep the flash file and the database here (default: a temp dir)")
    parser.add_argument("--qemu", default="qemu-system-arm", help="the QEMU binary")


def _board_dir(args: argparse.Namespace) -> Path:
    board = args.board_dir
    if board is None:
        env = os.environ.get("M2MFOTA_BOARD_DIR")
        if not env:
            raise UserError("no board build: pass --board-dir or set M2MFOTA_BOARD_DIR "
                            "(see docs/board.md, Build)")
        board = Path(env)
    for name in BOARD_FILES:
        if not (board / name).is_file():
            raise UserError(f"{board / name}: missing (is {board} a board build?)")
    return board


def run(args: argparse.Namespace) -> int:
    from m2mfota import qemu_device as qd
    from m2mfota.modem_sim import ModemSim, RunningSim

    board = _board_dir(args)
    update = args.update or board / "app-v2.signed.bin"
    if not update.is_file():
        raise UserError(f"{update}: no such update image")
    if shutil.which(args.qemu) is None:
        raise UserError(f"{args.qemu} not found (Debian: apt-get install qemu-system-arm)")
    try:
        sim = ModemSim(link=args.link, baud=args.uart_baud, faults=args.faults, seed=args.seed)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    image = update.read_bytes()
    if args.delta:
        image = _delta_file((board / "app-v1.signed.bin").read_bytes(), image)
    tmp = None
    if args.workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="m2mfota-qemu-demo-")
        workdir = Path(tmp.name)
    else:
        workdir = args.workdir
        workdir.mkdir(parents=True, exist_ok=True)
    try:
        return _demo(args, board, image, workdir, sim, qd, RunningSim)
    except qd.BoardError as exc:
        raise UserError(str(exc)) from None
    finally:
        if tmp is not None:
            tmp.cleanup()


def _delta_file(v1: bytes, update: bytes) -> bytes:
    """The delta file a campaign uploads instead of ``update``."""
    from m2mfota.delta import create_delta_file

    try:
        return create_delta_file(v1, update)
    except RuntimeError as exc:  # create_patch's word for a missing detools
        raise UserError(f"--delta: {exc}") from None


def _demo(args: argparse.Namespace, board: Path, image: bytes, workdir: Path, sim: Any,
          qd: Any, running_sim: Any) -> int:
    from rich import box
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn
    from rich.table import Table

    from m2mfota.demo import Emulator

    console = Console()
    if not console.is_terminal or console.width > 80:
        console = Console(width=80)
    secret = secrets.token_hex(16)
    emu = Emulator(str(workdir / "emulator.sqlite3"))
    emu.start()
    try:
        try:
            fw = emu.api("POST", f"/api/firmware?version={quote(args.update_version)}"
                                 "&filename=app.signed.bin", raw=image)
        except RuntimeError as exc:
            raise UserError(f"the emulator refused the update: {exc}") from None
        emu.api("POST", "/api/devices", {"imei": IMEI, "secret": secret, "type": "qemu-board"})
        emu.api("PUT", f"/api/devices/{IMEI}/desired", {"firmware_id": fw["id"]})
        flash = workdir / "flash.bin"
        qd.provision(flash, (board / "app-v1.signed.bin").read_bytes(), imei=IMEI,
                     secret=secret, server=emu.base)
        started = time.monotonic()
        with running_sim(sim, max_lifetime=args.timeout * args.boots + 60) as modem:
            what = "delta file" if args.delta else "image"
            console.print(f"emulator  {emu.base}/  (device {IMEI}, desired "
                          f"{args.update_version}, {what} of {len(image)} bytes)")
            console.print(f"modem-sim 127.0.0.1:{modem.port}  link={args.link} "
                          f"uart={args.uart_baud or 'unpaced'} faults={args.faults or '-'}")
            console.print(f"board     {board}  flash {flash}")
            with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                          TextColumn("{task.fields[status]}"), console=console,
                          transient=False) as progress:
                task = progress.add_task("boot 1", total=len(image), status="starting")
                sent: list[int] = []

                def on_line(boot: int, line: str) -> None:
                    if line.startswith("[app] client cycle:") and not sent:
                        # The file is withdrawn once v2 reports: count the bytes now.
                        stats = emu.api("GET", f"/api/devices/{IMEI}/download")["stats"]
                        sent.extend([stats["bytes_sent"]] if stats else [])
                    m = _PROGRESS.search(line)
                    if m:
                        progress.update(task, completed=int(m[1]), total=int(m[2]))
                        return
                    progress.update(task, description=f"boot {boot}")
                    if line.startswith("[app]") or "Swap type" in line or "[boot]" in line:
                        text = line.split("] ", 1)[-1]
                        progress.update(task, status=escape(text[:28]))
                        progress.console.print(f"[dim]boot {boot}[/dim] {escape(line)}",
                                               highlight=False)

                result = qd.run_board(flash, board / "bootloader.elf", boots=args.boots,
                                      boot_timeout=args.timeout, qemu=args.qemu,
                                      modem=("127.0.0.1", modem.port), on_line=on_line)
            stats = modem.sim.stats
        seconds = time.monotonic() - started
        info = emu.api("GET", f"/api/devices/{IMEI}")
        reported = info["reported"]["firmware"]
        status = info["update"]["status"]
        ok = status == "done" and reported == args.update_version
        table = Table(title="m2mfota qemu-demo", box=box.SIMPLE_HEAD, show_edge=False)
        table.add_column("what")
        table.add_column("value")
        table.add_row("images booted", " → ".join(result.running_images()) or "-")
        table.add_row("boots", str(len(result.boots)))
        table.add_row("reported", f"{reported} (result {info['reported']['result']})")
        table.add_row("update", f"[green]{status}[/green]" if ok else f"[red]{status}[/red]")
        table.add_row("modem", f"{stats.commands} AT commands, {stats.connects} connects, "
                               f"{stats.air_bytes_down} bytes down, {stats.air_bytes_up} up")
        if sent:
            table.add_row("file server", f"{sent[0]} bytes sent")
        if args.delta:
            full = update_size(args, board)
            table.add_row("delta", f"{len(image)} bytes instead of {full}: "
                                   f"{full - len(image)} bytes ({1 - len(image) / full:.1%}) saved")
        table.add_row("time", f"{seconds:.1f} s")
        console.print(table)
        if ok:
            console.print(f"[green]the board runs {reported}, confirmed[/green]")
            return 0
        last = result.lines[-1] if result.lines else "no output"
        console.print(f"[red]the update did not complete: emulator says {status}, "
                      f"device reports {reported}; last console line: {last}[/red]")
        return 1
    finally:
        emu.stop()


def update_size(args: argparse.Namespace, board: Path) -> int:
    """Bytes of the full update image (what --delta saves against)."""
    return (args.update or board / "app-v2.signed.bin").stat().st_size
