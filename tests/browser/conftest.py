"""Fixtures for the browser test of the built book (stage 4 of ``.ci/run``).

The built HTML (``_build/html``, from ``bash .ci/book``) is served by ``http.server`` on a
free localhost port, and every page named in ``_toc.yml`` is opened once in headless
Chromium (Debian's ``chromium`` package, driven by Playwright's Python API through
``executable_path``; Playwright downloads no browser). ``BOOK_HTML`` and ``BOOK_TOC`` point
the test at another build (default: ``_build/html`` and ``_toc.yml`` of this repository).
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

import booktoc
import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(os.environ.get("BOOK_HTML", ROOT / "_build" / "html")).resolve()
TOC = Path(os.environ.get("BOOK_TOC", ROOT / "_toc.yml")).resolve()
SCREENSHOTS = SITE.parent / "screenshots"
CHROMIUM_FLAGS = [
    "--no-sandbox",  # CI runs as root
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
INSTALL_HINT = (
    "Install Debian's Chromium and Playwright's Python package: `bash .ci/browser-setup` "
    "(as root: apt-get update && apt-get install -y chromium; the pinned playwright comes from "
    "requirements.txt via `source .ci/setup`)."
)
#: Milliseconds to wait for MathJax and the widget manager after the load event.
RENDER_TIMEOUT_MS = 30_000


def toc_pages(toc: Path = TOC) -> list[str]:
    """Document names in ``_toc.yml``, in reading order (see booktoc.py)."""
    return booktoc.toc_pages(toc)


def chromium_path() -> str:
    """The Chromium executable, or a test failure that says how to install it."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail(f"Chromium is not installed (no `chromium` on PATH). {INSTALL_HINT}", pytrace=False)


def screenshot_path(name: str) -> Path:
    return SCREENSHOTS / (name.replace("/", "__") + ".png")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the signature of the base class
        pass


@pytest.fixture(scope="session")
def site() -> Path:
    if not (SITE / "index.html").is_file():
        pytest.fail(f"no built book at {SITE}: run `bash .ci/book` first.", pytrace=False)
    return SITE


@pytest.fixture(scope="session")
def base_url(site):
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=site)
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(f"Playwright's Python package is not installed. {INSTALL_HINT}", pytrace=False)
    with sync_playwright() as pw:
        try:
            instance = pw.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        except Exception as exc:  # a broken install: say so, with the fix
            pytest.fail(f"could not start Chromium at {executable}: {exc}\n{INSTALL_HINT}", pytrace=False)
        yield instance
        instance.close()


@dataclass
class Visit:
    """One page, loaded and rendered, with what the browser reported while loading it."""

    name: str
    url: str
    page: object
    console_errors: list[str] = field(default_factory=list)
    failed_local: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def visit(browser, base_url):
    """``visit(docname)`` opens the page once per session and waits until it is rendered."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    cache: dict[str, Visit] = {}

    def _visit(name: str) -> Visit:
        if name in cache:
            return cache[name]
        page = context.new_page()
        v = Visit(name, base_url + name + ".html", page)
        page.on("console", lambda m: v.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: v.console_errors.append(f"uncaught: {e}"))
        page.on("requestfailed", lambda r: _record_failure(v, base_url, r.url, r.failure))
        page.on(
            "response", lambda r: _record_failure(v, base_url, r.url, r.status) if r.status >= 400 else None
        )
        page.on(
            "request",
            lambda r: v.external.append(r.url) if not r.url.startswith((base_url, "data:")) else None,
        )
        response = page.goto(v.url, wait_until="load")
        assert response is not None and response.ok, f"{v.url}: HTTP {response and response.status}"
        _wait_until_rendered(page)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot_path(name)))  # the first screen, as a reader meets it
        cache[name] = v
        return v

    yield _visit
    context.close()


def _record_failure(v: Visit, base_url: str, url: str, why) -> None:
    if url.startswith(base_url):
        v.failed_local.append(f"{url[len(base_url) :]} ({why})")


def _wait_until_rendered(page) -> None:
    """MathJax has typeset the page, the widget manager has rendered every embedded widget
    view, and all images have finished loading (or failed)."""
    page.evaluate(
        """async () => {
            if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
                await MathJax.startup.promise;
            }
        }"""
    )
    page.wait_for_function(
        """() => Array.from(document.querySelectorAll(
                'script[type="application/vnd.jupyter.widget-view+json"]'))
              .every(s => s.parentElement.querySelector('.widget-subarea .jupyter-widgets'))""",
        timeout=RENDER_TIMEOUT_MS,
    )
    page.wait_for_function(
        "() => Array.from(document.images).every(img => img.complete)", timeout=RENDER_TIMEOUT_MS
    )
