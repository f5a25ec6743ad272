"""`make book`: execute, write the generated pages, build the static site with jupyter-book.

Also a Sphinx extension (``_config.yml``: ``sphinx: extra_extensions``) that fixes what a chapter page
offers its reader: the jupytext ``.py`` source next to the ``.ipynb`` download, a Binder launch link
to a file that exists in the repository (book/posts/ is generated and git-ignored), a default
colour mode (without one the theme logs a console error on a first visit), and a small stylesheet that
keeps claims tables and figures within a phone's width.
"""

import shutil
import subprocess
import sys
from pathlib import Path

from offconvex.book.project import Project
from offconvex.book.report import prepare_pages, write_gallery, write_report
from offconvex.book.seeds import EXTRA_SEEDS, run_with_seeds

CHAPTER_PAGE = "book/posts/"


def build_site(project: Project) -> int:
    """``jupyter-book build`` in warnings-as-errors mode; returns its exit code."""
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    command = [str(jupyter_book), "build", str(project.root), "--warningiserror", "--keep-going",
               "--quiet"]
    return subprocess.run(command, cwd=project.root).returncode


def write_pages(project: Project, failed: dict) -> None:
    """Every generated page the table of contents names: chapter pages or stubs, report, gallery."""
    prepare_pages(project, failed)
    print(f"wrote {write_report(project, failed)}")
    print(f"wrote {write_gallery(project, failed)}")


def build_book(project: Project, slugs, profile, overrides, jobs, force, timeout, scheduler=None,
               extra_seeds: int = EXTRA_SEEDS) -> int:
    """Every chapter at its published seed and ``extra_seeds`` more (one pool), the pages, the site."""
    results, seed_failures = run_with_seeds(project, slugs, profile, overrides, jobs, force, timeout,
                                            scheduler=scheduler, count=extra_seeds)
    failed = {r.slug: r.error for r in results if not r.ok}
    write_pages(project, failed)
    code = build_site(project)
    index = project.build / "html" / "index.html"
    if code == 0:
        print(f"the book is at {index} (or run `make serve`)")
    else:
        print("error: jupyter-book build failed (warnings are errors); see the messages above", file=sys.stderr)
    if failed:
        print(f"error: {len(failed)} notebook(s) failed: {', '.join(failed)}", file=sys.stderr)
    for slug, error in seed_failures.items():
        print(f"error: {slug} at another seed: {error}", file=sys.stderr)
    return 1 if failed or seed_failures or code else 0


# --- Sphinx extension: a chapter page's download and launch buttons -------------------------------

def _chapter_source(app, pagename: str) -> Path | None:
    if not pagename.startswith(CHAPTER_PAGE):
        return None
    source = Path(app.srcdir) / "notebooks" / f"{pagename[len(CHAPTER_PAGE):]}.py"
    return source if source.is_file() else None


def _button_group(context: dict, label: str) -> dict | None:
    return next((b for b in context.get("header_buttons", []) if b.get("label") == label), None)


def _offer_python_source(app, pagename: str, context: dict, source: Path) -> None:
    """Publish notebooks/<slug>.py under _sources/ and add it to the page's download menu."""
    target = Path(app.outdir) / "_sources" / f"{pagename}.py"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    downloads = _button_group(context, "download-buttons")
    if downloads is None:
        return
    downloads["buttons"].insert(1, {
        "type": "link", "url": f"{context['pathto']('_sources', 1)}/{pagename}.py", "text": ".py",
        "tooltip": "Download the notebook source (jupytext percent format)", "icon": "fas fa-code",
        "label": "download-python-button",
    })


def _launch_the_committed_source(pagename: str, context: dict) -> None:
    """Binder opens notebooks/<slug>.py (jupytext opens it as a notebook); book/posts/ is not in git."""
    launch = _button_group(context, "launch-buttons")
    if launch is None:
        return
    slug = pagename[len(CHAPTER_PAGE):]
    for button in launch["buttons"]:
        if "urlpath=" in button.get("url", ""):
            button["url"] = button["url"].split("urlpath=")[0] + f"urlpath=lab/tree/notebooks/{slug}.py"


def _chapter_buttons(app, pagename, templatename, context, doctree) -> None:
    source = _chapter_source(app, pagename)
    if source is not None:
        _offer_python_source(app, pagename, context, source)
        _launch_the_committed_source(pagename, context)


def _default_colour_mode(app, config) -> None:
    # pydata-sphinx-theme reads this template variable; left empty, a first visit logs a console error.
    config.html_context.setdefault("default_mode", "auto")


