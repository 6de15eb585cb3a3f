"""The emulator guide's curl walk-through runs as written: its `m2mfota serve`
command starts a real server (on a free port), then every other shell block
of the walk-through runs in order in one bash, with curl failing on any
HTTP error.  The device must end with the new firmware, seen through the API."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from conftest import require_tool

# Runs outside programs (the CLI server, bash, curl): not repeated in the
# sanitizer run, whose LD_PRELOAD they must not inherit either.
pytestmark = pytest.mark.external_build

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "emulator-guide.md"
DOC_BASE = "http://127.0.0.1:8080"


def walkthrough_blocks() -> list[str]:
    text = GUIDE.read_text()
    start = text.index("<!-- walkthrough:start -->")
    end = text.index("<!-- walkthrough:end -->")
    return re.findall(r"```sh\n(.*?)```", text[start:end], flags=re.S)


def _serve_argv(block: str) -> tuple[list[str], str]:
    """The doc's serve command as argv on a free port; and its API key."""
    argv = shlex.split(block.strip())
    assert argv[:2] == ["m2mfota", "serve"], argv
    argv[argv.index("--port") + 1] = "0"
    key = argv[argv.index("--api-key") + 1]
    # The package's own CLI entry point, in this interpreter; coreutils'
    # timeout makes sure the server ends even if this test is killed.
    runner = [require_tool("timeout"), "300", sys.executable, "-c",
              "import sys; from m2mfota.cli import main; sys.exit(main())"]
    return runner + argv[1:], key


def test_walkthrough_blocks_are_found():
    blocks = walkthrough_blocks()
    assert len(blocks) >= 8
    assert sum("m2mfota serve" in b for b in blocks) == 1


def test_curl_walkthrough_runs_against_a_real_server(tmp_path):
    require_tool("curl")
    require_tool("sha256sum")
    blocks = walkthrough_blocks()
    serve_block = next(b for b in blocks if "m2mfota serve" in b)
    argv, key = _serve_argv(serve_block)
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    server = subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, env=env)
    try:
        base = None
        banner = []
        for _ in range(20):  # the banner is six lines
            line = server.stdout.readline()
            if not line:
                break
            banner.append(line)
            m = re.match(r"REST API\s+(http://127\.0\.0\.1:\d+)/api/", line)
            if m:
                base = m.group(1)
                break
        assert base is not None, "".join(banner)

        script = "\n".join(b for b in blocks if b is not serve_block)
        assert DOC_BASE in script
        script = script.replace(DOC_BASE, base)
        prelude = ("set -euo pipefail\n"
                   "curl() { command curl --fail-with-body --max-time 30 \"$@\"; }\n")
        proc = subprocess.run(["bash", "-c", prelude + script], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=240)
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
        assert "the parts are the file" in proc.stdout
        assert "Content-Range: bytes 0-9999/20000" in proc.stdout
        # The CRC the guide computes is the first part's Digest.
        digest = re.search(r"Digest: crc32=([0-9a-f]+)", proc.stdout, flags=re.I).group(1)
        assert re.search(rf"^0*{digest.lstrip('0')}$", proc.stdout, flags=re.M | re.I)

        req = urllib.request.Request(f"{base}/api/devices/350000000000001",
                                     headers={"Authorization": f"Bearer {key}"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            device = json.load(resp)
        # the last step: a delta campaign from 2.0.0 took it to 3.0.0
        assert re.search(r"MFDP \d{3,4} bytes, target ok$", proc.stdout, flags=re.M)
        assert device["reported"]["firmware"] == "3.0.0"
        assert device["update"]["status"] == "done"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=20)
