"""``m2mfota demo``: a fleet update end to end, on this machine.

It starts the KPN Things emulator on 127.0.0.1 (a free port, a temporary
SQLite database), makes a signing key and a firmware image (an MCUboot
image with its SHA-256 TLV and an Ed25519 signature; every device trusts
that key and checks both before it marks the image), registers N devices,
starts a campaign and runs the devices: each one is the real C client
engine (``m2mfota.Client`` through cffi) over real sockets, with a
NOR-flash model as its update slot and journal.  A device
that gets its image marked pending "reboots" into it (a new client with the
new version confirms the image and reports it), and the server marks it done.

``--faults`` gives each device one fault of the file server (dropped
connections, corrupted bytes, wrong or missing digests, 503 with
Retry-After, stalls, a server that ignores Range, chunked bodies, 206) and
one device a power cut in the middle of its download (it resumes from the
journal after the "reboot").  ``--bootloader none`` runs the same with a
raw image (no header, no signature) and devices that choose not to check
one.  ``--delta`` makes 2.0.0 a small change of 1.0.0 (a version string and
one "function"), gives every device 1.0.0 in its running slot, and starts a
campaign "delta from 1.0.0": the devices download the delta file and rebuild
2.0.0 from it, and the summary shows the bytes each one received against the
full image.  Exit status 0 only when every device ends on the desired version.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import json
import os
import random
import secrets
import struct
import tempfile
import threading
import time
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any

from m2mfota._cli_types import UserError, float_range, int_range
from m2mfota.emulator.background import BackgroundServer

FROM_VERSION = "1.0.0"
FROM_TUPLE = (1, 0, 0)
TO_VERSION = (2, 0, 0)

# One file-server fault per device with --faults (cycled), each one the
# engine must recover from within one download.
FAULT_MIX: list[tuple[str, dict[str, Any]]] = [
    ("drop", {"drop_after_bytes": 1500, "drop_times": 2}),
    ("corrupt", {"corrupt_byte_at": 5000, "corrupt_times": 2}),
    ("503", {"status_503_times": 2, "retry_after": 1}),
    ("wrong digest", {"wrong_digest": True, "wrong_digest_times": 2}),
    ("no digest", {"omit_digest": True}),
    ("stall", {"stall_seconds": 0.3, "stall_times": 2}),
    ("ignore Range", {"ignore_range": True}),
    ("chunked+206", {"chunked": True, "use_206": True, "digest_variant": True}),
]


# Limits that keep a run starting at once: one thread and one NOR model in
# RAM per device, and an image generated in memory.
MAX_DEVICES = 1000
MAX_SIZE = 16 * 1024 * 1024
SECTOR = 4096  # the simulated flash's erase sector; parts are whole sectors


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--devices", type=int_range(1, MAX_DEVICES), default=5,
                        help=f"devices to update, 1-{MAX_DEVICES} [%(default)s]")
    parser.add_argument("--size", type=int_range(64, MAX_SIZE), default=96 * 1024,
                        help=f"firmware image size in bytes, 64-{MAX_SIZE} [%(default)s]")
    parser.add_argument("--part-size", type=int_range(SECTOR, 1024 * 1024, multiple_of=SECTOR),
                        default=4096,
                        help=f"bytes per ranged request, a multiple of the {SECTOR}-byte "
                             "flash sector (the engine writes whole sectors) [%(default)s]")
    parser.add_argument("--faults", action="store_true",
                        help="inject file-server faults and a power cut to show recovery")
    parser.add_argument("--keep-open", action="store_true",
                        help="leave the emulator and its dashboard running (Ctrl-C ends)")
    parser.add_argument("--timeout", type=float_range(0, 86400, low_open=True), default=120.0,
                        help="seconds the whole fleet may take, more than 0 [%(default)s]")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of the firmware bytes (default: a random one)")
    parser.add_argument("--delta", action="store_true",
                        help="devices run 1.0.0 and get a delta file from it instead of the "
                             "2.0.0 image (needs detools: pip install 'm2mfota[delta]')")
    parser.add_argument("--bootloader", choices=("mcuboot", "none"), default="mcuboot",
                        help="mcuboot: signed MCUboot image, checked by every device; "
                             "none: raw image, explicitly unchecked [%(default)s]")


# ---- firmware ------------------------------------------------------------------


def mcuboot_image(payload: bytes, version: tuple[int, int, int], build: int = 0,
                  key: Any = None) -> bytes:
    """An MCUboot image: 32-byte header, payload, TLV area with the SHA-256 TLV.

    With ``key`` (a ``cryptography`` Ed25519 or ECDSA P-256 private key) it
    is signed as ``imgtool sign`` does: a KEYHASH TLV (SHA-256 of the public
    key's DER) and the signature of the image hash (TLV 0x24 or 0x22).
    """
    hdr_size = 32
    header = struct.pack("<IIHHIIBBHI", 0x96F3B83D, 0, hdr_size, 0, len(payload), 0,
                         version[0], version[1], version[2], build)
    header += b"\0" * (hdr_size - len(header))
    digest = sha256(header + payload).digest()
    tlv = struct.pack("<HH", 0x10, 32) + digest
    if key is not None:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec, ed25519
        from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

        pub = key.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
        tlv += struct.pack("<HH", 0x01, 32) + sha256(pub).digest()
        if isinstance(key, ed25519.Ed25519PrivateKey):
            sig, kind = key.sign(digest), 0x24
        else:
            sig, kind = key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256()))), 0x22
        tlv += struct.pack("<HH", kind, len(sig)) + sig
    info = struct.pack("<HH", 0x6907, 4 + len(tlv))
    return header + payload + info + tlv


def public_pem(key: Any) -> bytes:
    """The public half of a ``cryptography`` private key, as ``imgtool getpub -e pem``."""
    from cryptography.hazmat.primitives import serialization

    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def small_change(payload: bytes, seed: int | None) -> bytes:
    """``payload`` as the next release would change it: a new version string
    near the start and one rewritten "function" (256 bytes) in the middle."""
    rnd = random.Random(seed)
    new = bytearray(payload)
    new[16:32] = b"version 2.0.0\0\0\0"[:len(new[16:32])]
    mid = len(new) // 2
    new[mid:mid + 256] = bytes(rnd.getrandbits(8) for _ in range(len(new[mid:mid + 256])))
    return bytes(new)


def running_slot(image: bytes, sector: int = SECTOR) -> Any:
    """A NOR flash holding ``image`` from offset 0: the slot a device runs
    (MCUboot's primary slot), which a delta is applied against."""
    from m2mfota.flash import NorFlash

    nor = NorFlash(max(sector, -(-len(image) // sector) * sector), sector_size=sector,
                   program_size=8)
    for off in range(0, len(image), sector):
        piece = image[off:off + sector]
        nor.program(off, piece + b"\xff" * (-len(piece) % 8))
    return nor


# ---- the emulator in a thread ----------------------------------------------------


class Emulator(BackgroundServer):
    """The emulator app on 127.0.0.1, a free port, in its own thread."""

    def __init__(self, db_path: str) -> None:
        from m2mfota.emulator.app import create_app

        # A key of this run's own: the demo's emulator is as closed as `serve`'s.
        self.api_key = secrets.token_urlsafe(24)
        super().__init__(lambda: create_app(db_path, api_key=self.api_key),
                         name="m2mfota-emulator")
        self.db_path = db_path

    @property
    def base(self) -> str:
        return self.base_url

    def api(self, method: str, path: str, body: Any = None, raw: bytes | None = None) -> Any:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            headers = {"Authorization": f"Bearer {self.api_key}"}
            data = raw
            if body is not None:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            elif raw is not None:
                headers["Content-Type"] = "application/octet-stream"
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            text = resp.read()
            if resp.status >= 300:
                raise RuntimeError(f"{method} {path}: {resp.status} {text[:200]!r}")
            return json.loads(text) if text else None
        finally:
            conn.close()


# ---- one device -------------------------------------------------------------------


@dataclass
class DeviceRun:
    imei: str
    secret: str
    fault: str = "-"
    power_cut_after: int | None = None
    version: str = FROM_VERSION
    parts: int = 0
    requests: int = 0
    retries: int = 0
    connections: int = 0
    resumes: int = 0
    reboots: int = 0
    bytes: int = 0
    seconds: float = 0.0
    outcome: str = "-"
    done: int = 0
    total: int = 0
    log: list[str] = field(default_factory=list)

    def add(self, stats: dict[str, int]) -> None:
        self.requests += stats["requests"]
        self.retries += stats["retries"]
        self.connections += stats["connections"]
        self.resumes += stats["resumes"]
        self.bytes += stats["bytes"]


def run_device(dev: DeviceRun, server: str, size: int, part_size: int, deadline: float,
               on_progress: Any, boot: dict[str, Any], running: bytes | None = None) -> None:
    from m2mfota.client import Client
    from m2mfota.flash import FlashRegion, NorFlash, PowerCut

    sector = SECTOR
    slot_size = ((size + sector - 1) // sector + 1) * sector  # one sector for the trailer
    nor = NorFlash(slot_size + 2 * sector, sector_size=sector, program_size=8,
                   cut_after=dev.power_cut_after)
    slot = FlashRegion(nor, 0, slot_size)
    journal = FlashRegion(nor, slot_size, 2 * sector)
    if running is not None:  # the image it runs: what a delta file is applied against
        boot = {**boot, "delta_source": running_slot(running)}

    def on_event(ev: Any) -> None:
        if ev.kind == "progress":
            dev.parts += 1
            dev.done, dev.total = ev.done, ev.total
            on_progress(dev)
        elif ev.kind == "error":
            dev.log.append(f"{ev.error}:{ev.reason}")

    def client() -> Client:
        return Client(imei=dev.imei, secret=dev.secret, version=dev.version, server=server,
                      flash=slot, journal=journal, on_event=on_event, part_size=part_size,
                      io_timeout=5.0, retry_base=0.1, retry_max=1.0, progress_interval=1.0,
                      **boot)

    start = time.monotonic()
    c = client()
    for _cycle in range(20):
        if time.monotonic() > deadline:
            dev.outcome = "timeout"
            break
        try:
            out = c.run(timeout=max(1.0, deadline - time.monotonic()))
        except PowerCut:
            # The power came back: a reboot, and a new client resumes from the journal.
            dev.add(c.stats)
            dev.reboots += 1
            dev.log.append("power cut")
            nor.power_on()
            c = client()
            continue
        dev.add(out.stats)
        if out.version is not None:
            # "Reboot" into the new image: it confirms itself and reports its version.
            dev.version = out.version
            dev.reboots += 1
            c = client()
            out = c.confirm_boot(timeout=max(1.0, deadline - time.monotonic()))
            dev.add(out.stats)
            dev.outcome = "updated" if out.result == 1 else f"result {out.result}"
            break
        if out.result not in (0, 1):
            dev.log.append(f"result {out.result} {out.reason}")
        # No command yet (the server answers a failure report first): ask again.
        time.sleep(0.05)
        c = client() if out.result not in (0, 1) else c
    dev.seconds = time.monotonic() - start
    on_progress(dev)


# ---- the command -----------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    from rich import box
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn
    from rich.table import Table

    console = Console()
    if not console.is_terminal or console.width > 80:
        console = Console(width=80)  # the summary is laid out for 80 columns
    rnd = random.Random(args.seed)
    payload = bytes(rnd.getrandbits(8) for _ in range(max(0, args.size - 80)))
    old_payload = payload
    if getattr(args, "delta", False):
        if importlib.util.find_spec("detools") is None:
            raise UserError("--delta needs detools: pip install 'm2mfota[delta]'")
        # 2.0.0 is a small change of the 1.0.0 every device runs
        payload = small_change(old_payload, args.seed)
    if args.bootloader == "mcuboot":
        from cryptography.hazmat.primitives.asymmetric import ed25519

        signing_key = ed25519.Ed25519PrivateKey.generate()
        image = mcuboot_image(payload, TO_VERSION, key=signing_key)
        old_image = mcuboot_image(old_payload, FROM_TUPLE, key=signing_key)
        boot: dict[str, Any] = {"bootloader": "mcuboot", "keys": [public_pem(signing_key)]}
        kind = "signed MCUboot image, Ed25519"
    else:
        image, old_image = payload, old_payload
        boot = {"bootloader": "none"}
        kind = "raw image, unchecked"
    to_version = ".".join(str(v) for v in TO_VERSION)

    tmp = tempfile.TemporaryDirectory(prefix="m2mfota-demo-")
    emu = Emulator(os.path.join(tmp.name, "emulator.sqlite3"))
    emu.start()
    try:
        fw = emu.api("POST", f"/api/firmware?version={to_version}&filename=app.signed.bin",
                     raw=image)
        running = None
        if args.delta:
            emu.api("POST", f"/api/firmware?version={FROM_VERSION}&filename=app-1.signed.bin",
                    raw=old_image)
            running = old_image
        devices = []
        for i in range(args.devices):
            imei = f"35{i:013d}"
            secret = secrets.token_hex(16)
            emu.api("POST", "/api/devices", {"imei": imei, "secret": secret, "type": "demo"})
            dev = DeviceRun(imei, secret)
            if args.faults:
                name, faults = FAULT_MIX[i % len(FAULT_MIX)]
                emu.api("PUT", f"/api/devices/{imei}/faults", faults)
                dev.fault = name
                if i == args.devices - 1:
                    dev.power_cut_after = 120  # mid-download: a few sectors in
                    dev.fault += " + power cut"
            devices.append(dev)
        body: dict[str, Any] = {"name": "demo", "firmware_id": fw["id"], "type": "demo",
                                "retry_limit": 5}
        if args.delta:
            body.update(delta_from=FROM_VERSION, others="full")
        camp = emu.api("POST", "/api/campaigns", body)
        console.print(f"emulator  {emu.base}/  (campaign {camp['id']}, firmware {to_version}, "
                      f"{len(image)} bytes, {kind})")
        if args.delta:
            d = camp["delta"]
            console.print(f"delta     from {FROM_VERSION}: delta file {d['size']} bytes, "
                          f"{d['ratio'] * 100:.1f} % of the image")

        deadline = time.monotonic() + args.timeout
        with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                      TextColumn("{task.fields[status]}"), console=console,
                      transient=False) as progress:
            tasks = {d.imei: progress.add_task(d.imei, total=len(image), status=d.fault)
                     for d in devices}

            def on_progress(d: DeviceRun) -> None:
                # the file's own size once known: a delta file is far smaller
                progress.update(tasks[d.imei], completed=d.done, total=d.total or len(image),
                                status=d.outcome if d.outcome != "-" else d.fault)

            threads = [threading.Thread(target=run_device, daemon=True,
                                        args=(d, emu.base, len(image), args.part_size,
                                              deadline, on_progress, boot, running))
                       for d in devices]
            for t in threads:
                t.start()
            for t in threads:
                t.join(max(0.0, deadline - time.monotonic()) + 30)

        if args.delta:
            ok = delta_summary(console, emu, camp["id"], devices, len(image), to_version)
            return finish(console, emu, devices, ok, to_version, args.keep_open)
        ok = True
        # 80 columns: short headings, one space between columns, bytes in KiB,
        # retries/reconnects/resumes in one column; only the fault may wrap.
        table = Table(title="m2mfota demo: fleet update", box=box.SIMPLE_HEAD,
                      show_edge=False, padding=(0, 0))
        for col in ("device", "from → to", "fault", "parts", "req", "rt/rc/rs", "KiB",
                    "time", "result"):
            table.add_column(col, justify="left" if col in (
                "device", "from → to", "fault", "result") else "right",
                no_wrap=col != "fault", max_width=12 if col == "fault" else None)
        for d in devices:
            reported, status, good = outcome(emu, d.imei, to_version)
            ok &= good
            table.add_row(d.imei, f"{FROM_VERSION} → {reported}", d.fault, str(d.parts),
                          str(d.requests),
                          f"{d.retries}/{max(0, d.connections - 1)}/{d.resumes}",
                          f"{d.bytes / 1024:.0f}", f"{d.seconds:.1f}s",
                          f"[green]{status}[/green]" if good else f"[red]{status}[/red]")
        console.print(table)
        return finish(console, emu, devices, ok, to_version, args.keep_open)
    finally:
        emu.stop()
        tmp.cleanup()


def finish(console: Any, emu: Emulator, devices: list[DeviceRun], ok: bool, to_version: str,
           keep_open: bool) -> int:
    """The lines under the summary; with ``keep_open`` wait for Ctrl-C."""
    for d in devices:
        if d.log:
            console.print(f"{d.imei}: " + ", ".join(d.log[:12]))
    console.print("[green]every device runs " + to_version + "[/green]" if ok else
                  "[red]some devices did not reach " + to_version + "[/red]")
    if keep_open:
        console.print(f"dashboard {emu.base}/  (Ctrl-C to stop)")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0 if ok else 1


def outcome(emu: Emulator, imei: str, to_version: str) -> tuple[str, str, bool]:
    """A device's reported version and update status, and whether it is done
    running ``to_version``."""
    info = emu.api("GET", f"/api/devices/{imei}")
    reported = info["reported"]["firmware"]
    status = info["update"]["status"]
    return reported, status, status == "done" and reported == to_version


def delta_summary(console: Any, emu: Emulator, campaign_id: int, devices: list[DeviceRun],
                  image_size: int, to_version: str) -> bool:
    """The --delta table: per device the file it was sent, the file bytes the
    emulator's file server sent it (retries and restarts included: the airtime
    it cost) against the full image, and the total; True when every device
    runs ``to_version``."""
    from rich import box
    from rich.table import Table

    served = {d["imei"]: d for d in
              emu.api("GET", f"/api/campaigns/{campaign_id}")["devices"]}
    # 80 columns: bytes sent and saved in bytes (exact: what the test
    # compares with the file server's count), one space between columns
    table = Table(title="m2mfota demo: delta update", box=box.SIMPLE_HEAD,
                  show_edge=False, padding=(0, 0))
    for col in ("device", "from → to", "file", "req", "sent", "saved", "%",
                "time", "result"):
        table.add_column(col, justify="left" if col in (
            "device", "from → to", "file", "result") else "right", no_wrap=True)
    ok = True
    total_sent = 0
    for d in devices:
        reported, status, good = outcome(emu, d.imei, to_version)
        ok &= good
        # counted by the server when a download ends: every device that is
        # done has ended its downloads
        sent = served[d.imei]["bytes_sent"]
        total_sent += sent
        saved = image_size - sent
        table.add_row(d.imei, f"{FROM_VERSION} → {reported}", served[d.imei]["served"] or "-",
                      str(d.requests), str(sent), str(saved),
                      f"{100 * saved / image_size:.1f}", f"{d.seconds:.1f}s",
                      f"[green]{status}[/green]" if good else f"[red]{status}[/red]")
    full = image_size * len(devices)
    table.add_section()
    table.add_row("total", "", "", str(sum(d.requests for d in devices)), str(total_sent),
                  str(full - total_sent), f"{100 * (full - total_sent) / full:.1f}", "", "")
    console.print(table)
    console.print(f"on the wire {total_sent} bytes instead of {full} for {len(devices)} full "
                  f"images of {image_size} bytes")
    return ok

