"""The seed sweep: claims compared across seeds, nothing published overwritten, the report's section."""

import json

import pytest
from conftest import toy_notebook
from offconvex.book import report, seeds
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
    assert "[seeds  ] parity: 1/2 claims keep their verdict at seeds 0, 1, 2" in lines
    assert any("depends on the seed: the seed is even (seed 0 pass, seed 1 not-reproduced" in line for line in lines)

    section = "\n".join(report._seed_section(parity_project, {"parity": published}))
    assert "**parity** (seeds 0, 1, 2): 1 of 2 claims keep their verdict at every seed; these do not:" in section
    assert "the seed is even (seed 0 ✅ reproduced, seed 1 ⚠️ not reproduced, seed 2 ✅ reproduced)" in section
    stale = dict(published, cache_key="from-other-sources")
    assert "Not measured for the current sources" in "\n".join(report._seed_section(parity_project, {"parity": stale}))


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
    with pytest.raises(BookError, match="unreadable .*python -m offconvex seeds parity"):
        seeds.current_comparisons(parity_project, {"parity": {"cache_key": "k"}})
