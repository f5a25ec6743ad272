"""Mutation study of the figure regression: does the check catch real small changes? (README, "Figure regression")

Each mutant is one small, realistic change to a notebook or the library (a learning rate x1.01, an
initialization scale x1.05, one step fewer, a gradient term scaled by 0.99, another seed stream, a
plotting change that moves a curve). ``python -m offconvex mutants`` applies each to a scratch copy of
the sources, runs the chapter's book profile there and checks it against the committed baselines. A
mutant that is not caught is reported with how far it moved the figure, in units of the ensemble's
spread, so one can see whether a reader could have seen the change at all.
"""

import json
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from offconvex.book import ensemble
from offconvex.book.project import BookError, Project


@dataclass(frozen=True)
class Mutant:
    slug: str
    name: str
    path: str  # relative to the repository root
    old: str  # must occur exactly once in the file
    new: str


NB = "notebooks/{}.py"
MUTANTS = [
    Mutant("2020-06-29-learning-to-learn-step-size", "start of meta-training x1.01",
           NB.format("2020-06-29-learning-to-learn-step-size"), "ETA0, META_STEPS = 0.1, 1000",
           "ETA0, META_STEPS = 0.101, 1000"),
    Mutant("2020-06-29-learning-to-learn-step-size", "least-squares tasks trained one step fewer",
           NB.format("2020-06-29-learning-to-learn-step-size"), "TASK_HORIZON = 40\n", "TASK_HORIZON = 39\n"),
    Mutant("2020-10-08-dissecting-hessian", "learning rate x1.01", NB.format("2020-10-08-dissecting-hessian"),
           "LEARNING_RATE = 0.1\n", "LEARNING_RATE = 0.101\n"),
    Mutant("2020-10-08-dissecting-hessian", "one training step fewer", NB.format("2020-10-08-dissecting-hessian"),
           "smoke=20, book=150, paper=150)", "smoke=20, book=149, paper=150)"),
    Mutant("2020-11-11-instahide", "200 training digits fewer", NB.format("2020-11-11-instahide"),
           "N_TRAIN = 1200", "N_TRAIN = 1000"),
    Mutant("2020-11-11-instahide", "inside-dataset mixing bound 0.65 -> 0.6435 (x0.99)", "lib/offconvex/privacy/instahide.py",
           "def inside(k: int, upper: float = 0.65)", "def inside(k: int, upper: float = 0.6435)"),
    Mutant("2020-11-27-reg-dl-not-norm", "initialization std x1.05", NB.format("2020-11-27-reg-dl-not-norm"),
           "INIT_STD = {2: 1e-3, 3: 1e-3, 4: 1e-2}", "INIT_STD = {2: 1.05e-3, 3: 1.05e-3, 4: 1.05e-2}"),
    Mutant("2020-11-27-reg-dl-not-norm", "gradient-descent learning rate x1.01",
           NB.format("2020-11-27-reg-dl-not-norm"), "GD_LR = 3e-3", "GD_LR = 3.03e-3"),
    Mutant("2020-11-27-reg-dl-not-norm", "another seed stream for the initialization",
           NB.format("2020-11-27-reg-dl-not-norm"), 'f"init-depth{depth}"', 'f"init2-depth{depth}"'),
    Mutant("2020-10-21-beyond-lazy-tensor", "gradient-descent step x1.01", NB.format("2020-10-21-beyond-lazy-tensor"),
           "STEP = 0.05\n", "STEP = 0.0505\n"),
    Mutant("2020-10-21-beyond-lazy-tensor", "initialization scale x1.05", NB.format("2020-10-21-beyond-lazy-tensor"),
           "INIT_SCALE = 1e-2 ", "INIT_SCALE = 1.05e-2 "),
    Mutant("2021-03-01-beyond-log-concave-2", "Langevin step x1.01", NB.format("2021-03-01-beyond-log-concave-2"),
           "STEP_SIZE = 0.01 ", "STEP_SIZE = 0.0101 "),
    Mutant("2021-03-01-beyond-log-concave-2", "gradient term of the Langevin step x0.99",
           "lib/offconvex/sampling/langevin.py", "return state.position - step_size * state.gradient",
           "return state.position - 0.99 * step_size * state.gradient"),
    Mutant("2021-03-01-beyond-log-concave-2", "plotted walker positions shifted by 0.05",
           "lib/offconvex/sampling/plots.py", "ax.plot(times, positions, lw=0.8)",
           "ax.plot(times, positions + 0.05, lw=0.8)"),
    Mutant("2021-03-12-beyond-log-concave-3", "step scale x1.01", NB.format("2021-03-12-beyond-log-concave-3"),
           "STEP_SCALE = 0.005 ", "STEP_SCALE = 0.00505 "),
    Mutant("2021-03-12-beyond-log-concave-3", "coupling step x1.01", NB.format("2021-03-12-beyond-log-concave-3"),
           "COUPLING_STEP = 0.001 ", "COUPLING_STEP = 0.00101 "),
    Mutant("2021-03-25-beyond-ntk", "learning rate x1.01", NB.format("2021-03-25-beyond-ntk"),
           "LEARNING_RATE = 1.0\n", "LEARNING_RATE = 1.01\n"),
    Mutant("2021-03-25-beyond-ntk", "one training step fewer", NB.format("2021-03-25-beyond-ntk"),
           "book=200, paper=2000)", "book=199, paper=2000)"),
    Mutant("2021-04-07-rip-van-winkle", "failure probability delta x1.01", NB.format("2021-04-07-rip-van-winkle"),
           "DELTA = 0.01 ", "DELTA = 0.0101 "),
    Mutant("2021-04-07-rip-van-winkle", "Ladder step x1.01", NB.format("2021-04-07-rip-van-winkle"),
           "LADDER_STEP = 0.01 ", "LADDER_STEP = 0.0101 "),
    Mutant("2021-06-29-small-init-spectral", "sweep step size x1.01", NB.format("2021-06-29-small-init-spectral"),
           "step=0.25,", "step=0.2525,"),
    Mutant("2021-06-29-small-init-spectral", "phase-run step size x1.01", NB.format("2021-06-29-small-init-spectral"),
           "step=0.2,", "step=0.202,"),
    Mutant("2021-07-08-imp-reg-tf", "learning rate x1.01", NB.format("2021-07-08-imp-reg-tf"),
           "lr=1e-2,\n    tol=1e-8,\n    patience=50,", "lr=1.01e-2,\n    tol=1e-8,\n    patience=50,"),
    Mutant("2021-07-08-imp-reg-tf", "stopping patience 50 -> 45 checks", NB.format("2021-07-08-imp-reg-tf"),
           "    tol=1e-8,\n    patience=50,", "    tol=1e-8,\n    patience=45,"),
    Mutant("2022-01-06-gf-gd", "one gradient-descent step fewer", NB.format("2022-01-06-gf-gd"),
           "smoke=20, book=500, paper=10_000)", "smoke=20, book=499, paper=10_000)"),
    Mutant("2022-01-06-gf-gd", "base step size x1.01", NB.format("2022-01-06-gf-gd"),
           "ETA0 = book.by_profile(PROFILE, smoke=0.05, book=0.05,",
           "ETA0 = book.by_profile(PROFILE, smoke=0.05, book=0.0505,"),
    Mutant("2022-06-06-pgdl", "one GAN step fewer", NB.format("2022-06-06-pgdl"),
           "book=2000, paper=20_000)", "book=1999, paper=20_000)"),
    Mutant("2022-06-06-pgdl", "another seed stream for the birthday batches", NB.format("2022-06-06-pgdl"),
           'birthday_rng = rng(SEED, "birthday")', 'birthday_rng = rng(SEED, "birthday2")'),
    Mutant("2022-07-15-imp-reg-htf-cnn", "learning rate x1.01", NB.format("2022-07-15-imp-reg-htf-cnn"),
           "= 2048, 1e-2, 5e-5, 100, 10", "= 2048, 1.01e-2, 5e-5, 100, 10"),
    Mutant("2022-07-15-imp-reg-htf-cnn", "hierarchical initialization x1.05", NB.format("2022-07-15-imp-reg-htf-cnn"),
           "HTF_INIT = book.by_profile(PROFILE, smoke=0.05, book=0.05,",
           "HTF_INIT = book.by_profile(PROFILE, smoke=0.05, book=0.0525,"),
    Mutant("2022-07-15-imp-reg-htf-cnn", "locality penalty x1.01", NB.format("2022-07-15-imp-reg-htf-cnn"),
           "LENGTH, CHANNELS, LAMBDA, N_TEST = 32, 16, 1.0, 2000",
           "LENGTH, CHANNELS, LAMBDA, N_TEST = 32, 16, 1.01, 2000"),
    Mutant("2022-07-15-imp-reg-htf-cnn", "half-rise markers drawn 5 % later", "lib/offconvex/factorization/plots.py",
           "ax.axvline(step, color=colors[k],", "ax.axvline(1.05 * step, color=colors[k],"),
    # every curve x1.05 under autoscaled axes: the same picture with other tick labels, which the text-free
    # image comparison ignores by design (kept to show that limit)
    Mutant("2022-07-15-imp-reg-htf-cnn", "plotted component norms x1.05", "lib/offconvex/factorization/plots.py",
           "ax.plot(steps, curves[:, k], color=colors[k],",
           "ax.plot(steps, 1.05 * curves[:, k], color=colors[k],"),
]


