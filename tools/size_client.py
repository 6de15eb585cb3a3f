#!/usr/bin/env python3
"""Size of the client engine plus the MCUboot helper in a minimal firmware.

For each target (Cortex-M4, Cortex-M0+, Cortex-M33 with arm-none-eabi-gcc and
newlib-nano; rv32imac with riscv64-unknown-elf-gcc and picolibc) it compiles
the core (csrc/src/*.c, default config.h: 1024-character token, 4 KiB parts,
the MCU number build) with the cross toolchain file's flags and -Os
(-ffunction-sections -fdata-sections, soft-float ABI), links two images with
--gc-sections -- one whose main() runs the client engine with a static
struct mfota_client and the MCUboot bootloader HAL on the C tests' fake HAL
(tests/c/fake_hal.c), one with an empty main() -- and reports:

* client code: allocated read-only bytes (.text, .rodata, ...) of the client
  image minus those of the empty one and minus the fake HAL's own sections
  (from the linker map), so only what the engine pulls in counts (libc and
  libgcc helpers included);
* sizeof(struct mfota_client), the engine's one context;
* worst-case stack through the client: the deepest path of a static call
  graph from the engine's entry points (mfota_client_init, _start_boot,
  _start, _run).  Frame sizes come from gcc's -fstack-usage and the edges from
  -fcallgraph-info=su; the engine's indirect calls into its own code (the
  downloader's sink, the MCUboot bootloader HAL) are added by hand; the port's
  HAL callbacks (transport, clock, flash, event) are not counted.  No
  recursion is allowed (the tool fails on a cycle);
* whether soft-float or 64-bit division helpers are linked.

    python tools/size_client.py [--targets cortex-m4,cortex-m0plus] [--json]
                                [--build-dir DIR] [--update-readme]

--update-readme rewrites the README block between <!-- sizes:begin --> and
<!-- sizes:end --> (keeping its budget row) and writes docs/sizes.md with the
per-object breakdown and the deepest call paths.  tests/test_size_client.py
fails when a budgeted target goes over the README's budget row.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs" / "sizes.md"
BEGIN, END = "<!-- sizes:begin -->", "<!-- sizes:end -->"

WARN = ["-std=c99", "-Wall", "-Wextra", "-Werror"]
COMMON = ["-Os", "-ffunction-sections", "-fdata-sections", "-fstack-usage",
          "-fcallgraph-info=su", f"-I{ROOT / 'csrc' / 'include'}", f"-I{ROOT / 'csrc' / 'src'}"]


@dataclass(frozen=True)
class Target:
    name: str
    label: str
    prefix: str
    cpu: tuple[str, ...]
    libc: tuple[str, ...]
    ld: tuple[str, ...] = ()  # link-only flags


TARGETS = {t.name: t for t in (
    Target("cortex-m4", "Cortex-M4", "arm-none-eabi-",
           ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=soft"),
           ("--specs=nano.specs", "--specs=nosys.specs")),
    Target("cortex-m0plus", "Cortex-M0+", "arm-none-eabi-",
           ("-mcpu=cortex-m0plus", "-mthumb", "-mfloat-abi=soft"),
           ("--specs=nano.specs", "--specs=nosys.specs")),
    Target("cortex-m33", "Cortex-M33", "arm-none-eabi-",
           ("-mcpu=cortex-m33", "-mthumb", "-mfloat-abi=soft"),
           ("--specs=nano.specs", "--specs=nosys.specs")),
    Target("rv32imac", "RV32IMAC", "riscv64-unknown-elf-",
           ("-march=rv32imac", "-mabi=ilp32"), ("--specs=picolibc.specs",),
           # picolibc's default 32 KiB RAM region cannot hold the fake HAL's
           # buffers beside the client (the firmware is linked, never run)
           ("-Wl,--defsym=__ram_size=0x40000",)),
)}

# Helpers a client image must not link: double/float arithmetic (Arm RTABI
# and generic libgcc names) and 64-bit division.  32-bit division and 64-bit
# multiplication helpers (__aeabi_uidiv, __aeabi_lmul on the M0+) are fine.
SOFT_FLOAT = re.compile(r"^__(aeabi_[df][a-z0-9]+|aeabi_u?[il]2[df]|[a-z]*(df|sf)[a-z]*\d?)$")
DIV64 = re.compile(r"^__(aeabi_u?ldivmod|u?divdi3|u?moddi3|udivmoddi4|divmoddi4)$")

ENTRY_POINTS = ("mfota_client_init", "mfota_client_start_boot", "mfota_client_start",
                "mfota_client_run")
# Indirect calls the engine makes into its own code: caller file -> callees.
INDIRECT = {
    "downloader.c": ["sink_data", "sink_part_done", "sink_part_failed", "sink_total"],
    "client.c": ["bl_mark_pending", "bl_confirm", "bl_check_image"],
}

APP = r"""
#include "m2mfota/m2mfota.h"

