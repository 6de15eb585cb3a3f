"""Generate the C source of the cffi API-mode module ``m2mfota._native``.

CMake runs this at build time (``python build_ffi.py OUT.c``) and compiles the
result against the static core.  The declarations come from ``cdef/*.h``, one
file per C module, concatenated in name order; ``preamble.h`` is the C code
that the generated module includes (the public headers).
"""

import re
import sys
from pathlib import Path

import cffi

HERE = Path(__file__).resolve().parent

# Functions whose cffi wrapper keeps the GIL while the call is short: name ->
# (the C argument, in cffi's x0, x1... naming, that measures the work; the
# size from which the GIL is released).  cffi releases the GIL around every
# call, and on a short CRC that costs more than the CRC itself; zlib and
# ISA-L likewise keep it for small buffers.  256 KiB take about 5 us with
# the VPCLMULQDQ kernel: other threads wait no longer than that.
KEEP_GIL = {"mfota_crc32": ("x2", 256 << 10)}

_GIL_MACROS = """
/* build_ffi.py: release the GIL only for calls worth it (see KEEP_GIL). */
#define MFOTA_PY_BEGIN_ALLOW_THREADS_IF(cond) { PyThreadState *_save = NULL; \\
    if (cond) { _save = PyEval_SaveThread(); }
#define MFOTA_PY_END_ALLOW_THREADS_IF if (_save != NULL) { PyEval_RestoreThread(_save); } }
"""


def keep_gil(c_source: str) -> str:
    """Rewrite the cffi wrappers of KEEP_GIL's functions to hold the GIL for
    short calls.  Fails loudly when cffi's output no longer has the expected
    shape, rather than silently dropping the optimisation."""
    for name, (arg, threshold) in KEEP_GIL.items():
        pattern = re.compile(
            r"(_cffi_f_" + name + r"\(PyObject \*self, PyObject \*args\)\n\{.*?)"
            r"  Py_BEGIN_ALLOW_THREADS\n(.*?)  Py_END_ALLOW_THREADS\n", re.S)
        begin = f"  MFOTA_PY_BEGIN_ALLOW_THREADS_IF({arg} >= {threshold}u)\n"

        def rewrite(m: re.Match[str], begin: str = begin) -> str:
            return m.group(1) + begin + m.group(2) + "  MFOTA_PY_END_ALLOW_THREADS_IF\n"

        new, n = pattern.subn(rewrite, c_source, count=1)
        if n != 1:
            raise RuntimeError(f"build_ffi.py: no cffi wrapper of {name} to rewrite")
        c_source = new
    marker = "/************************************************************/\n"
    if marker not in c_source:
        raise RuntimeError("build_ffi.py: cannot place the GIL macros in cffi's output")
    return c_source.replace(marker, _GIL_MACROS + marker, 1)


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
    tmp.write_text(keep_gil(tmp.read_text(encoding="utf-8")), encoding="utf-8")
    # Replace only when changed so an unchanged cdef does not force a rebuild.
    new = tmp.read_bytes()
    if not out.exists() or out.read_bytes() != new:
        tmp.replace(out)
    else:
        tmp.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