def select(slugs: list[str] | None) -> list[Mutant]:
    known = {mutant.slug for mutant in MUTANTS}
    for slug in slugs or []:
        if slug not in known:
            raise BookError(f"no mutants for {slug!r}; chapters with mutants: {', '.join(sorted(known))}")
    return [mutant for mutant in MUTANTS if not slugs or mutant.slug in slugs]


def apply(mutant: Mutant, root: Path) -> None:
    """Apply the mutant's change to the sources under ``root`` (a scratch copy)."""
    path = root / mutant.path
    text = path.read_text()
    if text.count(mutant.old) != 1:
        raise BookError(f"mutant {mutant.slug}: {mutant.name!r} no longer applies: {mutant.old!r} occurs "
                        f"{text.count(mutant.old)} times in {mutant.path} (update offconvex/book/mutants.py)")
    path.write_text(text.replace(mutant.old, mutant.new))


def scratch_copy(project: Project, target: Path) -> Project:
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for folder in ("notebooks", "lib"):
        shutil.copytree(project.root / folder, target / folder, ignore=ignore)
    shutil.copyfile(project.lock_file, target / "requirements.lock")
    return Project(target)


def largest_move(baselines: Path, figures: Path) -> tuple[float, str]:
    """How far the run moved the figure data most, in units of the spread the check judges it by
    (the ensemble's, pooled as in ensemble.effective_spread); 0 when nothing moved."""
    from offconvex.book.regress import _load, figure_ids, judged_spreads, pooling_of

    worst, where = 0.0, "nothing moved"
    for figure_id in figure_ids(baselines):
        baseline = _load(baselines / f"{figure_id}.json", "baseline")
        path = figures / f"{figure_id}.json"
        if not path.exists():
            return float("inf"), f"{figure_id} not produced"
        block = baseline.get("ensemble", {"spread": {}, "grids": {}})
        grids = {name: np.asarray(grid, float) for name, grid in block["grids"].items()}
        try:
            expected, actual = ensemble.features(baseline, grids), ensemble.features(_load(path, "figure"), grids)
        except (KeyError, ValueError):
            return float("inf"), f"{figure_id}: curves not comparable"
        judged = judged_spreads(expected, block["spread"], pooling_of(block))
        for name, reference in expected.items():
            value = actual.get(name)
            if not isinstance(reference, np.ndarray) or not isinstance(value, np.ndarray):
                continue
            if value.shape != reference.shape:
                return float("inf"), f"{figure_id}/{name}: shape changed"
            ratio, _ = ensemble.excess(reference, value, judged[name], 0.0, 0.0, 0.0)
            largest = float(np.nanmax(ratio, initial=0.0))
            if largest > worst:
                worst, where = largest, f"{figure_id}/{name}"
    return worst, where


