"""The documentation builds with MkDocs in strict mode: a broken link or a
page missing from the tree fails the suite, so docs cannot rot silently."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_docs_build_strict(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-f", str(ROOT / "mkdocs.yml"),
         "-d", str(tmp_path / "site")],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "site" / "protocol" / "index.html").exists()


def test_readme_is_short_and_self_contained():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 200
    for name in ("PROTOCOL" ".md", "DESIGN" ".md", "../" "shared"):
        assert name not in text
