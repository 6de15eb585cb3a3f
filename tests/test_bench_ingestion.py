"""Smoke test of bench/bench_ingestion.py with a small fleet: every uplink the
bench sent is found stored (the bench counts them itself, in the database
file for the file configuration, and fails otherwise), and the ratio it
prints is the one its own runs give.  No timed assertion: the figures belong
to the full run on a quiet machine (docs/emulator.md)."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_ingestion.py"
PEER = "peer: bare aiohttp 204 handler"


def test_bench_ingestion_small_fleet_stores_everything_and_ratio_is_from_its_runs():
    devices, uplinks = 12, 3
    # two runs: the second runs the servers in the reverse order
    res = subprocess.run([sys.executable, str(BENCH), "--devices", str(devices),
                          "--uplinks", str(uplinks), "--runs", "2", "--json"],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    lines = res.stdout.strip().splitlines()
    report = json.loads(lines[-1])
    runs = report["runs"]
    assert set(runs) == {"m2mfota emulator, SQLite file", "m2mfota emulator, SQLite :memory:",
                         PEER}
    for name, rows in runs.items():
        for row in rows:
            assert row["sent"] == devices * uplinks
            if name == PEER:
                assert row["stored"] is None
            else:
                # nothing lost; each device got its FOTA command once
                assert row["stored"] == devices * uplinks
                assert row["downlinks"] == devices
    peer_rate = statistics.median(r["rate"] for r in runs[PEER])
    peer_cpu = statistics.median(r["server_cpu"] for r in runs[PEER])
    for name, ratio in report["ratios"].items():
        rate = statistics.median(r["rate"] for r in runs[name])
        assert ratio == pytest.approx(rate / peer_rate)
        assert f"{name}: {ratio:.2f}x the bare aiohttp handler's uplinks/s" in lines
        # the CPU ratio, from the same runs: the peer's server CPU per uplink
        # over the emulator's (the process's own CPU time, measured)
        cpu = statistics.median(r["server_cpu"] for r in runs[name])
        assert cpu > 0 and peer_cpu > 0
        assert report["cpu_ratios"][name] == pytest.approx(peer_cpu / cpu)
        assert report["best_cpu_ratios"][name] == pytest.approx(
            min(r["server_cpu"] for r in runs[PEER]) / min(r["server_cpu"] for r in runs[name]))
        assert report["best_ratios"][name] == pytest.approx(
            max(r["rate"] for r in runs[name]) / max(r["rate"] for r in runs[PEER]))
        assert any(line.startswith(f"{name}: {report['cpu_ratios'][name]:.2f}x the bare "
                                   "aiohttp handler's CPU efficiency") for line in lines)