def run_mutant(project: Project, mutant: Mutant, workdir: Path, timeout: float | None) -> dict:
    """Run the mutated chapter and check it as CI does: caught when at least 2 of the published run and
    its rounding retests (regress.RETESTS) lie outside the baselines (the check's 2-of-3 rule)."""
    from offconvex.book.execute import execute_in_process, kernel_environment, kernel_settings
    from offconvex.book.regress import Verdict, check_figures, retests_of
    from offconvex.book.runner import plan

    scratch = scratch_copy(project, workdir)
    apply(mutant, workdir)
    job = plan(scratch, [mutant.slug], "book", {})[0]
    baselines = project.baselines / mutant.slug

    def one_run(perturbation: int) -> tuple[dict, list[str], Path]:
        staging = workdir / f"run-{perturbation}"
        (staging / "figures").mkdir(parents=True)
        env = kernel_environment(kernel_settings(staging / "figures", "mutant", scratch.root))
        env["PYTHONPATH"] = os.pathsep.join([str(scratch.lib), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        parameters = dict(job.parameters, PERTURBATION=perturbation) if perturbation else job.parameters
        outcome = execute_in_process(job.notebook, staging, parameters, scratch.notebooks, timeout or 900, env)
        if not outcome["ok"]:
            return outcome, [f"the notebook failed: {outcome['error'][:160]}"], staging / "figures"
        return outcome, check_figures(baselines, staging / "figures", workdir / f"diff-{perturbation}"), staging / "figures"

    outcome, problems, figures = one_run(0)
    if not outcome["ok"]:
        return {"slug": mutant.slug, "mutant": mutant.name, "caught": True, "how": problems[0],
                "largest_move": None, "retests": []}
    verdict = Verdict(mutant.slug, problems, retests_of(problems, lambda perturbation: one_run(perturbation)[1]))
    retests = [{"perturbation": perturbation, "problems": len(found), "first": found[0] if found else ""}
               for perturbation, found in verdict.retests]
    move, where = largest_move(baselines, figures)
    return {"slug": mutant.slug, "mutant": mutant.name, "caught": not verdict.accepted,
            "how": problems[0] if problems else "", "problems": len(problems), "retests": retests,
            "largest_move": move, "largest_move_at": where, "seconds": outcome["seconds"]}


def study(project: Project, slugs: list[str] | None, jobs: int | None, timeout: float | None = None,
          echo=print) -> int:
    """Run every selected mutant; print and write ``_build/mutants.json``; exit 1 unless all are caught."""
    mutants = select(slugs)
    for mutant in mutants:  # refuse stale mutants before anything runs
        apply(mutant, _dry_run_root(project, mutant))
    results = []
    with tempfile.TemporaryDirectory(prefix="offconvex-mutants-") as scratch, \
            ThreadPoolExecutor(max_workers=max(1, jobs or 1)) as pool:
        def one(indexed):
            index, mutant = indexed
            result = run_mutant(project, mutant, Path(scratch) / str(index), timeout)
            mark = "caught" if result["caught"] else "MISSED"
            move = result["largest_move"]
            moved = "" if move is None else f"; largest move {ensemble.describe_ratio(move)} at {result['largest_move_at']}"
            echo(f"[{mark:<7}] {mutant.slug}: {mutant.name}{moved}", flush=True)
            if result["how"]:
                echo(f"          {result['how'][:240]}", flush=True)
            for retest in result.get("retests", []):
                echo(f"          retest PERTURBATION={retest['perturbation']}: "
                     + (f"outside too: {retest['first'][:200]}" if retest["problems"] else "inside the ensemble"),
                     flush=True)
            return result

        results = list(pool.map(one, enumerate(mutants)))
    project.build.mkdir(parents=True, exist_ok=True)
    (project.build / "mutants.json").write_text(json.dumps(results, indent=1, allow_nan=True))
    caught = sum(result["caught"] for result in results)
    echo(f"{caught} of {len(results)} mutants caught ({100 * caught / max(1, len(results)):.0f} %); "
         f"details in {project.build / 'mutants.json'}")
    return 0 if caught == len(results) else 1


def _dry_run_root(project: Project, mutant: Mutant) -> Path:
    """A throw-away copy of just the mutated file, to check that the mutant still applies."""
    folder = Path(tempfile.mkdtemp(prefix="offconvex-mutant-check-"))
    (folder / mutant.path).parent.mkdir(parents=True, exist_ok=True)
    source = project.root / mutant.path
    if not source.exists():
        raise BookError(f"mutant {mutant.slug}: {mutant.name!r} names a missing file {mutant.path}")
    shutil.copyfile(source, folder / mutant.path)
    return folder
