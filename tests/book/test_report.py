"""Generated pages (gallery) and what a reader's page needs: claim→figure links, figure anchors,
animations with alt text, offline assets."""

import json

import matplotlib.pyplot as plt
import pytest
from matplotlib.animation import FuncAnimation
from offconvex.book import notebook, offline_math
from offconvex.book.chapters import CHAPTERS
from offconvex.book.report import write_gallery


@pytest.fixture
def session(tmp_path, monkeypatch):
    """A chapter session writing to tmp_path, without start()'s global torch settings."""
    shown = []
    monkeypatch.setattr(notebook, "_session", notebook._Session("demo", "smoke", 0, tmp_path, "abc123"))
    monkeypatch.setattr(notebook, "_display", shown.append)
    return shown


def _figure(session_shown, figure_id):
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.plot([0, 1], [1, 0])
    assert notebook.save_figure(fig, figure_id, data={"y": [1, 0]}, caption=f"Caption of {figure_id}.") is None


def test_claim_names_the_most_recent_figure_unless_told(session, tmp_path):
    notebook.claim("before any figure", True, x=1)
    _figure(session, "fig1-a")
    notebook.claim("about a", True, x=2)
    _figure(session, "fig2-b")
    notebook.claim("about a again", True, figure="fig1-a", x=3)
    notebook.claim("about b", False, not_reproduced="too small", x=4)
    claims = json.loads((tmp_path / "claims.json").read_text())
    assert [c["figure"] for c in claims] == [None, "fig1-a", "fig1-a", "fig2-b"]
    with pytest.raises(ValueError, match="fig9-missing.*saved so far: fig1-a, fig2-b"):
        notebook.claim("about nothing", True, figure="fig9-missing")


def test_figure_html_carries_its_id_as_anchor_and_caption_as_alt(session):
    _figure(session, "fig1-anchor")
    html = session[-1]["text/html"]
    assert 'id="fig1-anchor"' in html and 'alt="Caption of fig1-anchor."' in html


def test_animation_has_alt_text_caption_and_no_cdn_link(session):
    fig, ax = plt.subplots()
    (line,) = ax.plot([0, 1], [0, 1])
    animation = FuncAnimation(fig, lambda k: line.set_ydata([0, k]), frames=2)
    notebook.show_animation(animation, 'Walkers "moving" <fast>')
    plt.close(fig)
    html = session[-1]["text/html"]
    assert "maxcdn" not in html and "font-awesome" not in html
    assert '<img alt="Walkers &quot;moving&quot; &lt;fast&gt;" id="_anim_img' in html
    assert "<figcaption>Walkers &quot;moving&quot; &lt;fast&gt;</figcaption>" in html
    assert '<input aria-label="animation frame" id="_anim_slider' in html


def _record(project, slug, figures, claims):
    (project.root / "notebooks").mkdir(exist_ok=True)
    project.notebook(slug).write_text("# chapter\n")
    project.runs.mkdir(parents=True, exist_ok=True)
    (project.figures / slug).mkdir(parents=True)
    for figure_id in figures:
        (project.figures / slug / f"{figure_id}.json").write_text(json.dumps({"caption": f"{figure_id} *shows* $x_1$"}))
    (project.runs / f"{slug}.json").write_text(json.dumps({"profile": "book", "figures": figures, "claims": claims}))


def test_gallery_shows_recorded_figures_with_their_claims_and_unrun_chapters(scratch_project):
    (scratch_project.root / "book").mkdir()
    first, second = CHAPTERS[0].slug, CHAPTERS[1].slug
    claims = [
        {"text": "holds", "passed": True, "status": "pass", "measured": {}, "figure": "fig1-a"},
        {"text": "misses", "passed": False, "status": "not-reproduced", "measured": {}, "figure": "fig1-a"},
        {"text": "breaks", "passed": False, "status": "fail", "measured": {}, "figure": "fig2-b"},
        {"text": "old record", "passed": True, "status": "pass", "measured": {}},
    ]
    _record(scratch_project, first, ["fig1-a", "fig2-b"], claims)
    scratch_project.notebook(second).write_text("# written, never run\n")
    page = (scratch_project.root / write_gallery(scratch_project)).read_text()
    card = page[page.index(":::{grid-item-card} Figure 1: a"):page.index(":::{grid-item-card} Figure 2: b")]
    assert f":img-top: ../_build/figures/{first}/fig1-a.png" in card
    assert f":link: posts/{first}.html#fig1-a" in card
    assert "fig1-a \\*shows\\* \\$x\\_1\\$" in card  # captions are text, not markup
    assert "- ✅ reproduced: holds" in card and "- ⚠️ not reproduced: misses" in card and "breaks" not in card
    assert "- ❌ failing: breaks" in page
    assert "Claims not tied to a figure:\n\n- ✅ reproduced: old record" in page
    second_section = page[page.index(CHAPTERS[1].title):]
    assert "*not yet run: no figures recorded.*" in second_section.split("## ")[0]
    assert "planned (no notebook yet)" in page
    failed = (scratch_project.root / write_gallery(scratch_project, {first: "boom"})).read_text()
    assert "Did not execute in the last build" in failed and "fig1-a" not in failed


