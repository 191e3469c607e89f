"""The ledger (book/ledger.md, chapter 6): every chapter declares its statements in its notebook
metadata, each with a valid kind and a label that exists in that chapter, and the ledger page
lists every chapter of the table of contents. The parser is the Sphinx extension's own
(book/_ext/ledger.py), so the book and this test read the metadata the same way."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("ledger_ext", ROOT / "book" / "_ext" / "ledger.py")
ledger = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ledger)

CHAPTERS = sorted((ROOT / "book").glob("ch[0-9]_*.ipynb"))
LABEL = re.compile(r"^\(([\w-]+)\)=\s*$", re.M)


def _labels(path: Path) -> set[str]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return {m for c in cells if c["cell_type"] == "markdown" for m in LABEL.findall("".join(c["source"]))}


def test_there_are_six_chapters():
    assert [p.name.split("_")[0] for p in CHAPTERS] == [f"ch{k}" for k in range(1, 7)]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_declares_valid_entries_with_its_own_labels(path):
    entries = ledger.read_ledger(path)
    assert len(entries) >= 3
    labels = _labels(path)
    missing = [e["where"] for e in entries if e["where"] not in labels]
    assert not missing, f"{path.name}: ledger labels not defined in the chapter: {missing}"
    assert {e["kind"] for e in entries} <= set(ledger.KINDS)


def test_the_ledger_page_lists_every_chapter_of_the_toc():
    page = (ROOT / "book" / "ledger.md").read_text(encoding="utf-8")
    (chapters,) = re.findall(r":chapters:(.*)", page)
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    listed = chapters.split()
    assert listed == [f"book/{p.stem}" for p in CHAPTERS]
    assert all(f"file: {doc}\n" in toc for doc in listed + ["book/ledger"])


@pytest.mark.parametrize(
    "entries, match",
    [
        ([], "no ledger entries"),
        ([{"statement": "s", "kind": "guess", "where": "x"}], "kind 'guess'"),
        ([{"statement": "s", "kind": "proved"}], "exactly the keys"),
        ([{"statement": " ", "kind": "proved", "where": "x"}], "empty"),
    ],
)
def test_bad_metadata_is_reported_with_the_file_and_entry(tmp_path, entries, match):
    nb = tmp_path / "ch9_bad.ipynb"
    nb.write_text(json.dumps({"cells": [], "metadata": {"reluflow": {"ledger": entries}}}))
    with pytest.raises(ValueError, match=match) as info:
        ledger.read_ledger(nb)
    assert "ch9_bad.ipynb" in str(info.value)
