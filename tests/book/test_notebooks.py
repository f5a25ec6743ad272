"""Every chapter notebook: executes in the smoke and book profiles, and its book-profile figures and
claims match tests/baselines (DESIGN §3; a rare rounding event is retested by the 2-of-3 rule, as
`python -m offconvex check` does), and so do its claims' verdicts at the book's four other seeds. The
site then builds with warnings as errors, with every claim's verdicts across seeds."""

import warnings

import pytest
from offconvex.book.chapters import CHAPTERS
from offconvex.book.project import Project
from offconvex.book.regress import judge_slug
from offconvex.book.runner import run
from offconvex.book.seeds import run_with_seeds
from offconvex.book.site import build_site, write_pages

PROJECT = Project.default()
SLUGS = PROJECT.written_slugs()
pytestmark = pytest.mark.notebooks


@pytest.fixture(scope="session")
def book_run():
    """What `make book` runs: every chapter at its published seed and four more, in one pool."""
    results, _ = run_with_seeds(PROJECT, SLUGS, "book", {}, jobs=2)
    return {result.slug: result for result in results}


@pytest.fixture(scope="session")
def smoke_run():
    return {result.slug: result for result in run(PROJECT, SLUGS, "smoke", jobs=2)}


@pytest.mark.parametrize("slug", SLUGS)
def test_smoke_profile_executes(smoke_run, slug):
    assert smoke_run[slug].ok, smoke_run[slug].error


@pytest.mark.parametrize("slug", SLUGS)
def test_book_profile_matches_baselines(book_run, slug):
    assert book_run[slug].ok, book_run[slug].error
    verdict = judge_slug(PROJECT, slug)
    assert verdict.accepted, f"{slug} regressed:\n" + "\n".join(verdict.lines())
    if verdict.problems:  # accepted by its retests: say so in the test summary
        warnings.warn("\n".join(verdict.lines()), stacklevel=1)


def test_site_builds_with_warnings_as_errors(book_run, site_builds):
    write_pages(PROJECT, {slug: r.error for slug, r in book_run.items() if not r.ok})
    site_builds["book"] = build_site(PROJECT)  # test_site_browser opens this build
    assert site_builds["book"] == 0
    html = PROJECT.build / "html"
    for chapter in CHAPTERS:
        page = (html / "book" / "posts" / f"{chapter.slug}.html").read_text()
        assert chapter.post_url in page
        if chapter.slug in SLUGS:
            assert "offconvex-claims" in page and "data:image/png;base64" in page
            assert "Across seeds" in page and "robust: hold at all 5 seeds" in page
    assert "Reproducibility report" in (html / "book" / "reproducibility.html").read_text()
    assert "Figure gallery" in (html / "book" / "gallery.html").read_text()
