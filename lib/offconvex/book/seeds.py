"""Claims across seeds: does each verdict of the published seed survive other seeds?

The book publishes one seed per chapter, and a claim that holds only at that seed says less than it seems.
``python -m offconvex seeds`` runs the ``book`` profile again at other seeds (cached like any run, never
published) and writes ``_build/seeds/<slug>.json``: claim by claim, the verdict and the numbers at every
seed. The reproducibility report lists the claims whose verdict depends on the seed.
"""

import json

from offconvex.book.project import BookError, Project
from offconvex.book.runner import plan, run

DEFAULT_SEEDS = (1, 2)


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
    return [{"text": claim["text"], "figure": claim.get("figure"),
             "status": {str(seed): record["claims"][i]["status"] for seed, record in records.items()},
             "measured": {str(seed): record["claims"][i]["measured"] for seed, record in records.items()}}
            for i, claim in enumerate(first)]


def depends_on_seed(claim: dict) -> bool:
    """Whether the claim holds at some seeds and not at others."""
    return len({status == "pass" for status in claim["status"].values()}) > 1


def sweep(project: Project, seeds, slugs=None, jobs=None, echo=print) -> int:
    """Run the book profile at each chapter's own seed and at ``seeds``; write one comparison per chapter."""
    seeds = check_seeds(seeds)
    own = {job.slug: job.parameters["SEED"] for job in plan(project, slugs, "book", {})}  # refuses bad slugs
    runs = {slug: {seed: None} for slug, seed in own.items()}  # each chapter's own seed first
    for overrides in [{}] + [{"SEED": seed} for seed in seeds]:
        for result in run(project, list(own), "book", overrides, jobs, publish_outputs=False, echo=echo):
            if not result.ok:
                echo(f"error: {result.slug} failed at {overrides or 'its own seed'}: {result.error}")
                return 1
            runs[result.slug][result.record["parameters"]["SEED"]] = result.record
    project.build.joinpath("seeds").mkdir(parents=True, exist_ok=True)
    for slug, records in runs.items():
        try:
            claims = compare(records)
        except BookError as error:
            echo(f"error: {error}")
            return 1
        summary = {"slug": slug, "seeds": list(records), "published_seed": own[slug],
                   "cache_keys": {str(seed): record["cache_key"] for seed, record in records.items()},
                   "claims": claims}
        (project.build / "seeds" / f"{slug}.json").write_text(json.dumps(summary, indent=1))
        moved = [claim for claim in claims if depends_on_seed(claim)]
        echo(f"[seeds  ] {slug}: {len(claims) - len(moved)}/{len(claims)} claims keep their verdict at seeds "
             f"{', '.join(map(str, records))}")
        for claim in moved:
            echo(f"          depends on the seed: {claim['text']} ({_statuses(claim)})")
    return 0


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
                            f"`python -m offconvex seeds {slug}`") from None
        if key == record.get("cache_key"):
            comparisons[slug] = comparison
    return comparisons
