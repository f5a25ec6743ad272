"""The mutation study of the figure regression (offconvex.book.mutants) and its false-alarm side.

Unit part: every mutant still applies to the current sources, and stale or unknown ones are refused
with a one-line message. Notebook part (a small subset of `make mutants`): a real small change to a
chapter is caught, and a rounding-perturbed run that the ensemble never saw is accepted.
"""

import pytest
from offconvex.book import mutants
from offconvex.book.project import BookError, Project
from offconvex.book.regress import check_figures

PROJECT = Project.default()


def test_every_mutant_applies_to_the_current_sources(tmp_path):
    for index, mutant in enumerate(mutants.MUTANTS):
        root = tmp_path / str(index)
        (root / mutant.path).parent.mkdir(parents=True)
        (root / mutant.path).write_text((PROJECT.root / mutant.path).read_text())
        mutants.apply(mutant, root)
        assert mutant.new in (root / mutant.path).read_text()
    assert {mutant.slug for mutant in mutants.MUTANTS} == set(PROJECT.written_slugs())  # every chapter


def test_stale_and_unknown_mutants_are_refused(tmp_path):
    stale = mutants.Mutant("x", "gone", "notebooks/x.py", "LR = 1", "LR = 2")
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "x.py").write_text("LR = 3\n")
    with pytest.raises(BookError, match="no longer applies: 'LR = 1' occurs 0 times"):
        mutants.apply(stale, tmp_path)
    with pytest.raises(BookError, match="no mutants for 'nope'"):
        mutants.select(["nope"])


@pytest.mark.notebooks
def test_a_small_real_change_is_caught(tmp_path):
    mutant = next(m for m in mutants.MUTANTS if m.slug == "2021-04-07-rip-van-winkle" and "delta" in m.name)
    result = mutants.run_mutant(PROJECT, mutant, tmp_path, timeout=300)
    assert result["caught"], result
    assert "ensemble" in result["how"] or "never moved" in result["how"], result["how"]


@pytest.mark.notebooks
def test_a_rounding_member_outside_the_ensemble_is_accepted():
    import json

    from offconvex.book import cache
    from offconvex.book.runner import run

    slug = "2020-11-27-reg-dl-not-norm"  # one of the chapters whose bitwise baselines failed on other CPUs
    members = json.loads((PROJECT.baselines / slug / "ensemble.json").read_text())["members"]
    held_out = run(PROJECT, [slug], "book", {"PERTURBATION": members + 1}, 1, publish_outputs=False)[0]
    assert held_out.ok, held_out.error
    figures = cache.entry_path(PROJECT, slug, held_out.record["cache_key"]) / "figures"
    problems = check_figures(PROJECT.baselines / slug, figures, PROJECT.build / "regression" / "held-out")
    assert problems == [], problems
