#!/usr/bin/env python3
"""RAM and code size of the whole client engine on a Cortex-M4.

Compiles the core (csrc/src/*.c, default config.h) with arm-none-eabi-gcc
-mcpu=cortex-m4 -mthumb -Os, links two images with --gc-sections against
newlib-nano -- one whose main() runs the client engine with a static
struct mfota_client and the MCUboot bootloader HAL, and one with an empty
main() -- and prints a Markdown table:

  * sizeof(struct mfota_client): the engine's one context, every buffer in it
    (uplink request, downlink body, receive buffer, download request,
    journal, flash writer);
  * code (text + rodata) the client adds to an image: linked(client) -
    linked(empty), so only what the engine really pulls in is counted;
  * the deepest stack frames of the client's call path (-fstack-usage).

    python tools/size_client.py [--build-dir DIR]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CFLAGS = ["-std=c99", "-mcpu=cortex-m4", "-mthumb", "-Os", "-ffunction-sections",
          "-fdata-sections", "-fstack-usage", "-fcallgraph-info=su", "-Wall", "-Wextra", "-Werror",
          f"-I{ROOT / 'csrc' / 'include'}", f"-I{ROOT / 'csrc' / 'src'}"]
LDFLAGS = ["-mcpu=cortex-m4", "-mthumb", "--specs=nano.specs", "--specs=nosys.specs",
           "-Wl,--gc-sections"]

APP = r"""
#include "m2mfota/m2mfota.h"

struct mfota_client g_client;            /* the engine's whole RAM, in .bss */
static struct mfota_bootloader g_bl;
static struct mfota_mcuboot_port g_port;
extern const struct mfota_transport g_up, g_dl;
extern const struct mfota_clock g_clock;
extern const struct mfota_flash g_slot, g_journal;

