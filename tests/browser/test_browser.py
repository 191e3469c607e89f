"""The built book read as a reader meets it: every page of the table of contents, opened in
headless Chromium from a local server (see conftest.py).

Run after ``bash .ci/book``: ``python -m pytest tests/browser`` (stage 4 of ``.ci/run``).
Screenshots of each page's first screen are written to ``_build/screenshots/``.
"""

from __future__ import annotations

import html.parser
import re
import urllib.parse
from functools import cache
from pathlib import Path

import pytest
from conftest import SITE, TOC, screenshot_path, toc_pages

import reluflow as rf

PAGES = toc_pages()
#: Pages built from a notebook (.ipynb): these carry launch buttons.
CHAPTERS = [p for p in PAGES if (TOC.parent / f"{p}.ipynb").is_file()]
#: Largest page: its HTML plus the images it loads from files (embedded images are in the HTML).
PAGE_BUDGET_BYTES = 5 * 2**20
WIDGET_VIEW = 'script[type="application/vnd.jupyter.widget-view+json"]'


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_without_errors(visit, name):
    v = visit(name)
    problems = (
        [f"console error: {e}" for e in v.console_errors]
        + [f"failed request for a local file: {f}" for f in v.failed_local]
        + [f"request to another host (the book must work offline; vendor it): {u}" for u in v.external]
    )
    assert not problems, f"{v.url}:\n  " + "\n  ".join(problems)


# Raw TeX left in the visible text: $$, \( \) \[ \], or a TeX command such as \frac.
RAW_TEX = r"\$\$|\\\(|\\\)|\\\[|\\\]|\\(?:frac|sum|math[a-z]+|relu|ip|norm|langle|rangle|theta|rho|sigma)\b"


@pytest.mark.parametrize("name", PAGES)
def test_math_is_rendered(visit, name):
    v = visit(name)
    report = v.page.evaluate(
        """(pattern) => {
            const raw = new RegExp(pattern);
            const skip = 'script, style, pre, code, textarea, mjx-container, .highlight';
            const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
            const leftovers = [];
            for (let n = walker.nextNode(); n; n = walker.nextNode()) {
                if (n.parentElement.closest(skip)) continue;
                const m = n.textContent.match(raw);
                if (m) leftovers.push(n.textContent.trim().slice(0, 120));
            }
            const math = Array.from(document.querySelectorAll('.math'));
            return {
                math: math.length,
                rendered: document.querySelectorAll('mjx-container').length,
                unrendered: math.filter(e => !e.querySelector('mjx-container'))
                                .map(e => e.textContent.trim().slice(0, 120)),
                errors: Array.from(document.querySelectorAll('mjx-merror, [data-mjx-error]'))
                             .map(e => (e.getAttribute('data-mjx-error') || e.textContent).slice(0, 120)),
                leftovers: leftovers,
            };
        }""",
        RAW_TEX,
    )
    problems = (
        [f"math node not rendered by MathJax: {t!r}" for t in report["unrendered"]]
        + [f"MathJax error: {t!r}" for t in report["errors"]]
        + [f"raw TeX in the text: {t!r}" for t in report["leftovers"]]
    )
    if report["math"] and not report["rendered"]:
        problems.append(f"{report['math']} math nodes and no rendered formula (is MathJax loading?)")
    assert not problems, f"{v.url}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("name", PAGES)
def test_images_have_loaded(visit, name):
    v = visit(name)
    broken = v.page.evaluate(
        """() => Array.from(document.images)
                 .filter(img => !(img.complete && img.naturalWidth > 0))
                 .map(img => (img.getAttribute('src') || '').slice(0, 120))"""
    )
    assert not broken, f"{v.url}: images that did not load:\n  " + "\n  ".join(broken)


@cache
def _ids(path: Path) -> frozenset[str]:
    """Element ids (and legacy anchor names) of a built HTML file."""

    class Collect(html.parser.HTMLParser):
        def __init__(self):
            super().__init__()
            self.ids = set()

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            self.ids.update(a for a in (attrs.get("id"), attrs.get("name") if tag == "a" else None) if a)

    parser = Collect()
    parser.feed(path.read_text(encoding="utf-8"))
    return frozenset(parser.ids)


