"""The PlatformIO and Zephyr manifests (untested builds: neither tool runs
here) are at least well-formed and complete: they parse, every file or
folder they name exists, every option of config.h has a Kconfig symbol, and
the Kconfig defaults, mapped back through the module's config header, give
config.h's own defaults."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import yaml
from conftest import require_tool

ROOT = Path(__file__).resolve().parent.parent
# The compiler and the programs it builds run without the sanitizer run's
# LD_PRELOAD: they are not the code under test.
PLAIN_ENV = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
CONFIG_H = ROOT / "csrc" / "include" / "m2mfota" / "config.h"
KCONFIG = ROOT / "zephyr" / "Kconfig"
ZEPHYR_HEADER = ROOT / "zephyr" / "m2mfota_zephyr_config.h"

# Defaults chosen per target CPU in config.h; Kconfig leaves them off and
# lets a port turn them on where they exist.
PER_TARGET = {"MFOTA_CRC32_HW", "MFOTA_SHA256_HW"}
# The members of the CRC-32 kernel choice (MFOTA_CRC32_VARIANT's values).
CHOICE_MEMBERS = {f"M2MFOTA_CRC32_{v}" for v in ("AUTO", "BITWISE", "NIBBLE", "BYTE", "SLICE8")}


def config_options() -> list[str]:
    """Every option config.h lets a port override (#ifndef NAME / #define NAME)."""
    text = CONFIG_H.read_text()
    names = re.findall(r"^#ifndef (MFOTA_\w+)\n#(?:define \1\b|if )", text, flags=re.M)
    return [n for n in names if n != "MFOTA_CONFIG_H"]


def kconfig_symbols() -> dict[str, tuple[str, str | None]]:
    """symbol -> (type, default) of every config/choice in zephyr/Kconfig."""
    symbols: dict[str, tuple[str, str | None]] = {}
    text = KCONFIG.read_text()
    for block in re.split(r"\n(?=(?:menu)?config |choice )", text):
        m = re.match(r"(?:menu)?(config|choice) (\w+)\n", block)
        if not m:
            continue
        typ = re.search(r"^\t(bool|int|hex|string)\b", block, flags=re.M)
        default = re.search(r"^\tdefault (.+)$", block, flags=re.M)
        symbols[m.group(2)] = ("choice" if m.group(1) == "choice" else
                               typ.group(1) if typ else "?",
                               default.group(1) if default else None)
    return symbols


def test_library_json_parses_and_names_existing_files():
    manifest = json.loads((ROOT / "library.json").read_text())
    for field in ("name", "version", "description", "license"):
        assert manifest[field], field
    assert len(manifest["description"]) <= 255
    build = manifest["build"]
    src = ROOT / build["srcDir"]
    inc = ROOT / build["includeDir"]
    assert sorted(src.glob("*.c")), "srcDir holds no C sources"
    for header in manifest["headers"]:
        assert (inc / header).is_file(), header
    for path in manifest["export"]["include"]:
        assert (ROOT / path).exists(), path
    for example in manifest["examples"]:
        for name in example["files"]:
            assert (ROOT / example["base"] / name).is_file(), (example["base"], name)
    # The version is the package's.
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'version = "{manifest["version"]}"' in pyproject


def test_zephyr_module_parses_and_names_existing_files():
    module = yaml.safe_load((ROOT / "zephyr" / "module.yml").read_text())
    assert module["name"] == "m2mfota"
    assert (ROOT / module["build"]["cmake"] / "CMakeLists.txt").is_file()
    assert (ROOT / module["build"]["kconfig"]).is_file()
    cmake = (ROOT / "zephyr" / "CMakeLists.txt").read_text()
    # Paths the CMakeLists uses, relative to the module root.
    for rel in re.findall(r"\$\{M2MFOTA_DIR\}/([\w/.-]+)", cmake):
        rel = rel.split("*")[0].rstrip("/")
        assert (ROOT / rel).exists(), rel
    header = re.search(r'MFOTA_CONFIG_FILE="([\w.]+)"', cmake).group(1)
    assert (ROOT / "zephyr" / header).is_file()


def test_every_config_option_has_a_kconfig_symbol_and_a_mapping():
    options = config_options()
    assert len(options) > 40 and "MFOTA_URL_MAX" in options
    symbols = kconfig_symbols()
    assert "M2MFOTA" in symbols
    missing = [o for o in options if "M2" + o not in symbols]
    assert missing == [], "options of config.h without a Kconfig entry"
    mapping = ZEPHYR_HEADER.read_text()
    unmapped = [o for o in options if not re.search(rf"^#define {o}\b", mapping, flags=re.M)]
    assert unmapped == [], "options the Zephyr config header does not define"
    # ... and no Kconfig symbol for an option config.h does not have.
    stale = [s for s in symbols if s != "M2MFOTA" and s not in CHOICE_MEMBERS
             and s[2:] not in options]
    assert stale == [], "Kconfig symbols for options config.h lacks"


def _autoconf_defaults() -> list[str]:
    """-D flags as Zephyr's autoconf.h would give them with every default."""
    flags = []
    for sym, (typ, default) in kconfig_symbols().items():
        if typ == "bool":
            if default == "y":
                flags.append(f"-DCONFIG_{sym}=1")
        elif typ in ("int", "hex", "string") and default is not None:
            flags.append(f"-DCONFIG_{sym}={default}")
    # The choice's default member is selected.
    choice_default = kconfig_symbols()["M2MFOTA_CRC32_VARIANT"][1]
    flags.append(f"-DCONFIG_{choice_default}=1")
    return ["-DCONFIG_M2MFOTA=1", *flags]


def _option_values(tmp_path: Path, name: str, extra: list[str]) -> str:
    """Each option's value as the C compiler sees it, one line per option."""
    gcc = require_tool("gcc")
    lines = ['#include "m2mfota/config.h"', "#include <stdio.h>", "int main(void) {"]
    for opt in config_options():
        if opt in PER_TARGET:
            continue
        if opt.startswith("MFOTA_THINGS_NAME_"):
            lines.append(f'    printf("{opt} %s\\n", {opt});')
        else:
            lines.append(f'    printf("{opt} %llu\\n", (unsigned long long)({opt}));')
    lines += ["    return 0;", "}"]
    src = tmp_path / f"{name}.c"
    src.write_text("\n".join(lines) + "\n")
    exe = tmp_path / name
    subprocess.run([gcc, "-std=c99", "-Wall", "-Wextra", "-Werror",
                    f"-I{ROOT / 'csrc' / 'include'}", *extra, str(src), "-o", str(exe)],
                   check=True, timeout=60, env=PLAIN_ENV)
    return subprocess.run([str(exe)], capture_output=True, text=True, check=True,
                          timeout=30, env=PLAIN_ENV).stdout


def test_kconfig_defaults_give_config_h_defaults(tmp_path):
    plain = _option_values(tmp_path, "plain", [])
    zephyr = _option_values(tmp_path, "zephyr", [
        f"-I{ROOT / 'zephyr'}", '-DMFOTA_CONFIG_FILE="m2mfota_zephyr_config.h"',
        *_autoconf_defaults()])
    assert plain.count("\n") > 40
    assert zephyr == plain


def test_kconfig_values_reach_the_core(tmp_path):
    # A changed Kconfig value (and a bool turned off) must change the option.
    flags = [f for f in _autoconf_defaults()
             if not f.startswith(("-DCONFIG_M2MFOTA_URL_MAX=", "-DCONFIG_M2MFOTA_DL_PIPELINE="))]
    out = _option_values(tmp_path, "changed", [
        f"-I{ROOT / 'zephyr'}", '-DMFOTA_CONFIG_FILE="m2mfota_zephyr_config.h"',
        "-DCONFIG_M2MFOTA_URL_MAX=300", *flags])
    assert "MFOTA_URL_MAX 300\n" in out
    assert "MFOTA_DL_PIPELINE 0\n" in out
    assert "MFOTA_HTTP_REQUEST_MAX 1436\n" in out  # 300 + 1024 + 112, still derived
