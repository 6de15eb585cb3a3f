"""Smoke test of the SenML benchmark: it builds, decodes both messages with
both libraries, and m2mfota makes no heap allocation.  Speed is reported by
bench/run_bench_senml.sh, not asserted here (a shared machine is no timer)."""

import re
import subprocess
from pathlib import Path

import pytest
from conftest import require_tool

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.external_build
def test_bench_senml_runs(tmp_path):
    require_tool("cmake")
    if not Path("/usr/include/cjson/cJSON.h").exists():
        require_tool("cjson-headers (Debian package libcjson-dev)")
    proc = subprocess.run(
        ["bash", str(ROOT / "bench" / "run_bench_senml.sh"), "0.01"],
        env={"BUILD_DIR": str(tmp_path / "build"), "PATH": "/usr/bin:/bin:/usr/local/bin"},
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    m = re.search(r"RATIO downlink=([\d.]+) downlink_full=([\d.]+) uplink=([\d.]+) "
                  r"m2mfota_allocs=(\d+)", out)
    assert m, out
    assert int(m.group(4)) == 0, out
    cjson = [line for line in out.splitlines() if line.startswith("downlink 3 rec: cJSON")]
    assert cjson, out
    assert float(cjson[0].split()[-2]) > 0  # the counting hooks see cJSON's allocations
