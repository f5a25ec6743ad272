"""Figure, image and claim comparison, and the messages a maintainer sees."""

import json

import matplotlib.pyplot as plt
import numpy as np
import pytest
from offconvex.book import ensemble
from offconvex.book.regress import (
    check_figures,
    check_slug,
    claims_baseline,
    compare_claims,
    compare_figure,
    compare_image,
    compare_values,
    figure_baseline,
    held_out_margins,
)


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


def _claim(status, x, text="t"):
    return {"text": text, "passed": status == "pass", "status": status, "measured": {"x": x, "n": 3}}


def test_claims_baseline_records_the_ensemble_and_names_rounding_sensitive_claims():
    reference = [_claim("pass", 1.0), _claim("not-reproduced", 0.2, "u")]
    members = [[_claim("pass", 1.01), _claim("pass", 0.21, "u")], [_claim("pass", 0.99), _claim("not-reproduced", 0.2, "u")]]
    baseline, sensitive = claims_baseline(reference, members, margin=4.0)
    assert sensitive == ["u"] and baseline[1]["ensemble"]["statuses"] == ["not-reproduced", "pass"]
    assert baseline[0]["ensemble"]["spread"] == {"x": pytest.approx(0.01)} and "n" not in baseline[0]["ensemble"]["spread"]
    # either verdict of the sensitive claim is accepted; numbers within 4x the spread are, beyond are not
    assert compare_claims(baseline, [_claim("pass", 1.03), _claim("pass", 0.2, "u")], 1e-6, 1e-9) == []
    problems = compare_claims(baseline, [_claim("pass", 1.05), _claim("pass", 0.2, "u")], 1e-6, 1e-9)
    assert len(problems) == 1 and "5x the ensemble's spread" in problems[0]
    moved = compare_claims(baseline, [_claim("pass", 1.0), {**_claim("pass", 0.2, "u"), "measured": {"x": 0.2, "n": 4}}],
                           1e-6, 1e-9)
    assert len(moved) == 1 and "the ensemble never moved it" in moved[0]


def _record(values, steps=None, figure_id="fig1", z=0.5):
    record = {"id": figure_id, "tolerance": {"rtol": 1e-9, "atol": 1e-12, "arrays": {}, "image_rms": 1.0},
              "data": {"y": values, "z": z, "label": "a"}}
    if steps is not None:
        record["data"]["steps"] = steps
        record["curves"] = {"y": "steps"}
    return record


def test_ensemble_baseline_accepts_a_wobble_and_names_a_change_in_spreads(tmp_path):
    _png(tmp_path / "a.png", 1.0)
    reference = _record([1.0, 2.0, 3.0])
    members = [_record([1.0, 2.0 + 1e-6, 3.0]), _record([1.0, 2.0 - 2e-6, 3.0])]
    baseline, envelope = figure_baseline(reference, members, tmp_path / "a.png", [tmp_path / "a.png"] * 2, margin=4.0)
    assert baseline["ensemble"]["spread"]["y"] == pytest.approx([0.0, 2e-6, 0.0], rel=0.01, abs=0)
    assert envelope is None and "image" not in baseline["ensemble"]  # identical images: compared by RMS
    assert compare_figure(baseline, _record([1.0, 2.0 + 7e-6, 3.0])) == []  # 3.5 spreads: a wobble
    problems = compare_figure(baseline, _record([1.0, 2.0 + 2e-5, 3.0]))
    assert len(problems) == 1 and "9.95x the ensemble's spread" in problems[0]
    still = compare_figure(baseline, _record([1.0, 2.0, 3.0], z=0.5 + 1e-6))  # a value rounding never moved
    assert len(still) == 1 and still[0].startswith("array z:") and "never moved it" in still[0]


def test_curves_of_run_dependent_length_are_compared_on_a_common_grid(tmp_path):
    _png(tmp_path / "a.png", 1.0)
    reference = _record([0.0, 1.0, 2.0, 2.0], steps=[0, 50, 100, 150])
    members = [_record([0.0, 1.1, 2.0], steps=[0, 50, 100]),
               _record([0.0, 0.9, 1.9, 2.0, 2.0], steps=[0, 50, 100, 150, 200])]
    baseline, _ = figure_baseline(reference, members, tmp_path / "a.png", [tmp_path / "a.png"] * 2, margin=4.0)
    assert baseline["ensemble"]["grids"] == {"steps": [0.0, 50.0, 100.0, 150.0, 200.0]}
    assert baseline["ensemble"]["spread"]["steps[last]"] == [50.0]
    assert compare_figure(baseline, _record([0.0, 1.05, 2.0], steps=[0, 50, 100])) == []  # stops a record earlier
    problems = compare_figure(baseline, _record([0.0, 2.0, 2.0], steps=[0, 50, 100]))  # rises twice as fast
    assert problems and problems[0].startswith("array y[1]")
    assert "shape" in compare_figure(baseline, {**_record([1.0]), "curves": {}})[0] or \
        "curves" in compare_figure(baseline, {**_record([1.0]), "curves": {}})[0]


