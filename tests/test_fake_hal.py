"""The C tests' fake NOR flash (tests/c/fake_hal.c) behaves like the Python
NorFlash (m2mfota.flash.nor): the same operations, power cuts included,
leave the same bytes, the same failures and the same counters.  The C
self-tests, fuzzers, QEMU runner and size tool all run on that fake, so a
torn write there must tear like the model the Python tests trust.

One small driver runs every scenario in one process, so the test is fast."""

from __future__ import annotations

import random
import subprocess

import pytest
from cbuild import ROOT
from conftest import require_tool

from m2mfota.flash import FlashViolation, NorFlash, PowerCut

pytestmark = pytest.mark.external_build

SIZE, SECTOR, PROGRAM = 1024, 256, 8

# Reads a script on stdin: "n" a fresh erased device, "c K" power on with a
# cut after K operations (-1: none), "p OFF LEN SEED" program LEN bytes,
# "e OFF" erase, "d" dump the bytes and counters.  Prints 0/1 per operation
# (1: the call failed).
DRIVER = r"""
#include <stdio.h>
#include "fake_hal.h"

static uint8_t mem[NOR_SIZE];
static uint8_t data[NOR_SIZE];

int main(void)
{
    struct fake_nor nor;
    struct mfota_flash hal;
    char op;
    unsigned long off, len, seed, i;
    long k;
    fake_nor_init(&nor, mem, sizeof mem, NOR_SECTOR, NOR_PROGRAM);
    fake_nor_hal(&nor, &hal, 0u, (uint32_t)sizeof mem);
    while (scanf(" %c", &op) == 1) {
        if (op == 'n') {
            fake_nor_init(&nor, mem, sizeof mem, NOR_SECTOR, NOR_PROGRAM);
        } else if (op == 'c' && scanf("%ld", &k) == 1) {
            fake_nor_power_on(&nor, k);
        } else if (op == 'p' && scanf("%lu %lu %lu", &off, &len, &seed) == 3) {
            for (i = 0; i < len; i++) {
                data[i] = (uint8_t)(seed + i * 37u);
            }
            printf("%d\n", hal.program(hal.ctx, (uint32_t)off, data, (size_t)len) != 0);
        } else if (op == 'e' && scanf("%lu", &off) == 1) {
            printf("%d\n", hal.erase(hal.ctx, (uint32_t)off) != 0);
        } else if (op == 'd') {
            for (i = 0; i < sizeof mem; i++) {
                printf("%02x", mem[i]);
            }
            printf("\n%u %u %u %d\n", nor.programs, nor.erases, nor.violations, nor.powered);
        } else {
            return 2;
        }
    }
    return 0;
}
"""


def pattern(length: int, seed: int) -> bytes:
    return bytes((seed + i * 37) & 0xFF for i in range(length))


def run_python(script: list[tuple]) -> list[str]:
    out: list[str] = []
    nor = NorFlash(SIZE, SECTOR, PROGRAM)
    violations = 0
    for op, *args in script:
        if op == "n":
            nor, violations = NorFlash(SIZE, SECTOR, PROGRAM), 0
        elif op == "c":
            nor.power_on(None if args[0] < 0 else args[0])
        elif op in "pe":
            try:
                if op == "p":
                    nor.program(args[0], pattern(args[1], args[2]))
                else:
                    nor.erase(args[0])
                out.append("0")
            except PowerCut:
                out.append("1")
            except FlashViolation:
                violations += 1
                out.append("1")
        else:
            out.append(nor.data.hex())
            out.append(f"{nor.programs} {nor.erases} {violations} {int(nor.powered)}")
    return out


def scenarios() -> list[tuple]:
    """Every kind of operation torn at every position, then random mixes of
    aligned and misaligned programs, overwrites and erases with cuts."""
    script: list[tuple] = []
    for cut in range(4):
        for torn in (("p", 0, 64, 3), ("p", 8, 8, 9), ("p", 16, 24, 5), ("e", 256)):
            script += [("n",), ("p", 256, 256, 1), ("c", cut), ("p", 0, 40, 7), ("e", 512),
                       torn, ("p", 512, 16, 2), ("d",), ("c", -1), torn, ("d",)]
    rng = random.Random(12)
    for _ in range(150):
        script.append(("n",))
        for _ in range(rng.randrange(1, 12)):
            r = rng.random()
            if r < 0.5:
                off = rng.randrange(0, SIZE // PROGRAM) * PROGRAM + (rng.random() < 0.1)
                length = rng.randrange(0, 9) * PROGRAM + (rng.random() < 0.1)
                script.append(("p", min(off, SIZE), min(length, SIZE - min(off, SIZE)),
                               rng.randrange(256)))
            elif r < 0.75:
                script.append(("e", rng.randrange(0, SIZE // SECTOR + 1) * SECTOR
                               + (rng.random() < 0.1) * 8))
            else:
                script.append(("c", rng.randrange(-1, 4)))
        script.append(("d",))
    return script


def test_fake_nor_tears_like_the_python_nor_flash(tmp_path):
    cc = require_tool("gcc")
    src = tmp_path / "fake_nor_driver.c"
    exe = tmp_path / "fake_nor_driver"
    src.write_text(DRIVER)
    subprocess.run([cc, "-std=c99", "-Wall", "-Wextra", "-Werror", f"-DNOR_SIZE={SIZE}",
                    f"-DNOR_SECTOR={SECTOR}u", f"-DNOR_PROGRAM={PROGRAM}u",
                    f"-I{ROOT / 'csrc' / 'include'}", f"-I{ROOT / 'tests' / 'c'}",
                    str(src), str(ROOT / "tests" / "c" / "fake_hal.c"),
                    # the fake bootloader's accept_raw
                    str(ROOT / "csrc" / "src" / "bootloader.c"), "-o", str(exe)],
                   check=True, capture_output=True, text=True)
    script = scenarios()
    text = "".join(" ".join(map(str, s)) + "\n" for s in script)
    proc = subprocess.run([str(exe)], input=text, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    got, want = proc.stdout.splitlines(), run_python(script)
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            at = next((j for j, (a, b) in enumerate(zip(g, w)) if a != b), 0) // 2 * 2
            pytest.fail(f"output {i}, from char {at}: C {g[at:at + 32]!r} != "
                        f"Python {w[at:at + 32]!r}")
    # the scenarios exercise failures, and some end with the power off
    assert sum(line == "1" for line in want) > 100
    assert any(line.endswith(" 0") for line in want if " " in line)
