"""Delta updates on real firmware pairs: patch size, patch and apply time, RAM.

Pairs (each built here from this repository):
  * board v1 -> v2: the QEMU board's application (embedded_port/board,
    Cortex-M4, MCUboot-signed images as shipped), which differ by the version
    string and by code only v2 has;
  * board v1 -> v1': the same application rebuilt with a one-function change
    (-DMFOTA_CLIENT_PROGRESS_STEP=5 changes the client's config defaults);
  * mfota-device -> mfota-device': the POSIX reference device (host build,
    stripped) with the same one-function change.

For each pair and each compression the device reads (heatshrink, none):
patch size / image size, detools' patch time on the host, and the C
applier's apply time on the host (bench/bench_delta_apply.c: RAM flash with
read-back verification, 512-byte feeds, best of 5).  On Cortex-M4 (QEMU):
the bare applier's instruction count (bench/bench_delta_mcu.c, -icount), the
source hash of mfota_delta_begin() for the board's largest source
(bench/bench_delta_hash_mcu.c; alone with --source-hash), and
the real engine path on the QEMU board: the board app (MFOTA_DELTA=1)
downloading the v1 -> v2 delta file through the modem simulator and
rebuilding v2 from its primary slot, against the same board downloading the
full v2 (wall time of each phase of v1's update, file server bytes).
RAM: sizeof(struct
mfota_delta) on the host and on Cortex-M4 (arm-none-eabi-gcc), and the
applier's code size on Cortex-M4.  Target: patch <= 10 % of the image for
the small-change pairs.

Usage:
    MCUBOOT_DIR=/path/to/mcuboot-v2.4.0 python bench/bench_delta.py [--build-dir DIR] [--json]
    python bench/bench_delta.py --source-hash
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import detools  # noqa: E402
from cbuild import cmake_build  # noqa: E402

SMALL_CHANGE_TARGET = 0.10
ONE_FUNCTION = "-DMFOTA_CLIENT_PROGRESS_STEP=5"


def mcuboot_dir() -> str:
    default = ROOT.parent / "shared" / "vendor" / "mcuboot-v2.4.0"
    return os.environ.get("MCUBOOT_DIR", str(default))


def build_board(build: Path, cflags: str | None) -> dict[str, bytes]:
    cmake_build(ROOT / "embedded_port" / "board", build, f"MCUBOOT_DIR={mcuboot_dir()}",
                cross=True, cflags=cflags)
    return {name: (build / f"{name}.signed.bin").read_bytes() for name in ("app-v1", "app-v2")}


def build_device(build: Path, cflags: str | None) -> bytes:
    cmake_build(ROOT, build, "MFOTA_BUILD_TESTS=OFF", "MFOTA_BUILD_BENCH=OFF",
                "MFOTA_BUILD_DEVICE=ON", "CMAKE_BUILD_TYPE=Release", cflags=cflags)
    exe = build / "mfota-device"
    stripped = build / "mfota-device.stripped"
    subprocess.run(["strip", "-o", str(stripped), str(exe)], check=True)
    return stripped.read_bytes()


def build_apply_bench(out: Path) -> Path:
    exe = out / "mfota_bench_delta"
    subprocess.run(["gcc", "-O2", "-std=c99", f"-I{ROOT / 'csrc' / 'include'}",
                    f"-I{ROOT / 'csrc' / 'src'}", f"-I{ROOT / 'tests' / 'c'}",
                    str(ROOT / "bench" / "bench_delta_apply.c"),
                    str(ROOT / "tests" / "c" / "fake_hal.c"),
                    *map(str, sorted((ROOT / "csrc" / "src").glob("*.c"))), "-o", str(exe)],
                   check=True)
    return exe


def arm_figures(out: Path) -> dict[str, int]:
    """sizeof(struct mfota_delta) and delta.c's code size on Cortex-M4."""
    gcc = shutil.which("arm-none-eabi-gcc")
    if gcc is None:
        return {}
    probe = out / "ram_probe.c"
    probe.write_text('#include "m2mfota/delta.h"\nstruct mfota_delta mfota_probe_ctx;\n')
    flags = ["-mcpu=cortex-m4", "-mthumb", "-Os", "-std=c99", f"-I{ROOT / 'csrc' / 'include'}"]
    subprocess.run([gcc, *flags, "-c", str(probe), "-o", str(out / "probe.o")], check=True)
    nm = subprocess.run(["arm-none-eabi-nm", "-S", str(out / "probe.o")], check=True,
                        capture_output=True, text=True).stdout
    ram = int(re.search(r"^[0-9a-f]+ ([0-9a-f]+) \w mfota_probe_ctx", nm, re.M).group(1), 16)
    subprocess.run([gcc, *flags, "-c", str(ROOT / "csrc" / "src" / "delta.c"), "-o",
                    str(out / "delta.o")], check=True)
    size = subprocess.run(["arm-none-eabi-size", str(out / "delta.o")], check=True,
                          capture_output=True, text=True).stdout.splitlines()[1].split()
    return {"ram_cortex_m4": ram, "code_cortex_m4": int(size[0]) + int(size[1])}


