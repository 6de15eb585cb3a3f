"""``m2mfota delta``: patches made with detools, applied with the C applier;
sizes and ratio printed; a user's mistake is one line, exit 1."""

from __future__ import annotations

import hashlib
import io
import random
import re

import detools
import pytest
from test_cli import assert_one_line_error, run_main

from m2mfota.delta import parse_delta_header


@pytest.fixture
def images(tmp_path):
    rng = random.Random(2)
    words = [rng.randbytes(4) for _ in range(50)]
    old = b"".join(rng.choice(words) for _ in range(5000))
    new = old[:3000] + b"a one-function change" + old[3010:]
    (tmp_path / "old.bin").write_bytes(old)
    (tmp_path / "new.bin").write_bytes(new)
    return tmp_path, old, new


@pytest.mark.parametrize("compression", ["heatshrink", "none"])
def test_make_and_apply_round_trip(images, capsys, compression):
    d, old, new = images
    code, out, err = run_main(["delta", str(d / "old.bin"), str(d / "new.bin"), "-o",
                               str(d / "p.patch"), "--compression", compression, "--raw"], capsys)
    assert code == 0, err
    patch = (d / "p.patch").read_bytes()
    m = re.search(r"old (\d+) bytes, new (\d+) bytes, patch (\d+) bytes \(([\d.]+) % of new", out)
    assert m, out
    assert [int(m.group(i)) for i in (1, 2, 3)] == [len(old), len(new), len(patch)]
    assert float(m.group(4)) == pytest.approx(100 * len(patch) / len(new), abs=0.05)
    assert hashlib.sha256(old).hexdigest() in out
    # detools itself reads the patch back to the new image...
    rebuilt = io.BytesIO()
    detools.apply_patch(io.BytesIO(old), io.BytesIO(patch), rebuilt)
    assert rebuilt.getvalue() == new
    # ... and so does the C applier, with the source hash checked.
    code, out, err = run_main(["delta", "--apply", str(d / "old.bin"), str(d / "p.patch"), "-o",
                               str(d / "out.bin"), "--source-sha256",
                               hashlib.sha256(old).hexdigest()], capsys)
    assert code == 0, err
    assert (d / "out.bin").read_bytes() == new
    assert hashlib.sha256(new).hexdigest() in out


def test_default_output_is_a_delta_file_and_prints_the_saving(images, capsys):
    d, old, new = images
    code, out, err = run_main(["delta", str(d / "old.bin"), str(d / "new.bin"), "-o",
                               str(d / "p.mfdp")], capsys)
    assert code == 0, err
    data = (d / "p.mfdp").read_bytes()
    head = parse_delta_header(data)
    assert head is not None
    assert (head.source_size, head.target_size) == (len(old), len(new))
    assert head.source_sha256 == hashlib.sha256(old).digest()
    assert head.target_sha256 == hashlib.sha256(new).digest()
    # Behind the header is an ordinary detools patch.
    rebuilt = io.BytesIO()
    detools.apply_patch(io.BytesIO(old), io.BytesIO(data[head.header_size:]), rebuilt)
    assert rebuilt.getvalue() == new
    m = re.search(r"delta file (\d+) bytes .*\nsaving (\d+) bytes \(([\d.]+) %", out)
    assert m, out
    assert int(m.group(1)) == len(data)
    assert int(m.group(2)) == len(new) - len(data)
    assert float(m.group(3)) == pytest.approx(100 * (len(new) - len(data)) / len(new), abs=0.05)
    # --apply recognises the delta file and checks both hashes in it.
    code, out, err = run_main(["delta", "--apply", str(d / "old.bin"), str(d / "p.mfdp"), "-o",
                               str(d / "out.bin")], capsys)
    assert code == 0, err
    assert (d / "out.bin").read_bytes() == new
    code, _, err = run_main(["delta", "--apply", str(d / "new.bin"), str(d / "p.mfdp"), "-o",
                             str(d / "x.bin")], capsys)
    assert_one_line_error(code, err, "delta", "MFOTA_ERR_DELTA_SOURCE")
    bad = bytearray(data)
    bad[20] ^= 1  # inside the source hash: the header CRC no longer matches
    (d / "bad.mfdp").write_bytes(bytes(bad))
    code, _, err = run_main(["delta", "--apply", str(d / "old.bin"), str(d / "bad.mfdp"), "-o",
                             str(d / "x.bin")], capsys)
    assert_one_line_error(code, err, "delta", "MFOTA_ERR_DELTA_HEADER")
    assert not (d / "x.bin").exists()


def test_apply_errors_are_one_line(images, capsys):
    d, old, new = images
    run_main(["delta", str(d / "old.bin"), str(d / "new.bin"), "-o", str(d / "p.patch"), "--raw"],
             capsys)
    # The wrong source: the C applier's own error.
    code, _, err = run_main(["delta", "--apply", str(d / "new.bin"), str(d / "p.patch"), "-o",
                             str(d / "x.bin"), "--source-sha256",
                             hashlib.sha256(old).hexdigest()], capsys)
    assert_one_line_error(code, err, "delta", "MFOTA_ERR_DELTA_SOURCE")
    # A truncated patch.
    (d / "short.patch").write_bytes((d / "p.patch").read_bytes()[:-3])
    code, _, err = run_main(["delta", "--apply", str(d / "old.bin"), str(d / "short.patch"),
                             "-o", str(d / "x.bin")], capsys)
    assert_one_line_error(code, err, "delta", "MFOTA_ERR_DELTA_TRUNCATED")
    # Not a patch at all, a missing file, a bad hash.
    code, _, err = run_main(["delta", "--apply", str(d / "old.bin"), str(d / "new.bin"),
                             "-o", str(d / "x.bin")], capsys)
    assert code == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    code, _, err = run_main(["delta", str(d / "nope.bin"), str(d / "new.bin"), "-o",
                             str(d / "x")], capsys)
    assert code == 1 and "no such file" in err and "Traceback" not in err
    code, _, err = run_main(["delta", "--apply", str(d / "old.bin"), str(d / "p.patch"), "-o",
                             str(d / "x.bin"), "--source-sha256", "zz"], capsys)
    assert_one_line_error(code, err, "delta", "64 hex digits")
    assert not (d / "x.bin").exists()


def test_window_option_is_limited_to_what_the_device_holds(images, capsys):
    d, _, _ = images
    code, _, err = run_main(["delta", str(d / "old.bin"), str(d / "new.bin"), "-o",
                             str(d / "p"), "--window-sz2", "12"], capsys)
    assert code == 1 and "invalid choice" in err


def test_a_huge_announced_image_is_refused_without_allocating_it(tmp_path, capsys):
    (tmp_path / "old").write_bytes(b"x")
    (tmp_path / "huge.patch").write_bytes(b"\x04\xbf\xff\xff\xff\x07")  # 2^30 - 1 bytes
    code, _, err = run_main(["delta", "--apply", str(tmp_path / "old"),
                             str(tmp_path / "huge.patch"), "-o", str(tmp_path / "x")], capsys)
    assert_one_line_error(code, err, "delta", "MFOTA_ERR_DELTA_OVERRUN")
