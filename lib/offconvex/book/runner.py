"""Execute chapter notebooks with papermill: in parallel, cached by content, failures isolated.

Each notebook runs in its own worker process and kernel, with one thread per kernel. Outputs are built
in a staging folder and only replace what was published after the notebook succeeded, so a failing
run never loses an earlier good one.
"""

import json
import os
import shutil
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import nbformat

from offconvex.book import cache
from offconvex.book.chapters import BY_SLUG
from offconvex.book.claims import summarize
from offconvex.book.execute import (
    Job,
    execute_in_process,
    kernel_environment,
    kernel_settings,
    stop_running_workers,
)
from offconvex.book.params import parameter_comments, resolve_parameters
from offconvex.book.project import BookError, Project, check_profile
from offconvex.book.provenance import git_commit, versions
from offconvex.core import memo
from offconvex.core.memo import MEMO_DIR_ENV

DEFAULT_TIMEOUT = {"smoke": 300, "book": 900, "paper": 6 * 3600}  # seconds per notebook: a safety net
HIDDEN_CELL_TAGS = ("parameters", "injected-parameters")
BUILT_IN_PARAMETERS = {"PROFILE": "sizes: smoke (seconds), book (published) or paper (the paper's scale)",
                       "SEED": "seed of every random stream of the chapter"}


@dataclass
class Result:
    slug: str
    status: str  # executed | cached | failed
    record: dict | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status != "failed"


def plan(project: Project, slugs: list[str] | None, profile: str, overrides: dict) -> list[Job]:
    """Validate everything before anything runs: slugs, profile, parameter names and types."""
    check_profile(profile)
    written = project.written_slugs()
    slugs = list(slugs) if slugs else written
    for slug in slugs:
        if slug not in written:
            hint = "it is planned but has no notebook yet" if slug in BY_SLUG else "no such chapter"
            raise BookError(f"unknown notebook {slug!r} ({hint}); available: {', '.join(written) or 'none'}")
    jobs = []
    for slug in dict.fromkeys(slugs):
        notebook = project.notebook(slug)
        parameters = resolve_parameters(notebook, profile, overrides)
        jobs.append(Job(slug, notebook, profile, parameters, cache.cache_key(project, slug, profile, parameters)))
    return jobs


def memo_folder(project: Project) -> Path:
    """Results of ``map_configurations`` calls that later runs of this build may reuse (core.memo)."""
    return project.build / "memo"


def execute_locally(project: Project, job: Job, staging: Path, timeout: float, commit: str,
                    progress=None) -> dict:
    """The default executor: a worker process on this machine, writing straight into ``staging``."""
    env = kernel_environment(kernel_settings(staging / "figures", commit, project.root))
    env[MEMO_DIR_ENV] = str(memo_folder(project))
    return execute_in_process(job.notebook, staging, job.parameters, project.notebooks, timeout, env, progress)


# A notebook still running after PROGRESS_AFTER_S says which cell it is in, every PROGRESS_EVERY_S seconds
# on a terminal and every minute in a log (CI), so that long chapters are not silent.
PROGRESS_AFTER_S = 20
PROGRESS_EVERY_S = {True: 15, False: 60}


def _show_parameters_as_a_table(path: Path, job: Job) -> None:
    """Hide papermill's code cells of parameters; show the values this run used as a table in their place.

    The code cells stay in the downloaded notebook (they are what a reader edits to re-run it).
    """
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if any(tag in tags for tag in HIDDEN_CELL_TAGS) and "remove-cell" not in tags:
            tags.append("remove-cell")
    first = next((i for i, cell in enumerate(nb.cells) if "parameters" in cell.metadata.get("tags", [])), None)
    if first is not None:
        table = nbformat.v4.new_markdown_cell(parameters_table(job.slug, job.parameters, parameter_comments(job.notebook)))
        table.metadata["tags"] = ["offconvex-parameters"]
        nb.cells.insert(first, table)
    nbformat.write(nb, path)


