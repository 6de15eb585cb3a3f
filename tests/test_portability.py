"""Portability of the C core (issue 12 §6).

* Warning-free builds of every core source for Cortex-M0+, M4 and M33 with
  arm-none-eabi-gcc and clang, and for rv32imac with Debian's
  riscv64-unknown-elf-gcc + picolibc, with no soft-float or 64-bit division
  helper referenced by any core object.
* Public structs keep one layout whatever the compiler's enum size: a layout
  probe (offsetof of every member of every public struct, sizeof of each
  struct) built with -fshort-enums and with -fno-short-enums must agree.
* A top-level ``cmake -DCMAKE_TOOLCHAIN_FILE=embedded_port/cmake/arm-none-eabi.cmake``
  configures and builds (host-only executables are off when cross-compiling).
"""

from __future__ import annotations

import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cbuild import ROOT, TOOLCHAIN, cmake_build
from conftest import require_tool

pytestmark = pytest.mark.external_build

STRICT = ["-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Wshadow", "-Wconversion", "-Werror",
          "-Os", "-ffunction-sections", "-fdata-sections",
          f"-I{ROOT / 'csrc' / 'include'}", f"-I{ROOT / 'csrc' / 'src'}"]
ARM_SYSROOT = "/usr/lib/arm-none-eabi"

# name: (compiler, target flags, nm)
TARGETS = {
    "gcc-cortex-m0plus": ("arm-none-eabi-gcc", ["-mcpu=cortex-m0plus", "-mthumb"],
                          "arm-none-eabi-nm"),
    "gcc-cortex-m4": ("arm-none-eabi-gcc", ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=soft"],
                      "arm-none-eabi-nm"),
    "gcc-cortex-m33": ("arm-none-eabi-gcc", ["-mcpu=cortex-m33", "-mthumb", "-mfloat-abi=soft"],
                       "arm-none-eabi-nm"),
    "clang-cortex-m0plus": ("clang", ["--target=arm-none-eabi", "-mcpu=cortex-m0plus", "-mthumb",
                                      f"--sysroot={ARM_SYSROOT}"], "arm-none-eabi-nm"),
    "clang-cortex-m4": ("clang", ["--target=arm-none-eabi", "-mcpu=cortex-m4", "-mthumb",
                                  "-mfloat-abi=soft", f"--sysroot={ARM_SYSROOT}"],
                        "arm-none-eabi-nm"),
    "clang-cortex-m33": ("clang", ["--target=arm-none-eabi", "-mcpu=cortex-m33", "-mthumb",
                                   "-mfloat-abi=soft", f"--sysroot={ARM_SYSROOT}"],
                         "arm-none-eabi-nm"),
    "gcc-rv32imac": ("riscv64-unknown-elf-gcc", ["-march=rv32imac", "-mabi=ilp32",
                                                 "--specs=picolibc.specs"],
                     "riscv64-unknown-elf-nm"),
}

# libgcc / compiler-rt helpers the MCU build must not need: double and float
# arithmetic (Arm RTABI names and the generic ones) and 64-bit division.
SOFT_FLOAT = re.compile(r"^__(aeabi_[df][a-z0-9]+|aeabi_u?[il]2[df]|[a-z]*(df|sf)[a-z]*\d?)$")
DIV64 = re.compile(r"^__(aeabi_u?ldivmod|u?divdi3|u?moddi3|udivmoddi4|divmoddi4)$")


def core_sources() -> list[Path]:
    return sorted((ROOT / "csrc" / "src").glob("*.c"))


def compile_core(target: str, out: Path) -> list[Path]:
    cc, flags, _ = TARGETS[target]
    out.mkdir(parents=True, exist_ok=True)

    def one(src: Path) -> Path:
        obj = out / (src.stem + ".o")
        proc = subprocess.run([cc, *flags, *STRICT, "-c", str(src), "-o", str(obj)],
                              capture_output=True, text=True, timeout=300)
        # -Werror makes a warning an error; any other diagnostic counts too.
        assert proc.returncode == 0 and proc.stderr == "", f"{target} {src.name}:\n{proc.stderr}"
        return obj

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(one, core_sources()))


def undefined_symbols(nm: str, objs: list[Path]) -> set[str]:
    out = subprocess.run([nm, "--undefined-only", *map(str, objs)], capture_output=True,
                         text=True, check=True).stdout
    return {line.split()[-1] for line in out.splitlines() if line.strip().startswith("U ")}


