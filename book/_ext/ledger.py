"""Local Sphinx extension: the ``{ledger}`` directive of the ledger page (``book/ledger.md``),
loaded through ``sphinx.local_extensions`` in ``_config.yml``.

Each chapter notebook declares its statements in its top-level metadata::

    "metadata": {"reluflow": {"ledger": [
        {"statement": "...", "kind": "proved", "where": "ch2-kkt"}, ...]}}

``kind`` is one of :data:`KINDS`; ``where`` is a MyST label in that chapter. The directive
reads the notebooks named in its ``:chapters:`` option (document names, e.g.
``book/ch1_gradient_flow``) and renders one table: chapter, statement, status, and ``where``
as a cross-reference. A label that does not exist is then an unresolved reference, which
fails the ``-W`` build: the ledger cannot drift from the chapters. The notebooks are
dependencies of the page, so it is rebuilt when a chapter changes. ``tests/test_ledger.py``
imports :func:`read_ledger` and checks every chapter's entries against its labels.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.addnodes import pending_xref
from sphinx.errors import ExtensionError
from sphinx.util.docutils import SphinxDirective

#: The four kinds of statement and how the ledger names them.
KINDS = {
    "proved": "proved here (SymPy)",
    "checked": "checked numerically",
    "paper": "the paper's claim (verified from its abstract)",
    "reconstruction": "our reconstruction",
}
KEYS = {"statement", "kind", "where"}


def read_ledger(path: Path) -> list[dict]:
    """The ledger entries of the notebook at ``path`` (``metadata.reluflow.ledger``).

    Raises
    ------
    ValueError
        If the notebook declares none, or an entry lacks a key, has another key, an unknown
        kind, or an empty statement or label (the message names the file and the entry).
    """
    meta = json.loads(Path(path).read_text(encoding="utf-8"))["metadata"]
    entries = meta.get("reluflow", {}).get("ledger")
    if not entries:
        raise ValueError(f"{path}: no ledger entries (metadata.reluflow.ledger is missing or empty)")
    for k, e in enumerate(entries):
        if not isinstance(e, dict) or set(e) != KEYS:
            raise ValueError(f"{path}: ledger entry {k} must have exactly the keys {sorted(KEYS)}; got {e!r}")
        if e["kind"] not in KINDS:
            raise ValueError(f"{path}: ledger entry {k} has kind {e['kind']!r}; choose one of {sorted(KINDS)}")
        if not str(e["statement"]).strip() or not str(e["where"]).strip():
            raise ValueError(f"{path}: ledger entry {k} has an empty statement or label")
    return entries


def _ref(target: str, reftype: str, docname: str, text: str | None = None) -> pending_xref:
    ref = pending_xref("", refdomain="std", reftype=reftype, reftarget=target, refexplicit=text is not None,
                       refwarn=True, refdoc=docname)  # fmt: skip
    ref += nodes.inline(text=text or target)
    return ref


def _table(header: tuple[str, ...], widths: tuple[int, ...], rows: list[list[nodes.Node]]) -> nodes.table:
    table = nodes.table(classes=["ledger"])
    group = nodes.tgroup(cols=len(header))
    table += group
    for w in widths:
        group += nodes.colspec(colwidth=w)
    head, body = nodes.thead(), nodes.tbody()
    group += head
    group += body
    row = nodes.row()
    for h in header:
        row += nodes.entry("", nodes.paragraph(text=h))
    head += row
    for cells in rows:
        row = nodes.row()
        for cell in cells:
            row += nodes.entry("", cell if isinstance(cell, nodes.paragraph) else nodes.paragraph("", "", cell))
        body += row
    return table


class LedgerDirective(SphinxDirective):
    """``{ledger}`` with option ``:chapters:`` (document names, space separated): a summary
    of the statements by kind and one table of all of them."""

    has_content = False
    option_spec = {"chapters": directives.unchanged_required}

    def run(self) -> list[nodes.Node]:
        rows, counts = [], Counter()
        for docname in self.options["chapters"].split():
            path = Path(self.env.srcdir) / f"{docname}.ipynb"
            self.env.note_dependency(str(path))
            try:
                entries = read_ledger(path)
            except (OSError, ValueError, KeyError) as exc:
                raise ExtensionError(f"ledger: {exc}") from exc
            chapter = docname.rsplit("/", 1)[-1].split("_", 1)[0]
            for e in entries:
                counts[e["kind"]] += 1
                rows.append([_ref("/" + docname, "doc", self.env.docname, chapter),
                             nodes.paragraph(text=e["statement"]), nodes.paragraph(text=KINDS[e["kind"]]),
                             _ref(e["where"], "ref", self.env.docname)])  # fmt: skip
        summary = _table(("status", "statements"), (40, 10),
                         [[nodes.paragraph(text=KINDS[k]), nodes.paragraph(text=str(counts[k]))] for k in KINDS])  # fmt: skip
        return [summary, _table(("chapter", "statement", "status", "where"), (8, 52, 16, 24), rows)]


def setup(app):
    app.add_directive("ledger", LedgerDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
