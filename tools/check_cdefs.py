#!/usr/bin/env python3
"""Check that the cffi cdefs (``python/m2mfota/_ffi/cdef/*.h``) still say
what the C headers say.

    python tools/check_cdefs.py        # prints every difference; exit 1 if any

The cdefs restate the headers for cffi, so they can drift.  This reads both
sides with cffi's own C parser (pycparser underneath): the headers after
``gcc -E`` (the same headers ``preamble.h`` gives the compiled module, so
the port headers are checked too), the cdefs as cffi reads them.  Then:

* every function in the cdefs exists in the headers with the same return
  and parameter types (array parameters are pointers, as in C);
* every public function of ``csrc/include/m2mfota/*.h`` is in the cdefs,
  unless :data:`UNBOUND` lists it with the reason;
* every struct the cdefs spell out has the header's fields, in the header's
  order, with the header's types -- all of them, or, for a cdef that ends
  in ``...;`` (cffi then takes the layout from the compiler), a subsequence;
  an array length written ``[...]`` matches any length;
* every enum the cdefs spell out has the header's enumerators and values;
* every ``#define`` the cdefs name exists in the headers (as a macro or an
  enumerator).

Field offsets need no check here: cffi's API mode compiles the module with
its own ``offsetof``/``sizeof`` checks of every struct it is given in full
and takes partial ones from the compiler, so a layout that disagrees fails
the build or the import.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FFI_DIR = ROOT / "python" / "m2mfota" / "_ffi"
PUBLIC = ROOT / "csrc" / "include" / "m2mfota"
INCLUDES = [ROOT / "csrc" / "include", ROOT / "embedded_port" / "posix",
            ROOT / "embedded_port" / "modem", FFI_DIR]

#: Public functions deliberately left out of the Python module, with why.
#: Everything else in csrc/include/m2mfota/*.h must be bound.
UNBOUND: dict[str, str] = {
    "mfota_senml_num_to_int": "its argument type follows MFOTA_SENML_FLOAT; the bindings always "
                              "use doubles, where Python's int() does the same",
    "mfota_things_parse_downlink_inplace": "the client engine's in-place parser; Python parses "
                                           "downlinks with mfota_things_parse_downlink, which "
                                           "runs the same code",
    "mfota_things_command_set": "the engine's step after the in-place parser; no Python use",
}

# cffi knows these types itself; empty headers keep gcc from pulling in the
# host's libc, whose extensions (attributes, builtins) cffi cannot parse.
_STD_HEADERS = ("stdint.h", "stddef.h", "stdbool.h")


def _gcc() -> str:
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        raise RuntimeError("no C compiler (gcc/cc) to preprocess the headers")
    return gcc


def preprocess(source: str, *, macros: bool = False) -> str:
    """``gcc -E`` of `source` (C text) with the module's include path."""
    with tempfile.TemporaryDirectory() as tmp:
        fake = Path(tmp) / "std"
        fake.mkdir()
        for name in _STD_HEADERS:
            (fake / name).write_text("", encoding="ascii")
        src = Path(tmp) / "tu.c"
        src.write_text(source, encoding="utf-8")
        cmd = [_gcc(), "-E", "-P", "-nostdinc", "-I", str(fake)]
        cmd += [arg for inc in INCLUDES for arg in ("-I", str(inc))]
        cmd += ["-dM"] if macros else []
        res = subprocess.run([*cmd, str(src)], capture_output=True, text=True, timeout=120)
        if res.returncode != 0:
            raise RuntimeError(f"gcc -E failed:\n{res.stderr}")
        return res.stdout


def parse(c_text: str) -> dict[str, Any]:
    """cffi's declarations ("function NAME", "struct NAME", ...) of C text."""
    import cffi

    ffi = cffi.FFI()
    ffi.cdef(c_text)
    return dict(ffi._parser._declarations)


