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
from offconvex.book.chapters import CHAPTERS
from offconvex.book.project import Project
from offconvex.book.site import build_book
from offconvex.book.style import MIN_TEXT_CSS_PX

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

    def __init__(self, browser, url: str, width: str, lands_on: str | None = None, scheme: str = "light"):
        viewport = WIDTHS[width]
        # The site follows the reader's colour scheme (default_mode "auto"): this picks light or dark.
        self.context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]},
                                           color_scheme=scheme)
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

    def open_page(page: str, width: str = "desktop", lands_on: str | None = None, scheme: str = "light") -> Visit:
        opened.append(Visit(browser, f"{base_url}{page}.html", width, lands_on, scheme))
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


# TeX that MathJax did not typeset (it only typesets math markup): the reader would see it raw.
TEX_LIKE = ("_{", "^{", "\\frac", "\\sqrt", "\\mathbb", "\\mathrm", "\\left", "\\sum", "\\int")


def assert_no_tex_outside_math(v: Visit, page: str):
    text = v.page.evaluate(VISIBLE_TEXT)
    found = [token for token in TEX_LIKE if token in text]
    assert not found, f"{page}: TeX-like markup outside rendered math: " + ", ".join(
        repr(text[max(text.index(t) - 30, 0):text.index(t) + 30]) for t in found)


FIGURE_TEXT = """() => [...document.querySelectorAll('figure.offconvex-figure')].map(f => {
  const img = f.querySelector('img');
  return {id: f.id, pt: parseFloat(f.dataset.smallestTextPt), dpi: parseFloat(f.dataset.dpi),
          shown: img.getBoundingClientRect().width, natural: img.naturalWidth};
})"""


def assert_figure_text_legible(v: Visit, page: str):
    """Every figure's smallest text, as displayed: points × dpi / 72 × (displayed / natural width)."""
    small = []
    for figure in v.page.evaluate(FIGURE_TEXT):
        shown_px = figure["pt"] * figure["dpi"] / 72 * figure["shown"] / figure["natural"]
        if not shown_px >= MIN_TEXT_CSS_PX:
            small.append(f"{figure['id']}: {shown_px:.1f} px")
    assert not small, f"{page}: figure text below {MIN_TEXT_CSS_PX} CSS px at 1280 px: {small}"


SIDEWAYS = """() => [...document.querySelectorAll('div.cell_input pre, div.highlight pre, article table')]
  .filter(e => e.checkVisibility() && e.scrollWidth > e.clientWidth + 1
               && !e.closest('details:not([open])'))
  .map(e => (e.tagName + ': ' + e.textContent.trim().split('\\n')[0]).slice(0, 90))"""


def assert_no_sideways_scrolling(v: Visit, page: str):
    wide = v.page.evaluate(SIDEWAYS)
    assert not wide, f"{page}: {len(wide)} code cells or tables scroll sideways at 1280 px: {wide[:5]}"


BARE_OUTPUTS = """() => [...document.querySelectorAll('div.cell_output .output')]
  .map(o => o.textContent.trim()).filter(t => t === 'True' || t === 'False' || t === 'None')"""


def assert_no_stray_outputs(v: Visit, page: str):
    stray = v.page.evaluate(BARE_OUTPUTS)
    assert not stray, f"{page}: {len(stray)} bare outputs on the page: {stray}"


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


OVERFLOWING = """() => [...document.querySelectorAll('table.offconvex-claims, figure.offconvex-figure, figure.offconvex-animation, .anim-buttons')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 || e.scrollWidth > e.clientWidth + 1)
  .map(e => e.className)"""


def assert_fits_the_screen(v: Visit, page: str):
    overflowing = v.page.evaluate(OVERFLOWING)
    assert not overflowing, f"{page}: wider than a {WIDTHS['phone'][0]} px screen: {overflowing}"
    # A long formula may scroll inside its own box; it must never widen the page itself.
    page_width = v.page.evaluate("() => document.documentElement.scrollWidth")
    assert page_width <= WIDTHS["phone"][0], f"{page}: the page is {page_width} px wide on a phone"


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
    assert_no_tex_outside_math(v, page)
    assert_no_sideways_scrolling(v, page)
    assert_no_stray_outputs(v, page)
    if page in CHAPTER_PAGES:
        assert_chapter_offers_claims_downloads_and_launch(v, page)
        assert_figure_text_legible(v, page)
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


