"""Load benchmark of the emulator's ingestion endpoint.

1000 registered devices send signed SenML uplinks concurrently from one aiohttp
client (one connection per device, as real modems do).  Every device is in a
campaign, so each one's first uplink is answered with a FOTA downlink (a file
published on the file server) and the rest report progress.  The peer is a bare
aiohttp server whose handler reads the body and answers 204: the framework's
floor on the same machine, so the ratio is the emulator's own cost.

After each timed run the bench checks that every uplink sent was stored: in
the database file itself (read by a connection of its own while the server
still runs, so an uplink acknowledged but not yet committed would be missing),
or through the API for ``:memory:``.  The emulator runs as ``m2mfota serve``
does by default: API key on, event log on, bare-LF normaliser in front.

Two figures compare the emulator with the peer, both from the same
interleaved runs (the servers take turns, in alternating order): uplinks/s,
and server CPU time per uplink (user + system time of the server process,
from /proc).  The CPU figure hardly moves when other work shares the
machine, the rate does; both are given as ratios of medians and of the best
run of each server.

    python bench/bench_ingestion.py [--devices 1000] [--uplinks 5] [--runs 3] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass

import aiohttp

INGEST = "/ingestion/m2m/senml/v1"

PEER_SERVER = """
import sys
from aiohttp import web
async def h(request):
    await request.read()
    return web.Response(status=204)
app = web.Application()
app.router.add_post("/ingestion/m2m/senml/v1", h)
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(2048)
print(f"dashboard   http://127.0.0.1:{s.getsockname()[1]}/", flush=True)
web.run_app(app, sock=s, print=None, access_log=None)
"""


API_KEY = "bench-api-key-0123456789"  # the emulator runs with auth on, as by default


def start(cmd: list[str]) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    while True:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"server {cmd} exited")
        m = re.match(r"dashboard\s+http://127\.0\.0\.1:(\d+)/", line)
        if m:
            return proc, int(m.group(1))


def pack(imei: str, i: int) -> bytes:
    recs = [{"bn": f"urn:dev:IMEI:{imei}:", "n": "firmware", "vs": "1.0.0"}]
    if i:
        recs += [{"n": "fota.state", "vs": "downloading"},
                 {"n": "fota.progress", "u": "%", "v": min(100, 20 * i)}]
    recs.append({"n": "battery", "u": "%", "v": 87})
    return json.dumps(recs, separators=(",", ":")).encode()


async def setup(port: int, devices: int) -> dict[str, str]:
    base = f"http://127.0.0.1:{port}"
    secrets: dict[str, str] = {}
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {API_KEY}"}) as s:
        for n in range(devices):
            imei = f"35{n:013d}"
            secret = f"bench-secret-{n}"
            async with s.post(f"{base}/api/devices",
                              json={"imei": imei, "type": "bench", "secret": secret}) as r:
                assert r.status == 201, await r.text()
                secrets[imei] = secret
        async with s.post(f"{base}/api/firmware?version=2.0.0", data=os.urandom(64 * 1024)) as r:
            fw = await r.json()
        async with s.post(f"{base}/api/campaigns",
                          json={"firmware_id": fw["id"], "type": "bench"}) as r:
            assert r.status == 201, await r.text()
    return secrets


async def load(port: int, secrets: dict[str, str], uplinks: int) -> tuple[list[float], int, float]:
    url = f"http://127.0.0.1:{port}{INGEST}"
    latencies: list[float] = []
    downlinks = 0
    start_gate = asyncio.Event()
    conn = aiohttp.TCPConnector(limit=0, limit_per_host=0)

    async def device(session: aiohttp.ClientSession, imei: str, secret: str) -> None:
        nonlocal downlinks
        await start_gate.wait()
        for i in range(uplinks):
            body = pack(imei, i)
            token = hashlib.sha256(body + secret.encode()).hexdigest()
            t0 = time.perf_counter()
            async with session.post(url, data=body, headers={
                    "Content-Type": "application/json", "Things-Message-Token": token}) as r:
                data = await r.read()
                if r.status not in (200, 204):
                    raise RuntimeError(f"{imei}: HTTP {r.status} {data[:200]!r}")
            latencies.append(time.perf_counter() - t0)
            downlinks += r.status == 200

    async with aiohttp.ClientSession(connector=conn) as session:
        tasks = [asyncio.create_task(device(session, imei, sec))
                 for imei, sec in secrets.items()]
        await asyncio.sleep(0.1)
        t0 = time.perf_counter()
        start_gate.set()
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - t0
    return latencies, downlinks, elapsed


async def count_stored(port: int, imeis: list[str]) -> int:
    """Uplinks the emulator stored (after the timed run): nothing may be lost."""
    base = f"http://127.0.0.1:{port}"
    total = 0
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {API_KEY}"}) as s:
        for imei in imeis:
            async with s.get(f"{base}/api/devices/{imei}/uplinks?limit=1000") as r:
                total += len(await r.json())
    return total


def summarize(latencies: list[float], elapsed: float) -> tuple[float, float, float]:
    """uplinks/s, p50 and p99 latency (ms) of one run."""
    lat = sorted(latencies)
    p50 = statistics.median(lat) * 1000
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
    return len(lat) / elapsed, p50, p99


def server_cpu(pid: int) -> float:
    """CPU seconds a process's threads spent on a CPU so far (Linux /proc).

    From each thread's schedstat (nanoseconds); /proc/PID/stat counts clock
    ticks (10 ms), too coarse for a short run.  Falls back to it where
    schedstat is missing."""
    total = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        return total / 1e9
    except (OSError, ValueError, IndexError):
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def count_in_file(path: str) -> int:
    """Uplinks committed to the database file, read by a connection of our own
    while the server still runs: what was acknowledged must be there."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT COUNT(*) FROM uplinks").fetchone()[0]
    finally:
        conn.close()


