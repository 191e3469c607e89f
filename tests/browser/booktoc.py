"""The pages of the book in reading order, read from ``_toc.yml`` by the parser Jupyter Book
itself uses (``sphinx_external_toc``). Shared by the browser test (conftest.py) and the
budget report (bench/book.py)."""

from __future__ import annotations

from pathlib import Path

from sphinx_external_toc.parsing import parse_toc_yaml


def toc_pages(toc: Path) -> list[str]:
    """Document names of ``toc`` (e.g. ``book/ch1_gradient_flow``, no suffix), root first,
    then depth-first in the order of the table of contents."""
    site = parse_toc_yaml(str(toc))
    pages: list[str] = []

    def walk(docname: str) -> None:
        pages.append(docname)
        for tree in site[docname].subtrees:
            for child in tree.files():
                walk(child)

    walk(site.root.docname)
    return pages
