"""Mistakes with the delta options of ``m2mfota delta``, ``demo --delta`` and
``qemu-demo --delta`` end in one line and exit 1, with or without detools."""

from __future__ import annotations

import sys

import pytest
from test_cli import assert_one_line_error, run_main


@pytest.fixture
def no_detools(monkeypatch):
    # A None entry makes "import detools" raise ImportError, as on a host
    # without it.
    monkeypatch.setitem(sys.modules, "detools", None)


@pytest.fixture
def files(tmp_path):
    (tmp_path / "old.bin").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "new.bin").write_bytes(bytes(range(255, -1, -1)) * 8)
    return tmp_path


def test_delta_refuses_standard_input_twice(files, capsys):
    code, _, err = run_main(["delta", "-", "-", "-o", str(files / "x")], capsys)
    assert_one_line_error(code, err, "delta", "standard input")
    assert not (files / "x").exists()


@pytest.mark.parametrize("extra", [["--raw"], ["--compression", "none"],
                                   ["--window-sz2", "6"]])
def test_apply_refuses_the_options_it_would_ignore(files, capsys, extra):
    code, _, err = run_main(["delta", "--apply", str(files / "old.bin"), str(files / "new.bin"),
                             "-o", str(files / "x"), *extra], capsys)
    assert_one_line_error(code, err, "delta", extra[0], "--apply")
    assert not (files / "x").exists()


def test_delta_without_detools_is_one_line(files, capsys, no_detools):
    code, _, err = run_main(["delta", str(files / "old.bin"), str(files / "new.bin"), "-o",
                             str(files / "x")], capsys)
    assert_one_line_error(code, err, "delta", "detools")


def test_demo_delta_without_detools_is_one_line_on_stderr(capsys, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "detools" else real(name, *a))
    code, out, err = run_main(["demo", "--delta", "--devices", "1"], capsys)
    assert_one_line_error(code, err, "demo", "--delta needs detools")


def test_qemu_demo_delta_without_detools_is_one_line(tmp_path, capsys, no_detools):
    # A stand-in board directory: the delta file is made before QEMU starts.
    for name in ("bootloader.elf", "app-v1.signed.bin", "app-v2.signed.bin"):
        (tmp_path / name).write_bytes(b"\0" * 64)
    code, _, err = run_main(["qemu-demo", "--board-dir", str(tmp_path), "--delta",
                             "--qemu", sys.executable], capsys)
    assert_one_line_error(code, err, "qemu-demo", "--delta", "detools")
