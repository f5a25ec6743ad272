"""Figure and claim regression against tests/baselines/<slug>/ (DESIGN §3, README "Figure regression").

A baseline is the published (unperturbed) run plus what an ensemble of rounding-perturbed runs of the
same sources measured (``make baselines``; offconvex.book.ensemble): per feature of each figure, the
largest distance any member moved from the published run. A new run is accepted when every feature lies
within ``margin`` x that spread plus the figure's floor (``save_figure``'s rtol/atol), so a wobble that
another machine's kernels cause passes and a change a reader could see does not; a failure says how many
spreads away the value lies.

Image second: the text-free PNG against the baseline PNG (RMS, tolerance from the ensemble's own image
differences, never below the figure's floor), so a plotting change that moves a curve is caught; a failing
comparison leaves a diff image under _build/regression/<slug>/.
Claims: none may fail; each keeps a verdict the ensemble showed (a claim whose verdict differs between
members is rounding-sensitive: either is accepted, and the report says so) and its numbers within the band.

Verdicts at the other seeds (``seeds.json``): at each of the book's other seeds every claim keeps the
verdict its baseline run there had (or one a rounding-perturbed run there showed), so a change that makes
a claim fragile is caught. A seed whose verdicts moved is retested by the same 2-of-3 rule.
"""

import json
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from offconvex.book import cache, ensemble
from offconvex.book.project import BookError, Project

DEFAULT_CLAIM_TOLERANCE = (1e-6, 1e-9)
DEFAULT_MEMBERS = 7  # perturbed runs besides the published one (README: how the size was chosen)
SUMMARY = "ensemble.json"  # per chapter: the ensemble's size, margin and held-out measurements
SEED_VERDICTS = "seeds.json"  # per chapter: every claim's verdicts at the book's other seeds
SEED_MEMBERS = 1  # rounding-perturbed runs per other seed when making that baseline (besides the plain one)


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


def _floor(tolerance: dict, name: str) -> tuple[float, float]:
    """The figure's floor for a feature: its array's own (rtol, atol), else the figure's."""
    arrays = tolerance.get("arrays", {})
    for key in (name, name.split("/")[0], name.removesuffix("[last]")):
        if key in arrays:
            return tuple(arrays[key])
    return tolerance["rtol"], tolerance["atol"]


def figure_floor(tolerance: dict, grids: dict):
    """``name -> (rtol, atol)`` for a figure's features. The last step of a stopped run may also move by
    one record of its grid: a stopping rule checked at record points can always end a record sooner."""
    def floor(name: str) -> tuple[float, float]:
        rtol, atol = _floor(tolerance, name)
        grid = np.asarray(grids.get(name.removesuffix("[last]"), []), float) if name.endswith("[last]") else []
        return rtol, atol + (float(np.diff(grid).max()) if len(grid) > 1 else 0.0)

    return floor


def judged_spreads(expected: dict, spreads: dict, pooling: dict) -> dict:
    """Per numeric feature, the spread it is judged by: the stored spread (0 where the ensemble never
    moved it), pooled as in ensemble.effective_spread with the baseline's window and pool."""
    numeric = {name: value for name, value in expected.items() if isinstance(value, np.ndarray)}
    stored = {name: np.broadcast_to(np.asarray(spreads.get(name, 0.0), float), value.shape)
              for name, value in numeric.items()}
    return ensemble.effective_spread(stored, numeric, **pooling)


def compare_features(expected: dict, actual: dict, spreads: dict, margin: float, floor, prefix: str,
                     pooling: dict | None = None) -> list[str]:
    """Problems of ``actual`` features against ``expected`` within ``margin`` x pooled spread + floor(name).

    ``spreads`` holds the ensemble's raw spread of the features it moved; ``pooling`` the baseline's
    window and pool (ensemble.effective_spread)."""
    pooling = pooling or {}
    problems = [f"{prefix}{name}: missing from the new run" for name in expected if name not in actual]
    problems += [f"{prefix}{name}: not in baseline" for name in actual if name not in expected]
    judged = judged_spreads(expected, spreads, pooling)
    for name in [n for n in expected if n in actual]:
        reference, value = expected[name], actual[name]
        if not isinstance(reference, np.ndarray) or not isinstance(value, np.ndarray):
            if not isinstance(reference, np.ndarray) and not isinstance(value, np.ndarray) and reference == value:
                continue
            problems.append(f"{prefix}{name}: {value!r} != baseline {reference!r}")
            continue
        if value.shape != reference.shape:
            problems.append(f"{prefix}{name}: shape {value.shape} != baseline {reference.shape}")
            continue
        spread = judged[name]
        ratio, outside = ensemble.excess(reference, value, spread, margin, *floor(name))
        if not outside.any():
            continue
        worst = np.unravel_index(np.argmax(np.where(outside, ratio, -np.inf)), reference.shape)
        index = f"[{', '.join(map(str, worst))}]" if reference.ndim else ""
        problems.append(
            f"{prefix}{name}{index}: {float(value[worst])!r} vs baseline {float(reference[worst])!r}, "
            f"{ensemble.describe_ratio(float(ratio[worst]))} (accepted: {margin:g}x spread "
            f"{float(spread[worst]):.3g} + floor; {int(outside.sum())} of {outside.size} values outside)")
    return problems