@pytest.mark.parametrize("name", PAGES)
def test_internal_links_and_cross_references_resolve(visit, base_url, name):
    v = visit(name)
    hrefs = v.page.evaluate("() => Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
    broken = set()
    for href in hrefs:
        if not href.startswith(base_url):
            continue  # Binder, Colab, GitHub, DOIs: not part of the site
        parts = urllib.parse.urlsplit(href)
        rel = urllib.parse.unquote(parts.path)[len(urllib.parse.urlsplit(base_url).path) :]
        target = SITE / rel
        if rel == "" or rel.endswith("/"):
            target = target / "index.html"
        if not target.is_file():
            broken.add(f"{href} (no file {target.relative_to(SITE)})")
        elif parts.fragment and target.suffix == ".html":
            if urllib.parse.unquote(parts.fragment) not in _ids(target):
                broken.add(f"{href} (no #{parts.fragment} in {target.relative_to(SITE)})")
    assert not broken, f"{v.url}: links that do not resolve:\n  " + "\n  ".join(sorted(broken))


@pytest.mark.parametrize("name", PAGES)
def test_widget_cells_show_their_static_figure(visit, name):
    """Each widget renders from its embedded state with the figure drawn at its default
    values, and the cell after it holds the plain static figure."""
    v = visit(name)
    cells = v.page.evaluate(
        """(sel) => Array.from(document.querySelectorAll(sel)).map(s => {
            const cell = s.closest('.cell');
            const loaded = (root) => root ? Array.from(root.querySelectorAll('img'))
                .filter(img => img.complete && img.naturalWidth > 0).length : 0;
            let next = cell && cell.nextElementSibling;
            while (next && !next.matches('.cell')) next = next.nextElementSibling;
            return {
                id: cell ? (cell.closest('section[id]') || {}).id : null,
                rendered: !!s.parentElement.querySelector('.widget-subarea .jupyter-widgets'),
                figure_in_widget: loaded(s.parentElement.querySelector('.widget-subarea')),
                figure_after: loaded(next && next.querySelector('.cell_output')),
            };
        })""",
        WIDGET_VIEW,
    )
    problems = []
    for c in cells:
        where = f"widget cell in section #{c['id']}"
        if not c["rendered"]:
            problems.append(f"{where}: the widget manager did not render it")
        if not c["figure_in_widget"]:
            problems.append(
                f"{where}: no figure in the rendered widget (drawn with Agg, or state not saved?)"
            )
        if not c["figure_after"]:
            problems.append(f"{where}: the next cell shows no static figure")
    assert not problems, f"{v.url}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("name", PAGES)
def test_kernel_free_sliders_change_the_picture(visit, name):
    """Every precomputed-frame player (``div.animation``, from ``rf.plotting.scrub``, i.e.
    matplotlib's ``to_jshtml``) shows a different frame when its slider moves."""
    v = visit(name)
    players = v.page.locator("div.animation")
    problems = []
    for k in range(players.count()):
        player = players.nth(k)
        img, slider = player.locator("img").first, player.locator("input.anim-slider").first
        last = int(slider.get_attribute("max") or 0)
        if last < 1:
            problems.append(f"player {k}: fewer than two frames")
            continue
        seen = [img.get_attribute("src")]
        for value in (last, last // 2):
            slider.evaluate("(el, v) => { el.value = v; el.dispatchEvent(new Event('input')); }", value)
            seen.append(img.get_attribute("src"))
        if len(set(seen)) < 3:
            problems.append(
                f"player {k}: moving the slider to {last} and {last // 2} did not change the image"
            )
        if not img.evaluate("img => img.complete && img.naturalWidth > 0"):
            problems.append(f"player {k}: the frame image does not decode")
    assert not problems, f"{v.url}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("name", PAGES)
def test_widget_chapters_have_a_kernel_free_slider(visit, name):
    """A chapter with a widget also gives readers without a kernel a slider to scrub."""
    v = visit(name)
    if not v.page.locator(WIDGET_VIEW).count():
        return
    if not hasattr(rf.plotting, "scrub"):
        pytest.xfail("rf.plotting.scrub (kernel-free slider builder) is not in the library yet")
    assert v.page.locator("div.animation").count(), (
        f"{v.url} has a widget but no kernel-free slider: add a cell with an rf.plotting.scrub player"
    )


@pytest.mark.parametrize("name", PAGES)
def test_page_weight_is_within_budget(visit, name):
    v = visit(name)
    srcs = v.page.evaluate("() => Array.from(document.images).map(img => img.src)")
    files = {SITE / (name + ".html")}
    for src in srcs:
        path = urllib.parse.unquote(urllib.parse.urlsplit(src).path).lstrip("/")
        if src.startswith("http") and (SITE / path).is_file():
            files.add(SITE / path)
    weight = sum(f.stat().st_size for f in files)
    assert weight < PAGE_BUDGET_BYTES, f"{v.url}: {weight / 2**20:.2f} MB (HTML + images) > 5 MB"


@pytest.mark.parametrize("name", PAGES)
def test_first_screen_is_saved(visit, name):
    visit(name)
    shot = screenshot_path(name)
    assert shot.is_file() and shot.stat().st_size > 10_000, f"no screenshot at {shot}"


def test_table_of_contents_lists_every_page(visit):
    """The sidebar of the landing page links every page of _toc.yml."""
    v = visit(PAGES[0])
    links = v.page.evaluate(
        "() => Array.from(document.querySelectorAll('nav.bd-links a[href]')).map(a => a.href)"
    )
    linked = {re.sub(r"\.html(#.*)?$", "", urllib.parse.urlsplit(h).path.lstrip("/")) for h in links}
    missing = [p for p in PAGES[1:] if p not in linked]
    assert not missing, f"pages of _toc.yml missing from the sidebar: {missing}"


@pytest.mark.parametrize("name", CHAPTERS)
def test_chapters_have_launch_buttons(visit, name):
    """Binder (built from the pinned requirements.txt) and Colab open this very notebook."""
    v = visit(name)
    hrefs = v.page.evaluate("() => Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
    binder = [h for h in hrefs if h.startswith("https://mybinder.org/v2/gh/") and f"{name}.ipynb" in h]
    colab = [
        h
        for h in hrefs
        if h.startswith("https://colab.research.google.com/github/") and h.endswith(f"{name}.ipynb")
    ]
    assert binder and colab, f"{v.url}: launch buttons missing (Binder: {binder}, Colab: {colab})"