def parameters_table(slug: str, values: dict, comments: dict) -> str:
    """Markdown: the parameters a run used, each with what it means, and how to change one."""
    comments = dict(BUILT_IN_PARAMETERS, **comments)
    rows = [f"| `{name}` | `{value!r}` | {comments.get(name, '').replace('|', '/')} |" for name, value in values.items()]
    return (f"**Parameters of this run.** Re-run with others: `python -m offconvex run {slug} "
            "--profile PROFILE -p NAME VALUE`.\n\n"
            "| parameter | value | meaning |\n|---|---|---|\n" + "\n".join(rows))


def _collect_record(job: Job, staging: Path, outcome: dict, commit: str) -> dict:
    figures = staging / "figures"
    claims_file = figures / "claims.json"
    claims = json.loads(claims_file.read_text()) if claims_file.exists() else []
    return {
        "slug": job.slug,
        "profile": job.profile,
        "parameters": job.parameters,
        "seconds": outcome["seconds"],
        "peak_memory_mb": outcome["peak_memory_mb"],
        "claims": claims,
        "figures": sorted(p.stem for p in figures.glob("*.json") if p.name != "claims.json"),
        "versions": versions(),
        "commit": commit,
        "cache_key": job.key,
    }


def _execute(project: Project, job: Job, timeout: float, commit: str,
             executor=execute_locally) -> tuple[Path | None, str | None]:
    """Run one notebook into a staging folder with ``executor``; on success turn it into the cache entry.

    ``executor(project, job, staging, timeout, commit)`` leaves the executed notebook and figures in
    ``staging`` and returns the outcome; everything after it is the same for local and cluster runs.
    """
    entry = cache.entry_path(project, job.slug, job.key)
    staging = entry.parent / f".staging-{job.key}-{os.getpid()}-{threading.get_ident()}"
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "figures").mkdir(parents=True)
    outcome = executor(project, job, staging, timeout, commit)
    if not outcome["ok"]:
        partial = staging / "executed.ipynb"
        if partial.exists():
            project.failed.mkdir(parents=True, exist_ok=True)
            shutil.move(partial, project.failed / f"{job.slug}.ipynb")
            outcome["error"] += f"; partial notebook: {project.failed / job.slug}.ipynb"
        shutil.rmtree(staging, ignore_errors=True)
        return None, outcome["error"]
    _show_parameters_as_a_table(staging / "executed.ipynb", job)
    record = _collect_record(job, staging, outcome, commit)
    (staging / "record.json").write_text(json.dumps(record, indent=1, allow_nan=True))
    cache.write_manifest(staging)
    if entry.exists():  # --force: the old entry goes only now that the new one is complete
        shutil.rmtree(entry)
    staging.rename(entry)
    cache.prune(project, job.slug, keep=entry)
    return entry, None


