"""CMake builds, QEMU runs and symbol checks shared by the C-level tests
(test_c_build.py, test_embedded.py, test_symbols.py)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from conftest import require_tool

ROOT = Path(__file__).resolve().parent.parent
TOOLCHAIN = ROOT / "embedded_port" / "cmake" / "arm-none-eabi.cmake"
BUILD_TIMEOUT = 900
QEMU_TIMEOUT = 120

# The portable CRC-32 kernels the MCU runner must check, by their C names.
PORTABLE_CRC_VARIANTS = ("bitwise", "nibble", "byte", "slice8")


def _run(cmd: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    proc = subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, env=env, cwd=cwd,
        timeout=BUILD_TIMEOUT,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{out[-6000:]}"
    return out


def cmake_build(source: Path, build: Path, *defines: str, cc: str | None = None,
                cross: bool = False, cflags: str | None = None,
                ldflags: str | None = None) -> str:
    """Configure ``source`` into ``build`` and build it with -j2; return the log.

    ``defines`` are NAME=VALUE cache entries; ``cross`` selects the Cortex-M4
    toolchain file; ``cc`` the host C compiler; ``cflags``/``ldflags`` go
    through CFLAGS/LDFLAGS so the toolchain's CPU flags stay in place."""
    cmake = require_tool("cmake")
    env = dict(os.environ)
    for var, value in (("CFLAGS", cflags), ("LDFLAGS", ldflags)):
        env.pop(var, None)
        if value is not None:
            env[var] = value
    if cc is not None:
        env["CC"] = cc
    args = [cmake, "-S", source, "-B", build, "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON",
            *generator_args()]
    if cross:
        args.append(f"-DCMAKE_TOOLCHAIN_FILE={TOOLCHAIN}")
    args += [f"-D{d}" for d in defines]
    log = _run(args, env=env)
    log += _run([cmake, "--build", build, "-j2"], env=env)
    return log


def generator_args() -> list[str]:
    """Ninja when installed (CI lists ninja-build; make may be absent there),
    unless CMAKE_GENERATOR says otherwise."""
    if os.environ.get("CMAKE_GENERATOR") or shutil.which("ninja") is None:
        return []
    return ["-G", "Ninja"]


def compile_commands(build: Path) -> list[dict]:
    import json

    return json.loads((build / "compile_commands.json").read_text())


def core_archive(build: Path) -> Path:
    """The m2mfota_core static library somewhere under ``build``."""
    found = sorted(build.rglob("libm2mfota_core.a"))
    assert len(found) == 1, found
    return found[0]


def run_qemu(elf: Path) -> tuple[int, str]:
    """Run ``elf`` on QEMU's mps2-an386 with semihosting; (exit status, output)."""
    qemu = require_tool("qemu-system-arm")
    proc = subprocess.run(
        [qemu, "-M", "mps2-an386", "-nographic", "-monitor", "none", "-serial", "none",
         "-semihosting-config", "enable=on,target=native", "-kernel", str(elf)],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=QEMU_TIMEOUT,
    )
    return proc.returncode, proc.stdout + proc.stderr


# ---- symbol policy of the core ----------------------------------------------

# Must never be referenced by the core: heap, stdio, float parsing, process
# control.  Checked by name so a failure says exactly what came in.
FORBIDDEN_SYMBOLS = frozenset("""
    malloc calloc realloc free aligned_alloc memalign posix_memalign
    _malloc_r _calloc_r _realloc_r _free_r _sbrk _sbrk_r sbrk
    printf fprintf sprintf snprintf vprintf vfprintf vsprintf vsnprintf
    _printf_r _vfprintf_r _svfprintf_r iprintf siprintf sniprintf
    puts fputs putchar fputc putc fwrite fflush _puts_r _fwrite_r
    scanf sscanf fscanf fopen fclose fread fseek ftell _fopen_r
    strtod strtof strtold atof atoi atol strtol strtoul _strtod_r _dtoa_r
    abort exit _exit __assert_func __assert assert _write _read _open _close
    __errno errno
""".split())

# The only outside symbols the core may use: freestanding string functions
# and the compiler's own helpers (libgcc: __aeabi_* on Arm, bit/division
# helpers elsewhere).
ALLOWED_LIBC = frozenset({"memcpy", "memset", "memmove", "memcmp", "strlen"})
ALLOWED_HELPER = re.compile(
    r"^__(aeabi_\w+|(u?(div|mod)|ashl|ashr|lshr|mul|clz|ctz|popcount|bswap|ffs|parity)\w*)$"
)


def _nm_symbols(nm: str, archive: Path, *flags: str) -> set[str]:
    out = _run([nm, "-g", *flags, archive])
    names = set()
    for line in out.splitlines():
        parts = line.split()
        # "         U memcpy" / "00000000 T mfota_crc32"; skip "file.o:" headers.
        if len(parts) >= 2 and len(parts[-2]) == 1:
            names.add(parts[-1])
    return names


def outside_references(nm: str, archive: Path) -> set[str]:
    """Symbols the archive's objects use but none of them defines."""
    undefined = _nm_symbols(nm, archive, "--undefined-only")
    defined = _nm_symbols(nm, archive, "--defined-only")
    return undefined - defined


def symbol_violations(refs: set[str]) -> tuple[set[str], set[str]]:
    """(forbidden references, references outside the allowlist)."""
    forbidden = refs & FORBIDDEN_SYMBOLS
    unexpected = {s for s in refs if s not in ALLOWED_LIBC and not ALLOWED_HELPER.match(s)}
    return forbidden, unexpected


def build_mfota_device(build: Path) -> Path:
    """Build the POSIX reference device (mfota-device) into ``build``; its path."""
    cmake_build(ROOT, build, "MFOTA_BUILD_TESTS=OFF", "MFOTA_BUILD_BENCH=OFF",
                "MFOTA_BUILD_DEVICE=ON", "CMAKE_BUILD_TYPE=Release")
    exe = build / "mfota-device"
    assert exe.exists()
    return exe
