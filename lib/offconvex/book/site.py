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
from offconvex.book.runner import run

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
    print(f"wrote {write_report(project)}")
    print(f"wrote {write_gallery(project, failed)}")


def build_book(project: Project, slugs, profile, overrides, jobs, force, timeout, scheduler=None) -> int:
    results = run(project, slugs, profile, overrides, jobs, force, timeout, scheduler=scheduler)
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
    return 1 if failed or code else 0


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


# Long measured values (arrays of numbers) wrap instead of running off a phone's screen; the verdict
# column ("❌ not reproduced") breaks between words only.
SITE_CSS = """\
table.offconvex-claims { max-width: 100%; }
table.offconvex-claims td { overflow-wrap: anywhere; }
table.offconvex-claims td:first-child { overflow-wrap: normal; vertical-align: top; }
figure.offconvex-figure img, figure.offconvex-animation img { max-width: 100%; height: auto; }
"""


def _write_site_css(app, exception) -> None:
    if exception is None and app.builder.format == "html":
        (Path(app.outdir) / "_static" / "offconvex.css").write_text(SITE_CSS)


def setup(app):
    app.connect("config-inited", _default_colour_mode)
    app.add_css_file("offconvex.css")
    app.connect("build-finished", _write_site_css)
    # After sphinx-book-theme (priority 501) has built the header buttons.
    app.connect("html-page-context", _chapter_buttons, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