def test_a_stopping_rule_without_declared_curves_is_a_clear_error(tmp_path):
    from offconvex.book.project import BookError

    _png(tmp_path / "a.png", 1.0)
    with pytest.raises(BookError, match=r"declare it with save_figure\(\.\.\., curves="):
        figure_baseline(_record([1.0, 2.0]), [_record([1.0, 2.0, 3.0])], tmp_path / "a.png", [tmp_path / "a.png"], 4.0)


def test_pixel_envelope_accepts_the_ensembles_wobble_and_catches_a_moved_curve(tmp_path):
    from offconvex.book.regress import compare_envelope, write_png

    for name, slope in [("ref", 1.0), ("m1", 1.01), ("m2", 0.99), ("m3", 1.005), ("new", 0.995), ("moved", 1.3)]:
        _png(tmp_path / f"{name}.png", slope)
    baseline, envelope = figure_baseline(_record([1.0]), [_record([1.0])] * 3, tmp_path / "ref.png",
                                         [tmp_path / f"m{i}.png" for i in (1, 2, 3)], margin=4.0)
    assert envelope is not None and len(baseline["ensemble"]["image"]["held_out_pixels"]) == 3
    write_png(envelope[0], tmp_path / "fig1.low.png")
    write_png(envelope[1], tmp_path / "fig1.high.png")
    allowed = baseline["ensemble"]["image"]["allowed_pixels"]
    assert compare_envelope(tmp_path, "fig1", tmp_path / "new.png", allowed, tmp_path / "diff") is None
    message = compare_envelope(tmp_path, "fig1", tmp_path / "moved.png", allowed, tmp_path / "diff")
    assert message.startswith("image:") and "outside the ensemble's envelope" in message
    assert (tmp_path / "diff" / "fig1-outside-envelope.png").exists()


def test_held_out_margins_measure_what_each_member_needs():
    reference = {"y": np.array([0.0, 0.0])}
    members = [{"y": np.array([1.0, 0.0])}, {"y": np.array([2.0, 0.0])}, {"y": np.array([0.5, 0.0])}]
    needed = held_out_margins(reference, members, lambda name: (0.0, 0.0))
    assert needed == [0.5, 2.0, 0.25]  # member 2 (2.0) lies 2x beyond the others' spread (1.0)
    assert held_out_margins(reference, [{"y": np.array([0.0, 1e-3])}, {"y": np.array([0.0, 0.0])}],
                            lambda name: (0.0, 1e-6))[0] == float("inf")


def test_round_up_never_shrinks_a_spread():
    values = np.array([1.234567e-7, 9.9999e3, 0.0])
    rounded = ensemble.round_up(values)
    assert (rounded >= values).all() and rounded[0] == 1.24e-7 and rounded[2] == 0.0


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
    from offconvex.book.project import BookError

    with pytest.raises(BookError, match="corrupt baseline .*regenerate it with `make baselines`"):
        check_slug(scratch_project, "x")



def test_a_deleted_claims_baseline_or_corrupt_baseline_image_is_one_line_with_the_fix(tmp_path):
    from offconvex.book.project import BookError

    baselines, figures = tmp_path / "baselines" / "x", tmp_path / "figures"
    baselines.mkdir(parents=True)
    figures.mkdir()
    (figures / "claims.json").write_text(json.dumps([{"text": f"claim {i}", "passed": True, "status": "pass",
                                                       "measured": {}} for i in range(9)]))
    assert check_figures(baselines, figures, tmp_path / "diff") == [
        f"claims: missing baseline {baselines / 'claims.json'} (run `make baselines SLUGS=x`)"]
    (baselines / "a.png").write_bytes(b"not a png")
    _png(tmp_path / "b.png", 1.0)
    with pytest.raises(BookError, match=f"corrupt image {baselines / 'a.png'} "):
        compare_image(baselines / "a.png", tmp_path / "b.png", 1.0, tmp_path / "diff")


