"""The cffi cdefs cannot drift from the C headers (tools/check_cdefs.py): the
real cdefs match, every public function is bound (or listed as a deliberate
exclusion), and each kind of drift -- a changed prototype, a reordered,
renamed, retyped or added struct field, an unbound function -- is caught.
The mutations are made on whatever the cdefs hold, not on a list of today's
fields, so the structs can change under this test."""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

import pytest
from conftest import require_tool

from m2mfota._native import ffi, lib

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import check_cdefs  # noqa: E402


@pytest.fixture(scope="module")
def headers():
    require_tool("gcc")
    return check_cdefs.header_declarations()


@pytest.fixture(scope="module")
def cdef() -> str:
    return check_cdefs.cdef_text()


def problems(headers, text: str) -> list[str]:
    return check_cdefs.compare(*headers, text)


def test_the_cdefs_match_the_headers(headers, cdef):
    assert problems(headers, cdef) == []


def test_the_four_functions_unbound_until_now_are_bound(headers):
    _, public, _ = headers
    for name in ("mfota_sha256", "mfota_sha256_hex", "mfota_http_request_head",
                 "mfota_http_request_tail"):
        assert name in public and hasattr(lib, name)


# ---- each kind of drift is reported ----------------------------------------------------


def full_structs(text: str) -> list[tuple[str, str, list[str]]]:
    """(name, whole block, field lines) of structs the cdefs spell out in full,
    one simple field per line."""
    out = []
    for m in re.finditer(r"^struct (\w+) \{\n(.*?)\n\};", text, re.M | re.S):
        lines = m.group(2).split("\n")
        if all(re.fullmatch(r"    [\w ]+?\**\w+(\[\d+\])?;", ln) for ln in lines) \
                and len(lines) >= 2:
            out.append((m.group(1), m.group(0), lines))
    assert out, "no struct to mutate"
    return out


def test_a_changed_prototype_is_reported(headers, cdef):
    m = re.search(r"^(\w+) (mfota_\w+)\((const void \*|uint32_t )", cdef, re.M)
    assert m, "no prototype to mutate"
    swapped = "uint64_t " if m.group(3) == "uint32_t " else "const char *"
    text = cdef[: m.start(3)] + swapped + cdef[m.end(3):]
    assert any(p.startswith(f"{m.group(2)}()") for p in problems(headers, text))


def test_a_missing_function_is_reported(headers, cdef):
    name = re.search(r"^\w[\w ]*\**(mfota_\w+)\([^;]*\);\n", cdef, re.M)
    assert name
    text = cdef.replace(name.group(0), "", 1)
    assert any(p.startswith(f"{name.group(1)}(): public") for p in problems(headers, text))


def test_an_exclusion_needs_a_public_function(headers, cdef):
    found = check_cdefs.compare(*headers, cdef, {"mfota_no_such_function": "why"})
    assert any("mfota_no_such_function" in p for p in found)


@pytest.mark.parametrize("mutation", ["swap", "rename", "retype", "extra"])
def test_struct_drift_is_reported(headers, cdef, mutation):
    for name, block, lines in full_structs(cdef):
        new = list(lines)
        if mutation == "swap":
            if lines[0].rsplit(" ", 1)[0] == lines[1].rsplit(" ", 1)[0]:
                continue  # same type: cffi's view would not change
            new[0], new[1] = lines[1], lines[0]
        elif mutation == "rename":
            new[0] = re.sub(r"(\w+)(\[\d+\])?;$", r"\1_renamed\2;", lines[0])
        elif mutation == "retype":
            if not re.match(r"    uint(8|16|32|64)_t \w+;$", lines[-1]):
                continue
            new[-1] = re.sub(r"uint\d+_t", "double", lines[-1])
        else:
            new.append("    int extra_field;")
        text = cdef.replace(block, block.replace("\n".join(lines), "\n".join(new)), 1)
        found = problems(headers, text)
        assert any(p.startswith(f"struct {name}") for p in found), (name, found)
        return
    pytest.fail(f"no struct in the cdefs allows the {mutation} mutation")


# ---- the newly bound functions work ------------------------------------------------


def test_sha256_one_shot_and_hex():
    data = bytes(range(256)) * 5
    out = ffi.new("uint8_t[32]")
    lib.mfota_sha256(data, len(data), out)
    assert bytes(out) == hashlib.sha256(data).digest()
    text = ffi.new("char[65]")
    lib.mfota_sha256_hex(out, text)
    assert ffi.string(text).decode() == hashlib.sha256(data).hexdigest()


def test_request_tail_takes_32bit_range_numbers():
    """Range numbers are uint32_t: the largest last byte 2^32 - 2 is written
    and its tail fits the downloader's MFOTA_HTTP_RANGE_TAIL_MAX, 2^32 - 1 is
    the open end, and 2^32 does not pass the C signature at all."""
    assert lib.MFOTA_HTTP_RANGE_OPEN == 2**32 - 1
    top = 2**32 - 2
    tail = ffi.new("char[]", lib.MFOTA_HTTP_RANGE_TAIL_MAX)
    n = ffi.new("size_t *")
    assert lib.mfota_http_request_tail(tail, lib.MFOTA_HTTP_RANGE_TAIL_MAX, n, 1, top, top) == 0
    assert re.fullmatch(rb"Range: ?bytes=4294967294-4294967294\r\n\r\n",
                        ffi.unpack(tail, n[0]))
    assert lib.mfota_http_request_tail(tail, lib.MFOTA_HTTP_RANGE_TAIL_MAX, n, 1, top,
                                       lib.MFOTA_HTTP_RANGE_OPEN) == 0
    assert re.fullmatch(rb"Range: ?bytes=4294967294-\r\n\r\n", ffi.unpack(tail, n[0]))
    with pytest.raises(OverflowError):
        lib.mfota_http_request_tail(tail, lib.MFOTA_HTTP_RANGE_TAIL_MAX, n, 1, 0, 2**32)


@pytest.mark.parametrize("rng", [None, (0, 99), (4096, 8191)])
def test_request_head_and_tail_make_the_whole_request(rng):
    raw = b"http://10.0.0.1:8080/f/v1/abc"
    url = ffi.new("struct mfota_url *")
    assert lib.mfota_url_parse(raw, len(raw), url) == 0
    token = b"eyJ.token"
    first, last = rng or (0, 0)
    whole, head, tail = (ffi.new("char[512]") for _ in range(3))
    n_whole, n_head, n_tail = (ffi.new("size_t *") for _ in range(3))
    assert lib.mfota_http_request_write(whole, 512, n_whole, url, token, len(token),
                                        int(rng is not None), first, last) == 0
    assert lib.mfota_http_request_head(head, 512, n_head, url, token, len(token)) == 0
    assert lib.mfota_http_request_tail(tail, 512, n_tail, int(rng is not None), first,
                                       last) == 0
    assert ffi.unpack(head, n_head[0]) + ffi.unpack(tail, n_tail[0]) == \
        ffi.unpack(whole, n_whole[0])