struct mfota_client g_client;            /* the engine's whole RAM, in .bss */
static struct mfota_bootloader g_bl;
static struct mfota_mcuboot_port g_port;
extern struct mfota_transport g_up, g_dl;
extern struct mfota_clock g_clock;
extern struct mfota_flash g_slot, g_journal;
void port_setup(void);

int main(void)
{
    struct mfota_client_config cfg;
    port_setup();
    mfota_client_config_default(&cfg);
    g_port.primary = &g_slot;
    g_port.secondary = &g_slot;
    mfota_mcuboot_bootloader(&g_bl, &g_port);
    cfg.imei = "350000000000001";
    cfg.secret = (const uint8_t *)"secret";
    cfg.secret_len = 6;
    cfg.version = "1.0.0";
    cfg.server = "http://10.151.236.136:80";
    cfg.uplink_transport = &g_up;
    cfg.download_transport = &g_dl;
    cfg.clock = &g_clock;
    cfg.slot = &g_slot;
    cfg.journal_flash = &g_journal;
    cfg.bootloader = &g_bl;
    if (mfota_client_init(&g_client, &cfg) != MFOTA_OK) {
        return 1;
    }
    if (mfota_client_start_boot(&g_client) != MFOTA_OK || mfota_client_start(&g_client) != 0) {
        return 2;
    }
    return mfota_client_run(&g_client, 600000u);
}
"""

# The port: the C tests' one fake HAL (tests/c/fake_hal.c: NOR flash with 4
# KiB sectors, scripted transports, a manual clock).  It is linked into the
# client image only, and what it adds (its own objects and port.o, from the
# linker map) is taken off the client's figures: see HAL_OBJECTS.
PORT = r"""
#include "m2mfota/m2mfota.h"
#include "fake_hal.h"

#define SECTOR 4096u
static uint8_t nor_mem[6u * SECTOR];     /* a 4-sector slot + a 2-sector journal */
static struct fake_nor nor;
static struct fake_conn up_conn, dl_conn;
static struct fake_clock clock_;
struct mfota_transport g_up, g_dl;
struct mfota_clock g_clock;
struct mfota_flash g_slot, g_journal;