def test_helper_patterns_match_what_they_must():
    # The patterns of the next test, checked on the names they must catch
    # and on the ones they must let through.
    for name in ("__aeabi_dadd", "__aeabi_d2ulz", "__aeabi_ul2d", "__aeabi_i2d", "__adddf3",
                 "__muldf3", "__floatundidf", "__fixdfdi", "__aeabi_fmul", "__addsf3"):
        assert SOFT_FLOAT.match(name), name
    for name in ("__aeabi_uldivmod", "__aeabi_ldivmod", "__udivdi3", "__divdi3", "__umoddi3"):
        assert DIV64.match(name), name
    for name in ("__aeabi_uidivmod", "__aeabi_uidiv", "__aeabi_idiv", "__aeabi_lmul",
                 "__aeabi_llsl", "__udivsi3", "__muldi3", "__clzsi2", "__ffsdi2", "memcpy"):
        assert not SOFT_FLOAT.match(name) and not DIV64.match(name), name


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_core_builds_warning_free_without_float_or_64bit_division(target, tmp_path):
    cc, _, nm = TARGETS[target]
    require_tool(cc)
    require_tool(nm)
    objs = compile_core(target, tmp_path)
    refs = undefined_symbols(nm, objs)
    assert not {s for s in refs if SOFT_FLOAT.match(s)}, f"{target}: soft-float helpers"
    assert not {s for s in refs if DIV64.match(s)}, f"{target}: 64-bit division helpers"


# ---- public struct layout ------------------------------------------------------

def public_structs() -> dict[str, list[str]]:
    """struct name -> member names, from the core's public headers."""
    structs: dict[str, list[str]] = {}
    for header in sorted((ROOT / "csrc" / "include" / "m2mfota").glob("*.h")):
        text = re.sub(r"/\*.*?\*/", "", header.read_text(), flags=re.S)
        for m in re.finditer(r"struct (mfota_\w+) \{(.*?)\n\};", text, re.S):
            members = []
            # Members under #if depend on config.h, not on the enum size:
            # probed only when present in every build, so left out here.
            body = re.sub(r"^\s*#\s*if.*?^\s*#\s*endif[^\n]*", "", m.group(2),
                          flags=re.S | re.M)
            for decl in body.split(";"):
                decl = " ".join(decl.split())
                if not decl:
                    continue
                fp = re.search(r"\(\s*\*\s*(\w+)\s*\)", decl)
                if fp:
                    members.append(fp.group(1))
                    continue
                decl = re.sub(r"\[[^\]]*\]", "", decl)
                for piece in decl.split(","):
                    members.append(re.findall(r"\w+", piece)[-1])
            structs[m.group(1)] = members
    return structs


def layout(tmp_path: Path, cc: str, nm: str, flags: list[str], tag: str) -> dict[str, int]:
    """offsetof/sizeof of every public struct member, read back from symbol
    sizes (char probe_N[offsetof(...) + 1]): nothing has to run, so the same
    probe works for a cross compiler."""
    structs = public_structs()
    lines = ["#include <stddef.h>", '#include "m2mfota/m2mfota.h"']
    headers = sorted((ROOT / "csrc" / "include" / "m2mfota").glob("*.h"))
    lines += [f'#include "m2mfota/{h.name}"' for h in headers
              if not h.name.startswith(("crc32_", "sha256_"))]
    names: dict[str, str] = {}
    for s, members in structs.items():
        sym = f"mfota_probe_{len(names)}"
        names[sym] = f"sizeof {s}"
        lines.append(f"char {sym}[sizeof(struct {s})];")
        for member in members:
            sym = f"mfota_probe_{len(names)}"
            names[sym] = f"{s}.{member}"
            lines.append(f"char {sym}[offsetof(struct {s}, {member}) + 1];")
    src = tmp_path / f"probe_{tag}.c"
    obj = tmp_path / f"probe_{tag}.o"
    src.write_text("\n".join(lines) + "\n")
    subprocess.run([cc, *flags, "-std=c99", "-fno-common", f"-I{ROOT / 'csrc' / 'include'}",
                    "-c", str(src), "-o", str(obj)], check=True, capture_output=True, text=True)
    out = subprocess.run([nm, "-S", str(obj)], capture_output=True, text=True,
                         check=True).stdout
    sizes = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[3] in names:
            sizes[names[parts[3]]] = int(parts[1], 16)
    assert len(sizes) == len(names), "every probe symbol was emitted"
    return sizes


