"""Smoke test of bench/bench_crc32.py: it runs, checks every library's CRC
and reports a consistent table.  No timing assertions: this is a benchmark's
plumbing, not a performance test."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_crc32.py"


def run_bench(*args: str) -> str:
    res = subprocess.run(
        [sys.executable, str(BENCH), "--repeats", "2", "--min-time", "0", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    return res.stdout


def test_bench_json_has_every_library_and_size():
    result = json.loads(run_bench("--json", "--sizes", "64", "4096", "65537"))
    assert [row["size"] for row in result["rows"]] == [64, 4096, 65537]
    for row in result["rows"]:
        gbps = row["gbps"]
        assert set(gbps) == {"m2mfota", "zlib", "zlib-ng", "isal"}
        assert all(v > 0 for v in gbps.values())
        peers = {k: v for k, v in gbps.items() if k != "m2mfota"}
        assert row["best_peer"] == max(peers, key=peers.get)
        assert abs(row["ratio"] - gbps["m2mfota"] / peers[row["best_peer"]]) < 1e-9
        assert 0 <= row["address_mod_64"] < 64


def test_bench_prints_the_markdown_table():
    out = run_bench("--sizes", "64", "262144")
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("| size"))
    assert header == "| size | m2mfota | zlib | zlib-ng | isal | m2mfota / best peer |"
    rows = [line for line in lines if line.startswith("| 64 B") or line.startswith("| 256 KiB")]
    assert len(rows) == 2
    assert all(row.rstrip(" |").endswith(")") for row in rows)
    assert re.fullmatch(r"buffer address mod 64: 64 B: \d+, 256 KiB: \d+", lines[-1])


def test_profile_times_every_layer_of_a_call():
    result = json.loads(run_bench("--profile", "--calls", "10", "--json"))
    assert [row["size"] for row in result["rows"]] == [64, 4096]
    for row in result["rows"]:
        steps = row["ns"]
        assert {"m2mfota.crc32(bytes)", "f(0, d, n): cffi call, function bound to a local",
                "ffi.from_buffer(bytearray)", "zlib.crc32(bytes)"} <= set(steps)
        assert all(v > 0 for v in steps.values())


def test_baseline_build_runs_in_the_same_table():
    import m2mfota

    # The installed build as its own baseline: the plumbing, not a comparison.
    site = str(Path(m2mfota.__file__).resolve().parents[1])
    result = json.loads(run_bench("--json", "--sizes", "64", "--baseline", site,
                                  "--clock", "cpu"))
    row = result["rows"][0]
    assert "m2mfota (baseline)" in row["gbps"] and result["clock"] == "cpu"
    assert row["best_peer"] in ("zlib", "zlib-ng", "isal")  # the baseline is not a peer
    out = run_bench("--sizes", "64", "--baseline", site)
    assert "| baseline / best peer |" in out
    summary = run_bench("--sizes", "64", "4096", "--baseline", site, "--summary")
    lines = summary.splitlines()
    assert "| size | before (baseline build) | now |" in lines
    assert [line.split(" | ")[0] for line in lines if re.match(r"\| \d", line)] == ["| 64 B",
                                                                                   "| 4 KiB"]


def test_summary_without_a_baseline_is_refused():
    res = subprocess.run([sys.executable, str(BENCH), "--summary", "--sizes", "64"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "--summary needs --baseline" in res.stderr


def test_baseline_that_is_no_build_is_refused(tmp_path):
    res = subprocess.run([sys.executable, str(BENCH), "--baseline", str(tmp_path)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode != 0 and "no m2mfota build" in res.stderr
