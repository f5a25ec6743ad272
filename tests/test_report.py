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
    fig, ax = plt.subplots()
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
    card = page[page.index(":::{grid-item-card} fig1-a"):page.index(":::{grid-item-card} fig2-b")]
    assert f":img-top: ../_build/figures/{first}/fig1-a.png" in card
    assert f":link: posts/{first}.html#fig1-a" in card
    assert "fig1-a \\*shows\\* \\$x\\_1\\$" in card  # captions are text, not markup
    assert "- ✅ holds" in card and "- ❌ not reproduced misses" in card and "breaks" not in card
    assert "- ❌ failing breaks" in page
    assert "Claims not tied to a figure:\n\n- ✅ old record" in page
    second_section = page[page.index(CHAPTERS[1].title):]
    assert "*not yet run: no figures recorded.*" in second_section.split("## ")[0]
    assert "planned (no notebook yet)" in page
    failed = (scratch_project.root / write_gallery(scratch_project, {first: "boom"})).read_text()
    assert "Did not execute in the last build" in failed and "fig1-a" not in failed


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
    assert "| toy | 3 | 2 of 3 | 7.5 | 1 of 3 | 6 |" in lines
    assert "| other | no ensemble baseline | | | | |" in lines
    assert "- **toy**: a claim at its threshold" in lines
    (folder / "ensemble.json").write_text("{not json")
    from offconvex.book.project import BookError

    with pytest.raises(BookError, match=r"corrupt .*ensemble.json .*`make baselines SLUGS=toy`"):
        _ensemble_section(scratch_project, {"toy": {}})