def test_claims_table_counts_the_posts_claims_and_lists_sanity_checks_apart(session):
    _figure(session, "fig1-a")
    notebook.claim("the post's finding", True, gap=0.0028548455555842691)
    notebook.claim("too small here", False, not_reproduced="CPU scale", steps=358)
    notebook.sanity_check("loss at init equals the closed form", True, loss=52.999996185302734)
    assert notebook.claim("as a last line", True) is None  # no stray True on the page
    notebook.claims_table()
    html = session[-1]["text/html"]
    claims, checks = html.split("Sanity checks")
    assert "Claims of the post: 2 of 3 reproduced" in claims and "closed form" not in claims
    assert "1 of 1 hold" in checks and "loss = 53" in checks
    assert "gap = 0.002855" in claims and "0.0028548455" not in html
    assert 'class="offconvex-badge offconvex-not-reproduced">⚠️ not reproduced' in claims


def test_a_figure_wider_than_the_page_or_with_tiny_text_is_refused(session):
    from offconvex.book import style

    wide, ax = plt.subplots(figsize=(16, 3))
    ax.plot([0, 1])
    with pytest.raises(ValueError, match="16 in wide; the page holds 6.7 in"):
        notebook.save_figure(wide, "fig1-wide", data={"y": [0, 1]}, caption="wide")
    tiny, ax = style.figure(height=2)
    ax.set_title("tiny", fontsize=5)
    with pytest.raises(ValueError, match="'tiny' is 5 pt, below the book's legible minimum 7 pt"):
        notebook.save_figure(tiny, "fig2-tiny", data={"y": [0, 1]}, caption="tiny")
    with pytest.raises(ValueError, match="does not fit the page"):
        style.figure(height=2, width=9)
    with plt.rc_context(style.RC):  # what start() installs in a chapter's kernel
        page, ax = style.figure(1, 2, height=2)
        page.axes[0].plot([0, 1])
        notebook.save_figure(page, "fig3-page", data={"y": [0, 1]}, caption="fits")
    html = session[-1]["text/html"]
    assert 'data-dpi="200"' in html and 'data-smallest-text-pt="8"' in html
    assert 'width="670"' in html  # shown at 100 CSS px per inch: half its 1340 pixels
    assert '<button type="button" class="offconvex-enlarge"' in html


def test_numbers_are_shown_with_significant_digits():
    from offconvex.book.numbers import format_measured, format_number

    assert format_number(52.999996185302734) == "53"
    assert format_number(34.900000000000006) == "34.9"
    assert format_number(1.234e-7) == "1.234e-07"
    assert format_number([0.5, float("nan"), 3, True]) == "[0.5, nan, 3, True]"
    assert format_number(list(range(10))).endswith(", …]")
    assert format_measured({"tau": 0.71666, "n": 12}) == "tau = 0.7167; n = 12"


def test_gallery_cards_are_titled_in_words():
    from offconvex.book.report import figure_title

    assert figure_title("fig1-unobserved-entry") == "Figure 1: unobserved entry"
    assert figure_title("fig1-2-4-incremental-learning") == "Figures 1, 2, 4: incremental learning"
    assert figure_title("taylor-gap") == "Taylor gap"


def test_parameters_table_shows_the_runs_values_and_their_meaning(tmp_path):
    from offconvex.book.params import parameter_comments
    from offconvex.book.runner import parameters_table

    source = tmp_path / "demo.py"
    source.write_text('# %% tags=["parameters"]\nPROFILE = "book"\nSEED = 0\nSTEP = 0.1  # step size | per unit\n')
    comments = parameter_comments(source)
    assert comments == {"STEP": "step size | per unit"}
    table = parameters_table("demo", {"PROFILE": "smoke", "SEED": 3, "STEP": 0.2}, comments)
    assert "| `SEED` | `3` | seed of every random stream of the chapter |" in table
    assert "| `STEP` | `0.2` | step size / per unit |" in table
    assert "python -m offconvex run demo --profile PROFILE -p NAME VALUE" in table


