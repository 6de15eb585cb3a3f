"""A whole update through the SARA-R4 AT transport over simulated radio links.

The C client engine (uplink, downlink, ranged download, progress uplinks,
flash writes, image check) runs with both of its transports on the modem
driver (embedded_port/modem), whose UART is paced at --baud by the modem
simulator; the simulator puts the NB-IoT or LTE-M profile (latency and
rate, docs/modem.md) between the modem and the emulator of KPN Things.

Reported per profile:
  * efficiency = ideal / actual, ideal = size / min(link rate, UART rate)
    + 1 round trip (the UART rate is baud / 10 bytes per second, 8N1);
  * bytes on air per firmware byte: every socket byte both ways (uplinks,
    requests with their headers and token, responses with their headers)
    divided by the image size.
Usage:
    python bench/bench_ota_link.py [--size 262144] [--part-size 32768]
                                   [--baud 115200] [--links ltem,nbiot] [--json]
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

from m2mfota.client import Client
from m2mfota.demo import Emulator, mcuboot_image
from m2mfota.flash import FlashRegion, NorFlash
from m2mfota.modem import Modem
from m2mfota.modem_sim import PROFILES

TARGETS = {"ltem": 0.85, "nbiot": 0.75}  # efficiency targets; bytes on air <= 1.05
IMEI = "356000000000777"
SECRET = "bench-secret"


def image_of_size(size: int) -> bytes:
    """An MCUboot image (header + payload + TLVs) of exactly ``size`` bytes."""
    overhead = len(mcuboot_image(b"", (2, 0, 0)))
    return mcuboot_image(os.urandom(size - overhead), (2, 0, 0))


def run_one(link: str, image: bytes, part_size: int, baud: int, db: Path) -> dict:
    profile = PROFILES[link]
    sector = 4096
    slot_size = ((len(image) + sector - 1) // sector + 1) * sector
    nor = NorFlash(slot_size + 2 * sector, sector_size=sector, program_size=8)
    slot = FlashRegion(nor, 0, slot_size)
    journal = FlashRegion(nor, slot_size, 2 * sector)
    # The simulator runs in its own process, as it would beside QEMU: it
    # then never waits for this process's interpreter lock.
    sim = subprocess.Popen(
        [sys.executable, "-m", "m2mfota.cli", "modem-sim", "--listen", "127.0.0.1:0",
         "--link", link, "--uart-baud", str(baud), "--exit-after", "1800"],
        stdout=subprocess.PIPE, text=True)
    try:
        port = int(sim.stdout.readline().split()[2].rsplit(":", 1)[1])
        with Emulator(str(db)) as emu:
            fw = emu.api("POST", "/api/firmware?version=2.0.0&filename=app.signed.bin",
                         raw=image)
            emu.api("POST", "/api/devices", {"imei": IMEI, "secret": SECRET})
            emu.api("PUT", f"/api/devices/{IMEI}/desired", {"firmware_id": fw["id"]})
            with Modem("127.0.0.1", port, cmd_timeout=10.0) as modem:
                up, dl = modem.socket(), modem.socket()
                client = Client(imei=IMEI, secret=SECRET, version="1.0.0", server=emu.base,
                                flash=slot, journal=journal, part_size=part_size,
                                io_timeout=30.0, transports=(up, dl))
                start = time.monotonic()
                out = client.run(timeout=1800)
                elapsed = time.monotonic() - start
                stats = dict(out.stats)
                modem_stats = modem.stats
                uart_in = modem.uart_bytes[1]
    finally:
        sim.send_signal(signal.SIGTERM)
        tail, _ = sim.communicate(timeout=30)
    m = re.search(r"(\d+) bytes down, (\d+) up", tail)
    if m is None:
        raise SystemExit(f"{link}: no statistics from the simulator: {tail!r}")
    air = int(m.group(1)) + int(m.group(2))
    if out.version != "2.0.0":
        raise SystemExit(f"{link}: the update did not complete: result {out.result} "
                         f"{out.reason}")
    if bytes(nor.data[: len(image)]) != image:
        raise SystemExit(f"{link}: the slot does not hold the image")
    uart_rate = baud / 10
    rate = min(profile.down_bps or uart_rate, uart_rate)
    ideal = len(image) / rate + 2 * profile.latency_s
    return {
        "link": link, "size": len(image), "part_size": part_size, "baud": baud,
        "seconds": round(elapsed, 2), "ideal_seconds": round(ideal, 2),
        "efficiency": round(ideal / elapsed, 3),
        "air_per_byte": round(air / len(image), 4),
        "air_bytes": air, "uart_bytes_to_mcu": uart_in,
        "requests": stats.get("requests"), "uplinks": stats.get("uplinks"),
        "at_commands": modem_stats["commands"],
        "target": TARGETS.get(link),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=256 * 1024)
    ap.add_argument("--part-size", type=int, default=32 * 1024)
    ap.add_argument("--baud", type=int, default=115200)
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
        for i, link in enumerate(links):
            rows.append(run_one(link, image, args.part_size, args.baud,
                                Path(tmp) / f"emu{i}.sqlite"))
            if args.json:
                print(json.dumps(rows[-1]), flush=True)
    if not args.json:
        print("| link | image | part | UART | time s | ideal s | efficiency (target) "
              "| bytes on air / image | requests | uplinks |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for r in rows:
            print(f"| {r['link']} | {r['size'] // 1024} KiB | {r['part_size'] // 1024} KiB "
                  f"| {r['baud']} | {r['seconds']} | {r['ideal_seconds']} "
                  f"| {r['efficiency']} (>= {r['target']}) | {r['air_per_byte']} (<= 1.05) "
                  f"| {r['requests']} | {r['uplinks']} |")
    ok = all(r["efficiency"] >= (r["target"] or 0) and r["air_per_byte"] <= 1.05 for r in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
