"""House style: the Python sources are ruff-clean."""

import subprocess
from pathlib import Path

import pytest
from conftest import require_tool

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.external_build
def test_ruff_clean():
    ruff = require_tool("ruff")
    proc = subprocess.run(
        [ruff, "check", "python", "tests", "tools", "bench"],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
