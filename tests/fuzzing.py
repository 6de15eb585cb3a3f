"""Build and run a libFuzzer harness (clang, ASan + UBSan) for a few seconds.

Harnesses live in ``fuzz/<name>_fuzz.c`` and define LLVMFuzzerTestOneInput;
their seed corpora in ``fuzz/corpus/<name>/``.  The run time is
MFOTA_FUZZ_SECONDS (default: 30 under CI, 5 elsewhere).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from conftest import IN_CI, require_tool

ROOT = Path(__file__).resolve().parent.parent


def fuzz_seconds() -> int:
    return int(os.environ.get("MFOTA_FUZZ_SECONDS", "30" if IN_CI else "5"))


def run_fuzzer(name: str, port_dirs: tuple[str, ...] = (),
               defines: tuple[str, ...] = ()) -> str:
    """Compile fuzz/<name>_fuzz.c with the core (and the sources of the
    ``embedded_port/<dir>`` in ``port_dirs``; ``defines`` are NAME=VALUE
    config.h options) and fuzz it; return its log.

    Fails (via assert) on any crash, sanitizer report or leak."""
    clang = require_tool("clang")
    harness = ROOT / "fuzz" / f"{name}_fuzz.c"
    seeds = ROOT / "fuzz" / "corpus" / name
    assert harness.exists(), harness
    assert seeds.is_dir() and any(seeds.iterdir()), f"empty seed corpus {seeds}"
    with tempfile.TemporaryDirectory(prefix=f"fuzz-{name}-") as tmp:
        exe = Path(tmp) / name
        sources = sorted(str(p) for p in (ROOT / "csrc" / "src").glob("*.c"))
        ports = [ROOT / "embedded_port" / d for d in port_dirs]
        if '"fake_hal.h"' in harness.read_text():
            ports.append(ROOT / "tests" / "c")  # the C tests' one fake HAL
            sources.append(str(ROOT / "tests" / "c" / "fake_hal.c"))
        sources += sorted(str(p) for d in ports if d.parent.name == "embedded_port"
                          for p in d.glob("*.c"))
        subprocess.run(
            [clang, "-std=c99", "-g", "-O1", "-fsanitize=fuzzer,address,undefined",
             "-fno-sanitize-recover=undefined", "-DMFOTA_CRC32_ALL_VARIANTS=1",
             *(f"-D{d}" for d in defines),
             f"-I{ROOT / 'csrc' / 'include'}", f"-I{ROOT / 'csrc' / 'src'}",
             *(f"-I{d}" for d in ports),
             str(harness), *sources, "-o", str(exe)],
            check=True,
        )
        # Crashing inputs outlive the temp dir so a CI failure can be replayed.
        artifacts = ROOT / "tests" / "artifacts" / f"fuzz-{name}"
        artifacts.mkdir(parents=True, exist_ok=True)
        corpus = Path(tmp) / "corpus"
        shutil.copytree(seeds, corpus)
        proc = subprocess.run(
            [str(exe), str(corpus), f"-max_total_time={fuzz_seconds()}", "-print_final_stats=1",
             "-max_len=4096", f"-artifact_prefix={artifacts}/"],
            capture_output=True, text=True, timeout=fuzz_seconds() + 120,
        )
        log = proc.stdout + proc.stderr
        crashes = sorted(artifacts.glob("*"))
        assert proc.returncode == 0, log[-4000:] + "".join(
            f"\ncrash input {c.name}: {c.read_bytes()[:512].hex()}" for c in crashes)
        return log