def _c_array(name: str, data: bytes) -> str:
    rows = ",\n".join(", ".join(str(b) for b in data[i:i + 32]) for i in range(0, len(data), 32))
    return f"static const uint8_t {name}[{max(len(data), 1)}] = {{\n{rows or '0'}\n}};\n"


def _mcu_run(main_c: Path, work: Path, flags: list[str]) -> subprocess.CompletedProcess:
    """Build ``main_c`` with the core at -Os for QEMU's mps2-an386 and run it
    there with -icount shift=0 (virtual time follows instructions)."""
    gcc, qemu = shutil.which("arm-none-eabi-gcc"), shutil.which("qemu-system-arm")
    assert gcc is not None and qemu is not None
    board = ROOT / "embedded_port" / "mps2-an386"
    elf = work / (main_c.stem + ".elf")
    subprocess.run([gcc, "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=soft", "-Os", "-std=c99",
                    "-ffunction-sections", "-fdata-sections", *flags,
                    f"-I{ROOT / 'csrc' / 'include'}", f"-I{ROOT / 'csrc' / 'src'}",
                    f"-I{ROOT / 'tests' / 'c'}", str(ROOT / "tests" / "c" / "fake_hal.c"),
                    str(board / "startup.S"), str(main_c),
                    *map(str, sorted((ROOT / "csrc" / "src").glob("*.c"))),
                    "--specs=rdimon.specs", "-nostartfiles", f"-L{board}",
                    f"-T{board / 'mps2-an386.ld'}", "-Wl,--gc-sections", "-Wl,-z,noexecstack",
                    "-o", str(elf)], check=True)
    return subprocess.run([qemu, "-M", "mps2-an386", "-nographic", "-monitor", "none",
                           "-serial", "none", "-icount", "shift=0", "-semihosting-config",
                           "enable=on,target=native", "-kernel", str(elf)],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)


#: The QEMU board's primary slot (embedded_port/board/board_layout.h): the
#: largest source the board's engine hashes.
BOARD_PRIMARY_SIZE = 0x21000


def mcu_source_hash(work: Path, size: int = BOARD_PRIMARY_SIZE) -> dict | None:
    """mfota_delta_begin() hashing a ``size``-byte source on QEMU's Cortex-M4
    (bench/bench_delta_hash_mcu.c, source read with memcpy): instructions in
    all, and the most between two calls of the source's read HAL (or between
    begin()'s start or end and the nearest read).  None when the cross tools
    or QEMU are missing."""
    if shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None:
        return None
    work.mkdir(parents=True, exist_ok=True)
    proc = _mcu_run(ROOT / "bench" / "bench_delta_hash_mcu.c", work,
                    [f"-DSOURCE_SIZE={size}u"])
    m = re.search(r"ok size=(\d+) reads=(\d+) ticks=(\d+) max_gap_ticks=(\d+) "
                  r"calib_ticks=(\d+) calib_insns=(\d+)", proc.stdout)
    assert proc.returncode == 0 and m, proc.stdout + proc.stderr
    n, reads, ticks, gap, calib_ticks, calib_insns = (int(g) for g in m.groups())
    per_tick = calib_insns / calib_ticks
    return {"size": n, "reads": reads, "instructions": int(ticks * per_tick),
            "max_gap_instructions": int(gap * per_tick),
            "instructions_per_byte": ticks * per_tick / n}


def mcu_apply(old: bytes, new: bytes, work: Path) -> dict | None:
    """Apply the heatshrink patch old -> new on QEMU's Cortex-M4 (-icount
    shift=0); instructions counted through SysTick, calibrated by a loop of
    known length.  None when the cross tools or QEMU are missing."""
    gcc, qemu = shutil.which("arm-none-eabi-gcc"), shutil.which("qemu-system-arm")
    if gcc is None or qemu is None:
        return None
    work.mkdir(parents=True, exist_ok=True)
    out = io.BytesIO()
    detools.create_patch(io.BytesIO(old), io.BytesIO(new), out, compression="heatshrink",
                         patch_type="sequential")
    patch = out.getvalue()
    (work / "delta_mcu_data.h").write_text(
        "#include <stdint.h>\n"
        f"#define DELTA_OLD_SIZE {len(old)}u\n#define DELTA_NEW_SIZE {len(new)}u\n"
        f"#define DELTA_PATCH_SIZE {len(patch)}u\n"
        + _c_array("delta_old", old) + _c_array("delta_patch", patch)
        + _c_array("delta_old_sha256", hashlib.sha256(old).digest())
        + _c_array("delta_new_sha256", hashlib.sha256(new).digest()))
    proc = _mcu_run(ROOT / "bench" / "bench_delta_mcu.c", work, [f"-I{work}"])
    m = re.search(r"ok ticks=(\d+) calib_ticks=(\d+) calib_insns=(\d+)", proc.stdout)
    assert proc.returncode == 0 and m, proc.stdout + proc.stderr
    ticks, calib_ticks, calib_insns = (int(g) for g in m.groups())
    insns = ticks * calib_insns / calib_ticks
    return {"patch": len(patch), "image": len(new), "instructions": int(insns),
            "instructions_per_byte": insns / len(new)}