def test_check_uses_the_cached_book_run_after_a_smoke_run_and_refuses_stale_runs(scratch_project):
    from conftest import toy_notebook
    from offconvex.book.regress import update_baselines
    from offconvex.book.runner import run

    body = ('import numpy as np\nimport matplotlib.pyplot as plt\nfrom offconvex import book\n'
            'from offconvex.core.random import rng\n'
            'book.start("toy", PROFILE, SEED, perturbation=PERTURBATION)\nfig, ax = plt.subplots()\n'
            'y = np.array([1.0, SCALE]) + rng(SEED, "noise").normal(size=2)\nax.plot(y)\n'
            'book.save_figure(fig, "fig1", data={"y": y}, caption="A line.")\n')
    parameters = 'PROFILE = "book"\nSEED = 0\nPERTURBATION = 0\nSCALE = 2.0\n'
    scratch_project.notebook("toy").write_text(toy_notebook(body, parameters))
    assert update_baselines(scratch_project, ["toy"], 1, members=2, echo=lambda *a, **k: None, seeds=1) == 0
    summary = json.loads((scratch_project.baselines / "toy" / "ensemble.json").read_text())
    assert summary["members"] == 2 and len(summary["figures"]["fig1"]["held_out_margin"]) == 2
    spread = json.loads((scratch_project.baselines / "toy" / "fig1.json").read_text())["ensemble"]["spread"]["y"]
    assert 0 < max(spread) < 1e-10  # the members moved the draws at the rounding level, no more
    assert check_slug(scratch_project, "toy") == []
    assert run(scratch_project, ["toy"], "smoke", echo=lambda *a, **k: None)[0].ok
    assert check_slug(scratch_project, "toy") == []  # compared with the cached book run, not the smoke run
    scratch_project.notebook("toy").write_text(toy_notebook(body.replace("A line.", "A changed line."), parameters))
    assert check_slug(scratch_project, "toy") == [
        "last run of toy used profile smoke and no such book run is cached: run `python -m offconvex run toy`"]


def test_effective_spread_pools_neighbours_the_array_and_stopped_runs():
    spreads = {"curve": np.array([0.0] * 100 + [1.0] + [0.0] * 99), "flat": np.zeros(3),
               "a[last]": np.array([50.0]), "b[last]": np.array([0.0])}
    references = {"curve": np.ones(200), "flat": np.ones(3), "a[last]": np.array([5000.0]), "b[last]": np.array([2000.0])}
    judged = ensemble.effective_spread(spreads, references, window=0.02, pool=0.1)
    assert judged["curve"][96:105].tolist() == [1.0] * 9  # a jump one member made 4 records later is covered
    assert judged["curve"][0] == 0.1  # the rest of the array: a tenth of its largest wobble
    assert judged["flat"].tolist() == [0.0, 0.0, 0.0]  # never moved: only the floor
    assert judged["b[last]"][0] == 20.0  # the other stopped run's 1 % applies to this one too


def test_a_missing_or_corrupt_envelope_image_says_what_to_do(tmp_path):
    from offconvex.book.project import BookError
    from offconvex.book.regress import compare_envelope

    _png(tmp_path / "new.png", 1.0)
    with pytest.raises(BookError, match=r"missing image .*fig1.low.png; regenerate it with `make baselines`"):
        compare_envelope(tmp_path, "fig1", tmp_path / "new.png", 0, tmp_path / "diff")
    (tmp_path / "fig1.low.png").write_bytes(b"not a png")
    (tmp_path / "fig1.high.png").write_bytes(b"not a png")
    with pytest.raises(BookError, match=r"corrupt image .*fig1.low.png .*regenerate it with `make baselines`"):
        compare_envelope(tmp_path, "fig1", tmp_path / "new.png", 0, tmp_path / "diff")


def test_the_two_of_three_rule_and_what_check_prints():
    from offconvex.book.regress import Verdict, accepted_by_two_of_three

    assert accepted_by_two_of_three([True])
    assert accepted_by_two_of_three([False, True, True])
    assert not accepted_by_two_of_three([False, False])
    assert not accepted_by_two_of_three([False, True, False])
    rare = Verdict("x", ["array y[3]: 2.0 vs baseline 1.0, 9x the ensemble's spread"], [(1001, []), (1002, [])])
    assert rare.accepted and rare.lines()[0].startswith("ok   x: the published run lies outside the ensemble")
    assert rare.lines()[-1] == "     retest PERTURBATION=1002: inside the ensemble"
    change = Verdict("x", ["array y[3]: 2.0 vs baseline 1.0"], [(1001, ["array y[3]: 2.1 vs baseline 1.0"])])
    assert not change.accepted and change.lines()[0] == "FAIL x"
    assert change.lines()[-1] == "     retest PERTURBATION=1001: outside too: array y[3]: 2.1 vs baseline 1.0"
    # the verdicts at other seeds: each seed by the same rule, and any seed that fails fails the chapter
    steady = Verdict("x", [], seed=1)
    fragile = Verdict("x", ["claim 'c' was pass, now not-reproduced"], [(1001, ["claim 'c' was pass, now fail"])], seed=3)
    rounding = Verdict("x", ["claim 'c' was pass, now fail"], [(1001, []), (1002, [])], seed=4)
    assert Verdict("x", [], seeds=[steady, rounding]).accepted
    chapter = Verdict("x", [], seeds=[steady, fragile, rounding])
    assert not chapter.accepted and chapter.lines() == [
        "FAIL x",
        "     seeds 1: every claim's verdict as in the baseline",
        "     seed 3: claim 'c' was pass, now not-reproduced",
        "     seed 3: retest PERTURBATION=1001: outside too: claim 'c' was pass, now fail",
        "     seed 4: claim 'c' was pass, now fail",
        "     seed 4: retest PERTURBATION=1001: verdicts as in the baseline",
        "     seed 4: retest PERTURBATION=1002: verdicts as in the baseline",
        "     seed 4: both retests keep the baseline's verdicts (a rare rounding event; accepted by the 2-of-3 rule)"]