def _replace_tree(source: Path, target: Path) -> None:
    """Copy ``source`` over ``target`` so that ``target`` is never half-written."""
    fresh = target.with_name(target.name + ".new")
    shutil.rmtree(fresh, ignore_errors=True)
    shutil.copytree(source, fresh)
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    fresh.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def _replace_file(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fresh = target.with_name(target.name + ".new")
    shutil.copyfile(source, fresh)
    os.replace(fresh, target)


def publish(project: Project, slug: str, entry: Path) -> dict:
    """Expose a cache entry as the chapter's executed notebook, figures and run record."""
    _replace_file(entry / "executed.ipynb", project.posts / f"{slug}.ipynb")
    project.figures.mkdir(parents=True, exist_ok=True)
    _replace_tree(entry / "figures", project.figures / slug)
    _replace_file(entry / "record.json", project.runs / f"{slug}.json")
    return json.loads((entry / "record.json").read_text())


def _summary(record: dict) -> str:
    return (f"{record['seconds']:6.1f} s  {record['peak_memory_mb']:6.0f} MB  "
            f"{summarize(record['claims'])}  figures {len(record['figures'])}")


@contextmanager
def _executor(scheduler: str | None):
    """``(executor, slots)``: local worker processes, or tasks on the cluster at ``scheduler``."""
    if not scheduler:
        yield execute_locally, os.cpu_count() or 1
        return
    from offconvex.book.cluster import connect

    with connect(scheduler) as cluster:
        yield cluster.execute, cluster.threads()


def _record_only(project: Project, slug: str, entry: Path) -> dict:
    return json.loads((entry / "record.json").read_text())


def run(project: Project, slugs: list[str] | None = None, profile: str = "book", overrides: dict | None = None,
        jobs: int | None = None, force: bool = False, timeout: float | None = None,
        echo=print, scheduler: str | None = None, publish_outputs: bool = True) -> list[Result]:
    """Execute (or take from the cache) the given notebooks; one failure never stops the others.

    With ``scheduler`` (a Dask scheduler address) each execution is a task on that cluster; ``jobs``
    then defaults to the cluster's worker threads. With ``publish_outputs=False`` the runs only fill the
    cache (ensemble members, retests): the published notebooks, figures and run records stay as they were.
    """
    planned = plan(project, slugs, profile, overrides or {})
    return execute_plan(project, [(job, publish_outputs) for job in planned], jobs, force, timeout, echo, scheduler)


def execute_plan(project: Project, planned: list[tuple[Job, bool]], jobs: int | None = None, force: bool = False,
                 timeout: float | None = None, echo=print, scheduler: str | None = None) -> list[Result]:
    """Execute planned jobs ``(job, publish)`` in one pool, in the given order (results in that order).

    One pool for everything keeps every worker busy to the end: the seed runs of `make book` queue
    behind the published runs instead of waiting for the slowest of them.
    """
    commit = git_commit(project.root)
    if scheduler is None:  # --force recomputes from scratch: earlier runs' results are not reused either
        memo.prune(memo_folder(project), keep_current=not force)
    width = max(len(job.slug) for job, _ in planned) if planned else 0
    lock = threading.Lock()
    counter = iter(range(1, len(planned) + 1))

    def say(tag, job, text=""):
        with lock:
            echo(f"[{tag:<7}] {job.slug:<{width}}  {text}".rstrip(), flush=True)

    interrupted = threading.Event()
    terminal = sys.stdout.isatty()

    def one(job: Job, publish_output: bool, executor) -> Result:
        take = publish if publish_output else _record_only
        limit = timeout or DEFAULT_TIMEOUT[job.profile]
        label = "" if publish_output else f" at seed {job.parameters.get('SEED')}" + (
            f", perturbation {job.parameters['PERTURBATION']}" if job.parameters.get("PERTURBATION") else "")
        entry = cache.entry_path(project, job.slug, job.key)
        if entry.exists() and not force:
            problem = cache.verify(entry)
            if problem is None:
                record = take(project, job.slug, entry)
                say("cached", job, _summary(record) + label)
                return Result(job.slug, "cached", record)
            say("corrupt", job, f"cache entry {entry.name} is corrupt ({problem}); re-executing")
            shutil.rmtree(entry, ignore_errors=True)
        say("start", job, f"profile {job.profile}{label}, #{next(counter)} of {len(planned)}")
        started = time.perf_counter()
        shown = [started + PROGRESS_AFTER_S - PROGRESS_EVERY_S[terminal]]

        def progress(cell: int, cells: int) -> None:
            now = time.perf_counter()
            if now - shown[0] >= PROGRESS_EVERY_S[terminal]:
                shown[0] = now
                say("running", job, f"cell {cell} of {cells}, {now - started:.0f} s{label}")

        if executor is execute_locally:
            entry, error = _execute(project, job, limit, commit,
                                    lambda *args: execute_locally(*args, progress=progress))
        else:
            entry, error = _execute(project, job, limit, commit, executor)
        if error and interrupted.is_set():
            return Result(job.slug, "failed", error="interrupted")
        if error:
            say("FAILED", job, f"after {time.perf_counter() - started:.1f} s{label}: {error}")
            return Result(job.slug, "failed", error=error)
        record = take(project, job.slug, entry)
        say("done", job, _summary(record) + label)
        return Result(job.slug, "executed", record)

    with _executor(scheduler) as (executor, slots):
        # As locally, at most `jobs` notebooks are in flight (on a cluster: one per worker thread), so
        # notebooks never oversubscribe the workers; a notebook waiting for its configuration tasks
        # lends its thread to them (see cluster.py).
        pool = ThreadPoolExecutor(max_workers=max(1, jobs or slots))
        try:
            return list(pool.map(lambda item: one(*item, executor), planned))
        except KeyboardInterrupt:
            interrupted.set()
            pool.shutdown(wait=False, cancel_futures=True)
            stop_running_workers()
            raise
        finally:
            pool.shutdown(wait=True)
