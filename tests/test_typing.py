"""Typing: mypy (configured in pyproject.toml, ``strict``) finds no error in
the package; the stub of the compiled cffi module is generated from the cdefs
and matches what the module holds; an installed package carries ``py.typed``
and the stub, so a user's mypy checks calls into m2mfota."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import m2mfota
from m2mfota._native import lib

ROOT = Path(__file__).resolve().parents[1]
GEN = ROOT / "tools" / "gen_native_stub.py"

pytest.importorskip("mypy", reason="mypy is in the test extras")


def run_mypy(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mypy", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


def test_mypy_finds_no_errors_in_the_package(tmp_path):
    res = run_mypy("--cache-dir", str(tmp_path / "cache"), cwd=ROOT)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Success" in res.stdout


def test_no_module_of_the_package_is_excluded_from_strict_checking():
    """The emulator and modem_sim were once left out (ignore_errors); the
    whole package is under mypy strict now, and only third-party modules
    without type information may be overridden."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert config["strict"] is True
    for override in config.get("overrides", []):
        modules = override["module"]
        modules = [modules] if isinstance(modules, str) else modules
        assert not override.get("ignore_errors"), f"errors ignored in {modules}"
        assert not any(m.startswith("m2mfota") for m in modules), f"{modules} overridden"


def test_the_native_stub_is_generated_from_the_current_cdefs():
    res = subprocess.run([sys.executable, str(GEN), "--check"], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr


def stub_names() -> set[str]:
    tree = ast.parse((ROOT / "python" / "m2mfota" / "_native.pyi").read_text(encoding="utf-8"))
    lib_class = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "_Lib")
    names = set()
    for node in lib_class.body:
        if isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def test_the_stub_names_exactly_what_the_compiled_module_has():
    compiled = {n for n in dir(lib) if not n.startswith("__")}
    declared = stub_names()
    assert compiled - declared == set(), "in the module, missing from the stub"
    assert declared - compiled == set(), "in the stub, not in the module"


def test_the_installed_package_carries_its_typing():
    pkg = Path(m2mfota.__file__).parent
    assert (pkg / "py.typed").is_file()
    assert (pkg / "_native.pyi").is_file()


def test_a_users_mypy_catches_wrong_calls_into_the_package(tmp_path):
    # Run outside the repository: mypy finds the installed package, and only
    # its py.typed, hints and stub can produce these errors.
    (tmp_path / "user.py").write_text(
        "import m2mfota\n"
        "from m2mfota._native import lib\n"
        "from m2mfota.flash import NorFlash\n"
        "ok: int = m2mfota.crc32(b'abc')\n"
        "bad: str = m2mfota.crc32(b'abc')\n"
        "m2mfota.crc32(5)\n"
        "lib.mfota_no_such_function()\n"
        "lib.mfota_crc32(0, b'x')\n"
        "NorFlash(4096).program(0, 'text')\n",
        encoding="utf-8",
    )
    res = run_mypy("--strict", "--cache-dir", str(tmp_path / "cache"), "user.py", cwd=tmp_path)
    out = res.stdout
    assert res.returncode == 1, out + res.stderr
    errors = {int(line.split(":")[1]) for line in out.splitlines() if ": error:" in line}
    assert errors == {5, 6, 7, 8, 9}, out
