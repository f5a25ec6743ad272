"""The built site as a reader sees it: every page of the table of contents opened in headless Chromium.

Each page loads with no console error, no page error and no failed request; nothing is requested from a
host other than the local server (the book works offline); every image is decoded and has alt text;
math is typeset by the MathJax the site serves itself; each chapter has its claims table, its .ipynb and
.py downloads and a launch button. Screenshots of every chapter at desktop and phone widths land in
_build/screenshots/ for people to look at (they are not compared).

Chromium is Debian's (`apt-get install chromium`) or any Chrome binary named by OFFCONVEX_CHROMIUM;
Playwright drives it (its own browser download needs a network). Without one, the tests skip.
"""

import functools
import http.server
import json
import os
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
import yaml
from offconvex.book.project import Project
from offconvex.book.site import build_book

PROJECT = Project.default()
SCREENSHOTS = PROJECT.build / "screenshots"
WIDTHS = {"desktop": (1280, 800), "phone": (390, 844)}
LOCAL_HOST = "127.0.0.1"
HOW_TO_GET_CHROMIUM = "`apt-get install chromium`, or set OFFCONVEX_CHROMIUM to a Chromium/Chrome binary"


def find_chromium() -> tuple[str | None, str]:
    """The browser binary to drive, or None and the one-line reason the tests skip."""
    named = os.environ.get("OFFCONVEX_CHROMIUM")
    if named:
        if os.access(named, os.X_OK) and Path(named).is_file():
            return named, ""
        return None, f"OFFCONVEX_CHROMIUM={named} is not an executable file; {HOW_TO_GET_CHROMIUM}"
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if path := shutil.which(name):
            return path, ""
    return None, f"no Chromium installed: {HOW_TO_GET_CHROMIUM}"


def toc_pages() -> list[str]:
    """Every document of _toc.yml (root, then each part's chapters and their sections), in order."""
    toc = yaml.safe_load((PROJECT.root / "_toc.yml").read_text())

    def files(entries):
        for entry in entries:
            yield entry["file"]
            yield from files(entry.get("sections", []))

    return [toc["root"]] + [f for part in toc.get("parts", []) for f in files(part["chapters"])]


CHROMIUM, WHY_NOT = find_chromium()
PAGES = toc_pages()
CHAPTER_PAGES = [f"book/posts/{slug}" for slug in PROJECT.written_slugs()]
pytestmark = [pytest.mark.notebooks, pytest.mark.browser]
if CHROMIUM is None:
    pytest.skip(WHY_NOT, allow_module_level=True)  # one line in the summary, not one per page
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is missing: run `make install`")


@pytest.fixture(scope="session")
def site_html(site_builds) -> Path:
    """The built site: the one test_notebooks built from the regressed book run, else built now."""
    if "book" not in site_builds:
        site_builds["book"] = build_book(PROJECT, None, "book", {}, jobs=2, force=False, timeout=None)
    if site_builds["book"] != 0:
        pytest.fail("the site did not build (see test_site_builds_with_warnings_as_errors or the log above)")
    return PROJECT.build / "html"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # one line per request would drown the test output
        pass