@dataclass
class Run:
    """One server's figures in one run."""

    rate: float          # uplinks/s
    p50: float           # ms
    p99: float           # ms
    server_cpu: float    # µs per uplink
    client_cpu: float    # µs per uplink
    sent: int
    stored: int | None   # None: the peer stores nothing
    downlinks: int


def run_server(cmd: list[str], devices: int, uplinks: int, *,
               registered: bool, db_file: str | None = None) -> Run:
    """One timed run against the server ``cmd`` starts.  Server and client CPU
    time per uplink are steadier figures than the rate on a shared machine."""
    proc, port = start(cmd)
    try:
        if registered:
            secrets = asyncio.run(setup(port, devices))
        else:
            secrets = {f"35{n:013d}": "x" for n in range(devices)}
        cpu0, client0 = server_cpu(proc.pid), time.process_time()
        lat, downlinks, elapsed = asyncio.run(load(port, secrets, uplinks))
        client_us = (time.process_time() - client0) * 1e6 / len(lat)
        cpu_us = (server_cpu(proc.pid) - cpu0) * 1e6 / len(lat)
        stored = None
        if registered:
            if downlinks != devices:
                raise RuntimeError(f"{downlinks} downlinks for {devices} devices")
            # A file database is counted by SQLite directly; :memory: only
            # through the server's API (its own connection).
            stored = (count_in_file(db_file) if db_file
                      else asyncio.run(count_stored(port, list(secrets))))
            if stored != devices * uplinks:
                raise RuntimeError(f"{stored} uplinks stored of {devices * uplinks} sent")
        rate, p50, p99 = summarize(lat, elapsed)
        return Run(rate, p50, p99, cpu_us, client_us, len(lat), stored, downlinks)
    finally:
        proc.terminate()
        proc.wait(30)


PEER = "peer: bare aiohttp 204 handler"