def header_declarations() -> tuple[dict[str, Any], set[str], set[str]]:
    """(declarations the compiled module sees, public function names, macro names)."""
    preamble = (FFI_DIR / "preamble.h").read_text(encoding="utf-8")
    decls = parse(preprocess(preamble))
    every = "".join(f'#include "m2mfota/{h.name}"\n' for h in sorted(PUBLIC.glob("*.h")))
    public = {k.split(" ", 1)[1] for k in parse(preprocess(every)) if k.startswith("function ")}
    macros = set(re.findall(r"^#define (\w+)", preprocess(preamble, macros=True), re.M))
    return decls, public, macros


def cdef_text() -> str:
    return "".join(p.read_text(encoding="utf-8") + "\n"
                   for p in sorted((FFI_DIR / "cdef").glob("*.h")))


def _type(t: Any) -> str:
    return t._get_c_name()


def _same_type(header: str, cdef: str) -> bool:
    # cffi spells an unknown array length "[/*...*/]": any length matches it.
    pattern = re.escape(cdef).replace(re.escape("[/*...*/]"), r"\[\d+\]")
    return re.fullmatch(pattern, header) is not None


def _subsequence(sub: list[str], seq: list[str]) -> bool:
    it = iter(seq)
    return all(any(x == y for y in it) for x in sub)


def compare(headers: dict[str, Any], public: set[str], macros: set[str], cdef: str,
            unbound: dict[str, str] | None = None) -> list[str]:
    """Every difference between the headers' declarations and the cdef text."""
    unbound = UNBOUND if unbound is None else unbound
    problems: list[str] = []
    cdefs = parse(cdef)
    # A cdef may name an enumerator as "#define NAME ..." (cffi takes the value).
    enumerators = {e for key, (tp, _q) in headers.items() if key.startswith("enum ")
                   for e in tp.enumerators}
    for key, (tp, _q) in sorted(cdefs.items()):
        kind, _, name = key.partition(" ")
        have = headers.get(key)
        if kind == "function":
            if have is None:
                problems.append(f"{name}(): in the cdefs, not in the headers")
            elif _type(have[0]) != _type(tp):
                problems.append(f"{name}(): the header says {_type(have[0])}, "
                                f"the cdef {_type(tp)}")
        elif kind in ("struct", "union"):
            if have is None:
                problems.append(f"{key}: in the cdefs, not in the headers")
                continue
            if tp.fldnames is None:  # opaque in the cdef: nothing to compare
                continue
            h_fields = list(zip(have[0].fldnames, map(_type, have[0].fldtypes)))
            c_fields = list(zip(tp.fldnames, map(_type, tp.fldtypes)))
            h_names = [n for n, _ in h_fields]
            c_names = [n for n, _ in c_fields]
            if tp.partial:
                if not _subsequence(c_names, h_names):
                    problems.append(f"{key}: cdef fields {c_names} are not in the header's "
                                    f"order {h_names}")
            elif c_names != h_names:
                problems.append(f"{key}: the header has fields {h_names}, the cdef {c_names}")
            h_types = dict(h_fields)
            for fname, ftype in c_fields:
                if fname in h_types and not _same_type(h_types[fname], ftype):
                    problems.append(f"{key}.{fname}: the header says {h_types[fname]}, "
                                    f"the cdef {ftype}")
        elif kind == "enum":
            if have is None:
                problems.append(f"{key}: in the cdefs, not in the headers")
            elif tp.enumvalues is not None and (
                    tp.enumerators, tp.enumvalues) != (have[0].enumerators, have[0].enumvalues):
                problems.append(f"{key}: the enumerators or their values differ")
        elif kind == "macro" and name not in macros and name not in enumerators:
            problems.append(f"#define {name}: in the cdefs, not in the headers")
    bound = {k.split(" ", 1)[1] for k in cdefs if k.startswith("function ")}
    for name in sorted(public - bound - set(unbound)):
        problems.append(f"{name}(): public in csrc/include but not bound (bind it, or list "
                        "it in UNBOUND with the reason)")
    for name in sorted(set(unbound) - public):
        problems.append(f"{name}(): listed in UNBOUND but not a public function")
    for name in sorted(set(unbound) & bound):
        problems.append(f"{name}(): listed in UNBOUND but bound")
    return problems


def main() -> int:
    headers, public, macros = header_declarations()
    problems = compare(headers, public, macros, cdef_text())
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