def board_update(board_dir: Path, work: Path,
                 uploads: tuple[str, ...] = ("image", "delta")) -> dict | None:
    """The v1 -> v2 update on the QEMU board through the real client engine,
    once with the full image and once with the delta file uploaded: per run
    the file's size, the bytes the file server sent, and the wall time (host
    clock, QEMU TCG) from the app's "state downloading" to "downloaded" (the
    transfer through the modem, writing the image or applying the delta,
    then the hash and signature check) and on to "updating" (the trailer
    that marks it pending).  ``uploads``: which of the two to run.  None when
    QEMU is missing."""
    if shutil.which("qemu-system-arm") is None:
        return None
    from m2mfota.delta import create_delta_file

    v1 = (board_dir / "app-v1.signed.bin").read_bytes()
    v2 = (board_dir / "app-v2.signed.bin").read_bytes()
    work.mkdir(parents=True, exist_ok=True)
    files = {"image": lambda: v2, "delta": lambda: create_delta_file(v1, v2)}
    return {label: _board_run(board_dir, work / label, v1, files[label]()) for label in uploads}


def _board_run(board_dir: Path, work: Path, v1: bytes, data: bytes) -> dict:
    """One update of a fresh board (v1) to ``data`` uploaded as 2.0.0."""
    from m2mfota import qemu_device as qd
    from m2mfota.demo import Emulator
    from m2mfota.modem_sim import ModemSim, RunningSim

    imei, secret = "356938035643809", "bench-secret"
    work.mkdir(parents=True, exist_ok=True)
    emu = Emulator(str(work / "emulator.sqlite3"))
    emu.start()
    stamps: dict[str, float] = {}
    sent: list[int] = []

    def on_line(boot: int, line: str) -> None:
        if boot == 1 and line.startswith("[app] state "):
            stamps.setdefault(line.split()[-1], time.monotonic())
        if boot == 1 and line.startswith("[app] client cycle:"):
            # The emulator withdraws the file once v2 reports: count now.
            sent.append(emu.api("GET", f"/api/devices/{imei}/download")["stats"]["bytes_sent"])

    try:
        fw = emu.api("POST", "/api/firmware?version=2.0.0", raw=data)
        emu.api("POST", "/api/devices", {"imei": imei, "secret": secret})
        emu.api("PUT", f"/api/devices/{imei}/desired", {"firmware_id": fw["id"]})
        flash = work / "flash.bin"
        qd.provision(flash, v1, imei=imei, secret=secret, server=emu.base)
        with RunningSim(ModemSim(link="none"), max_lifetime=900) as sim:
            run = qd.run_board(flash, board_dir / "bootloader.elf", boots=2, boot_timeout=400,
                               modem=("127.0.0.1", sim.port), on_line=on_line)
        done = emu.api("GET", f"/api/devices/{imei}")["update"]["status"] == "done"
    finally:
        emu.stop()
    assert done and run.running_images()[-1] == "2.0.0+0", "\n".join(run.lines)
    return {"file": len(data), "sent": sent[0],
            "download_s": stamps["downloaded"] - stamps["downloading"],
            "mark_s": stamps["updating"] - stamps["downloaded"]}


def measure(name: str, old: bytes, new: bytes, bench: Path, work: Path,
            small: bool) -> list[dict]:
    rows = []
    for compression in ("heatshrink", "none"):
        t0 = time.perf_counter()
        out = io.BytesIO()
        detools.create_patch(io.BytesIO(old), io.BytesIO(new), out, compression=compression,
                             patch_type="sequential")
        patch_s = time.perf_counter() - t0
        patch = out.getvalue()
        files = [work / f"{name}.{x}" for x in ("old", "patch", "new")]
        for f, data in zip(files, (old, patch, new)):
            f.write_bytes(data)
        line = subprocess.run([str(bench), *map(str, files), "5"], check=True,
                              capture_output=True, text=True).stdout
        m = re.match(r"ok image=(\d+) patch=(\d+) us=(\d+) ram=(\d+)", line)
        assert m, line
        rows.append({"pair": name, "compression": compression, "old": len(old),
                     "image": len(new), "patch": len(patch), "ratio": len(patch) / len(new),
                     "patch_time_s": patch_s, "apply_us_host": int(m.group(3)),
                     "ram_host": int(m.group(4)), "small_change": small})
    return rows