def compare_figure(baseline: dict, current: dict) -> list[str]:
    """Problems of a figure's data against its baseline (feature by feature, see the module doc)."""
    block = baseline.get("ensemble", {"margin": 0.0, "spread": {}, "grids": {}})
    if current.get("curves", {}) != baseline.get("curves", {}):
        return [f"curves {current.get('curves', {})} != baseline {baseline.get('curves', {})}"]
    grids = {name: np.asarray(grid, float) for name, grid in block.get("grids", {}).items()}
    try:
        expected, actual = ensemble.features(baseline, grids), ensemble.features(current, grids)
    except (KeyError, ValueError) as error:
        return [f"cannot put the curves on the baseline's grid ({error})"]
    return compare_features(expected, actual, block["spread"], block["margin"],
                            figure_floor(baseline["tolerance"], grids), "array ", pooling_of(block))


def pooling_of(block: dict) -> dict:
    return {key: block[key] for key in ("window", "pool") if key in block}


def compare_image(baseline_png: Path, current_png: Path, rms: float, diff_dir: Path) -> str | None:
    """None when the text-free images agree within ``rms``; else a message naming the diff image."""
    from matplotlib.testing.compare import compare_images

    read_png(baseline_png)  # a corrupt baseline is named by its own path, not by the copy compared below
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


