"""MkDocs hooks for the documentation build (mkdocs.yml ``hooks:``).

The package's docstrings cross-reference with Sphinx roles
(``:class:`~m2mfota.flash.HalFailure```), which mkdocstrings renders as the
role's text followed by a code span.  This hook drops the role and, as Sphinx
does for a ``~`` target, shows only the last component of the name.
"""

from __future__ import annotations

import re
from typing import Any

_ROLE = re.compile(
    r":(?:py:)?(?:mod|class|func|meth|attr|exc|data|obj|const):<code>(~?)([\w.]+)</code>")


def _shorten(m: re.Match) -> str:
    name = m.group(2).rsplit(".", 1)[-1] if m.group(1) else m.group(2)
    return f"<code>{name}</code>"


def on_page_content(html: str, **kwargs: Any) -> str:
    return _ROLE.sub(_shorten, html)