def _hash_line(h: dict) -> str:
    return (f"source hash in mfota_delta_begin() on Cortex-M4 (QEMU, {h['size']} bytes, the "
            f"board's primary slot): {h['instructions'] / 1e6:.2f} M instructions "
            f"({h['instructions_per_byte']:.1f} per byte; {h['instructions'] / 64e3:.0f} ms at "
            f"64 MHz, {h['instructions'] / 16e3:.0f} ms at 16 MHz, 1 instruction per cycle), "
            f"{h['reads']} source reads, at most {h['max_gap_instructions']} instructions "
            "between two")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build-dir", type=Path, help="keep the builds here (default: a temp dir)")
    ap.add_argument("--json", action="store_true", help="print the rows as JSON")
    ap.add_argument("--source-hash", action="store_true",
                    help="only the source hash of the largest source on Cortex-M4 (QEMU)")
    args = ap.parse_args(argv)
    if args.source_hash:
        with tempfile.TemporaryDirectory(prefix="bench-delta-") as tmp:
            top = args.build_dir or Path(tmp)
            src_hash = mcu_source_hash(top / "mcu-hash")
        if src_hash is None:
            print("arm-none-eabi-gcc or qemu-system-arm missing", file=sys.stderr)
            return 1
        print(json.dumps(src_hash, indent=1) if args.json else _hash_line(src_hash))
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-delta-") as tmp:
        top = args.build_dir or Path(tmp)
        top.mkdir(parents=True, exist_ok=True)
        board = build_board(top / "board", None)
        board_fn = build_board(top / "board-fn", ONE_FUNCTION)
        device = build_device(top / "device", None)
        device_fn = build_device(top / "device-fn", ONE_FUNCTION)
        bench = build_apply_bench(top)
        rows = []
        rows += measure("board v1->v2", board["app-v1"], board["app-v2"], bench, top, True)
        rows += measure("board v1->v1'", board["app-v1"], board_fn["app-v1"], bench, top, True)
        rows += measure("mfota-device", device, device_fn, bench, top, True)
        arm = arm_figures(top)
        mcu = mcu_apply(board["app-v1"], board["app-v2"], top / "mcu")
        src_hash = mcu_source_hash(top / "mcu-hash")
        on_board = board_update(top / "board", top / "qemu-board")
    if args.json:
        print(json.dumps({"rows": rows, **arm, "mcu_v1_v2": mcu, "board_update": on_board,
                          "mcu_source_hash": src_hash}, indent=1))
    else:
        print("| pair | compression | image | patch | patch/image | patch time (host) "
              "| apply time (host) |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for r in rows:
            print(f"| {r['pair']} | {r['compression']} | {r['image']} | {r['patch']} "
                  f"| {100 * r['ratio']:.2f} % | {r['patch_time_s']:.2f} s "
                  f"| {r['apply_us_host'] / 1000:.2f} ms |")
        print(f"\napplier RAM: {rows[0]['ram_host']} bytes on the host"
              + (f", {arm['ram_cortex_m4']} bytes on Cortex-M4 (code {arm['code_cortex_m4']} "
                 "bytes)" if arm else "") + " + the caller's flash writer")
        if mcu is not None:
            print(f"apply on Cortex-M4 (QEMU, board v1->v2, heatshrink): "
                  f"{mcu['instructions'] / 1e6:.1f} M instructions "
                  f"({mcu['instructions_per_byte']:.0f} per image byte; "
                  f"{mcu['instructions'] / 64e3:.0f} ms at 64 MHz and 1 instruction per cycle, "
                  "flash erase/program time not included)")
        if src_hash is not None:
            print(_hash_line(src_hash))
        if on_board is not None:
            print("\nthe QEMU board's v1 -> v2 update through the engine (modem simulator, "
                  "link none; wall time, QEMU TCG):\n")
            print("| uploaded | file | file server sent | downloading -> downloaded (transfer, "
                  "write or apply, hash + signature) | downloaded -> updating (trailer) |")
            print("|---|---:|---:|---:|---:|")
            for label, r in on_board.items():
                print(f"| {label} | {r['file']} | {r['sent']} | {r['download_s']:.2f} s "
                      f"| {r['mark_s']:.3f} s |")
    missed = [r for r in rows if r["small_change"] and r["compression"] == "heatshrink"
              and r["ratio"] > SMALL_CHANGE_TARGET]
    for r in missed:
        print(f"target missed: {r['pair']} patch is {100 * r['ratio']:.1f} % of the image",
              file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
