"""The documentation builds with MkDocs in strict mode: a broken link or a
page missing from the tree fails the suite, so docs cannot rot silently.
The reference pages are checked against their sources: the C API page
against the headers (as the compiler reads them), the Python API page
against ``m2mfota.__all__``, troubleshooting against the error enum."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import require_tool

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
INCLUDE = ROOT / "csrc" / "include" / "m2mfota"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-f", str(ROOT / "mkdocs.yml"),
         "-d", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def test_docs_build_strict(site):
    assert (site / "protocol" / "index.html").exists()


def test_readme_is_short_and_self_contained():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 200
    for name in ("PROTOCOL" ".md", "DESIGN" ".md", "../" "shared"):
        assert name not in text


def _nav_files(nav) -> set[str]:
    files: set[str] = set()
    for item in nav:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        if isinstance(value, list):
            files |= _nav_files(value)
        else:
            files.add(value)
    return files


def test_every_page_is_in_the_nav():
    # mkdocs only logs pages left out of the nav, even in strict mode.
    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=yaml.BaseLoader)
    in_nav = _nav_files(config["nav"])
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert pages - in_nav == set()
    assert in_nav - pages == set()


# Files outside the repository, and development history, have no place in
# the user documentation.
FORBIDDEN_IN_DOCS = ("PROTOCOL" ".md", "DESIGN" ".md", "../" "shared", "/wo" "rk/",
                     "the issue", "issue's", "used to control", "predate")


def test_docs_mention_nothing_outside_the_repository():
    files = [*DOCS.rglob("*.md"), *(ROOT / "examples").rglob("*"), *(ROOT / "zephyr").rglob("*"),
             ROOT / "library.json"]
    for path in files:
        if not path.is_file():
            continue
        text = path.read_text()
        for needle in FORBIDDEN_IN_DOCS:
            assert needle not in text, f"{path.relative_to(ROOT)} mentions {needle!r}"


# ---- C API reference ----------------------------------------------------------------


def test_c_api_page_is_generated_from_the_current_headers():
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_c_api_docs.py"), "--check"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def compiler_public_functions(tmp_path: Path) -> set[str]:
    """Every function the public headers declare, as gcc sees them (-aux-info
    writes each prototype with the file it comes from): an oracle independent
    of the generator's own scanner."""
    gcc = require_tool("gcc")
    src = tmp_path / "all.c"
    src.write_text('#include "m2mfota/m2mfota.h"\n')
    aux = tmp_path / "aux.txt"
    names = set()
    # Both number builds: the integer one (MFOTA_SENML_FLOAT 0) declares
    # mfota_senml_parse_num/format_num as functions, the double one as macros.
    for flags in ([], ["-DMFOTA_SENML_FLOAT=0"]):
        subprocess.run([gcc, "-std=c99", *flags, f"-I{ROOT / 'csrc' / 'include'}",
                        "-aux-info", str(aux), "-c", str(src), "-o", str(tmp_path / "all.o")],
                       check=True, timeout=60,
                       env={k: v for k, v in os.environ.items() if k != "LD_PRELOAD"})
        for line in aux.read_text().splitlines():
            m = re.match(r"/\* (.*?):\d+:\w+ \*/ .*?\b(mfota_\w+) \(", line)
            if m and Path(m.group(1)).resolve().parent == INCLUDE.resolve():
                names.add(m.group(2))
    return names


def test_c_api_page_lists_every_public_function(tmp_path):
    declared = compiler_public_functions(tmp_path)
    assert len(declared) > 50 and "mfota_client_step" in declared
    page = (DOCS / "c-api.md").read_text()
    listed = set(re.findall(r"^#### (mfota_\w+)$", page, flags=re.M))
    assert declared - listed == set(), "functions missing from docs/c-api.md"
    assert listed - declared == set(), "docs/c-api.md lists functions the headers lack"


def test_c_api_page_shows_every_hal_struct():
    page = (DOCS / "c-api.md").read_text()
    for struct in ("mfota_transport", "mfota_clock", "mfota_random", "mfota_flash", "mfota_kv",
                   "mfota_bootloader", "mfota_sig_verifier"):
        assert f"struct {struct} {{" in page, struct


# ---- Python API reference --------------------------------------------------------------


def public_python_names() -> list[str]:
    tree = ast.parse((ROOT / "python" / "m2mfota" / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return [ast.literal_eval(e) for e in node.value.elts]
    raise AssertionError("m2mfota/__init__.py has no __all__")


def test_python_api_page_documents_every_public_name(site):
    html = (site / "python-api" / "index.html").read_text()
    anchors = set(re.findall(r'id="(m2mfota\.[\w.]+)"', html))
    names = public_python_names()
    assert len(names) > 10
    missing = [n for n in names
               if f"m2mfota.{n}" not in anchors and f"m2mfota.{n}.{n}" not in anchors]
    assert missing == []
    # Sphinx cross-reference roles are rendered as names, not as ":class:" text.
    assert not re.search(r":(?:mod|class|func|meth|attr|exc):<code>", html)


# ---- troubleshooting --------------------------------------------------------------------


def error_enum_names() -> list[str]:
    text = (INCLUDE / "err.h").read_text()
    body = text[text.index("enum mfota_err {"):text.index("};")]
    return re.findall(r"^\s*(MFOTA_\w+)\s*=", body, flags=re.M)


def test_troubleshooting_lists_every_error_code():
    names = error_enum_names()
    assert len(names) > 90 and "MFOTA_ERR_HAL" in names
    page = (DOCS / "troubleshooting.md").read_text()
    rows = dict(re.findall(r"^\| `(MFOTA_\w+)` \| (-?\d+) \|", page, flags=re.M))
    assert [n for n in names if n not in rows] == []
    # The value beside each name is the enum's.
    values = dict(re.findall(r"^\s*(MFOTA_\w+)\s*=\s*(-?\d+)", (INCLUDE / "err.h").read_text(),
                             flags=re.M))
    assert {n: rows[n] for n in names} == {n: values[n] for n in names}