def test_mathjax_is_copied_with_its_fonts(tmp_path):
    target = offline_math.copy_mathjax(offline_math.mathjax_source(), tmp_path)
    assert (target / "tex-mml-chtml.js").stat().st_size > 1_000_000
    assert list((target / "output" / "chtml" / "fonts" / "woff-v2").glob("MathJax_Main-Regular.woff"))
    assert (target / "input" / "tex" / "extensions" / "ams.js").exists()
    size = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
    assert size < 10_000_000  # a third of the package: only what tex-mml-chtml.js can load


def test_cdn_font_awesome_link_is_removed_and_thebe_scripts_dropped():
    context = {
        "body": '<div><link rel="stylesheet"\nhref="https://maxcdn.bootstrapcdn.com/font-awesome/4.4.0/css/'
                'font-awesome.min.css"><i class="fa fa-play"></i></div>',
        "script_files": ["_static/doctools.js", "_static/sphinx-thebe.js"],
    }
    offline_math._drop_external_assets(None, "page", "page.html", context, None)
    assert context["body"] == '<div><i class="fa fa-play"></i></div>'
    assert context["script_files"] == ["_static/doctools.js"]


def test_report_shows_what_each_rounding_ensemble_measured(scratch_project):
    from offconvex.book.report import _ensemble_section

    folder = scratch_project.baselines / "toy"
    folder.mkdir(parents=True)
    (folder / "ensemble.json").write_text(json.dumps({
        "members": 3, "margin": 6.0,
        "figures": {"fig1": {"held_out_margin": [0.5, 7.5, 0.0], "features_moved": 2, "features": 3}},
        "claims": {"held_out_margin": [1.0, 0.0, 2.0], "rounding_sensitive": ["a claim at its threshold"]}}))
    lines = _ensemble_section(scratch_project, {"toy": {}, "other": {}})
    assert "| toy | 3 | 2 of 3 | 7.5 | 1 of 3 | not measured | not measured | 6 |" in lines
    assert "| other | no ensemble baseline | | | | | | |" in lines
    summary = json.loads((folder / "ensemble.json").read_text())
    summary["retests"] = {"triples": 3, "runs": 9, "runs_rejected": 2, "triples_rejected": 0}
    (folder / "ensemble.json").write_text(json.dumps(summary))
    assert "| toy | 3 | 2 of 3 | 7.5 | 1 of 3 | 2 of 9 | 0 of 3 | 6 |" in _ensemble_section(scratch_project, {"toy": {}})
    assert "- **toy**: a claim at its threshold" in lines
    (folder / "ensemble.json").write_text("{not json")
    from offconvex.book.project import BookError

    with pytest.raises(BookError, match=r"corrupt .*ensemble.json .*`make baselines SLUGS=toy`"):
        _ensemble_section(scratch_project, {"toy": {}})


def test_a_chapter_that_fails_now_is_shown_as_failed_not_as_its_last_success(scratch_project):
    from offconvex.book.report import prepare_pages, write_report

    (scratch_project.root / "book").mkdir()
    slug = CHAPTERS[0].slug
    _record(scratch_project, slug, ["fig1-a"], [])
    (scratch_project.runs / f"{slug}.json").write_text(json.dumps({
        "profile": "book", "figures": ["fig1-a"], "claims": [], "seconds": 1.0, "peak_memory_mb": 1.0,
        "commit": "abc", "versions": {}}))
    scratch_project.posts.mkdir(parents=True)
    last_success = scratch_project.posts / f"{slug}.ipynb"
    last_success.write_text('{"cells": []}')
    error = "cell 6: ValueError: figure 'fig1-a' is 16 in wide"
    prepare_pages(scratch_project, {slug: error})
    assert not last_success.exists()  # the site no longer shows the old page...
    kept = scratch_project.build / "previous" / f"{slug}.ipynb"
    assert kept.read_text() == '{"cells": []}'  # ...but nothing built is lost
    stub = (scratch_project.posts / f"{slug}.md").read_text()
    assert "```{error}\nThis chapter failed in this build: cell 6: ValueError" in stub
    report = (scratch_project.root / write_report(scratch_project, {slug: error})).read_text()
    assert "| **failed in this build** |" in report and "## Chapters that failed in this build" in report
    assert "`abc`" not in report  # the old run's row is not listed as current
