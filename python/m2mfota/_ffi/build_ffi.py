"""Generate the C source of the cffi API-mode module ``m2mfota._native``.

CMake runs this at build time (``python build_ffi.py OUT.c``) and compiles the
result against the static core.  The declarations come from ``cdef/*.h``, one
file per C module, concatenated in name order; ``preamble.h`` is the C code
that the generated module includes (the public headers).  cffi's output is
compiled as it is: the hot checksum calls have their own hand-written module
(``fast.c``, ``m2mfota._fast``) instead of patched cffi wrappers.
"""

import sys
from pathlib import Path

import cffi

HERE = Path(__file__).resolve().parent


def make_ffi() -> cffi.FFI:
    ffi = cffi.FFI()
    for cdef in sorted((HERE / "cdef").glob("*.h")):
        ffi.cdef(cdef.read_text(encoding="utf-8"))
    ffi.set_source("m2mfota._native", (HERE / "preamble.h").read_text(encoding="utf-8"))
    return ffi


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: build_ffi.py OUT.c", file=sys.stderr)
        return 2
    out = Path(argv[1])
    tmp = out.with_suffix(".tmp.c")
    make_ffi().emit_c_code(str(tmp))
    # Replace only when changed so an unchanged cdef does not force a rebuild.
    new = tmp.read_bytes()
    if not out.exists() or out.read_bytes() != new:
        tmp.replace(out)
    else:
        tmp.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