void port_setup(void)
{
    fake_nor_init(&nor, nor_mem, sizeof nor_mem, SECTOR, 8u);
    fake_nor_hal(&nor, &g_slot, 0u, 4u * SECTOR);
    fake_nor_hal(&nor, &g_journal, 4u * SECTOR, 2u * SECTOR);
    fake_conn_init(&up_conn);
    fake_conn_init(&dl_conn);
    fake_conn_transport(&up_conn, &g_up);
    fake_conn_transport(&dl_conn, &g_dl);
    fake_clock_hal(&clock_, &g_clock);
}
"""
FAKE_HAL = ROOT / "tests" / "c" / "fake_hal.c"
# Objects of the port: linked into the client image, not counted as client
# code or RAM (nor are their stack frames).
HAL_OBJECTS = ("port", "fake_hal")

EMPTY = "int main(void) { return 0; }\n"


@dataclass
class Figures:
    target: str
    label: str
    compiler: str
    code: int
    context: int
    static_ram: int
    stack: int
    stack_path: list[str]
    helpers: list[str]
    objects: dict[str, int] = field(default_factory=dict)


class ToolError(Exception):
    pass


def run(cmd: list[str]) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ToolError(f"{' '.join(cmd)} failed:\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def sections(prefix: str, elf: Path) -> tuple[int, int]:
    """(read-only allocated bytes: flash; writable allocated bytes: RAM)."""
    out = run([f"{prefix}objdump", "-h", str(elf)])
    flash = ram = 0
    for m in re.finditer(r"^\s*\d+\s+(\S+)\s+([0-9a-f]+)\s.*\n\s+(.*)$", out, re.M):
        flags = m.group(3)
        if "ALLOC" not in flags or m.group(1) in (".stack", ".heap"):
            continue
        if "READONLY" in flags:
            flash += int(m.group(2), 16)
        else:
            ram += int(m.group(2), 16)
    return flash, ram


def deepest_stack(out: Path, roots: tuple[str, ...]) -> tuple[int, list[str]]:
    """Worst-case stack over the call graphs gcc wrote, from any of `roots`."""
    frame: dict[str, int] = {}
    name_of: dict[str, str] = {}
    edges: dict[str, set[str]] = {}
    for ci in out.glob("*.ci"):
        if ci.stem in ("app", "empty", *HAL_OBJECTS):
            continue
        text = ci.read_text()
        node = r'node: \{ title: "([^"]+)" label: "([^\\"]+)\\n[^"]*?(\d+) bytes'
        for m in re.finditer(node, text):
            frame[m.group(1)] = int(m.group(3))
            name_of[m.group(1)] = m.group(2)
        for m in re.finditer(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"', text):
            edges.setdefault(m.group(1), set()).add(m.group(2))
    by_name = {name: title for title, name in name_of.items()}
    for src, targets in list(edges.items()):
        if "__indirect_call" in targets:
            for file, fns in INDIRECT.items():
                if src.split(":")[0].endswith(file):
                    targets.update(by_name[f] for f in fns if f in by_name)

    best: dict[str, tuple[int, list[str]]] = {}

    def walk(title: str, seen: tuple[str, ...]) -> tuple[int, list[str]]:
        title = by_name.get(title, title) if title not in frame else title
        if title in best:
            return best[title]
        if title in seen:
            raise ToolError(f"recursion through {title}: no static stack bound")
        depth, path = 0, []
        for t in edges.get(title, ()):
            d, p = walk(t, seen + (title,))
            if d > depth:
                depth, path = d, p
        result = (frame.get(title, 0) + depth, [name_of.get(title, title), *path])
        best[title] = result
        return result

    return max(walk(by_name[r], ()) for r in roots if r in by_name)


def per_object(map_text: str) -> dict[str, int]:
    """Code + rodata per object file, from the linker map (what was kept)."""
    text = map_text[map_text.index("Linker script and memory map"):]
    per: dict[str, int] = {}
    pattern = r"^ \.(?:text|rodata|srodata)\S*\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+(\S+)$"
    for m in re.finditer(pattern, text, re.M):
        name = Path(m.group(2)).name
        name = name[:-2] if name.endswith(".o") else re.sub(r".*\((.*)\.o\)$", r"lib: \1", name)
        if name not in ("app", *HAL_OBJECTS):
            per[name] = per.get(name, 0) + int(m.group(1), 16)
    return dict(sorted(per.items(), key=lambda kv: -kv[1]))


def hal_bytes(map_text: str) -> tuple[int, int]:
    """(flash, RAM) the port's objects (HAL_OBJECTS) occupy in the image,
    from the linker map: input sections kept from port.o and fake_hal.o."""
    text = map_text[map_text.index("Linker script and memory map"):]
    flash = ram = 0
    pattern = r"^ (\.\S+?)(?:\.\S*)?\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+(\S+)$"
    for m in re.finditer(pattern, re.sub(r"^ (\.\S+)\n\s+", r" \1 ", text, flags=re.M), re.M):
        if Path(m.group(3)).name not in tuple(f"{o}.o" for o in HAL_OBJECTS):
            continue
        if m.group(1) in (".text", ".rodata"):
            flash += int(m.group(2), 16)
        elif m.group(1) in (".data", ".bss"):
            ram += int(m.group(2), 16)
    return flash, ram


def measure(target: Target, out: Path) -> Figures:
    cc = f"{target.prefix}gcc"
    if shutil.which(cc) is None:
        raise ToolError(f"{cc} is not installed")
    out.mkdir(parents=True, exist_ok=True)
    cflags = [*WARN, *target.cpu, *target.libc, *COMMON]
    objs = []
    for src in sorted((ROOT / "csrc" / "src").glob("*.c")):
        obj = out / (src.stem + ".o")
        run([cc, *cflags, "-c", str(src), "-o", str(obj)])
        objs.append(obj)
    for name, text in (("app", APP), ("port", PORT), ("empty", EMPTY)):
        (out / f"{name}.c").write_text(text)
        run([cc, *cflags, f"-I{FAKE_HAL.parent}", "-c", str(out / f"{name}.c"), "-o",
             str(out / f"{name}.o")])
    run([cc, *cflags, f"-I{FAKE_HAL.parent}", "-c", str(FAKE_HAL), "-o", str(out / "fake_hal.o")])
    ldflags = [*target.cpu, *target.libc, *target.ld, "-Os", "-Wl,--gc-sections"]
    client_elf, empty_elf = out / "client.elf", out / "empty.elf"
    run([cc, *ldflags, str(out / "app.o"), str(out / "port.o"), str(out / "fake_hal.o"),
         *map(str, objs), "-o",
         str(client_elf), f"-Wl,-Map={out / 'client.map'}"])
    run([cc, *ldflags, str(out / "empty.o"), "-o", str(empty_elf)])
    nm = run([f"{target.prefix}nm", "-S", str(client_elf)])
    ctx = next(int(m.group(1), 16) for m in re.finditer(r"^\w+ (\w+) [bBdD] g_client$", nm, re.M))
    linked = set(re.findall(r"^\w+(?: \w+)? [tTwW] (\S+)$", nm, re.M))
    helpers = sorted(s for s in linked if SOFT_FLOAT.match(s) or DIV64.match(s))
    cflash, cram = sections(target.prefix, client_elf)
    eflash, eram = sections(target.prefix, empty_elf)
    map_text = (out / "client.map").read_text()
    hflash, hram = hal_bytes(map_text)
    depth, path = deepest_stack(out, ENTRY_POINTS)
    version = run([cc, "-dumpversion"]).strip()
    return Figures(target.name, target.label, f"{cc} {version}", cflash - eflash - hflash, ctx,
                   cram - eram - hram, depth, path, helpers, per_object(map_text))


# ---- the README block ----------------------------------------------------------

BUDGET_ROW = re.compile(
    r"^\| \*\*budget\*\* \(([^)]*)\) \| (\d+) \| (\d+) \| (\d+) \| (none|any) \|$", re.M)


@dataclass(frozen=True)
class Budget:
    targets: tuple[str, ...]  # labels, e.g. ("Cortex-M4", "Cortex-M0+")
    code: int
    context: int
    stack: int
    helpers_allowed: bool


def readme_block(text: str) -> str:
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise ToolError(f"README.md needs exactly one {BEGIN} ... {END} block")
    return text[text.index(BEGIN) + len(BEGIN):text.index(END)]


def read_budgets(text: str) -> list[Budget]:
    """The budget rows of the README block (one or more, each naming the
    targets it binds), in order."""
    rows = list(BUDGET_ROW.finditer(readme_block(text)))
    if not rows:
        raise ToolError("the README sizes block has no budget row")
    return [Budget(tuple(s.strip() for s in m.group(1).split(",")), int(m.group(2)),
                   int(m.group(3)), int(m.group(4)), m.group(5) == "any") for m in rows]


def over_budget(budgets: list[Budget], figs: list[Figures]) -> list[str]:
    """Every figure of a budgeted target above its budget, as a sentence."""
    problems = []
    for budget in budgets:
        for f in figs:
            if f.label not in budget.targets:
                continue
            for what, got, limit in (("client code", f.code, budget.code),
                                     ("sizeof(struct mfota_client)", f.context, budget.context),
                                     ("worst-case stack", f.stack, budget.stack)):
                if got > limit:
                    problems.append(f"{f.label}: {what} {got} B > budget {limit} B")
            if f.helpers and not budget.helpers_allowed:
                problems.append(f"{f.label}: helpers linked: {', '.join(f.helpers)}")
    return problems


def render_block(budget_lines: list[str], figs: list[Figures]) -> str:
    rows = [
        "",
        "Client engine + MCUboot helper in a minimal firmware (default `config.h`:",
        "1024-character token, 4 KiB parts, integer SenML numbers; `-Os`,",
        "`--gc-sections`, newlib-nano / picolibc).  Generated by",
        "`python tools/size_client.py --update-readme`; `tests/test_size_client.py`",
        "fails when a target named in a budget row goes over it.  How each figure",
        "is measured: [docs/sizes.md](docs/sizes.md).",
        "",
        "| target | client code (B) | `sizeof(struct mfota_client)` (B) "
        "| worst-case stack (B) | soft-float / 64-bit division helpers |",
        "| --- | ---: | ---: | ---: | --- |",
        *budget_lines,
    ]
    for f in figs:
        rows.append(f"| {f.label} | {f.code} | {f.context} | {f.stack} | "
                    f"{', '.join(f.helpers) if f.helpers else 'none'} |")
    return "\n".join(rows) + "\n"


def update_readme(figs: list[Figures]) -> None:
    text = README.read_text()
    read_budgets(text)  # fails without a budget row
    budget_lines = [m.group(0) for m in BUDGET_ROW.finditer(readme_block(text))]
    block = render_block(budget_lines, figs)
    README.write_text(text[:text.index(BEGIN) + len(BEGIN)] + block + text[text.index(END):])


def render_docs(figs: list[Figures]) -> str:
    lines = [
        "# Client size on small MCUs",
        "",
        "Generated by `python tools/size_client.py --update-readme` (do not edit by",
        "hand); the summary table and the budget are in the README.",
        "",
        "## What is measured",
        "",
        "A minimal firmware whose `main()` configures and runs the client engine",
        "(`mfota_client_init`, `_start_boot`, `_start`, `_run`) with a static",
        "`struct mfota_client` and the MCUboot bootloader HAL.  The port is the C",
        "tests' fake HAL (`tests/c/fake_hal.c`: NOR flash with 4 KiB sectors,",
        "scripted transports, a manual clock), linked into that firmware but not",
        "counted: its own objects (`fake_hal.o`, and `port.o` that sets it up)",
        "are taken off the code and RAM figures, by their input sections in the",
        "linker map, and its stack frames are left out.  It is not linked into",
        "the empty firmware instead, because then the libc functions it calls",
        "(`memcpy`, `memset`, ...) would land in both images and drop out of",
        "the client's figure although the client needs them too.  The core is",
        "compiled with the default",
        "`config.h` (1024-character token, 4 KiB parts; on these targets SenML",
        "numbers are integers and fixed point, `MFOTA_SENML_FLOAT` 0) with the cross",
        "toolchain file's flags: `-Os -ffunction-sections -fdata-sections`,",
        "soft-float ABI; linked with `--gc-sections` against newlib-nano (Arm) or",
        "picolibc (RISC-V).",
        "",
        "- **client code**: read-only allocated bytes (`.text`, `.rodata`, ...) of",
        "  that firmware minus those of a firmware with an empty `main()` and minus",
        "  the fake HAL's: what the engine pulls in, libc and compiler helpers",
        "  included (section alignment makes it exact to a few bytes).",
        "- **`sizeof(struct mfota_client)`**: the engine's one context (every buffer).",
        "- **worst-case stack**: the deepest path of a static call graph from the",
        "  four entry points.  gcc's `-fstack-usage` gives each function's frame,",
        "  `-fcallgraph-info=su` its calls; the engine's indirect calls into its own",
        "  code (the downloader's sink, the bootloader HAL) are added by hand.",
        "  The port's HAL callbacks (transport, clock, flash, event) are not",
        "  counted: add their deepest frame.  Recursion would make the tool fail.",
        "- **helpers**: libgcc soft-float (`__aeabi_d*`, `__adddf3`, ...) and 64-bit",
        "  division (`__aeabi_uldivmod`, `__udivdi3`, ...) symbols in the image.",
        "",
    ]
    for f in figs:
        lines += [
            f"## {f.label} ({f.compiler})",
            "",
            f"- client code: {f.code} B; `sizeof(struct mfota_client)`: {f.context} B; "
            f"static RAM the client adds: {f.static_ram} B",
            f"- worst-case stack: {f.stack} B, through "
            f"{' > '.join(f'`{p}`' for p in f.stack_path)}",
            f"- soft-float / 64-bit division helpers: "
            f"{', '.join(f.helpers) if f.helpers else 'none'}",
            "",
            "| object (kept code + rodata) | bytes |",
            "| --- | ---: |",
        ]
        lines += [f"| {name} | {n} |" for name, n in f.objects.items() if n >= 100]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--targets", default=",".join(TARGETS),
                    help=f"comma-separated, from {', '.join(TARGETS)}")
    ap.add_argument("--build-dir", type=Path, default=None)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--update-readme", action="store_true",
                    help="rewrite the README sizes block and docs/sizes.md")
    args = ap.parse_args(argv)
    names = [n.strip() for n in args.targets.split(",") if n.strip()]
    unknown = [n for n in names if n not in TARGETS]
    if unknown or not names:
        ap.error(f"unknown target(s) {unknown}; choose from {', '.join(TARGETS)}")
    try:
        with tempfile.TemporaryDirectory(prefix="size-client-") as tmp:
            base = args.build_dir or Path(tmp)
            figs = [measure(TARGETS[n], base / n) for n in names]
        if args.update_readme:
            update_readme(figs)
            DOCS.write_text(render_docs(figs))
        if args.json:
            print(json.dumps([asdict(f) for f in figs], indent=1))
        else:
            print(render_block([], figs))
            for f in figs:
                print(f"{f.label}: deepest stack path {' > '.join(f.stack_path)}")
    except ToolError as exc:
        print(f"size_client: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
