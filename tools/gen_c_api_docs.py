#!/usr/bin/env python3
"""Generate docs/c-api.md, the C API reference, from the public headers.

Every public header in ``csrc/include/m2mfota/`` contributes a section: its
opening comment, the hardware abstraction (HAL) structs it defines (in full:
their field comments are the contract a port implements), the other public
types with the comment above them, and every function prototype with the
comment above it.  The headers are the one source; this page is generated
so that it cannot disagree with them.

    python tools/gen_c_api_docs.py           # rewrite docs/c-api.md
    python tools/gen_c_api_docs.py --check   # exit 1 when docs/c-api.md is stale

``tests/test_c_api_docs.py`` runs the check and compares the functions listed
with those the compiler sees in the headers.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INCLUDE = ROOT / "csrc" / "include" / "m2mfota"
OUTPUT = ROOT / "docs" / "c-api.md"

# Reading order: what a port meets first, then the building blocks.
ORDER = [
    "m2mfota.h", "err.h", "config.h", "client.h", "transport.h", "flash.h", "journal.h",
    "bootloader.h", "mcuboot.h", "sig_verify.h",
]


@dataclass
class Decl:
    """One top-level declaration: its text and the comment right above it."""
    text: str
    comment: str


@dataclass
class Header:
    name: str
    intro: str
    functions: list[Decl] = field(default_factory=list)
    hal_structs: list[Decl] = field(default_factory=list)
    types: list[Decl] = field(default_factory=list)


def _clean_comment(raw: str) -> str:
    """The text of a /* ... */ block without its frame, paragraphs kept."""
    body = raw[2:-2]
    lines = []
    for line in body.splitlines():
        line = line.strip()
        if line.startswith("*"):
            line = line[1:]
            if line.startswith(" "):
                line = line[1:]
        lines.append(line.rstrip())
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def _split(text: str) -> tuple[str, list[Decl]]:
    """The header's opening comment and its top-level declarations.

    A small scanner, not a C parser: the headers are plain C99 with one
    declaration per statement, so tracking comments, preprocessor lines and
    brace depth is enough to cut them into declarations."""
    # The C++ guards hold a lone `extern "C" {` and its `}`: drop them so the
    # declarations between stay at brace depth 0.
    text = re.sub(r"#ifdef __cplusplus\n.*?#endif[^\n]*\n", "", text, flags=re.S)
    i, n = 0, len(text)
    intro = ""
    decls: list[Decl] = []
    pending_comment = ""  # the comment block directly above what comes next
    buf: list[str] = []
    depth = 0
    at_line_start = True
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            end = text.index("*/", i + 2) + 2
            raw = text[i:end]
            if depth == 0 and not "".join(buf).strip():
                if not intro and not decls and not text[:i].strip():
                    intro = _clean_comment(raw)
                else:
                    pending_comment = _clean_comment(raw)
            else:
                # Inside a struct the field comments are the contract: keep them.
                buf.append(raw if depth > 0 else " ")
            i = end
            continue
        if text.startswith("//", i):
            i = text.index("\n", i) if "\n" in text[i:] else n
            continue
        if at_line_start and c == "#" and depth == 0 and not "".join(buf).strip():
            # A preprocessor line (with continuations) separates declarations.
            while i < n:
                j = text.find("\n", i)
                j = n if j < 0 else j
                line = text[i:j]
                i = j + 1
                if not line.rstrip().endswith("\\"):
                    break
            at_line_start = True
            # #define / #include lines are not declarations; a comment above them
            # belongs to them.
            pending_comment = ""
            continue
        if c == "\n":
            at_line_start = True
            buf.append(c)
            i += 1
            continue
        if not c.isspace():
            at_line_start = False
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        buf.append(c)
        i += 1
        if c == ";" and depth == 0:
            stmt = "".join(buf).strip()
            buf = []
            if stmt.startswith('extern "C"'):
                continue
            decls.append(Decl(stmt, pending_comment))
            pending_comment = ""
    return intro, decls


_FUNC = re.compile(r"\b(mfota_\w+)\s*\(")


def function_name(decl: Decl) -> str | None:
    """The function a prototype declares, or None for a type or variable."""
    text = decl.text
    if "{" in text or text.startswith("typedef"):
        return None
    m = _FUNC.search(text)
    if m is None:
        return None
    return m.group(1)


def _type_name(decl: Decl) -> str | None:
    m = re.match(r"(struct|enum|union)\s+(\w+)\s*\{", decl.text)
    return f"{m.group(1)} {m.group(2)}" if m else None


def _normalise(text: str) -> str:
    """The prototype as written, trailing blanks dropped."""
    return "\n".join(ln.rstrip() for ln in text.splitlines())


def read_header(path: Path) -> Header:
    intro, decls = _split(path.read_text())
    h = Header(path.name, intro)
    for d in decls:
        name = function_name(d)
        if name is not None:
            h.functions.append(d)
            continue
        tname = _type_name(d)
        if tname is None:
            continue
        if "(*" in d.text:
            h.hal_structs.append(d)
        else:
            h.types.append(d)
    return h


def headers() -> list[Header]:
    names = sorted(p.name for p in INCLUDE.glob("*.h"))
    ordered = [n for n in ORDER if n in names] + [n for n in names if n not in ORDER]
    return [read_header(INCLUDE / n) for n in ordered]


_OPTION = re.compile(
    r"((?:/\*(?:(?!\*/).)*\*/\s*)?)#ifndef (MFOTA_\w+)\n#define \2 ([^\n]*)\n#endif", re.S)


def config_options() -> list[tuple[str, str, str]]:
    """(name, default, comment) of every option config.h lets a port override.

    An option is a ``#ifndef NAME / #define NAME default / #endif`` triple;
    the comment above it (shared by a run of related options) is its text.
    Defaults that depend on the target are given as the header writes them."""
    text = (INCLUDE / "config.h").read_text()
    text = text.replace("#ifndef MFOTA_CONFIG_H\n#define MFOTA_CONFIG_H\n", "")
    options = []
    # Options whose default is chosen by #if (per CPU) are a nested block.
    nested = re.compile(r"((?:/\*(?:(?!\*/).)*\*/\s*)?)#ifndef (MFOTA_\w+)\n#if .*?#endif\n#endif",
                        re.S)
    spans = []
    for m in list(_OPTION.finditer(text)) + list(nested.finditer(text)):
        spans.append((m.start(), m))
    last_comment = ""
    for _, m in sorted(spans, key=lambda t: t[0]):
        comment = _clean_comment(m.group(1).strip()) if m.group(1).strip() else last_comment
        last_comment = comment
        default = m.group(3).strip() if m.re is _OPTION else "per target (see config.h)"
        options.append((m.group(2), default, comment))
    return options


def _anchor(name: str) -> str:
    return name.replace(".", "").lower()


def render() -> str:
    hs = headers()
    out = [
        "# C API reference",
        "",
        "<!-- Generated by tools/gen_c_api_docs.py from csrc/include/m2mfota/*.h;"
        " do not edit. -->",
        "",
        "Generated from the comments of the public headers in `csrc/include/m2mfota/`"
        " (`python tools/gen_c_api_docs.py`); a test fails when this page and the headers"
        " disagree. Conventions (errors, ownership, caller-allocated contexts) are on"
        " [C API conventions](c-api-conventions.md); what a port implements is on"
        " [the porting guide](porting.md); every error code is on"
        " [troubleshooting](troubleshooting.md).",
        "",
        "| header | functions |",
        "| --- | ---: |",
    ]
    for h in hs:
        out.append(f"| [`m2mfota/{h.name}`](#{_anchor(h.name)}) | {len(h.functions)} |")
    out.append("")
    for h in hs:
        out += [f"## {h.name}", "", f"`#include \"m2mfota/{h.name}\"`", ""]
        if h.intro:
            out += [_as_markdown(h.intro), ""]
        if h.name == "config.h":
            out += ["### Options", "",
                    "Define any of these in the header named by `MFOTA_CONFIG_FILE`.", "",
                    "| option | default | meaning |", "| --- | --- | --- |"]
            for name, default, comment in config_options():
                cell = _escape(" ".join(comment.split())).replace("|", "\\|")
                out.append(f"| `{name}` | `{default}` | {cell} |")
            out.append("")
        if h.hal_structs:
            out += ["### HAL structs", ""]
            for d in h.hal_structs:
                tname = _type_name(d)
                if d.comment:
                    out += [f"`{tname}`: {_as_markdown(d.comment)}", ""]
                out += ["```c", d.text, "```", ""]
        if h.types:
            out += ["### Types", ""]
            for d in h.types:
                tname = _type_name(d)
                if d.comment:
                    out += [f"`{tname}`: {_as_markdown(d.comment)}", ""]
                out += ["```c", d.text, "```", ""]
        if h.functions:
            out += ["### Functions", ""]
            for d in h.functions:
                name = function_name(d)
                out += [f"#### {name}", "", "```c", _normalise(d.text), "```", ""]
                out += [_as_markdown(d.comment) if d.comment else "(no comment in the header)", ""]
    return "\n".join(out).rstrip() + "\n"


_IDENT = re.compile(r"(?<![\w`])((?:MFOTA|mfota)_\w*\*?(?:\(\))?|_[A-Z][A-Z0-9_]*\*?)")


def _escape(text: str) -> str:
    """Header prose as Markdown: m2mfota identifiers become code spans, and
    what is left is literal text (`<imei>` is not an HTML tag, `*out_len`
    is not emphasis).  Existing code spans are left alone."""
    out = []
    for i, part in enumerate(text.split("`")):
        if i % 2:
            out.append("`" + part + "`")  # an existing code span
            continue
        for j, piece in enumerate(_IDENT.split(part)):
            if j % 2:
                out.append("`" + piece + "`")
            else:
                out.append(piece.replace("\\", "\\\\").replace("*", "\\*")
                           .replace("<", "&lt;").replace(">", "&gt;"))
    return "".join(out)


def _as_markdown(comment: str) -> str:
    """Header prose as Markdown: paragraphs reflowed, indented or diagram lines kept
    verbatim in a code block."""
    blocks: list[str] = []
    para: list[str] = []
    code: list[str] = []

    def flush_para() -> None:
        if para:
            blocks.append(_escape(" ".join(para).replace(" \n", "\n").rstrip()))
            para.clear()

    def flush_code() -> None:
        if code:
            blocks.append("```text\n" + "\n".join(code) + "\n```")
            code.clear()

    in_item = False
    for line in comment.splitlines():
        if not line.strip():
            flush_para()
            flush_code()
            in_item = False
        elif line.lstrip().startswith("- "):
            # A list item; its indented continuation lines join it below.
            flush_code()
            if not in_item:
                flush_para()
            para.append(("\n" if para else "") + line.strip())
            in_item = True
        elif line.startswith(" ") and not in_item:
            flush_para()
            code.append(line)  # a diagram or a layout: keep it as written
        else:
            flush_code()
            if para and para[-1].endswith("-") and para[-1][-2:-1].isalpha():
                para[-1] += line.strip()  # a word hyphenated across lines
            else:
                para.append(line.strip())
    flush_para()
    flush_code()
    return "\n\n".join(b.strip("\n") for b in blocks)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 when the page is stale")
    ap.add_argument("--output", type=Path, default=OUTPUT)
    args = ap.parse_args(argv)
    text = render()
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale: run python tools/gen_c_api_docs.py", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
