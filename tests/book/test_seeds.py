"""The seed sweep: claims compared across seeds, nothing published overwritten, the report's section."""

import json

import pytest
from conftest import toy_notebook
from offconvex.book import report, seeds
from offconvex.book.chapters import Chapter
from offconvex.book.project import BookError
from offconvex.book.runner import run

# One claim holds at every seed, the other only at even seeds.
PARITY = """\
from offconvex import book
book.start("parity", PROFILE, SEED)
book.claim("always true", True, seed=SEED)
book.claim("the seed is even", SEED % 2 == 0, not_reproduced=None if SEED % 2 == 0 else "odd seed", seed=SEED)
book.claims_table()
"""


def quiet(*args, **kwargs):
    pass


@pytest.fixture
def parity_project(scratch_project):
    scratch_project.notebook("parity").write_text(toy_notebook(PARITY))
    return scratch_project


def test_sweep_records_every_claim_at_every_seed_without_publishing(parity_project):
    published = run(parity_project, ["parity"], echo=quiet)[0].record  # the chapter's own run, seed 0
    before = {p: p.read_bytes() for p in (parity_project.runs / "parity.json", parity_project.posts / "parity.ipynb")}
    lines = []
    assert seeds.sweep(parity_project, [1, 2, 1], ["parity"], echo=lambda line, **_: lines.append(line)) == 0
    comparison = json.loads((parity_project.build / "seeds" / "parity.json").read_text())
    assert comparison["seeds"] == [0, 1, 2] and comparison["published_seed"] == 0
    assert comparison["cache_keys"]["0"] == published["cache_key"]
    always, even = comparison["claims"]
    assert always["status"] == {"0": "pass", "1": "pass", "2": "pass"} and not seeds.depends_on_seed(always)
    assert even["status"] == {"0": "pass", "1": "not-reproduced", "2": "pass"} and seeds.depends_on_seed(even)
    assert even["measured"]["1"] == {"seed": 1}
    assert {p: p.read_bytes() for p in before} == before  # the published seed-0 outputs are untouched
    assert "[seeds  ] parity: 1 of 2 claims hold at every seed (0, 1, 2); 1 depend on the seed" in lines
    assert any("depends on the seed: the seed is even (seed 0 pass, seed 1 not-reproduced" in line for line in lines)

    section = "\n".join(report._seed_section(parity_project, {"parity": published}))
    assert "| parity | 0, 1, 2 | 1 of 2 | 0 of 0 | 1 |" in section
    assert "the seed is even: holds at 2 of 3 seeds; not at seed 1 ⚠️" in section
    stale = dict(published, cache_key="from-other-sources")
    assert "not measured for the current sources" in "\n".join(report._seed_section(parity_project, {"parity": stale}))


def test_bad_seeds_and_unknown_notebooks_are_refused_before_running(parity_project):
    for bad in ([], [-1], ["3"], [True]):
        with pytest.raises(BookError, match="seed"):
            seeds.sweep(parity_project, bad, ["parity"], echo=quiet)
    with pytest.raises(BookError, match="unknown notebook 'nope'"):
        seeds.sweep(parity_project, [1], ["nope"], echo=quiet)
    assert not (parity_project.build / "seeds").exists() and not parity_project.cache.exists()


def test_claim_lists_that_change_with_the_seed_and_corrupt_records_are_clear_errors(parity_project):
    record = {"slug": "parity", "claims": [{"text": "a", "status": "pass", "measured": {}}]}
    with pytest.raises(BookError, match="different number of claims per seed"):
        seeds.compare({0: record, 1: dict(record, claims=[])})
    (parity_project.build / "seeds").mkdir(parents=True)
    (parity_project.build / "seeds" / "parity.json").write_text("{broken")
    with pytest.raises(BookError, match="unreadable .*python -m offconvex book parity"):
        seeds.current_comparisons(parity_project, {"parity": {"cache_key": "k"}})


