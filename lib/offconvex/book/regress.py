"""Figure and claim regression against tests/baselines/<slug>/ (DESIGN §3).

Data first: each figure's JSON against its baseline with the tolerances stored in the baseline.
Image second: the text-free PNG against the baseline PNG (RMS), so a font change is not a regression
but a changed curve is; a failing comparison leaves a diff image under _build/regression/<slug>/.
Claims: none may fail, and each must keep its status and its numbers (within the chapter's loosest
figure tolerance).
"""

import json
import shutil
from pathlib import Path

import numpy as np

from offconvex.book import cache
from offconvex.book.project import BookError, Project

DEFAULT_CLAIM_TOLERANCE = (1e-6, 1e-9)


def _load(path: Path, what: str):
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise BookError(f"missing {what} {path}") from None
    except ValueError as error:
        raise BookError(f"corrupt {what} {path} ({error.msg}); regenerate it with `make baselines`") from None


def compare_values(expected, actual, rtol: float, atol: float, where: str = "") -> list[str]:
    """Differences between two JSON values; numbers within ``atol + rtol*|expected|`` count as equal."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        problems = [f"{where}{key}: missing" for key in expected if key not in actual]
        problems += [f"{where}{key}: not in baseline" for key in actual if key not in expected]
        for key in expected.keys() & actual.keys():
            problems += compare_values(expected[key], actual[key], rtol, atol, f"{where}{key}")
        return problems
    try:
        base, new = np.asarray(expected, dtype=float), np.asarray(actual, dtype=float)
    except (TypeError, ValueError):
        return [] if expected == actual else [f"{where}: {actual!r} != baseline {expected!r}"]
    if base.shape != new.shape:
        return [f"{where}: shape {new.shape} != baseline {base.shape}"]
    close = np.isclose(new, base, rtol=rtol, atol=atol, equal_nan=True)
    if close.all():
        return []
    excess = np.where(close, -np.inf, np.abs(new - base) - (atol + rtol * np.abs(base)))
    worst = np.unravel_index(np.nanargmax(excess), base.shape) if base.ndim else ()
    index = f"[{', '.join(map(str, worst))}]" if worst else ""
    return [f"{where}{index}: {float(new[worst])!r} vs baseline {float(base[worst])!r} "
            f"({(~close).sum()} of {close.size} values outside rtol={rtol:g}, atol={atol:g})"]


def compare_figure(baseline: dict, current: dict) -> list[str]:
    tolerance = baseline["tolerance"]
    problems = []
    for name, expected in baseline["data"].items():
        if name not in current["data"]:
            problems.append(f"array {name}: missing from the new run")
            continue
        rtol, atol = tolerance["arrays"].get(name, (tolerance["rtol"], tolerance["atol"]))
        problems += [f"array {p}" for p in compare_values(expected, current["data"][name], rtol, atol, name)]
    problems += [f"array {name}: not in baseline" for name in current["data"] if name not in baseline["data"]]
    return problems


def compare_image(baseline_png: Path, current_png: Path, rms: float, diff_dir: Path) -> str | None:
    """None when the text-free images agree within ``rms``; else a message naming the diff image."""
    from matplotlib.testing.compare import compare_images

    diff_dir.mkdir(parents=True, exist_ok=True)
    actual = diff_dir / current_png.name
    expected = diff_dir / (current_png.stem + "-baseline.png")
    shutil.copyfile(current_png, actual)
    shutil.copyfile(baseline_png, expected)
    try:
        result = compare_images(str(expected), str(actual), tol=rms, in_decorator=True)
    except Exception as error:  # size mismatch raises ImageComparisonFailure
        return f"image differs: {' '.join(str(error).split())[:200]}"
    if result is None:
        actual.unlink()
        expected.unlink()
        return None
    return f"image RMS {result['rms']:.2f} > {rms:g}; diff image {result['diff']}"


def claims_tolerance(figures: list[dict]) -> tuple[float, float]:
    if not figures:
        return DEFAULT_CLAIM_TOLERANCE
    return (max(DEFAULT_CLAIM_TOLERANCE[0], *(f["tolerance"]["rtol"] for f in figures)),
            max(DEFAULT_CLAIM_TOLERANCE[1], *(f["tolerance"]["atol"] for f in figures)))


def compare_claims(baseline: list, current: list, rtol: float, atol: float) -> list[str]:
    problems = [f"claim fails: {c['text']!r} ({c['measured']})" for c in current if c["status"] == "fail"]
    old = {c["text"]: c for c in baseline}
    new = {c["text"]: c for c in current}
    problems += [f"claim removed: {text!r}" for text in old.keys() - new.keys()]
    problems += [f"claim has no baseline: {text!r}" for text in new.keys() - old.keys()]
    for text in old.keys() & new.keys():
        if old[text]["status"] != new[text]["status"]:
            problems.append(f"claim {text!r} changed from {old[text]['status']} to {new[text]['status']}")
        problems += [f"claim {text!r}: {p}"
                     for p in compare_values(old[text]["measured"], new[text]["measured"], rtol, atol)]
    return problems


def _current_book_key(project: Project, slug: str) -> str | None:
    """Cache key of a book-profile run of the current sources with default parameters."""
    from offconvex.book.runner import plan

    try:
        return plan(project, [slug], "book", {})[0].key
    except BookError:  # no notebook source: only the published run can be checked
        return None


def _book_run_figures(project: Project, slug: str) -> tuple[Path | None, str | None]:
    """The figures of the book-profile run of the current sources: the published ones when the last run
    was that run, else its cache entry (so a smoke or ``-p`` run in between does not get in the way)."""
    record = _load(project.runs / f"{slug}.json", "run record (run the notebook first)")
    current = _current_book_key(project, slug)
    if record["profile"] == "book" and record.get("cache_key", current) == current:
        return project.figures / slug, None
    entry = cache.entry_path(project, slug, current) if current else None
    if entry is not None and entry.is_dir() and cache.verify(entry) is None:
        return entry / "figures", None
    why = (f"last run of {slug} used profile {record['profile']}" if record["profile"] != "book"
           else f"the last run of {slug} is not of its current sources with default parameters")
    return None, f"{why} and no such book run is cached: run `python -m offconvex run {slug}`"


def check_slug(project: Project, slug: str) -> list[str]:
    """Every regression problem of one chapter's last run (empty when it matches its baselines)."""
    baselines = project.baselines / slug
    if not baselines.is_dir():
        return [f"no baselines for {slug}: run `make baselines SLUGS={slug}` and commit tests/baselines/{slug}"]
    figures, problem = _book_run_figures(project, slug)
    if problem:
        return [problem]
    problems = []
    baseline_ids = sorted(p.stem for p in baselines.glob("*.json") if p.name != "claims.json")
    current_ids = sorted(p.stem for p in figures.glob("*.json") if p.name != "claims.json")
    problems += [f"{i}: figure not produced" for i in baseline_ids if i not in current_ids]
    problems += [f"{i}: no baseline (run `make baselines SLUGS={slug}`)" for i in current_ids
                 if i not in baseline_ids]
    compared = []
    for figure_id in sorted(set(baseline_ids) & set(current_ids)):
        baseline = _load(baselines / f"{figure_id}.json", "baseline")
        compared.append(baseline)
        problems += [f"{figure_id}: {p}" for p in compare_figure(baseline, _load(figures / f"{figure_id}.json", "figure"))]
        if not (baselines / f"{figure_id}.png").exists():
            problems.append(f"{figure_id}: missing baseline image (run `make baselines SLUGS={slug}`)")
            continue
        image = compare_image(baselines / f"{figure_id}.png", figures / f"{figure_id}.notext.png",
                              baseline["tolerance"]["image_rms"], project.build / "regression" / slug)
        if image:
            problems.append(f"{figure_id}: {image}")
    claims = _load(figures / "claims.json", "claims") if (figures / "claims.json").exists() else []
    baseline_claims = _load(baselines / "claims.json", "baseline") if (baselines / "claims.json").exists() else []
    problems += compare_claims(baseline_claims, claims, *claims_tolerance(compared))
    return problems