def _member_folder(folder, values):
    folder.mkdir(parents=True)
    record = dict(figure(list(values)), id="fig1")
    (folder / "fig1.json").write_text(json.dumps(record))
    _png(folder / "fig1.notext.png", 1.0)
    return folder


def test_the_retest_study_counts_single_and_two_of_three_false_alarms(tmp_path):
    from offconvex.book.regress import retest_study

    wobble = [1e-9, -2e-9, 1.5e-9, -1e-9, 2e-9, -1.5e-9, 0.5e-9, -0.5e-9]
    reference = _member_folder(tmp_path / "ref", [1.0, 2.0])
    members = [_member_folder(tmp_path / str(i), [1.0 + w, 2.0 - w]) for i, w in enumerate(wobble)]
    quiet = retest_study(reference, members, ["fig1"], margin=6.0)
    assert quiet == {"triples": 8, "runs": 24, "runs_rejected": 0, "triples_rejected": 0}
    # one rare member (a jump 1000x the others' wobble): rejected whenever it is held out, never twice
    rare = members[:3] + [_member_folder(tmp_path / "rare", [1.0 + 1e-6, 2.0])] + members[4:]
    one = retest_study(reference, rare, ["fig1"], margin=6.0)
    assert one["runs_rejected"] == 3 and one["triples_rejected"] == 0
    # two rare members next to each other: rejected is the triple whose published run is one of them and
    # whose retests hold the other (3, 4, 5); (2, 3, 4) is accepted, its published run being inside
    two = rare[:4] + [_member_folder(tmp_path / "rare2", [1.0 - 1e-6, 2.0])] + rare[5:]
    assert retest_study(reference, two, ["fig1"], margin=6.0)["triples_rejected"] == 1
    assert retest_study(reference, members[:4], ["fig1"], margin=6.0)["triples"] == 0  # too few to judge


def test_a_rare_event_in_the_published_run_is_retested_and_a_real_change_is_not_excused(scratch_project):
    from conftest import toy_notebook
    from offconvex.book.regress import judge_slug, update_baselines
    from offconvex.book.runner import run

    body = ('import numpy as np\nimport matplotlib.pyplot as plt\nfrom offconvex import book\n'
            'from offconvex.core.random import rng\n'
            'book.start("toy", PROFILE, SEED, perturbation=PERTURBATION)\nfig, ax = plt.subplots()\n'
            'y = np.array([1.0, SCALE]) + rng(SEED, "noise").normal(size=2)\n'
            'y[0] += RARE * (PERTURBATION == 0)  # an event only the published run shows\nax.plot(y)\n'
            'book.save_figure(fig, "fig1", data={"y": y}, caption="A line.")\n')
    quiet = lambda *a, **k: None  # noqa: E731
    parameters = 'PROFILE = "book"\nSEED = 0\nPERTURBATION = 0\nSCALE = 2.0\nRARE = {}\n'
    scratch_project.notebook("toy").write_text(toy_notebook(body, parameters.format(0.0)))
    assert update_baselines(scratch_project, ["toy"], 1, members=2, echo=quiet, seeds=1) == 0
    scratch_project.notebook("toy").write_text(toy_notebook(body, parameters.format(1e-6)))
    assert run(scratch_project, ["toy"], "book", echo=quiet)[0].ok
    verdict = judge_slug(scratch_project, "toy", echo=quiet)
    assert verdict.problems and verdict.accepted and [p for p, _ in verdict.retests] == [1001, 1002]
    assert not judge_slug(scratch_project, "toy", retest=False, echo=quiet).accepted
    changed = toy_notebook(body.replace("[1.0, SCALE]", "[1.0 + 1e-6, SCALE]"), parameters.format(0.0))
    scratch_project.notebook("toy").write_text(changed)
    assert run(scratch_project, ["toy"], "book", echo=quiet)[0].ok
    verdict = judge_slug(scratch_project, "toy", echo=quiet)
    assert not verdict.accepted and len(verdict.retests) == 1 and verdict.retests[0][1]