def test_the_book_runs_five_seeds_in_one_pool_and_shows_every_claims_verdicts_across_them(parity_project):
    from offconvex.book.claims import across_seeds

    assert seeds.other_seeds(0) == [1, 2, 3, 4] and seeds.other_seeds(2, 3) == [0, 1, 3]
    lines = []
    results, failed = seeds.run_with_seeds(parity_project, ["parity"], "book", {}, jobs=2,
                                           echo=lambda line, **_: lines.append(line))
    assert [r.slug for r in results] == ["parity"] and results[0].ok and not failed
    assert sum("[start  ] parity" in line for line in lines) == 5
    record = json.loads((parity_project.runs / "parity.json").read_text())
    assert record["parameters"]["SEED"] == 0  # the published run is the chapter's own seed
    comparison = seeds.current_comparisons(parity_project, {"parity": record})["parity"]
    assert comparison["seeds"] == [0, 1, 2, 3, 4]
    always, even = comparison["claims"]
    assert seeds.robust(always) and not seeds.robust(even) and seeds.depends_on_seed(even)
    assert across_seeds(always["status"]) == "robust: holds at all 5 seeds (0, 1, 2, 3, 4)"
    assert across_seeds(even["status"]) == "holds at 3 of 5 seeds; not at seed 1 ⚠️, seed 3 ⚠️"
    assert across_seeds({"0": "not-reproduced", "1": "not-reproduced"}) == "not reproduced at any of the 2 seeds"
    assert across_seeds({"0": "fail", "1": "not-reproduced"}) == "holds at 0 of 2 seeds; not at seed 0 ❌, seed 1 ⚠️"

    # the chapter's page: its claims table gets the column and a caption that counts robust claims
    report.prepare_pages(parity_project, failed={})
    page = (parity_project.posts / "parity.ipynb").read_text()
    assert "Across seeds" in page and "1 of 2 robust: hold at all 5 seeds" in page
    assert "holds at 3 of 5 seeds; not at seed 1" in page
    cached = next((parity_project.cache / "parity").glob(f"{record['cache_key']}/executed.ipynb")).read_text()
    assert "Across seeds" not in cached  # the cache keeps what the kernel showed
    report.prepare_pages(parity_project, failed={})  # writing the pages twice changes nothing
    assert (parity_project.posts / "parity.ipynb").read_text() == page
    section = "\n".join(report._seed_section(parity_project, {"parity": record}))
    assert "| parity | 0, 1, 2, 3, 4 | 1 of 2 | 0 of 0 | 1 |" in section
    assert "the seed is even: holds at 3 of 5 seeds; not at seed 1 ⚠️, seed 3 ⚠️" in section
    chapter = Chapter("parity", "Parity", "Toys", "http://example.org/parity", "a toy")
    gallery = "\n".join(report._chapter_gallery(parity_project, chapter, record, {}, comparison))
    assert "✅ reproduced: the seed is even — holds at 3 of 5 seeds; not at seed 1 ⚠️, seed 3 ⚠️" in gallery

    # --extra-seeds 0: the published seed only, and no comparison is made
    (parity_project.build / "seeds" / "parity.json").unlink()
    results, failed = seeds.run_with_seeds(parity_project, ["parity"], "book", {}, count=0, echo=quiet)
    assert results[0].ok and not (parity_project.build / "seeds" / "parity.json").exists()


def test_a_claim_that_becomes_fragile_at_another_seed_is_caught_and_a_rounding_flip_is_not(parity_project):
    from conftest import toy_notebook
    from offconvex.book.regress import judge_slug, update_baselines

    steady = PARITY.replace('book.start("parity", PROFILE, SEED)',
                            'book.start("parity", PROFILE, SEED, perturbation=PERTURBATION)')
    parameters = 'PROFILE = "book"\nSEED = 0\nPERTURBATION = 0\n'
    parity_project.notebook("parity").write_text(toy_notebook(steady, parameters))
    assert update_baselines(parity_project, ["parity"], 2, members=2, echo=quiet, seeds=2) == 0
    baseline = json.loads((parity_project.baselines / "parity" / "seeds.json").read_text())
    assert baseline["seeds"] == [1, 2] and baseline["members_per_seed"] == 1
    assert [c["statuses"] for c in baseline["claims"]] == [{"1": ["pass"], "2": ["pass"]},
                                                           {"1": ["not-reproduced"], "2": ["pass"]}]
    assert run(parity_project, ["parity"], echo=quiet)[0].ok
    verdict = judge_slug(parity_project, "parity", echo=quiet)
    assert verdict.accepted and [v.seed for v in verdict.seeds] == [1, 2] and not any(v.problems for v in verdict.seeds)

    # a change that breaks "always true" at seed 2 only: the published seed is unchanged, the chapter fails
    fragile = steady.replace('book.claim("always true", True', 'book.claim("always true", SEED != 2')
    parity_project.notebook("parity").write_text(toy_notebook(fragile, parameters))
    assert run(parity_project, ["parity"], echo=quiet)[0].ok
    verdict = judge_slug(parity_project, "parity", echo=quiet)
    assert not verdict.problems and not verdict.accepted
    assert verdict.seeds[1].problems == ["claim 'always true' was pass, now fail"]
    assert [p for p, _ in verdict.seeds[1].retests] == [1001]  # its first retest fails too: no second

    # a flip that only the plain run at seed 2 shows (a rounding event): its two retests keep the verdict
    rare = steady.replace('book.claim("always true", True', 'book.claim("always true", SEED != 2 or PERTURBATION > 0')
    parity_project.notebook("parity").write_text(toy_notebook(rare, parameters))
    assert run(parity_project, ["parity"], echo=quiet)[0].ok
    verdict = judge_slug(parity_project, "parity", echo=quiet)
    assert verdict.accepted and verdict.seeds[1].problems and [p for p, _ in verdict.seeds[1].retests] == [1001, 1002]


def test_a_missing_or_corrupt_verdict_baseline_says_what_to_do(parity_project):
    from offconvex.book.regress import judge_seeds

    (parity_project.baselines / "parity").mkdir(parents=True)
    [missing] = judge_seeds(parity_project, "parity", echo=quiet)
    assert "baselines --seeds-only parity" in missing.problems[0] and not missing.accepted
    (parity_project.baselines / "parity" / "seeds.json").write_text('{"claims": 3}')
    with pytest.raises(BookError, match="corrupt baseline .*seeds.json.*--seeds-only parity"):
        judge_seeds(parity_project, "parity", echo=quiet)
