"""Figure, image and claim comparison, and the messages a maintainer sees."""

import json

import matplotlib.pyplot as plt
import numpy as np
from offconvex.book.regress import check_slug, compare_claims, compare_figure, compare_image, compare_values


def figure(values, rtol=1e-9, atol=1e-12, arrays=None):
    return {"tolerance": {"rtol": rtol, "atol": atol, "arrays": arrays or {}, "image_rms": 1.0},
            "data": {"y": values, "label": "a"}}


def test_equal_data_within_tolerance_passes_and_drift_names_array_and_index():
    assert compare_figure(figure([1.0, 2.0]), figure([1.0, 2.0 + 1e-12])) == []
    problems = compare_figure(figure([1.0, 2.0, 3.0]), figure([1.0, 2.5, 3.0]))
    assert len(problems) == 1 and problems[0].startswith("array y[1]: 2.5 vs baseline 2.0")


def test_per_array_tolerance_shape_and_string_changes():
    loose = figure([1.0], arrays={"y": [0.1, 0.0]})
    assert compare_figure(loose, figure([1.05])) == []
    assert "shape" in compare_figure(figure([1.0]), figure([1.0, 2.0]))[0]
    assert compare_values("a", "b", 0, 0, "label") == ["label: 'b' != baseline 'a'"]
    assert compare_values([np.nan, 1.0], [np.nan, 1.0], 0, 0) == []


def test_claims_must_hold_keep_status_and_numbers():
    base = [{"text": "t", "passed": True, "status": "pass", "measured": {"x": 1.0}}]
    assert compare_claims(base, base, 1e-6, 1e-9) == []
    flipped = [{"text": "t", "passed": False, "status": "fail", "measured": {"x": 0.5}}]
    problems = compare_claims(base, flipped, 1e-6, 1e-9)
    assert any("claim fails" in p for p in problems) and any("changed from pass to fail" in p for p in problems)
    assert any("claim has no baseline" in p for p in compare_claims([], base, 1e-6, 1e-9))


def _png(path, slope):
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, slope])
    ax.set_ylim(0, 2)
    fig.savefig(path)
    plt.close(fig)


def test_image_comparison_writes_a_diff_on_failure(tmp_path):
    _png(tmp_path / "a.png", 1.0)
    _png(tmp_path / "b.png", 1.0)
    _png(tmp_path / "c.png", 2.0)
    assert compare_image(tmp_path / "a.png", tmp_path / "b.png", 1.0, tmp_path / "diff") is None
    message = compare_image(tmp_path / "a.png", tmp_path / "c.png", 1.0, tmp_path / "diff")
    assert message.startswith("image RMS") and "failed-diff" in message


def test_missing_and_corrupt_baselines_say_what_to_do(scratch_project):
    assert check_slug(scratch_project, "x") == [
        "no baselines for x: run `make baselines SLUGS=x` and commit tests/baselines/x"]
    (scratch_project.baselines / "x").mkdir(parents=True)
    (scratch_project.baselines / "x" / "fig1.json").write_text("{not json")
    (scratch_project.figures / "x").mkdir(parents=True)
    (scratch_project.figures / "x" / "fig1.json").write_text(json.dumps(figure([1.0])))
    scratch_project.runs.mkdir(parents=True)
    (scratch_project.runs / "x.json").write_text(json.dumps({"profile": "book"}))
    import pytest
    from offconvex.book.project import BookError

    with pytest.raises(BookError, match="corrupt baseline .*regenerate it with `make baselines`"):
        check_slug(scratch_project, "x")


def test_check_uses_the_cached_book_run_after_a_smoke_run_and_refuses_stale_runs(scratch_project):
    from conftest import toy_notebook
    from offconvex.book.regress import update_baselines
    from offconvex.book.runner import run

    body = ('import numpy as np\nimport matplotlib.pyplot as plt\nfrom offconvex import book\n'
            'book.start("toy", PROFILE, SEED)\nfig, ax = plt.subplots()\nax.plot([1, SCALE])\n'
            'book.save_figure(fig, "fig1", data={"y": np.array([1.0, SCALE])}, caption="A line.")\n')
    scratch_project.notebook("toy").write_text(toy_notebook(body))
    assert update_baselines(scratch_project, ["toy"], 1) == 0
    assert check_slug(scratch_project, "toy") == []
    assert run(scratch_project, ["toy"], "smoke", echo=lambda *a, **k: None)[0].ok
    assert check_slug(scratch_project, "toy") == []  # compared with the cached book run, not the smoke run
    scratch_project.notebook("toy").write_text(toy_notebook(body.replace("A line.", "A changed line.")))
    assert check_slug(scratch_project, "toy") == [
        "last run of toy used profile smoke and no such book run is cached: run `python -m offconvex run toy`"]
