"""Budgets of the published book: build time, notebook execution times and page weights.

Run from the repository root, in the project environment (``source .ci/setup``)::

    python bench/book.py [--write]

1. A clean full build, timed: ``bash .ci/book`` removes ``_build`` and re-executes every
   notebook (``jupyter-book build . -W -n --keep-going``). Budget: 10 minutes on 2 cores.
2. Each notebook of ``_toc.yml`` executed on its own with nbclient (the kernel the book
   uses), timed, with its slowest cells.
3. The weight of each built page: its HTML (figures and players embedded as data URIs
   included) plus the image files it loads. Budget: 5 MB per page. The shared assets under
   ``_static/`` (theme, MathJax, widget manager), loaded once per site, are reported apart.

With ``--write`` the report is saved to ``bench/BOOK.md``. The exit code is 1 if a budget
is exceeded.
"""

from __future__ import annotations

import argparse
import datetime
import html.parser
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import yaml
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
import booktoc  # noqa: E402  (the shared _toc.yml walker)

SITE = ROOT / "_build" / "html"
BUILD_BUDGET_S = 600.0
PAGE_BUDGET_BYTES = 5 * 2**20


def toc_pages() -> list[str]:
    """Document names of ``_toc.yml`` in reading order (the walker of the browser test)."""
    return booktoc.toc_pages(ROOT / "_toc.yml")


def time_build() -> float:
    t0 = time.perf_counter()
    subprocess.run(["bash", ".ci/book"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def cell_timeout() -> float:
    """The per-cell timeout of the book build (``execute.timeout`` in ``_config.yml``)."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    return float(config["execute"]["timeout"])


def time_notebook(path: Path) -> tuple[float, list[tuple[float, int]]]:
    """Wall time of executing the notebook in its folder, and its three slowest cells."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=cell_timeout(), kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    cells = []
    t0 = time.perf_counter()
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            c0 = time.perf_counter()
            client.execute_cell(cell, index)
            cells.append((time.perf_counter() - c0, index))
    return time.perf_counter() - t0, sorted(cells, reverse=True)[:3]


class _Images(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.srcs = []

    def handle_starttag(self, tag, attrs):
        src = dict(attrs).get("src")
        if tag == "img" and src and not src.startswith("data:"):
            self.srcs.append(src)


def page_weight(name: str) -> tuple[int, int, int]:
    """(HTML bytes, image-file bytes, number of image files) of a built page."""
    page = SITE / f"{name}.html"
    text = page.read_text(encoding="utf-8")
    parser = _Images()
    parser.feed(text)
    files = {(page.parent / src.split("?")[0]).resolve() for src in parser.srcs}
    files = {f for f in files if f.is_file()}
    return page.stat().st_size, sum(f.stat().st_size for f in files), len(files)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="save the report to bench/BOOK.md")
    args = parser.parse_args()
    pages = toc_pages()

    build_s = time_build()
    print(f"clean build: {build_s:.1f} s")

    rows_nb = []
    for name in pages:
        path = ROOT / f"{name}.ipynb"
        if path.is_file():
            total, slow = time_notebook(path)
            rows_nb.append((name, total, slow))
            print(f"{name}: {total:.1f} s")

    rows_w = []
    for name in pages:
        html_b, img_b, n_img = page_weight(name)
        rows_w.append((name, html_b, img_b, n_img))
    static_b = sum(f.stat().st_size for f in (SITE / "_static").rglob("*") if f.is_file())
    site_b = sum(f.stat().st_size for f in SITE.rglob("*") if f.is_file())

    ok_build = build_s < BUILD_BUDGET_S
    ok_pages = all(h + i < PAGE_BUDGET_BYTES for _, h, i, _ in rows_w)
    mb = 2**20
    lines = [
        "# Book budgets",
        "",
        f"- date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        "- command: `python bench/book.py --write`",
        f"- machine: {platform.machine()}, nproc {os.cpu_count()}, python {platform.python_version()}",
        "- budgets: clean full build under 10 min; each page (HTML + its image files) under 5 MB",
        "",
        "## Clean full build",
        "",
        "`bash .ci/book`: removes `_build`, re-executes every notebook, "
        "`jupyter-book build . -W -n --keep-going`.",
        "",
        "| build | time [s] | within budget |",
        "|---|---|---|",
        f"| clean, all notebooks executed | {build_s:.1f} | {'PASS' if ok_build else 'FAIL'} |",
        "",
        "## Notebook execution",
        "",
        "Each notebook executed on its own with nbclient (kernel `python3`, working directory `book/`).",
        "",
        "| notebook | time [s] | slowest cells (cell index: seconds) |",
        "|---|---|---|",
    ]
    stalls = []
    for name, total, slow in rows_nb:
        cells = ", ".join(f"{i}: {s:.1f}" for s, i in slow)
        lines.append(f"| `{name}.ipynb` | {total:.1f} | {cells} |")
        stalls += [f"`{name}` cell {i}" for s, i in slow if s >= 0.95 * cell_timeout()]
    if stalls:
        lines += [
            "",
            f"Stalled cells (waited for the whole {cell_timeout():.0f} s timeout; nbclient missed the "
            f"execute reply of a widget cell, see `_config.yml`): {', '.join(stalls)}.",
        ]
    lines += [
        "",
        "## Page weight",
        "",
        "HTML includes figures and players embedded as data URIs; image files are those the page loads.",
        "",
        "| page | HTML [MB] | image files [MB] (count) | total [MB] | within 5 MB |",
        "|---|---|---|---|---|",
    ]
    for name, h, i, n in rows_w:
        total = h + i
        lines.append(
            f"| `{name}` | {h / mb:.2f} | {i / mb:.2f} ({n}) | {total / mb:.2f} | "
            f"{'PASS' if total < PAGE_BUDGET_BYTES else 'FAIL'} |"
        )
    lines += [
        "",
        f"Shared assets in `_static/` (theme, MathJax, widget manager; cached by the browser): "
        f"{static_b / mb:.1f} MB. Whole site: {site_b / mb:.1f} MB.",
        "",
    ]
    report = "\n".join(lines)
    print(report)
    if args.write:
        (ROOT / "bench" / "BOOK.md").write_text(report, encoding="utf-8")
    return 0 if ok_build and ok_pages else 1


if __name__ == "__main__":
    raise SystemExit(main())
