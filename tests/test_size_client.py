"""The size budget of the client engine (issue 12 §7).

tools/size_client.py links the client engine plus the MCUboot helper into a
minimal firmware for the Cortex-M4 and the Cortex-M0+; these tests fail when
a figure goes over the budget rows of the README's sizes block.  Sizes are
deterministic for a given compiler, so this is no timed test.  The budget
logic itself is checked on made-up figures, so it is known to fail when it
must."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys

import pytest
from cbuild import ROOT
from conftest import require_tool

_spec = importlib.util.spec_from_file_location("size_client", ROOT / "tools" / "size_client.py")
size_client = importlib.util.module_from_spec(_spec)
sys.modules["size_client"] = size_client
_spec.loader.exec_module(size_client)

BUDGETED = ("cortex-m4", "cortex-m0plus")


@pytest.fixture(scope="module")
def figures(tmp_path_factory):
    require_tool("arm-none-eabi-gcc")
    require_tool("arm-none-eabi-nm")
    require_tool("arm-none-eabi-objdump")
    build = tmp_path_factory.mktemp("size")
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "size_client.py"),
                           "--targets", ",".join(BUDGETED), "--json", "--build-dir", str(build)],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {f["target"]: size_client.Figures(**f) for f in json.loads(proc.stdout)}, build


@pytest.mark.external_build
def test_budgeted_targets_are_within_the_readme_budget(figures):
    figs, _ = figures
    budgets = size_client.read_budgets((ROOT / "README.md").read_text())
    bound = {label for b in budgets for label in b.targets}
    # the budget binds both MCUs the project targets
    assert {"Cortex-M4", "Cortex-M0+"} <= bound
    problems = size_client.over_budget(budgets, list(figs.values()))
    assert not problems, "\n".join(problems)


@pytest.mark.external_build
def test_figures_are_plausible(figures):
    figs, build = figures
    for f in figs.values():
        # uplink request + downlink body + receive buffer, at least
        assert f.context >= 512 + (256 + 1024 + 512) + 512
        assert f.context <= f.static_ram < f.context + 256
        assert f.code > 10_000
        assert f.stack_path[0] in size_client.ENTRY_POINTS and 200 < f.stack < 16_000
        assert f.helpers == []
    # the engine's own functions are in the image, not collected away
    nm = subprocess.run(["arm-none-eabi-nm", str(build / "cortex-m4" / "client.elf")],
                        capture_output=True, text=True, check=True).stdout
    for fn in ("mfota_client_run", "mfota_client_step", "mfota_dl_step",
               "mfota_flash_writer_part_commit", "mfota_image_verify_writer",
               "mfota_mcuboot_mark_pending", "mfota_things_build_uplink"):
        assert re.search(rf" [tT] {fn}$", nm, re.M), fn


@pytest.mark.external_build
def test_firmware_runs_on_the_fake_hal_which_is_not_counted(figures):
    figs, build = figures
    out = build / "cortex-m4"
    nm = subprocess.run(["arm-none-eabi-nm", str(out / "client.elf")],
                        capture_output=True, text=True, check=True).stdout
    # the C tests' fake HAL is what the engine's HAL calls reach
    for fn in ("nor_program", "nor_erase", "t_connect", "t_recv", "k_now"):
        assert re.search(rf" [tT] {fn}$", nm, re.M), fn
    hal_flash, hal_ram = size_client.hal_bytes((out / "client.map").read_text())
    assert hal_flash > 500 and hal_ram > 12_000
    # ... and it is taken off the figures: the client image minus the empty
    # one, minus the fake HAL, is the client code
    client = size_client.sections("arm-none-eabi-", out / "client.elf")
    empty = size_client.sections("arm-none-eabi-", out / "empty.elf")
    f = figs["cortex-m4"]
    assert f.code == client[0] - empty[0] - hal_flash
    assert f.static_ram == client[1] - empty[1] - hal_ram
    assert "fake_hal" not in f.objects and "port" not in f.objects


def _fig(label: str, code: int = 100, context: int = 100, stack: int = 100,
         helpers: list[str] | None = None) -> size_client.Figures:
    return size_client.Figures(label.lower(), label, "gcc", code, context, context, stack,
                               ["mfota_client_run"], helpers or [])


def test_budget_check_fails_on_each_figure():
    budgets = [size_client.Budget(("Cortex-M4",), 100, 100, 100, False)]
    assert size_client.over_budget(budgets, [_fig("Cortex-M4")]) == []
    assert size_client.over_budget(budgets, [_fig("Cortex-M33", code=10**6)]) == []
    for kwargs, word in (({"code": 101}, "client code"),
                         ({"context": 101}, "sizeof"),
                         ({"stack": 101}, "stack"),
                         ({"helpers": ["__aeabi_uldivmod"]}, "helpers")):
        problems = size_client.over_budget(budgets, [_fig("Cortex-M4", **kwargs)])
        assert len(problems) == 1 and word in problems[0], (kwargs, problems)


def test_readme_block_round_trip(tmp_path, monkeypatch):
    readme = tmp_path / "README.md"
    readme.write_text("# x\n\nbefore\n" + size_client.BEGIN + "\nold table\n"
                      "| **budget** (Cortex-M4) | 1 | 2 | 3 | none |\n"
                      "| **budget** (Cortex-M0+) | 4 | 5 | 6 | any |\n"
                      + size_client.END + "\nafter\n")
    monkeypatch.setattr(size_client, "README", readme)
    budgets = size_client.read_budgets(readme.read_text())
    assert [(b.targets, b.code, b.context, b.stack, b.helpers_allowed) for b in budgets] == [
        (("Cortex-M4",), 1, 2, 3, False), (("Cortex-M0+",), 4, 5, 6, True)]
    size_client.update_readme([_fig("Cortex-M4", code=7), _fig("Cortex-M0+", code=8)])
    text = readme.read_text()
    assert text.startswith("# x\n\nbefore\n") and text.endswith(size_client.END + "\nafter\n")
    assert "old table" not in text
    assert "| Cortex-M4 | 7 | 100 | 100 | none |" in text
    assert size_client.read_budgets(text) == budgets  # budget rows kept verbatim
    readme.write_text("no block here\n")
    with pytest.raises(size_client.ToolError):
        size_client.read_budgets(readme.read_text())


def test_readme_has_one_generated_size_table():
    text = (ROOT / "README.md").read_text()
    block = size_client.readme_block(text)
    for label in ("Cortex-M4", "Cortex-M0+", "Cortex-M33", "RV32IMAC"):
        assert re.search(rf"^\| {re.escape(label)} \| \d+ \| \d+ \| \d+ \| ", block, re.M), label
    # the README's only sizeof(struct mfota_client) figures are in the block
    outside = text.replace(block, "")
    assert "sizeof(struct mfota_client)" not in outside
    assert (ROOT / "docs" / "sizes.md").exists()


# A table row giving a figure for one of the generated table's quantities.
HAND_SIZE_ROW = re.compile(r"^\|[^\n]*(sizeof\(struct mfota_client\)|client code|code the client"
                           r"|deepest stack|worst-case stack)[^\n]*\|\s*\d[\d,]*\s*\|", re.M | re.I)


def test_no_other_doc_page_keeps_its_own_size_table(tmp_path):
    """The generated docs/sizes.md is the only page with client size figures:
    a hand-written table elsewhere goes stale (docs/client.md kept the 9840 B
    context and 38856 B of code long after both had shrunk)."""
    stale = "| sizeof(struct mfota_client) (context, every buffer inside) | 9840 |\n"
    assert HAND_SIZE_ROW.search(stale) and HAND_SIZE_ROW.search("| client code | 1,234 |")
    assert not HAND_SIZE_ROW.search("| target | client code (B) | x |")
    pages = [p for p in (ROOT / "docs").rglob("*.md") if p.name != "sizes.md"]
    assert pages
    found = {str(p.relative_to(ROOT)): m.group(0) for p in pages
             if (m := HAND_SIZE_ROW.search(p.read_text()))}
    assert not found, found
