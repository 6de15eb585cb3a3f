"""Smoke test of bench/bench_delta.py's measuring half: the C apply bench
builds, applies detools patches bit-exactly (it exits non-zero otherwise)
and the rows are consistent.  The firmware builds are left to the bench
itself (minutes of cross builds); no timing assertions."""

from __future__ import annotations

import importlib.util
import random
import subprocess
from pathlib import Path

import pytest
from conftest import require_tool

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_delta.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_delta", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.external_build
def test_apply_bench_measures_detools_patches(tmp_path):
    require_tool("gcc")
    bench = load_bench()
    exe = bench.build_apply_bench(tmp_path)
    rng = random.Random(4)
    words = [rng.randbytes(4) for _ in range(100)]
    old = b"".join(rng.choice(words) for _ in range(20000))
    new = old[:5000] + b"one function changed" + old[5020:]
    rows = bench.measure("synthetic", old, new, exe, tmp_path, True)
    assert [r["compression"] for r in rows] == ["heatshrink", "none"]
    for r in rows:
        assert r["image"] == len(new) and r["old"] == len(old)
        assert r["ratio"] == r["patch"] / r["image"]
        assert 0 < r["ram_host"] <= 480 and r["apply_us_host"] >= 0
    assert rows[0]["ratio"] < 0.10
    # The C bench refuses a wrong result: NEW that is not what the patch makes.
    files = [tmp_path / f"synthetic.{x}" for x in ("old", "patch", "new")]
    files[2].write_bytes(new[:-1] + b"?")
    proc = subprocess.run([str(exe), *map(str, files), "1"], capture_output=True, text=True)
    assert proc.returncode == 1 and "wrong result" in proc.stderr
