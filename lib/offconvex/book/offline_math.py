"""Sphinx extension: the built site requests nothing from another host, so the book reads offline.

MathJax 3 is served from the site instead of a CDN, and sphinx-thebe's scripts (jupyter-book always adds
them; they would fetch thebe from unpkg, and declare their configuration twice, a page error) are
dropped: the book has no live-code button. matplotlib's JavaScript animations link Font Awesome 4 from a
CDN; that link is removed, the theme's own Font Awesome draws the same ``fa`` icons.

MathJax's files come from the pinned ``django-static-mathjax`` package (import name ``mathjax``). Of its 24 MB
``es5`` folder only what ``tex-mml-chtml.js`` can load at run time is copied (about 7 MB): the script,
the TeX extensions its autoloader fetches, the CHTML fonts (loaded relative to the script), and the
menu and accessibility components the reader can switch on. Registered in ``_config.yml``
(``sphinx: extra_extensions``).
"""

import re
import shutil
from importlib.resources import files
from pathlib import Path

SCRIPT = "tex-mml-chtml.js"
# Paths under es5/ that tex-mml-chtml.js may request (menu -> a11y/sre, autoload -> input/*).
NEEDED = (SCRIPT, "input/tex", "input/mml", "output/chtml", "ui", "a11y", "sre", "adaptors")
TARGET = Path("_static") / "mathjax"
CDN_FONT_AWESOME = re.compile(r'<link\s+rel="stylesheet"\s+href="https?://[^"]*font-awesome[^"]*"\s*/?>')


def mathjax_source() -> Path:
    """The ``es5`` folder of the installed MathJax package; a clear error when it is missing."""
    try:
        folder = files("mathjax") / "static" / "mathjax" / "es5"
    except ModuleNotFoundError as error:
        raise RuntimeError("MathJax is not installed: run `make install` (django-static-mathjax "
                           "is pinned in requirements.lock)") from error
    if not (folder / SCRIPT).is_file():
        raise RuntimeError(f"the installed MathJax package has no es5/{SCRIPT}; reinstall requirements.lock")
    return Path(str(folder))


def copy_mathjax(source: Path, outdir: Path) -> Path:
    """Copy the needed part of MathJax into ``outdir/_static/mathjax`` (only files that changed)."""
    target = outdir / TARGET
    for name in NEEDED:
        path = source / name
        if path.is_dir():
            shutil.copytree(path, target / name, dirs_exist_ok=True, copy_function=_copy_if_changed)
        else:
            target.mkdir(parents=True, exist_ok=True)
            _copy_if_changed(path, target / name)
    return target


def _copy_if_changed(source, target) -> None:
    source, target = Path(source), Path(target)
    if target.exists() and target.stat().st_size == source.stat().st_size \
            and target.stat().st_mtime >= source.stat().st_mtime:
        return
    shutil.copy2(source, target)


def _use_local_mathjax(app, config) -> None:
    # Relative to _static/ (Sphinx resolves a relative mathjax_path there), so it works on any page depth.
    config.mathjax_path = f"mathjax/{SCRIPT}"


def _copy_after_build(app, exception) -> None:
    if exception is None and app.builder.format == "html":
        copy_mathjax(mathjax_source(), Path(app.outdir))


def _is_thebe(script) -> bool:
    return "sphinx-thebe" in str(script) or "THEBE_JS_URL" in getattr(script, "attributes", {}).get("body", "")


def _drop_external_assets(app, pagename, templatename, context, doctree) -> None:
    if "script_files" in context:
        context["script_files"] = [script for script in context["script_files"] if not _is_thebe(script)]
    if "body" in context:
        context["body"] = CDN_FONT_AWESOME.sub("", context["body"])


def setup(app):
    app.connect("config-inited", _use_local_mathjax)
    app.connect("html-page-context", _drop_external_assets)
    app.connect("build-finished", _copy_after_build)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