int main(void)
{
    struct mfota_client_config cfg;
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

# The HAL instances are the port's; here they are just addresses to link.
PORT = r"""
#include "m2mfota/m2mfota.h"
const struct mfota_transport g_up, g_dl;
const struct mfota_clock g_clock;
const struct mfota_flash g_slot, g_journal;
"""

EMPTY = "int main(void) { return 0; }\n"


def run(cmd: list[str]) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def size(elf: Path) -> tuple[int, int, int]:
    line = run(["arm-none-eabi-size", "-A", str(elf)])
    sec = {}
    for m in re.finditer(r"^(\.\S+)\s+(\d+)\s+\d+", line, re.M):
        sec[m.group(1)] = int(m.group(2))
    text = sec.get(".text", 0) + sec.get(".rodata", 0)
    return text, sec.get(".data", 0), sec.get(".bss", 0)


def deepest_stack(out: Path, root: str) -> tuple[int, list[str]]:
    """Worst-case stack from ``root`` over the call graphs gcc wrote
    (-fcallgraph-info=su).  Indirect calls are resolved by hand: the
    downloader calls the engine's sink, the engine calls the MCUboot
    bootloader HAL; the other ones (transport, clock, flash, event callback)
    are the port's, whose own frames are not counted."""
    frame: dict[str, int] = {}
    name_of: dict[str, str] = {}
    edges: dict[str, set[str]] = {}
    for ci in out.glob("*.ci"):
        text = ci.read_text()
        node = r'node: \{ title: "([^"]+)" label: "([^\\"]+)\\n[^"]*?(\d+) bytes'
        for m in re.finditer(node, text):
            frame[m.group(1)] = int(m.group(3))
            name_of[m.group(1)] = m.group(2)
        for m in re.finditer(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"', text):
            edges.setdefault(m.group(1), set()).add(m.group(2))
    by_name = {name: title for title, name in name_of.items()}
    indirect = {
        "downloader.c": ["sink_data", "sink_part_done", "sink_part_failed", "sink_total"],
        "client.c": ["bl_mark_pending", "bl_confirm", "bl_check_image"],
    }
    for src, targets in list(edges.items()):
        if "__indirect_call" in targets:
            for file, fns in indirect.items():
                if src.split(":")[0].endswith(file):
                    targets.update(by_name[f] for f in fns if f in by_name)

    best: dict[str, tuple[int, list[str]]] = {}

    def walk(title: str, seen: tuple[str, ...]) -> tuple[int, list[str]]:
        title = by_name.get(title, title) if title not in frame else title
        if title in best:
            return best[title]
        if title in seen:
            raise SystemExit(f"recursion through {title}")
        depth, path = 0, []
        for t in edges.get(title, ()):
            d, p = walk(t, seen + (title,))
            if d > depth:
                depth, path = d, p
        result = (frame.get(title, 0) + depth, [name_of.get(title, title), *path])
        best[title] = result
        return result

    return walk(by_name[root], ())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build-dir", type=Path, default=None)
    args = ap.parse_args(argv)
    tmp = None
    if args.build_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="size-client-")
        args.build_dir = Path(tmp.name)
    out = args.build_dir
    out.mkdir(parents=True, exist_ok=True)
    objs = []
    for src in sorted((ROOT / "csrc" / "src").glob("*.c")):
        obj = out / (src.stem + ".o")
        run(["arm-none-eabi-gcc", *CFLAGS, "-c", str(src), "-o", str(obj)])
        objs.append(obj)
    for name, text in (("app", APP), ("port", PORT), ("empty", EMPTY)):
        (out / f"{name}.c").write_text(text)
        run(["arm-none-eabi-gcc", *CFLAGS, "-c", str(out / f"{name}.c"), "-o",
             str(out / f"{name}.o")])
    client_elf, empty_elf = out / "client.elf", out / "empty.elf"
    run(["arm-none-eabi-gcc", *LDFLAGS, str(out / "app.o"), str(out / "port.o"),
         *map(str, objs), "-o", str(client_elf), f"-Wl,-Map={out / 'client.map'}"])
    run(["arm-none-eabi-gcc", *LDFLAGS, str(out / "empty.o"), "-o", str(empty_elf)])
    nm = run(["arm-none-eabi-nm", "-S", "--size-sort", str(client_elf)])
    ctx = next(int(m.group(1), 16) for m in re.finditer(r"^\w+ (\w+) [bB] g_client$", nm, re.M))
    ct, cd, cb = size(client_elf)
    et, ed, eb = size(empty_elf)
    # Stack: the deepest frames among the functions linked into the image.
    linked = set(re.findall(r"^\w+ \w+ [tT] (\w+)$", nm, re.M))
    frames = []
    for su in out.glob("*.su"):
        for line in su.read_text().splitlines():
            m = re.match(r"\S+:\d+:\d+:(\w+)\s+(\d+)\s+(\S+)", line)
            if m and m.group(1) in linked and su.stem not in ("app", "port", "empty"):
                frames.append((int(m.group(2)), m.group(1), m.group(3)))
    frames.sort(reverse=True)
    print("| Cortex-M4, arm-none-eabi-gcc -Os, default config.h | bytes |")
    print("| --- | ---: |")
    print(f"| sizeof(struct mfota_client) (context, every buffer inside) | {ctx} |")
    print(f"| static RAM the client adds (.data + .bss) | {(cd + cb) - (ed + eb)} |")
    print(f"| code the client adds (.text + .rodata, whole engine, MCUboot HAL) | {ct - et} |")
    for depth, fn, kind in frames[:5]:
        print(f"| stack frame of {fn} ({kind}) | {depth} |")
    depth, path = deepest_stack(out, "mfota_client_run")
    print(f"| deepest stack from mfota_client_run (HAL frames not counted) | {depth} |")
    print(f"| static RAM + deepest stack | {(cd + cb) - (ed + eb) + depth} |")
    # Code per object file, from the linker map (what --gc-sections kept).
    text = (out / "client.map").read_text()
    text = text[text.index("Linker script and memory map"):]
    per: dict[str, int] = {}
    for m in re.finditer(r"^ \.(?:text|rodata)\S*\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+(\S+)$",
                         text, re.M):
        name = Path(m.group(2)).name
        name = name[:-2] if name.endswith(".o") else re.sub(r".*\((.*)\.o\)$", r"lib: \1", name)
        per[name] = per.get(name, 0) + int(m.group(1), 16)
    print()
    print(f"Deepest call path: {' > '.join(path)}")
    print()
    print("| object (kept code + rodata) | bytes |")
    print("| --- | ---: |")
    for name, n in sorted(per.items(), key=lambda kv: -kv[1]):
        if name not in ("app", "port") and n >= 200:
            print(f"| {name} | {n} |")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
