"""Claims across seeds: every claim's verdict at the published seed and at four more.

A claim that holds only at the published seed says less than it seems. `make book` runs each chapter at
its own seed (published) and at ``EXTRA_SEEDS`` more (cached, never published), all in one pool of
workers, and writes ``_build/seeds/<slug>.json``: claim by claim, the verdict and the numbers at every
seed. The chapter's claims table, the gallery and the reproducibility report show the count ("holds at
4 of 5 seeds"); a claim is called robust only when it holds at every seed, and its wording never changes
with the count. CI regresses the verdict at every seed (``regress.py``, ``tests/baselines/<slug>/seeds.json``).
``python -m offconvex seeds --seeds ...`` makes the same comparison for other seeds.
"""

import json

from offconvex.book.project import BookError, Project
from offconvex.book.runner import Result, execute_plan, plan

EXTRA_SEEDS = 4  # seeds besides the published one: 5 verdicts per claim


def other_seeds(own: int, count: int = EXTRA_SEEDS) -> list[int]:
    """The first ``count`` seeds of 0, 1, 2, ... other than the published one."""
    return [seed for seed in range(count + 1) if seed != own][:count]


def check_seeds(seeds) -> list[int]:
    """The extra seeds, in order and without repeats; each a non-negative int."""
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise BookError(f"seeds must be non-negative integers, got {seed!r}")
    if not seeds:
        raise BookError("give at least one seed, e.g. --seeds 1 2")
    return list(dict.fromkeys(seeds))


def compare(records: dict[int, dict]) -> list[dict]:
    """Claim by claim, the status and numbers at every seed (``records``: seed -> run record).

    Claims are matched by position: the same code records them in the same order whatever the seed
    (their texts may name the seed). The first seed's text and figure name the claim.
    """
    first = next(iter(records.values()))["claims"]
    counts = {seed: len(record["claims"]) for seed, record in records.items()}
    if len(set(counts.values())) > 1:
        raise BookError(f"{next(iter(records.values()))['slug']} records a different number of claims per "
                        f"seed {counts}; a claim list must not depend on the seed")
    return [{"text": claim["text"], "figure": claim.get("figure"), "sanity": bool(claim.get("sanity")),
             "status": {str(seed): record["claims"][i]["status"] for seed, record in records.items()},
             "measured": {str(seed): record["claims"][i]["measured"] for seed, record in records.items()}}
            for i, claim in enumerate(first)]


def depends_on_seed(claim: dict) -> bool:
    """Whether the claim holds at some seeds and not at others."""
    return len({status == "pass" for status in claim["status"].values()}) > 1


def robust(claim: dict) -> bool:
    """Whether the claim holds at every seed compared."""
    return all(status == "pass" for status in claim["status"].values())


def _expected_seconds(project: Project, slug: str) -> float:
    try:
        return float(json.loads((project.runs / f"{slug}.json").read_text())["seconds"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0.0


def run_with_seeds(project: Project, slugs, profile: str, overrides: dict, jobs=None, force=False, timeout=None,
                   echo=print, scheduler=None, seeds=None, count: int = EXTRA_SEEDS,
                   publish_outputs=True) -> tuple[list[Result], dict]:
    """Each chapter at its own seed (published) and at ``seeds`` (default: the first ``count`` others),
    in one pool; write the comparison of every chapter whose runs all succeeded (none when ``count`` is 0).

    Returns the published runs' results and ``{slug: error}`` for chapters whose seed runs failed.
    """
    published = plan(project, slugs, profile, overrides)  # refuses bad slugs, profiles and parameters
    own = {job.slug: job.parameters["SEED"] for job in published}
    extra = {slug: (check_seeds(seeds) if seeds is not None else other_seeds(seed, count)) for slug, seed in own.items()}
    extra = {slug: [s for s in chosen if s != own[slug]] for slug, chosen in extra.items()}
    # The slowest chapters' seed runs start first, so that no worker waits alone for one at the end.
    order = sorted(own, key=lambda slug: -_expected_seconds(project, slug))
    seed_jobs = [(plan(project, [slug], profile, {**overrides, "SEED": seed}, images=False)[0], False)
                 for slug in order for seed in extra[slug]]
    results = execute_plan(project, [(job, publish_outputs) for job in published] + seed_jobs, jobs, force,
                           timeout, echo, scheduler)
    mine, others = results[:len(published)], results[len(published):]
    records = {result.slug: {own[result.slug]: result.record} for result in mine if result.ok}
    failed = {}
    for (job, _), result in zip(seed_jobs, others, strict=True):
        if not result.ok:
            failed.setdefault(job.slug, f"seed {job.parameters['SEED']} failed: {result.error}")
        elif job.slug in records:
            records[job.slug][job.parameters["SEED"]] = result.record
    project.build.joinpath("seeds").mkdir(parents=True, exist_ok=True)
    for slug, by_seed in records.items():
        if not extra[slug]:
            continue
        if slug in failed:
            echo(f"error: {slug}: {failed[slug]}; its claims are not compared across seeds")
            continue
        by_seed = {seed: by_seed[seed] for seed in [own[slug], *extra[slug]]}
        try:
            write_comparison(project, slug, profile, own[slug], by_seed, echo)
        except BookError as error:
            failed[slug] = str(error)
            echo(f"error: {error}")
    return mine, failed


def write_comparison(project: Project, slug: str, profile: str, own: int, records: dict, echo=print) -> dict:
    """Write ``_build/seeds/<slug>.json`` from the run records of every seed (the published one first)."""
    claims = compare(records)
    summary = {"slug": slug, "profile": profile, "seeds": list(records), "published_seed": own,
               "cache_keys": {str(seed): record["cache_key"] for seed, record in records.items()},
               "claims": claims}
    (project.build / "seeds" / f"{slug}.json").write_text(json.dumps(summary, indent=1, allow_nan=True))
    moved = [claim for claim in claims if depends_on_seed(claim)]
    echo(f"[seeds  ] {slug}: {sum(map(robust, claims))} of {len(claims)} claims hold at every seed "
         f"({', '.join(map(str, records))}); {len(moved)} depend on the seed")
    for claim in moved:
        echo(f"          depends on the seed: {claim['text']} ({_statuses(claim)})")
    return summary


def sweep(project: Project, seeds, slugs=None, jobs=None, echo=print) -> int:
    """``python -m offconvex seeds``: the book profile at each chapter's own seed and at ``seeds``; nothing
    published changes (the book's own comparison is remade by the next `make book`)."""
    seeds = check_seeds(seeds)
    _, failed = run_with_seeds(project, slugs, "book", {}, jobs, echo=echo, seeds=seeds, publish_outputs=False)
    return 1 if failed else 0


def _statuses(claim: dict) -> str:
    return ", ".join(f"seed {seed} {status}" for seed, status in claim["status"].items())


def current_comparisons(project: Project, records: dict) -> dict:
    """The seed comparisons made from the same sources as the published runs (``records``: slug -> record)."""
    comparisons = {}
    for slug, record in records.items():
        path = project.build / "seeds" / f"{slug}.json"
        if not path.exists():
            continue
        try:
            comparison = json.loads(path.read_text())
            key = comparison["cache_keys"][str(comparison["published_seed"])]
        except (ValueError, KeyError) as error:
            raise BookError(f"{path} is unreadable ({type(error).__name__}); delete it and run "
                            f"`python -m offconvex book {slug}`") from None
        if key == record.get("cache_key"):
            comparisons[slug] = comparison
    return comparisons