@pytest.fixture(scope="session")
def base_url(site_html):
    """The site served on a free port of 127.0.0.1 from a thread, stopped after the tests."""
    handler = functools.partial(_QuietHandler, directory=str(site_html))
    server = http.server.ThreadingHTTPServer((LOCAL_HOST, 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://{LOCAL_HOST}:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(scope="session")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


class Visit:
    """One page opened in a fresh context, with every problem the browser reported while loading it."""

    def __init__(self, browser, url: str, width: str, lands_on: str | None = None):
        viewport = WIDTHS[width]
        self.context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        self.problems: list[str] = []
        self.external: list[str] = []
        self.context.route("**/*", self._only_local)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url} ({r.failure})"))
        self.page.on("response", lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"))
        self.page.goto(url, wait_until="load")
        if lands_on:  # a redirecting page: wait for the page it sends the reader to
            self.page.wait_for_url(f"**/{lands_on}.html", wait_until="load")
        self._wait_for_math()
        self.page.wait_for_load_state("networkidle")

    def _only_local(self, route):
        # Abort at once instead of waiting for a network this machine does not have; the test fails on it.
        if urlparse(route.request.url).hostname == LOCAL_HOST:
            route.continue_()
        else:
            self.external.append(route.request.url)
            route.abort()

    def _wait_for_math(self):
        self.page.evaluate("() => window.MathJax?.startup?.promise ?? null")

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser, base_url):
    opened = []

    def open_page(page: str, width: str = "desktop", lands_on: str | None = None) -> Visit:
        opened.append(Visit(browser, f"{base_url}{page}.html", width, lands_on))
        return opened[-1]

    yield open_page
    for v in opened:
        v.close()


IMAGES = """() => [...document.querySelectorAll('img')].map(img => ({
    src: img.currentSrc.slice(0, 80), complete: img.complete, width: img.naturalWidth,
    alt: (img.getAttribute('alt') || '').trim(), figure: !!img.closest('article')}))"""

# Text a reader sees, without code (notebook sources legitimately contain $ and \\().
VISIBLE_TEXT = """() => {
  const skip = 'pre, code, script, style, textarea, mjx-container, .highlight';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const parts = [];
  while (walker.nextNode()) {
    const parent = walker.currentNode.parentElement;
    if (parent && !parent.closest(skip) && parent.checkVisibility()) parts.push(walker.currentNode.data);
  }
  return parts.join(' ');
}"""

MATH = """() => ({
  math: document.querySelectorAll('.math').length,
  typeset: [...document.querySelectorAll('.math')].filter(m => m.querySelector('mjx-container')).length,
  script: [...document.scripts].map(s => s.src).filter(s => s.includes('mathjax'))})"""


RAW_INLINE_MATH = re.compile(r"\$[^\s$](?:[^$]{0,200}[^\s$])?\$")  # $x$, $a + b$: TeX left untypeset


def assert_loads_cleanly(v: Visit, page: str):
    assert not v.external, f"{page} requests other hosts: {v.external}"
    assert not v.problems, f"{page}:\n  " + "\n  ".join(v.problems)


def assert_no_build_paths(v: Visit, page: str):
    text = v.page.evaluate("() => document.body.innerText")
    for leak in ("PosixPath(", "/_build/cache/", ".staging-"):
        assert leak not in text, f"{page}: a build path is printed on the page ({leak!r})"


def assert_images_decoded(v: Visit, page: str):
    images = v.page.evaluate(IMAGES)
    broken = [i["src"] for i in images if not (i["complete"] and i["width"] > 0)]
    assert not broken, f"{page}: images not decoded: {broken}"
    missing_alt = [i["src"] for i in images if i["figure"] and not i["alt"]]
    assert not missing_alt, f"{page}: figures without alt text: {missing_alt}"


def assert_math_typeset(v: Visit, page: str):
    math = v.page.evaluate(MATH)
    assert math["typeset"] == math["math"], f"{page}: {math['math'] - math['typeset']} formulas not typeset"
    if math["math"]:
        assert math["script"], f"{page} has math but loads no MathJax"
    text = v.page.evaluate(VISIBLE_TEXT)
    for raw in ("$$", "\\(", "\\[", "\\begin{"):
        assert raw not in text, f"{page}: raw TeX {raw!r} in the visible text"
    dollars = RAW_INLINE_MATH.findall(text)
    assert not dollars, f"{page}: raw $...$ in the visible text: {dollars[:5]}"


def _fetch(v: Visit, href: str) -> str:
    response = v.page.request.get(urljoin(v.page.url, href))
    assert response.ok, f"{href}: HTTP {response.status}"
    return response.text()


def assert_chapter_offers_claims_downloads_and_launch(v: Visit, page: str):
    slug = page.rsplit("/", 1)[1]
    assert v.page.locator("table.offconvex-claims tbody tr").count() > 0, f"{page}: no claims table"
    anchors = v.page.locator("figure.offconvex-figure[id]")
    ids = sorted(anchors.nth(i).get_attribute("id") for i in range(anchors.count()))
    assert ids == sorted(recorded_figures(slug)), f"{page}: figure anchors differ from the run record"
    downloads = v.page.locator(".dropdown-download-buttons a")
    hrefs = [downloads.nth(i).get_attribute("href") for i in range(downloads.count())]
    ipynb = next(h for h in hrefs if h.endswith(".ipynb"))
    python = next(h for h in hrefs if h.endswith(".py"))
    assert '"nbformat"' in _fetch(v, ipynb)
    assert _fetch(v, python).startswith("# ---\n# jupyter:"), f"{page}: the .py is not the jupytext source"
    launch = v.page.locator(".dropdown-launch-buttons a")
    assert launch.count() > 0, f"{page}: no launch button"
    assert (launch.first.get_attribute("href") or "").endswith(f"notebooks/{slug}.py")


OVERFLOWING = """() => [...document.querySelectorAll('table.offconvex-claims, figure.offconvex-figure')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 || e.scrollWidth > e.clientWidth + 1)
  .map(e => e.className)"""


def assert_fits_the_screen(v: Visit, page: str):
    overflowing = v.page.evaluate(OVERFLOWING)
    assert not overflowing, f"{page}: wider than a {WIDTHS['phone'][0]} px screen: {overflowing}"


def screenshot(v: Visit, page: str, width: str):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    v.page.screenshot(path=SCREENSHOTS / f"{page.rsplit('/', 1)[1]}-{width}.png", full_page=True)


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_offline_with_figures_and_math(visit, page):
    v = visit(page)
    assert_loads_cleanly(v, page)
    assert_no_build_paths(v, page)
    assert_images_decoded(v, page)
    assert_math_typeset(v, page)
    if page in CHAPTER_PAGES:
        assert_chapter_offers_claims_downloads_and_launch(v, page)
        screenshot(v, page, "desktop")
        phone = visit(page, "phone")
        assert_loads_cleanly(phone, page)
        assert_fits_the_screen(phone, page)
        screenshot(phone, page, "phone")


def test_site_root_opens_the_book(visit):
    v = visit("index", lands_on=PAGES[0])  # what `make serve` shows first
    assert_loads_cleanly(v, "index")
    assert v.page.url.endswith(f"/{PAGES[0]}.html")


def recorded_figures(slug: str) -> list[str]:
    return json.loads((PROJECT.runs / f"{slug}.json").read_text())["figures"]


def test_gallery_links_every_recorded_figure_to_its_anchor(visit):
    v = visit("book/gallery")
    assert_loads_cleanly(v, "book/gallery")
    links = v.page.locator(".sd-card a.sd-stretched-link")
    targets = sorted(links.nth(i).get_attribute("href") for i in range(links.count()))
    recorded = sorted(f"posts/{page.rsplit('/', 1)[1]}.html#{figure}" for page in CHAPTER_PAGES
                      for figure in recorded_figures(page.rsplit("/", 1)[1]))
    assert targets == recorded
