"""`make book`: execute, write the generated pages, build the static site with jupyter-book."""

import subprocess
import sys
from pathlib import Path

from offconvex.book.project import Project
from offconvex.book.report import prepare_pages, write_report
from offconvex.book.runner import run


def build_site(project: Project) -> int:
    """``jupyter-book build`` in warnings-as-errors mode; returns its exit code."""
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    command = [str(jupyter_book), "build", str(project.root), "--warningiserror", "--keep-going",
               "--quiet"]
    return subprocess.run(command, cwd=project.root).returncode


def build_book(project: Project, slugs, profile, overrides, jobs, force, timeout) -> int:
    results = run(project, slugs, profile, overrides, jobs, force, timeout)
    failed = {r.slug: r.error for r in results if not r.ok}
    prepare_pages(project, failed)
    print(f"wrote {write_report(project)}")
    code = build_site(project)
    index = project.build / "html" / "index.html"
    if code == 0:
        print(f"the book is at {index} (or run `make serve`)")
    else:
        print("error: jupyter-book build failed (warnings are errors); see the messages above", file=sys.stderr)
    if failed:
        print(f"error: {len(failed)} notebook(s) failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed or code else 0