def _title_of(slug: str) -> str:
    return next(c.title for c in CHAPTERS if c.slug == slug)


def _plain(text: str | None) -> str | None:
    """The title as written: Sphinx typesets ' as ’ (smart quotes), which is the same title."""
    return None if text is None else text.replace("\u2019", "'").rstrip("#").strip()


def test_one_title_per_chapter_on_page_sidebar_gallery_and_report(visit):
    """The registry's title is the page's H1, the sidebar's link, the gallery's and the report's heading."""
    v = visit("book/gallery")
    sidebar = v.page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('nav.bd-links a')]
        .map(a => [a.getAttribute('href').split('/').pop().replace('.html', ''), a.textContent.trim()]))""")
    gallery = v.page.evaluate("() => [...document.querySelectorAll('article h2')].map(h => h.textContent.trim())")
    report = visit("book/reproducibility").page.evaluate(
        "() => [...document.querySelectorAll('article table a')].map(a => a.textContent.trim())")
    for page in CHAPTER_PAGES:
        slug = page.rsplit("/", 1)[1]
        title = _title_of(slug)
        heading = _plain(visit(page).page.locator("article h1").first.text_content())
        assert heading == title, f"{slug}: page H1 {heading!r} != {title!r}"
        assert _plain(sidebar.get(slug)) == title, f"{slug}: sidebar {sidebar.get(slug)!r} != {title!r}"
        assert any(_plain(h) == title for h in gallery), f"{slug}: gallery has no heading {title!r}"
        assert title in [_plain(link) for link in report], f"{slug}: report has no link {title!r}"


def test_intro_links_every_chapter(visit):
    v = visit(PAGES[0])
    hrefs = v.page.evaluate("() => [...document.querySelectorAll('article a')].map(a => a.getAttribute('href'))")
    for page in CHAPTER_PAGES:
        slug = page.rsplit("/", 1)[1]
        assert any(h and h.split("#")[0].endswith(f"posts/{slug}.html") for h in hrefs), f"intro: no link to {slug}"


def test_a_figure_opens_at_full_size_and_closes(visit):
    page = CHAPTER_PAGES[0]
    v = visit(page)
    figure = v.page.locator("figure.offconvex-figure").first
    button = figure.locator("button.offconvex-enlarge")
    button.click()
    assert "offconvex-enlarged" in figure.get_attribute("class")
    shown, natural = v.page.evaluate("""() => { const i = document.querySelector('figure.offconvex-enlarged img');
        return [i.getBoundingClientRect().width, i.naturalWidth]; }""")
    assert abs(shown - natural) <= 1, f"{page}: the enlarged figure is {shown} px, its image {natural} px"
    v.page.keyboard.press("Escape")
    assert "offconvex-enlarged" not in figure.get_attribute("class")
    button.focus()
    v.page.keyboard.press("Enter")  # a button: keyboard readers can open it too
    assert "offconvex-enlarged" in figure.get_attribute("class")


def test_favicon_is_served(visit):
    v = visit(PAGES[0])
    href = v.page.evaluate("() => document.querySelector('link[rel~=\"icon\"]')?.getAttribute('href')")
    assert href, "no favicon link"
    assert _fetch(v, href).lstrip().startswith("<svg")


SERIOUS = ("serious", "critical")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("page", PAGES)
def test_accessibility_audit_finds_nothing_serious(visit, page, scheme):
    """axe-core (WCAG 2 A/AA rules, colour contrast included) on every page, in both colour modes."""
    axe = pytest.importorskip("axe_playwright_python.sync_playwright", reason="run `make install`").Axe()
    v = visit(page, scheme=scheme)
    mode = v.page.evaluate("() => document.documentElement.dataset.theme")
    assert mode == scheme, f"{page}: asked for the {scheme} theme, the page shows {mode!r}"
    results = axe.run(v.page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa"]},
                                       "resultTypes": ["violations"]}).response
    serious = [f"{r['id']} ({r['impact']}, {len(r['nodes'])}×): {r['nodes'][0]['target']} "
               f"{r['nodes'][0].get('failureSummary', '')[:160]}"
               for r in results["violations"] if r["impact"] in SERIOUS]
    assert not serious, f"{page} ({scheme}):\n  " + "\n  ".join(serious)