def check_all(project: Project, slugs: list[str] | None) -> int:
    """Print each chapter's regression verdict; non-zero exit when any problem is found."""
    failures = 0
    for slug in slugs or project.written_slugs():
        problems = check_slug(project, slug)
        print(f"{'ok  ' if not problems else 'FAIL'} {slug}")
        for problem in problems:
            print(f"     {problem}")
        failures += bool(problems)
    return 1 if failures else 0


def _describe_change(old_dir: Path, new_dir: Path, figure_id: str) -> str:
    if not (old_dir / f"{figure_id}.json").exists():
        return "new"
    old, new = _load(old_dir / f"{figure_id}.json", "baseline"), _load(new_dir / f"{figure_id}.json", "figure")
    changes = compare_values(old["data"], new["data"], 0.0, 0.0)
    if old["tolerance"] != new["tolerance"]:
        changes.append(f"tolerance {old['tolerance']} -> {new['tolerance']}")
    return "unchanged" if not changes else "; ".join(changes[:6]) + (" ..." if len(changes) > 6 else "")


def update_baselines(project: Project, slugs: list[str] | None, jobs: int | None) -> int:
    """Run the book profile, then replace each chapter's baselines, printing what changed."""
    from offconvex.book.runner import run

    results = run(project, slugs or None, "book", {}, jobs)
    for result in results:
        if not result.ok:
            print(f"skip {result.slug}: the notebook failed, baselines kept")
            continue
        source, target = project.figures / result.slug, project.baselines / result.slug
        failing = [c["text"] for c in result.record["claims"] if c["status"] == "fail"]
        if failing:
            print(f"note {result.slug}: {len(failing)} claim(s) fail; CI will stay red until they hold "
                  f"or are honestly marked not_reproduced")
        staged = target.with_name(target.name + ".new")
        shutil.rmtree(staged, ignore_errors=True)
        staged.mkdir(parents=True)
        for figure_id in result.record["figures"]:
            print(f"{result.slug}/{figure_id}: {_describe_change(target, source, figure_id)}")
            shutil.copyfile(source / f"{figure_id}.json", staged / f"{figure_id}.json")
            shutil.copyfile(source / f"{figure_id}.notext.png", staged / f"{figure_id}.png")
        if (source / "claims.json").exists():
            shutil.copyfile(source / "claims.json", staged / "claims.json")
        shutil.rmtree(target, ignore_errors=True)
        staged.rename(target)
    return 0 if all(result.ok for result in results) else 1
