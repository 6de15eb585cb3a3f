"""Load benchmark of the emulator's ingestion endpoint.

1000 registered devices send signed SenML uplinks concurrently from one aiohttp
client (one connection per device, as real modems do).  Every device is in a
campaign, so each one's first uplink is answered with a FOTA downlink (a file
published on the file server) and the rest report progress.  The peer is a bare
aiohttp server whose handler reads the body and answers 204: the framework's
floor on the same machine, so the ratio is the emulator's own cost.

    python bench/bench_ingestion.py [--devices 1000] [--uplinks 5] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

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
    """CPU seconds (user + system) a process used so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_server(cmd: list[str], devices: int, uplinks: int, *,
               registered: bool) -> tuple[float, float, float, float]:
    """uplinks/s, p50 and p99 (ms), and the server's CPU time per uplink (µs):
    a steadier figure than the rate on a machine shared with other jobs."""
    proc, port = start(cmd)
    try:
        if registered:
            secrets = asyncio.run(setup(port, devices))
        else:
            secrets = {f"35{n:013d}": "x" for n in range(devices)}
        cpu0 = server_cpu(proc.pid)
        lat, downlinks, elapsed = asyncio.run(load(port, secrets, uplinks))
        cpu_us = (server_cpu(proc.pid) - cpu0) * 1e6 / len(lat)
        if registered and downlinks != devices:
            raise RuntimeError(f"{downlinks} downlinks for {devices} devices")
        if registered:
            stored = asyncio.run(count_stored(port, list(secrets)))
            if stored != devices * uplinks:
                raise RuntimeError(f"{stored} uplinks stored of {devices * uplinks} sent")
        return (*summarize(lat, elapsed), cpu_us)
    finally:
        proc.terminate()
        proc.wait(30)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", type=int, default=1000)
    ap.add_argument("--uplinks", type=int, default=5, help="uplinks per device")
    ap.add_argument("--runs", type=int, default=3, help="runs per server; medians reported")
    args = ap.parse_args()
    serve = [sys.executable, "-c", "import sys; from m2mfota.cli import main; sys.exit(main())",
             "serve", "--port", "0", "--api-key", API_KEY, "--db"]
    results: dict[str, list[tuple[float, float, float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            # Interleaved, so that a noisy neighbour hits every server alike.
            configs = [
                ("m2mfota emulator, SQLite file", serve + [os.path.join(tmp, f"b{run}.db")], True),
                ("m2mfota emulator, SQLite :memory:", serve + [":memory:"], True),
                ("peer: bare aiohttp 204 handler", [sys.executable, "-c", PEER_SERVER], False),
            ]
            for name, cmd, registered in configs:
                results.setdefault(name, []).append(
                    run_server(cmd, args.devices, args.uplinks, registered=registered))
    print(f"{args.devices} devices x {args.uplinks} uplinks, all concurrent, one client "
          f"process; median of {args.runs} runs")
    print("| server                             | uplinks/s | p50 (ms) | p99 (ms) "
          "| server CPU/uplink (µs) |")
    print("| ---------------------------------- | --------- | -------- | -------- "
          "| ---------------------- |")
    medians = {}
    for name, runs in results.items():
        rate, p50, p99, cpu_us = (statistics.median(col) for col in zip(*runs))
        medians[name] = rate
        print(f"| {name:<34} | {rate:>9.0f} | {p50:>8.1f} | {p99:>8.1f} | {cpu_us:>22.0f} |")
    peer = medians["peer: bare aiohttp 204 handler"]
    for name, rate in medians.items():
        if not name.startswith("peer"):
            print(f"{name}: {rate / peer:.2f}x the bare aiohttp handler's uplinks/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