def measure(devices: int, uplinks: int, runs: int) -> dict[str, list[Run]]:
    """Every server, ``runs`` times, interleaved so that a noisy neighbour
    hits every server alike."""
    serve = [sys.executable, "-c", "import sys; from m2mfota.cli import main; sys.exit(main())",
             "serve", "--port", "0", "--api-key", API_KEY, "--db"]
    results: dict[str, list[Run]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(runs):
            path = os.path.join(tmp, f"b{run}.db")
            configs = [
                ("m2mfota emulator, SQLite file", serve + [path], True, path),
                ("m2mfota emulator, SQLite :memory:", serve + [":memory:"], True, None),
                (PEER, [sys.executable, "-c", PEER_SERVER], False, None),
            ]
            if run % 2:  # A B P, P B A, ...: no server always runs first or last
                configs.reverse()
            for name, cmd, registered, db_file in configs:
                results.setdefault(name, []).append(
                    run_server(cmd, devices, uplinks, registered=registered, db_file=db_file))
    return results


def medians(runs: list[Run]) -> dict[str, float]:
    return {key: statistics.median(getattr(r, key) for r in runs)
            for key in ("rate", "p50", "p99", "server_cpu", "client_cpu")}


def ratios(results: dict[str, list[Run]]) -> dict[str, float]:
    """Each emulator's median uplinks/s over the peer's, from the same runs."""
    peer = medians(results[PEER])["rate"]
    return {name: medians(runs)["rate"] / peer for name, runs in results.items()
            if name != PEER}


def cpu_ratios(results: dict[str, list[Run]]) -> dict[str, float]:
    """The peer's median server CPU per uplink over each emulator's (1.0: the
    emulator costs what the bare handler costs; 0.5: twice as much)."""
    peer = medians(results[PEER])["server_cpu"]
    return {name: peer / medians(runs)["server_cpu"] for name, runs in results.items()
            if name != PEER}


def best_ratios(results: dict[str, list[Run]]) -> dict[str, tuple[float, float]]:
    """(uplinks/s, CPU) ratios of each server's best run: the highest rate,
    the lowest CPU per uplink (the runs least disturbed by other work)."""
    peer = results[PEER]
    peer_rate, peer_cpu = max(r.rate for r in peer), min(r.server_cpu for r in peer)
    return {name: (max(r.rate for r in runs) / peer_rate,
                   peer_cpu / min(r.server_cpu for r in runs))
            for name, runs in results.items() if name != PEER}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", type=int, default=1000)
    ap.add_argument("--uplinks", type=int, default=5, help="uplinks per device")
    ap.add_argument("--runs", type=int, default=3, help="runs per server; medians reported")
    ap.add_argument("--json", action="store_true",
                    help="also print every run's figures as one JSON line")
    args = ap.parse_args()
    load_before = os.getloadavg()
    results = measure(args.devices, args.uplinks, args.runs)
    load_after = os.getloadavg()
    print(f"{args.devices} devices x {args.uplinks} uplinks, all concurrent, one client "
          f"process; median of {args.runs} runs; every uplink checked stored")
    print("| server                             | uplinks/s | p50 (ms) | p99 (ms) "
          "| server CPU/uplink (µs) | client CPU/uplink (µs) |")
    print("| ---------------------------------- | --------- | -------- | -------- "
          "| ---------------------- | ---------------------- |")
    for name, runs in results.items():
        m = medians(runs)
        print(f"| {name:<34} | {m['rate']:>9.0f} | {m['p50']:>8.1f} | {m['p99']:>8.1f} "
              f"| {m['server_cpu']:>22.0f} | {m['client_cpu']:>22.0f} |")
    ratio, cpu, best = ratios(results), cpu_ratios(results), best_ratios(results)
    print(f"load average (1 min) {load_before[0]:.2f} before, {load_after[0]:.2f} after")
    print("| emulator vs bare handler           | uplinks/s, medians | uplinks/s, best "
          "| CPU/uplink, medians | CPU/uplink, best |")
    print("| ---------------------------------- | ------------------ | --------------- "
          "| ------------------- | ---------------- |")
    for name in ratio:
        print(f"| {name:<34} | {ratio[name]:>17.2f}x | {best[name][0]:>14.2f}x "
              f"| {cpu[name]:>18.2f}x | {best[name][1]:>15.2f}x |")
    for name, value in ratio.items():
        print(f"{name}: {value:.2f}x the bare aiohttp handler's uplinks/s")
    for name, value in cpu.items():
        print(f"{name}: {value:.2f}x the bare aiohttp handler's CPU efficiency "
              f"(its server CPU per uplink over the emulator's)")
    if args.json:
        print(json.dumps({"devices": args.devices, "uplinks": args.uplinks, "ratios": ratio,
                          "cpu_ratios": cpu,
                          "best_ratios": {k: v[0] for k, v in best.items()},
                          "best_cpu_ratios": {k: v[1] for k, v in best.items()},
                          "loadavg": [load_before[0], load_after[0]],
                          "runs": {name: [asdict(r) for r in runs]
                                   for name, runs in results.items()}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