def test_probe_sees_every_public_struct():
    structs = public_structs()
    assert {"mfota_report_policy", "mfota_senml_record", "mfota_client_config",
            "mfota_plan"} <= set(structs)
    assert structs["mfota_report_policy"][:3] == ["step_percent", "min_interval_ms",
                                                  "last_state"]
    assert "send" in structs["mfota_transport"]  # a function pointer member


@pytest.mark.parametrize("cc,nm,flags", [
    ("gcc", "nm", []),
    ("arm-none-eabi-gcc", "arm-none-eabi-nm", ["-mcpu=cortex-m4", "-mthumb"]),
])
def test_public_structs_do_not_depend_on_enum_size(cc, nm, flags, tmp_path):
    require_tool(cc)
    require_tool(nm)
    short = layout(tmp_path, cc, nm, [*flags, "-fshort-enums"], "short")
    wide = layout(tmp_path, cc, nm, [*flags, "-fno-short-enums"], "wide")
    moved = {k: (short[k], wide[k]) for k in short if short[k] != wide[k]}
    assert not moved, f"fields that move with the enum size: {moved}"


def test_probe_detects_an_enum_member(tmp_path):
    """The probe above can fail: a struct that stores an enum moves."""
    require_tool("gcc")
    src = tmp_path / "enum_member.c"
    src.write_text("#include <stddef.h>\nenum e { A, B };\n"
                   "struct s { enum e kind; unsigned char after; };\n"
                   "char probe[offsetof(struct s, after) + 1];\n")
    sizes = []
    for flag in ("-fshort-enums", "-fno-short-enums"):
        obj = tmp_path / f"enum{flag}.o"
        subprocess.run(["gcc", flag, "-fno-common", "-c", str(src), "-o", str(obj)], check=True)
        out = subprocess.run(["nm", "-S", str(obj)], capture_output=True, text=True,
                             check=True).stdout
        sizes.append(int(re.search(r"^\w+ (\w+) \w probe$", out, re.M).group(1), 16))
    assert sizes[0] != sizes[1]


# ---- the top-level cross build -------------------------------------------------

def test_top_level_cmake_cross_configures_and_builds(tmp_path):
    require_tool("cmake")
    require_tool("arm-none-eabi-gcc")
    log = cmake_build(ROOT, tmp_path, cross=True)
    assert "warning" not in log.lower(), log
    assert list(tmp_path.rglob("libm2mfota_core.a"))
    # host-only executables are not part of a cross build
    assert not list(tmp_path.rglob("mfota_selftest*"))
    assert not list(tmp_path.rglob("mfota-device*"))
    cache = (tmp_path / "CMakeCache.txt").read_text()
    assert re.search(r"^MFOTA_BUILD_TESTS:BOOL=OFF$", cache, re.M)
    assert str(TOOLCHAIN) in cache


def test_public_structs_agree_between_arm_gcc_and_clang(tmp_path):
    """The issue's own case: arm-none-eabi-gcc (short enums by the AAPCS
    embedded ABI) and clang for the same target must lay out every public
    struct alike, so objects built by either link together."""
    for tool in ("arm-none-eabi-gcc", "clang", "arm-none-eabi-nm"):
        require_tool(tool)
    cpu = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=soft"]
    gcc = layout(tmp_path, "arm-none-eabi-gcc", "arm-none-eabi-nm", cpu, "gcc")
    clang = layout(tmp_path, "clang", "arm-none-eabi-nm",
                   ["--target=arm-none-eabi", *cpu, f"--sysroot={ARM_SYSROOT}"], "clang")
    assert gcc.keys() == clang.keys()
    moved = {k: (gcc[k], clang[k]) for k in gcc if gcc[k] != clang[k]}
    # ... and the comparison can fail: the two disagree on an enum member
    src = tmp_path / "enum_member.c"
    src.write_text("enum e { A, B };\nstruct s { enum e kind; unsigned char after; };\n"
                   "char probe[sizeof(struct s)];\n")
    sizes = []
    for cc, flags in (("arm-none-eabi-gcc", cpu),
                      ("clang", ["--target=arm-none-eabi", *cpu, f"--sysroot={ARM_SYSROOT}"])):
        obj = tmp_path / f"enum_{cc}.o"
        subprocess.run([cc, *flags, "-fno-common", "-c", str(src), "-o", str(obj)], check=True)
        out = subprocess.run(["arm-none-eabi-nm", "-S", str(obj)], capture_output=True,
                             text=True, check=True).stdout
        sizes.append(int(re.search(r"^\w+ (\w+) \w probe$", out, re.M).group(1), 16))
    assert sizes == [2, 8], sizes
    assert not moved, f"fields placed differently by gcc and clang: {moved}"