# The book's own styles: claims tables with rules and status badges that scan, figures at their designed
# size with a full-size view, captions and badges legible in both colour modes (WCAG AA contrast),
# matplotlib's animation controls wrapping on a phone.
SITE_CSS = """\
table.offconvex-claims { width: 100%; border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
table.offconvex-claims caption { caption-side: top; text-align: left; font-weight: 600; padding: 0.3em 0;
  color: var(--pst-color-text-base); }
table.offconvex-claims th, table.offconvex-claims td { border: 1px solid var(--pst-color-border);
  padding: 0.35em 0.5em; vertical-align: top; text-align: left; }
table.offconvex-claims th { background: var(--pst-color-surface); }
table.offconvex-claims td:first-child { width: 8.5em; }
table.offconvex-claims td:nth-child(2) { min-width: 14em; }
table.offconvex-claims td:nth-child(n+3) { overflow-wrap: anywhere; font-size: 0.92em; }
@media (max-width: 600px) { table.offconvex-claims td:first-child { width: 6.5em; }
  table.offconvex-claims td:nth-child(2) { min-width: 8em; } }
.offconvex-badge { display: inline-block; border-radius: 0.8em; padding: 0.05em 0.55em; font-size: 0.85em;
  font-weight: 600; white-space: nowrap; }
.offconvex-pass { background: #d7f0dc; color: #124a1e; }
.offconvex-not-reproduced { background: #fdecc8; color: #5c3a00; }
.offconvex-fail { background: #f9d6d5; color: #6b1010; }
figure.offconvex-figure, figure.offconvex-animation, table.offconvex-claims { max-width: 100%;
  background: var(--pst-color-background); color: var(--pst-color-text-base); }
figure.offconvex-figure, figure.offconvex-animation { margin: 1em 0; padding: 0.3em; }
figure.offconvex-figure img { max-width: 100%; height: auto; background: white; display: block; }
figure.offconvex-figure figcaption, figure.offconvex-animation figcaption { color: var(--pst-color-text-base);
  font-size: 0.9em; margin-top: 0.4em; }
figure.offconvex-figure figcaption small { color: var(--pst-color-text-muted); }
button.offconvex-enlarge { border: 0; padding: 0; margin: 0; background: none; cursor: zoom-in;
  max-width: 100%; display: block; }
button.offconvex-enlarge:focus-visible { outline: 3px solid var(--pst-color-primary); outline-offset: 2px; }
figure.offconvex-enlarged { position: fixed; inset: 0; z-index: 2000; margin: 0; overflow: auto;
  background: rgba(0, 0, 0, 0.85); padding: 1em; }
figure.offconvex-enlarged button.offconvex-enlarge { cursor: zoom-out; max-width: none; }
figure.offconvex-enlarged img { max-width: none; width: auto; }
figure.offconvex-enlarged figcaption, figure.offconvex-enlarged figcaption small { color: #f0f0f0; }
figure.offconvex-animation img { max-width: 100%; height: auto; }
figure.offconvex-animation .anim-buttons { display: flex; flex-wrap: wrap; gap: 2px; }
figure.offconvex-animation input.anim-slider { width: 100%; max-width: 374px; }
figure.offconvex-animation .anim-buttons button { width: 10%; min-width: 28px; }
figure.offconvex-animation .anim-state { max-width: 100%; }
figure.offconvex-animation .animation { max-width: 100%; overflow-x: auto; }
div.cell_output .output.text_html { overflow-x: auto; }
/* Printed results are text, not code: they wrap within the column instead of scrolling sideways. */
div.cell_output pre { white-space: pre-wrap; overflow-wrap: anywhere; }
/* On a phone a claims table becomes a list of cards: status, claim, numbers one under the other. */
@media (max-width: 600px) {
  table.offconvex-claims, table.offconvex-claims caption, table.offconvex-claims tbody,
  table.offconvex-claims tr, table.offconvex-claims td { display: block; width: auto; min-width: 0; }
  table.offconvex-claims thead { display: none; }
  table.offconvex-claims tr { border: 1px solid var(--pst-color-border); margin-bottom: 0.6em; }
  table.offconvex-claims td { border: none; }
}
/* The sidebar has the search field on wide screens: the theme's header bar would show a second one. */
@media (min-width: 960px) { #pst-header { display: none; } :root { --pst-header-height: 0px; } }
"""

# A click (or Enter/Space on the focused button) shows a figure at its full resolution over the page;
# another click or Escape closes it.
SITE_JS = """\
document.addEventListener('click', (event) => {
  const button = event.target.closest('button.offconvex-enlarge');
  if (!button) return;
  const figure = button.closest('figure');
  const open = figure.classList.toggle('offconvex-enlarged');
  button.setAttribute('aria-expanded', String(open));
});
document.addEventListener('keydown', (event) => {
  if (event.key !== 'Escape') return;
  document.querySelectorAll('figure.offconvex-enlarged').forEach((figure) => {
    figure.classList.remove('offconvex-enlarged');
    figure.querySelector('button.offconvex-enlarge')?.setAttribute('aria-expanded', 'false');
  });
});
"""


def _write_site_assets(app, exception) -> None:
    if exception is None and app.builder.format == "html":
        static = Path(app.outdir) / "_static"
        (static / "offconvex.css").write_text(SITE_CSS)
        (static / "offconvex.js").write_text(SITE_JS)
        for page in Path(app.outdir).rglob("*.html"):
            _drop_citation_list_role(page)


def _drop_citation_list_role(page: Path) -> None:
    # docutils marks the bibliography role="list" while its entries hold back-reference links, which
    # assistive technology then cannot read as a list (axe: aria-required-children, critical). Without
    # the role it is read as what it is: a sequence of bibliography entries.
    text = page.read_text()
    if 'role="list"' in text and "citation-list" in text:
        page.write_text(text.replace('<div role="list" class="citation-list">', '<div class="citation-list">'))


def setup(app):
    app.connect("config-inited", _default_colour_mode)
    app.add_css_file("offconvex.css")
    app.add_js_file("offconvex.js", loading_method="defer")
    app.connect("build-finished", _write_site_assets)
    # After sphinx-book-theme (priority 501) has built the header buttons.
    app.connect("html-page-context", _chapter_buttons, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
