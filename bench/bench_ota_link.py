"""A whole update through the SARA-R4 AT transport over simulated radio links.

mfota-device, the C reference device (client engine: uplink, downlink,
ranged pipelined download, progress uplinks, flash writes, image check),
built here with a 1 KiB receive buffer (MFOTA_CLIENT_RX_MAX, so each
AT+USORD reads up to 1024 bytes), runs both of its transports on the modem
driver (embedded_port/modem); its UART is paced at --baud by the modem
simulator, which puts the NB-IoT or LTE-M profile (latency and rate,
docs/modem.md) between the modem and the emulator of KPN Things.  The time
runs from the device's start to the image being verified and marked
pending.

Reported per profile:
  * efficiency = ideal / actual, ideal = size / min(link rate, UART rate)
    + 1 round trip (the UART rate is baud / 10 bytes per second, 8N1);
  * bytes on air per firmware byte: every socket byte both ways (uplinks,
    requests with their headers and token, responses with their headers)
    divided by the image size.
Usage:
    python bench/bench_ota_link.py [--size 262144] [--part-size 32768]
                                   [--baud 115200] [--rx 1024] [--links ltem,nbiot]
                                   [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from cbuild import cmake_build  # noqa: E402

from m2mfota.demo import Emulator, mcuboot_image  # noqa: E402
from m2mfota.modem_sim import PROFILES  # noqa: E402

TARGETS = {"ltem": 0.85, "nbiot": 0.75}  # efficiency targets; bytes on air <= 1.05
IMEI = "356000000000777"
SECRET = "bench-secret"


def image_of_size(size: int) -> bytes:
    """An MCUboot image (header + payload + TLVs) of exactly ``size`` bytes."""
    overhead = len(mcuboot_image(b"", (2, 0, 0)))
    return mcuboot_image(os.urandom(size - overhead), (2, 0, 0))


def build_device(build: Path, rx_max: int) -> Path:
    """mfota-device (the C reference device) with a ``rx_max``-byte receive
    buffer: each AT+USORD then asks for that much (at most 1024)."""
    cmake_build(ROOT, build, "MFOTA_BUILD_TESTS=OFF", "MFOTA_BUILD_BENCH=OFF",
                "MFOTA_BUILD_DEVICE=ON", "CMAKE_BUILD_TYPE=Release",
                cflags=f"-DMFOTA_CLIENT_RX_MAX={rx_max}")
    return build / "mfota-device"


def run_one(device: Path, link: str, image: bytes, part_size: int, baud: int,
            tmp: Path) -> dict:
    profile = PROFILES[link]
    # The simulator runs in its own process, as it does beside QEMU.
    sim = subprocess.Popen(
        [sys.executable, "-m", "m2mfota.cli", "modem-sim", "--listen", "127.0.0.1:0",
         "--link", link, "--uart-baud", str(baud), "--exit-after", "1800"],
        stdout=subprocess.PIPE, text=True)
    slot = tmp / f"{link}-slot.bin"
    try:
        port = int(sim.stdout.readline().split()[2].rsplit(":", 1)[1])
        with Emulator(str(tmp / f"{link}.sqlite")) as emu:
            fw = emu.api("POST", "/api/firmware?version=2.0.0&filename=app.signed.bin",
                         raw=image)
            emu.api("POST", "/api/devices", {"imei": IMEI, "secret": SECRET})
            emu.api("PUT", f"/api/devices/{IMEI}/desired", {"firmware_id": fw["id"]})
            slot_size = (len(image) // 4096 + 2) * 4096
            start = time.monotonic()
            proc = subprocess.Popen(
                [str(device), "--imei", IMEI, "--secret", SECRET, "--version", "1.0.0",
                 "--server", emu.base, "--slot", str(slot), "--journal",
                 str(tmp / f"{link}-journal.bin"), "--slot-size", str(slot_size),
                 "--part-size", str(part_size), "--modem", f"127.0.0.1:{port}",
                 "--timeout", "1800", "--bootloader", "file"],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            elapsed = None
            log = []
            for line in proc.stdout:
                log.append(line)
                if elapsed is None and " pending, rebooting" in line:
                    elapsed = time.monotonic() - start  # the image is in, verified, marked
            proc.wait(timeout=60)
            done = emu.api("GET", f"/api/devices/{IMEI}")
    finally:
        sim.send_signal(signal.SIGTERM)
        tail, _ = sim.communicate(timeout=30)
    text = "".join(log)
    if proc.returncode != 0 or elapsed is None or done["update"]["status"] != "done":
        raise SystemExit(f"{link}: the update did not complete:\n{text[-2000:]}")
    if slot.read_bytes()[: len(image)] != image:
        raise SystemExit(f"{link}: the slot does not hold the image")
    m = re.search(r"(\d+) bytes down, (\d+) up", tail)
    cmds = re.search(r"modem: (\d+) commands", text)
    if m is None or cmds is None:
        raise SystemExit(f"{link}: no statistics: {tail!r} {text[-500:]!r}")
    air = int(m.group(1)) + int(m.group(2))
    uart_rate = baud / 10
    rate = min(profile.down_bps or uart_rate, uart_rate)
    ideal = len(image) / rate + 2 * profile.latency_s
    return {
        "link": link, "size": len(image), "part_size": part_size, "baud": baud,
        "seconds": round(elapsed, 2), "ideal_seconds": round(ideal, 2),
        "efficiency": round(ideal / elapsed, 3),
        "air_per_byte": round(air / len(image), 4), "air_bytes": air,
        "at_commands": int(cmds.group(1)), "target": TARGETS.get(link),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=256 * 1024)
    ap.add_argument("--part-size", type=int, default=32 * 1024)
    ap.add_argument("--baud", type=int, default=115200)
    ap.add_argument("--rx", type=int, default=1024,
                    help="the device's receive buffer (MFOTA_CLIENT_RX_MAX), default 1024")
    ap.add_argument("--links", default="ltem,nbiot")
    ap.add_argument("--json", action="store_true", help="print one JSON line per link")
    args = ap.parse_args(argv)
    links = [x for x in args.links.split(",") if x]
    for link in links:
        if link not in PROFILES:
            ap.error(f"unknown link {link!r}")
    image = image_of_size(args.size)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-ota-link-") as tmp:
        device = build_device(Path(tmp) / "build", args.rx)
        for link in links:
            rows.append(run_one(device, link, image, args.part_size, args.baud, Path(tmp)))
            if args.json:
                print(json.dumps(rows[-1]), flush=True)
    if not args.json:
        print("| link | image | part | UART baud | time s | ideal s | efficiency (target) "
              "| bytes on air / image (target) | AT commands |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for r in rows:
            print(f"| {r['link']} | {r['size'] // 1024} KiB | {r['part_size'] // 1024} KiB "
                  f"| {r['baud']} | {r['seconds']} | {r['ideal_seconds']} "
                  f"| {r['efficiency']} (>= {r['target']}) | {r['air_per_byte']} (<= 1.05) "
                  f"| {r['at_commands']} |")
    ok = all(r["efficiency"] >= (r["target"] or 0) and r["air_per_byte"] <= 1.05 for r in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