def read_png(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"))
    except FileNotFoundError:
        raise BookError(f"missing image {path}; regenerate it with `make baselines`") from None
    except (UnidentifiedImageError, OSError) as error:
        raise BookError(f"corrupt image {path} ({type(error).__name__}); regenerate it with `make baselines`") from None


def write_png(array: np.ndarray, path: Path) -> None:
    from PIL import Image

    Image.fromarray(np.asarray(array, np.uint8)).save(path, optimize=True)


def compare_envelope(baselines: Path, figure_id: str, current_png: Path, allowed: int, diff_dir: Path) -> str | None:
    """None when at most ``allowed`` pixels of the new image leave the ensemble's pixel envelope; else a
    message naming a diff image (outside pixels in red over the new image)."""
    low, high = read_png(baselines / f"{figure_id}.low.png"), read_png(baselines / f"{figure_id}.high.png")
    image = read_png(current_png)
    if image.shape != low.shape:
        return f"image size {image.shape[1]}x{image.shape[0]} != baseline {low.shape[1]}x{low.shape[0]}"
    outside = ensemble.pixels_outside(image, low, high)
    if outside.sum() <= allowed:
        return None
    diff_dir.mkdir(parents=True, exist_ok=True)
    marked = image.copy()
    marked[outside] = (255, 0, 0)
    diff = diff_dir / f"{figure_id}-outside-envelope.png"
    write_png(marked, diff)
    return (f"image: {int(outside.sum())} pixels outside the ensemble's envelope (accepted: {allowed}, "
            f"{ensemble.PIXEL_SLACK} grey levels beyond it); diff image {diff}")


def claims_tolerance(figures: list[dict]) -> tuple[float, float]:
    if not figures:
        return DEFAULT_CLAIM_TOLERANCE
    return (max(DEFAULT_CLAIM_TOLERANCE[0], *(f["tolerance"]["rtol"] for f in figures)),
            max(DEFAULT_CLAIM_TOLERANCE[1], *(f["tolerance"]["atol"] for f in figures)))


def claim_features(claim: dict) -> dict:
    return ensemble.features({"data": claim["measured"]})


def compare_claims(baseline: list, current: list, rtol: float, atol: float) -> list[str]:
    """None may fail; each keeps a verdict and numbers the ensemble accepted (matched by position when
    the list keeps its length, as the seed sweep does; a claim's text may render a measured number)."""
    problems = [f"claim fails: {c['text']!r} ({c['measured']})" for c in current if c["status"] == "fail"]
    if len(baseline) != len(current):
        old, new = {c["text"] for c in baseline}, {c["text"] for c in current}
        problems += [f"claim removed: {text!r}" for text in sorted(old - new)]
        problems += [f"claim has no baseline: {text!r}" for text in sorted(new - old)]
        return problems or [f"{len(current)} claims recorded, baseline has {len(baseline)}"]
    for old, new in zip(baseline, current, strict=True):
        block = old.get("ensemble", {})
        texts = block.get("texts", [old["text"]])
        if new["text"] not in texts:
            problems.append(f"claim text changed: {new['text']!r} (baseline {old['text']!r})")
        statuses = block.get("statuses", [old["status"]])
        if new["status"] not in statuses:
            problems.append(f"claim {old['text']!r} changed from {old['status']} to {new['status']}")
        try:
            expected, actual = claim_features(old), claim_features(new)
        except (KeyError, ValueError) as error:
            problems.append(f"claim {old['text']!r}: numbers not comparable ({error})")
            continue
        problems += compare_features(expected, actual, block.get("spread", {}), block.get("margin", 0.0),
                                     lambda name: (rtol, atol), f"claim {old['text']!r}: ", pooling_of(block))
    return problems


def _current_book_key(project: Project, slug: str, overrides: dict | None = None) -> str | None:
    """Cache key of a book-profile run of the current sources with default parameters."""
    from offconvex.book.runner import plan

    try:
        return plan(project, [slug], "book", overrides or {})[0].key
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


def figure_ids(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.json") if p.name not in ("claims.json", SUMMARY, SEED_VERDICTS))


def check_figures(baselines: Path, figures: Path, diff_dir: Path) -> list[str]:
    """Every problem of the figures and claims in ``figures`` against the baseline folder."""
    problems = []
    baseline_ids, current_ids = figure_ids(baselines), figure_ids(figures)
    problems += [f"{i}: figure not produced" for i in baseline_ids if i not in current_ids]
    problems += [f"{i}: no baseline (run `make baselines SLUGS={baselines.name}`)" for i in current_ids
                 if i not in baseline_ids]
    compared = []
    for figure_id in sorted(set(baseline_ids) & set(current_ids)):
        baseline = _load(baselines / f"{figure_id}.json", "baseline")
        compared.append(baseline)
        problems += [f"{figure_id}: {p}" for p in compare_figure(baseline, _load(figures / f"{figure_id}.json", "figure"))]
        if not (baselines / f"{figure_id}.png").exists():
            problems.append(f"{figure_id}: missing baseline image (run `make baselines SLUGS={baselines.name}`)")
            continue
        envelope = baseline.get("ensemble", {}).get("image")
        current_png = figures / f"{figure_id}.notext.png"
        if envelope is not None:
            image = compare_envelope(baselines, figure_id, current_png, envelope["allowed_pixels"], diff_dir)
        else:
            image = compare_image(baselines / f"{figure_id}.png", current_png, baseline["tolerance"]["image_rms"],
                                  diff_dir)
        if image:
            problems.append(f"{figure_id}: {image}")
    claims = _load(figures / "claims.json", "claims") if (figures / "claims.json").exists() else []
    if not (baselines / "claims.json").exists():
        return problems + [f"claims: missing baseline {baselines / 'claims.json'} "
                           f"(run `make baselines SLUGS={baselines.name}`)"] * bool(claims)
    problems += compare_claims(_load(baselines / "claims.json", "baseline"), claims, *claims_tolerance(compared))
    return problems


def check_slug(project: Project, slug: str) -> list[str]:
    """Every regression problem of one chapter's last run (empty when it matches its baselines); the
    other seeds are not looked at."""
    return judge_slug(project, slug, retest=False, seeds=False).problems


@dataclass
class Verdict:
    """A chapter's regression verdict: the published run's problems and, when it failed, its retests';
    ``seeds``: the same at each of the book's other seeds (claims' verdicts only)."""

    slug: str
    problems: list[str]
    retests: list[tuple[int, list[str]]] = field(default_factory=list)
    seeds: list["Verdict"] = field(default_factory=list)
    seed: int | None = None  # set on the verdict of one other seed

    @property
    def own_accepted(self) -> bool:
        """This run (with its retests) by the 2-of-3 rule, other seeds aside."""
        return accepted_by_two_of_three([not self.problems, *(not p for _, p in self.retests)])

    @property
    def accepted(self) -> bool:
        return self.own_accepted and all(verdict.accepted for verdict in self.seeds)

    def lines(self) -> list[str]:
        """What check prints: the verdict, then why (the published run's problems, then the retests, then
        the other seeds')."""
        head = f"{'ok  ' if self.accepted else 'FAIL'} {self.slug}"
        if self.problems and self.own_accepted:
            head += (": the published run lies outside the ensemble, both rounding retests inside "
                     "(a rare rounding event; accepted by the 2-of-3 rule)")
        return [head, *self._details()]

    def _details(self) -> list[str]:
        at = "" if self.seed is None else f"seed {self.seed}: "
        lines = [f"     {at}{problem}" for problem in self.problems]
        inside = "inside the ensemble" if self.seed is None else "verdicts as in the baseline"
        for perturbation, problems in self.retests:
            lines.append(f"     {at}retest PERTURBATION={perturbation}: "
                         + (inside if not problems else f"outside too: {problems[0]}"))
        if self.problems and not self.retests and self.seed is not None:
            lines.append(f"     {at}not retested")
        steady = [str(verdict.seed) for verdict in self.seeds if not verdict.problems]
        if steady:
            lines.append(f"     seeds {', '.join(steady)}: every claim's verdict as in the baseline")
        for verdict in self.seeds:
            lines += verdict._details()
            if verdict.problems and verdict.accepted:
                lines.append(f"     seed {verdict.seed}: both retests keep the baseline's verdicts "
                             "(a rare rounding event; accepted by the 2-of-3 rule)")
        return lines


def judge_slug(project: Project, slug: str, retest: bool = True, echo=print, seeds: bool = True) -> Verdict:
    """The chapter's last run against its baselines, then the 2-of-3 rule: a published run that lies
    outside its ensemble is run again under the RETESTS perturbations (book profile, cached, never
    published) until two runs agree. A missing run or baseline is no rounding event: never retested.
    With ``seeds``, the claims' verdicts at the book's other seeds are judged the same way."""
    baselines = project.baselines / slug
    if not baselines.is_dir():
        return Verdict(slug, [f"no baselines for {slug}: run `make baselines SLUGS={slug}` and commit "
                              f"tests/baselines/{slug}"])
    figures, problem = _book_run_figures(project, slug)
    if problem:
        return Verdict(slug, [problem])
    verdict = Verdict(slug, check_figures(baselines, figures, project.build / "regression" / slug))
    if seeds:
        verdict.seeds = judge_seeds(project, slug, retest, echo)
    if not verdict.problems or not retest or not (baselines / SUMMARY).exists():
        return verdict
    from offconvex.book.runner import run

    def rerun(perturbation: int) -> list[str]:
        result = run(project, [slug], "book", {"PERTURBATION": perturbation}, 1, publish_outputs=False, echo=echo)[0]
        return ([f"the retest failed: {result.error}"] if not result.ok else
                check_figures(baselines, _member_figures(project, result.record),
                              project.build / "regression" / slug / f"retest-{perturbation}"))

    verdict.retests = retests_of(verdict.problems, rerun)
    return verdict


def seed_runs(project: Project, slugs: list[str], overrides_by_seed, jobs: int | None = None,
              echo=print) -> dict:
    """Book-profile runs of the current sources at other seeds (cached, never published), all in one pool:
    ``overrides_by_seed(slug)`` lists each chapter's ``(seed, overrides)``; returns {slug: {seed: Result}}."""
    from offconvex.book.runner import execute_plan, plan

    planned = [(slug, seed, plan(project, [slug], "book", overrides, images=False)[0])
               for slug in slugs for seed, overrides in overrides_by_seed(slug)]
    results = execute_plan(project, [(job, False) for _, _, job in planned], jobs, echo=echo)
    runs = {}
    for (slug, seed, _), result in zip(planned, results, strict=True):
        runs.setdefault(slug, {}).setdefault(seed, []).append(result)
    return runs


def _seed_baseline(project: Project, slug: str) -> dict | None:
    path = project.baselines / slug / SEED_VERDICTS
    if not path.exists():
        return None
    baseline = _load(path, "baseline of the verdicts at other seeds")
    if not isinstance(baseline.get("claims"), list) or not isinstance(baseline.get("seeds"), list):
        raise BookError(f"corrupt baseline {path} (no claims or seeds); regenerate it with "
                        f"`python -m offconvex baselines --seeds-only {slug}`")
    return baseline


def compare_seed_verdicts(baseline: dict, seed: int, claims: list) -> list[str]:
    """Every claim keeps, at ``seed``, a verdict its baseline runs there showed (matched by position)."""
    expected = baseline["claims"]
    if len(claims) != len(expected):
        return [f"{len(claims)} claims recorded at seed {seed}, baseline has {len(expected)}"]
    problems = []
    for old, new in zip(expected, claims, strict=True):
        allowed = old["statuses"].get(str(seed))
        if allowed is None:
            return [f"the baseline has no verdicts at seed {seed}"]
        if new["status"] not in allowed:
            problems.append(f"claim {old['text']!r} was {' or '.join(allowed)}, now {new['status']}")
    return problems


def judge_seeds(project: Project, slug: str, retest: bool = True, echo=print) -> list[Verdict]:
    """One verdict per other seed of the baseline: the claims' verdicts there, retested by the 2-of-3 rule."""
    baseline = _seed_baseline(project, slug)
    if baseline is None:
        return [Verdict(slug, [f"no baseline of the verdicts at other seeds: run `python -m offconvex baselines "
                               f"--seeds-only {slug}` and commit tests/baselines/{slug}/{SEED_VERDICTS}"])]
    runs = seed_runs(project, [slug], lambda _: [(seed, {"SEED": seed}) for seed in baseline["seeds"]],
                     echo=_without_cached(echo)).get(slug, {})
    verdicts = []
    for seed in baseline["seeds"]:
        result = runs[seed][0]
        problems = ([f"the run failed: {result.error}"] if not result.ok else
                    compare_seed_verdicts(baseline, seed, result.record["claims"]))
        verdict = Verdict(slug, problems, seed=seed)
        if problems and retest and result.ok:
            def rerun(perturbation: int, seed=seed) -> list[str]:
                again = seed_runs(project, [slug], lambda _: [(seed, {"SEED": seed, "PERTURBATION": perturbation})],
                                  1, echo)[slug][seed][0]
                return ([f"the retest failed: {again.error}"] if not again.ok else
                        compare_seed_verdicts(baseline, seed, again.record["claims"]))

            verdict.retests = retests_of(problems, rerun)
        verdicts.append(verdict)
    return verdicts


def _without_cached(echo):
    """``echo`` for runs that are expected in the cache: the cached ones pass silently."""
    return lambda line, **kwargs: None if line.startswith("[cached") else echo(line, **kwargs)


def check_all(project: Project, slugs: list[str] | None, jobs: int | None = None) -> int:
    """Print each chapter's regression verdict; non-zero exit when any chapter fails the 2-of-3 rule."""
    slugs = slugs or project.written_slugs()
    # The verdicts at other seeds need runs there: the missing ones first, in one pool (then cached).
    baselines = {slug: baseline for slug in slugs if (baseline := _seed_baseline(project, slug)) is not None}
    seed_runs(project, list(baselines), lambda slug: [(seed, {"SEED": seed}) for seed in baselines[slug]["seeds"]],
              jobs, _without_cached(print))
    failures = 0
    for slug in slugs:
        verdict = judge_slug(project, slug)
        print("\n".join(verdict.lines()))
        failures += not verdict.accepted
    return 1 if failures else 0


# --- making baselines from an ensemble ------------------------------------------------------------

def figure_baseline(reference: dict, members: list[dict], reference_png: Path, member_pngs: list[Path],
                    margin: float) -> tuple[dict, tuple | None]:
    """The baseline of one figure: the published run's record plus its ensemble's spread per feature;
    and the pixel envelope ``(low, high)`` of its text-free images when rounding changed any of them."""
    records = [reference, *members]
    grids = ensemble.common_grids(records)
    reference_features = ensemble.features(reference, grids)
    member_features = [ensemble.features(member, grids) for member in members]
    try:
        spreads = ensemble.spread(reference_features, member_features)
    except ensemble.ShapeMismatch as error:
        raise BookError(f"figure {reference['id']}: {error}; if a stopping rule sets its length, declare it "
                        f"with save_figure(..., curves={{NAME: STEPS_NAME}})") from None
    block = {
        "members": len(members),
        "margin": margin,
        "window": ensemble.WINDOW,
        "pool": ensemble.POOL,
        "grids": {name: grid.tolist() for name, grid in grids.items()},
        "spread": {name: ensemble.round_up(value).tolist() for name, value in spreads.items() if value.any()},
    }
    images = [read_png(reference_png), *(read_png(png) for png in member_pngs)]
    if any(image.shape != images[0].shape for image in images):
        raise BookError(f"figure {reference['id']}: its image size depends on rounding; fix the figure size")
    envelope = None
    if any(not np.array_equal(image, images[0]) for image in images[1:]):
        envelope = ensemble.image_envelope(images)
        held_out = [int(ensemble.pixels_outside(images[j], *ensemble.image_envelope(
            images[:j] + images[j + 1:])).sum()) for j in range(1, len(images))]
        # The rarest member (the largest count) is inside the envelope, so a run like it passes; the allowance
        # is set by the others, else one rare event in the ensemble would let any plotting change through.
        typical = sorted(held_out)[-2] if len(held_out) > 1 else held_out[0]
        block["image"] = {"held_out_pixels": held_out, "allowed_pixels": int(np.ceil(margin * typical))}
    return dict(reference, ensemble=block), envelope


def claims_baseline(reference: list, members: list[list], margin: float) -> tuple[list, list[str]]:
    """Claims of the published run with, per claim, the verdicts, texts and spread of its numbers across
    the ensemble; and the texts of the claims whose verdict differs between members."""
    for index, member in enumerate(members, 1):
        if len(member) != len(reference):
            raise BookError(f"ensemble member {index} records {len(member)} claims, the published run "
                            f"{len(reference)}: a claim list must not depend on rounding")
    baseline, sensitive = [], []
    for position, claim in enumerate(reference):
        others = [member[position] for member in members]
        statuses = sorted({claim["status"], *(other["status"] for other in others)})
        texts = list(dict.fromkeys([claim["text"], *(other["text"] for other in others)]))
        try:
            spreads = ensemble.spread(claim_features(claim), [claim_features(other) for other in others])
        except ensemble.ShapeMismatch as error:
            raise BookError(f"claim {claim['text']!r}: {error}") from None
        block = {"statuses": statuses, "margin": margin, "window": ensemble.WINDOW, "pool": ensemble.POOL,
                 "spread": {name: ensemble.round_up(value).tolist() for name, value in spreads.items() if value.any()}}
        if len(texts) > 1:
            block["texts"] = texts
        if len(statuses) > 1:
            sensitive.append(claim["text"])
        baseline.append(dict(claim, ensemble=block))
    return baseline, sensitive


def held_out_margins(reference: dict, members: list[dict], floor) -> list[float]:
    """For each member, the smallest margin at which the pooled spread of the *other* runs accepts it.

    This is the ensemble's own false-alarm measurement (CESM-ECT's resampling): a margin above every
    value accepts each held-out member; inf means the member moved a feature, beyond the floor, that no
    other member moved.
    """
    needed = []
    for held in range(len(members)):
        spreads = ensemble.spread(reference, members[:held] + members[held + 1:])
        judged = ensemble.effective_spread(spreads, reference)
        worst = 0.0
        for name, spread in judged.items():
            beyond = (ensemble.distance(reference[name], members[held][name])
                      - ensemble.band(reference[name], np.zeros_like(spread), 0.0, *floor(name)))
            with np.errstate(divide="ignore", invalid="ignore"):
                margin = np.where(beyond <= 0, 0.0, np.where(spread > 0, beyond / spread, np.inf))
            worst = max(worst, float(np.nan_to_num(margin, nan=0.0, posinf=np.inf).max(initial=0.0)))
        needed.append(worst)
    return needed


def _member_figures(project: Project, record: dict) -> Path:
    return cache.entry_path(project, record["slug"], record["cache_key"]) / "figures"


def run_members(project: Project, slugs: list[str], members: int, jobs: int | None, echo=print) -> dict:
    """Run the book profile with PERTURBATION = 1..members (cached, never published); slug -> records."""
    from offconvex.book.runner import plan, run

    for job in plan(project, slugs, "book", {}):
        if "PERTURBATION" not in job.parameters:
            raise BookError(f"{job.slug} has no PERTURBATION parameter: add `PERTURBATION = 0` to its parameters "
                            f"cell and pass perturbation=PERTURBATION to book.start")
    tasks = [(member, slug) for member in range(1, members + 1) for slug in slugs]

    def one(task):
        member, slug = task
        return task, run(project, [slug], "book", {"PERTURBATION": member}, 1, publish_outputs=False, echo=echo)[0]

    records = {slug: [None] * members for slug in slugs}
    with ThreadPoolExecutor(max_workers=max(1, jobs or 1)) as pool:
        for (member, slug), result in pool.map(one, tasks):
            if not result.ok:
                raise BookError(f"ensemble member {member} of {slug} failed: {result.error}")
            records[slug][member - 1] = result.record
    return records


def update_baselines(project: Project, slugs: list[str] | None, jobs: int | None,
                     members: int = DEFAULT_MEMBERS, margin: float = ensemble.MARGIN, echo=print,
                     seeds: int | None = None, seed_members: int = SEED_MEMBERS, seeds_only: bool = False) -> int:
    """Run the book profile and its rounding ensemble, then replace each chapter's baselines, printing
    what changed in the published run and what the ensemble measured; then the verdicts at ``seeds``
    other seeds (default: the book's). ``seeds_only``: only the latter, the ensemble baselines kept."""
    from offconvex.book.runner import run
    from offconvex.book.seeds import EXTRA_SEEDS

    seeds = EXTRA_SEEDS if seeds is None else seeds
    if seeds_only:
        return write_seed_baselines(project, slugs, jobs, seeds, seed_members, echo)
    if members < 2:
        raise BookError(f"an ensemble needs at least 2 perturbed members, got {members}")
    # the cache must hold every member of the ensemble being made, however large, beside the perturbed
    # runs at other seeds and the retests (cached members keep their old age, so they are pruned first)
    cache.KEEP_MEMBERS_PER_SLUG = max(cache.KEEP_MEMBERS_PER_SLUG, members + 17)
    results = run(project, slugs or None, "book", {}, jobs, echo=echo)
    ok = [result for result in results if result.ok]
    for result in results:
        if not result.ok:
            echo(f"skip {result.slug}: the notebook failed, baselines kept")
    member_records = run_members(project, [r.slug for r in ok], members, jobs, echo)
    for result in ok:
        _write_chapter_baselines(project, result, member_records[result.slug], margin, echo)
    code = write_seed_baselines(project, [r.slug for r in ok], jobs, seeds, seed_members, echo) if seeds and ok else 0
    return 0 if len(ok) == len(results) and code == 0 else 1


def seed_verdicts_baseline(published_seed: int, by_seed: dict[int, list[list[dict]]]) -> dict:
    """The baseline of the verdicts at other seeds: ``by_seed[seed]`` holds the claims of the plain run
    there, then of its rounding-perturbed runs; every verdict any of them showed is accepted."""
    runs = [claims for lists in by_seed.values() for claims in lists]
    reference = runs[0]
    if any(len(claims) != len(reference) for claims in runs):
        raise BookError("a claim list changes with the seed or the rounding; it must not")
    claims, sensitive = [], []
    for position, claim in enumerate(reference):
        statuses = {str(seed): sorted({claims[position]["status"] for claims in lists})
                    for seed, lists in by_seed.items()}
        sensitive += [{"seed": int(seed), "text": claim["text"]} for seed, found in statuses.items() if len(found) > 1]
        claims.append({"text": claim["text"], "sanity": bool(claim.get("sanity")), "statuses": statuses})
    return {"published_seed": published_seed, "seeds": list(by_seed),
            "members_per_seed": len(next(iter(by_seed.values()))) - 1, "claims": claims,
            "rounding_sensitive": sensitive}


def write_seed_baselines(project: Project, slugs: list[str] | None, jobs: int | None, count: int,
                         seed_members: int = SEED_MEMBERS, echo=print) -> int:
    """Run every chapter at ``count`` other seeds, each plainly and ``seed_members`` times rounding-perturbed
    (cached, never published), and write tests/baselines/<slug>/seeds.json."""
    from offconvex.book.runner import plan
    from offconvex.book.seeds import other_seeds

    if count < 1:
        raise BookError(f"the verdicts need at least 1 other seed, got {count}")
    published = {job.slug: job.parameters["SEED"] for job in plan(project, slugs, "book", {})}
    others = {slug: other_seeds(seed, count) for slug, seed in published.items()}
    cache.KEEP_MEMBERS_PER_SLUG = max(cache.KEEP_MEMBERS_PER_SLUG, count * (seed_members + 1) + 17)
    cache.KEEP_PER_SLUG = max(cache.KEEP_PER_SLUG, count + 3)
    runs = seed_runs(project, list(published), lambda slug: [
        (seed, {"SEED": seed, **({"PERTURBATION": member} if member else {})})
        for seed in others[slug] for member in range(seed_members + 1)], jobs, echo)
    code = 0
    for slug, by_seed in runs.items():
        failures = [result.error for results in by_seed.values() for result in results if not result.ok]
        if failures:
            echo(f"skip {slug}: a run at another seed failed ({failures[0]}); its verdict baseline is kept")
            code = 1
            continue
        baseline = seed_verdicts_baseline(published[slug], {seed: [r.record["claims"] for r in results]
                                                            for seed, results in by_seed.items()})
        target = project.baselines / slug / SEED_VERDICTS
        target.parent.mkdir(parents=True, exist_ok=True)
        fresh = target.with_name(target.name + ".new")
        fresh.write_text(json.dumps(baseline, indent=1))
        fresh.replace(target)
        everywhere = sum(all(found == ["pass"] for found in claim["statuses"].values()) for claim in baseline["claims"])
        echo(f"{slug}: verdicts at seeds {', '.join(map(str, baseline['seeds']))} ({seed_members} rounding-perturbed "
             f"run(s) each): {everywhere} of {len(baseline['claims'])} claims hold at all of them")
        for entry in baseline["rounding_sensitive"]:
            echo(f"{slug}: rounding-sensitive at seed {entry['seed']}: {entry['text']}")
    return code


def _write_chapter_baselines(project: Project, result, member_records: list[dict], margin: float, echo) -> None:
    slug = result.slug
    source, target = project.figures / slug, project.baselines / slug
    member_dirs = [_member_figures(project, record) for record in member_records]
    failing = [c["text"] for c in result.record["claims"] if c["status"] == "fail"]
    if failing:
        echo(f"note {slug}: {len(failing)} claim(s) fail; CI will stay red until they hold "
             f"or are honestly marked not_reproduced")
    staged = target.with_name(target.name + ".new")
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir(parents=True)
    summary = write_baseline_folder(source, member_dirs, result.record["figures"], staged, margin)
    summary["retests"] = retest_study(source, member_dirs, result.record["figures"], margin)
    for figure_id, measured in summary["figures"].items():
        echo(f"{slug}/{figure_id}: {_describe_change(target, _load(staged / f'{figure_id}.json', 'baseline'), figure_id)}"
             f"; ensemble: {measured['features_moved']} of {measured['features']} features moved by rounding, "
             f"held-out members need margin {max(measured['held_out_margin']):.3g} (using {margin:g})")
    for text in summary.get("claims", {}).get("rounding_sensitive", []):
        echo(f"{slug}: rounding-sensitive claim (verdict differs between ensemble members): {text}")
    echo(f"{slug}: {describe_retest_study(summary['retests'])}")
    (staged / SUMMARY).write_text(json.dumps(summary, indent=1))
    shutil.rmtree(target, ignore_errors=True)
    staged.rename(target)


def write_baseline_folder(source: Path, member_dirs: list[Path], figure_ids: list[str], staged: Path,
                          margin: float) -> dict:
    """Write the baselines of the published run in ``source`` and its members into ``staged`` (an empty
    folder); return the ensemble's summary (held-out margins, features moved, rounding-sensitive claims)."""
    summary = {"members": len(member_dirs), "margin": margin, "figures": {}, "claims": {}}
    compared = []
    for figure_id in figure_ids:
        reference = _load(source / f"{figure_id}.json", "figure")
        members = [_load(folder / f"{figure_id}.json", "ensemble member figure") for folder in member_dirs]
        baseline, envelope = figure_baseline(reference, members, source / f"{figure_id}.notext.png",
                                             [folder / f"{figure_id}.notext.png" for folder in member_dirs], margin)
        if envelope is not None:
            write_png(envelope[0], staged / f"{figure_id}.low.png")
            write_png(envelope[1], staged / f"{figure_id}.high.png")
        compared.append(baseline)
        grids = {name: np.asarray(grid, float) for name, grid in baseline["ensemble"]["grids"].items()}
        reference_features = ensemble.features(reference, grids)
        needed = held_out_margins(reference_features, [ensemble.features(m, grids) for m in members],
                                  figure_floor(reference["tolerance"], grids))
        summary["figures"][figure_id] = {"held_out_margin": needed,
                                         "features_moved": len(baseline["ensemble"]["spread"]),
                                         "features": len(reference_features),
                                         "image": baseline["ensemble"].get("image")}
        (staged / f"{figure_id}.json").write_text(json.dumps(baseline, indent=1, allow_nan=True))
        shutil.copyfile(source / f"{figure_id}.notext.png", staged / f"{figure_id}.png")
    if (source / "claims.json").exists():
        claims = _load(source / "claims.json", "claims")
        member_claims = [_load(folder / "claims.json", "ensemble member claims") for folder in member_dirs]
        baseline_claims, sensitive = claims_baseline(claims, member_claims, margin)
        rtol, atol = claims_tolerance(compared)
        needed = [held_out_margins(claim_features(c), [claim_features(m[i]) for m in member_claims],
                                   lambda name: (rtol, atol)) for i, c in enumerate(claims)]
        summary["claims"] = {"held_out_margin": [max(column) for column in zip(*needed, strict=True)] if needed else [],
                             "rounding_sensitive": sensitive}
        (staged / "claims.json").write_text(json.dumps(baseline_claims, indent=1, allow_nan=True))
    return summary


# --- the 2-of-3 rule: a rare rounding event in the published run is retested ----------------------------

# A new machine's published run is one draw of its rounding. Where the dynamics amplify rounding, a rare
# draw (a jump one member makes records later, a stopping rule that ends elsewhere) lies outside an
# ensemble of 15 although nothing changed. CESM-ECT's answer, kept here: a failing chapter is run twice
# more under rounding perturbations no ensemble used, and it fails only when at least 2 of the 3 runs lie
# outside. A real change moves every run, so it still fails; a rare event needs two at once
# (README "The 2-of-3 rule": the false alarms measured with and without it).
RETESTS = (1001, 1002)  # PERTURBATION values of the retests: far above any ensemble's members (1..MEMBERS)


def accepted_by_two_of_three(outcomes: list[bool]) -> bool:
    """``outcomes``: whether each run (published, then retests) lay inside the ensemble's band."""
    return outcomes[0] or sum(outcomes) >= 2


def retests_of(problems: list[str], rerun) -> list[tuple[int, list[str]]]:
    """The retests the 2-of-3 rule asks for after a run with ``problems``: ``rerun(PERTURBATION)`` gives a
    retest's problems; none when the run passed, and no second once the first also lies outside."""
    retests = []
    for perturbation in RETESTS if problems else ():
        found = rerun(perturbation)
        retests.append((perturbation, found))
        if found:  # two of three runs lie outside: no third can change the verdict
            break
    return retests


def retest_study(source: Path, member_dirs: list[Path], figure_ids: list[str], margin: float) -> dict:
    """The check's false alarms under rounding, measured by leaving 3 members out (CESM-ECT resampling).

    Member i plays a new machine's published run and members i+1, i+2 (cyclically) its retests; all
    three are judged by baselines made from the published run and the *other* members, an ensemble 3
    smaller than the committed one, so both rates are upper estimates. Returns how many runs were judged
    and rejected one by one, and how many of the triples the 2-of-3 rule rejected."""
    count = len(member_dirs)
    if count < 5:  # two members left would not estimate a spread
        return {"triples": 0, "runs": 0, "runs_rejected": 0, "triples_rejected": 0}
    runs_rejected = triples_rejected = 0
    with tempfile.TemporaryDirectory(prefix="offconvex-retest-") as scratch:
        for start in range(count):
            triple = [(start + offset) % count for offset in range(3)]
            staged = Path(scratch) / str(start)
            staged.mkdir()
            others = [folder for j, folder in enumerate(member_dirs) if j not in triple]
            write_baseline_folder(source, others, figure_ids, staged, margin)
            inside = [not check_figures(staged, member_dirs[j], Path(scratch) / "diff") for j in triple]
            runs_rejected += inside.count(False)
            triples_rejected += not accepted_by_two_of_three(inside)
            shutil.rmtree(staged)
    return {"triples": count, "runs": 3 * count, "runs_rejected": runs_rejected,
            "triples_rejected": triples_rejected}


def describe_retest_study(study: dict) -> str:
    if not study["triples"]:
        return "too few members to measure the 2-of-3 rule"
    return (f"leaving 3 members out, {study['runs_rejected']} of {study['runs']} runs were rejected one by "
            f"one; the 2-of-3 rule rejected {study['triples_rejected']} of {study['triples']} triples")


def _describe_change(old_dir: Path, new: dict, figure_id: str) -> str:
    if not (old_dir / f"{figure_id}.json").exists():
        return "new"
    old = _load(old_dir / f"{figure_id}.json", "baseline")
    changes = compare_values(old["data"], new["data"], 0.0, 0.0)
    if old["tolerance"] != new["tolerance"]:
        changes.append(f"floor {old['tolerance']} -> {new['tolerance']}")
    text = "unchanged" if not changes else "; ".join(changes[:6]) + (" ..." if len(changes) > 6 else "")
    return f"published run {text}"
