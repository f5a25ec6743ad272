"""Command line: python -m offconvex {run,book,baselines,check,report,seeds,bench,lock} ...

Exit codes: 0 done; 1 a notebook failed or the regression found a change; 2 bad input (unknown notebook,
profile or parameter, a corrupt cache entry or baseline, ...), said in one line; 3 the file system refused
(read-only folder, full disk), said in one line; 130 interrupted (Ctrl-C). Nothing already published is
changed by a run that stops early.
"""

import argparse
import errno
import os
import sys
from pathlib import Path

from offconvex.book.project import PROFILES, BookError, Project

EPILOG = """examples:
  python -m offconvex run                              every notebook, book profile, cached
  python -m offconvex run 2020-11-27-reg-dl-not-norm --profile smoke -p SEED 3
  python -m offconvex book                             run (5 seeds) + report + jupyter-book build
  python -m offconvex run --scheduler tcp://host:8786  execute on a Dask cluster (see README)
  python -m offconvex check                            regress figures and claims against tests/baselines
  python -m offconvex baselines SLUG                   regenerate baselines with their rounding ensemble
  python -m offconvex mutants SLUG                     which small real changes the regression catches
  python -m offconvex seeds --seeds 1 2 -- SLUG        which claims change verdict at other seeds

exit codes: 0 done, 1 a notebook failed or a regression was found, 2 bad input, 3 file system error,
130 interrupted
"""


def _parameters(pairs) -> dict:
    from offconvex.book.params import parse_value

    return {name: parse_value(value) for name, value in pairs or []}


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def positive_seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return value


def seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a seed; to name chapters, put them before --seeds "
                                         "or end the seeds with --") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"seeds are 0 or more, got {value}")
    return value


def _add_run_options(parser, profile_default="book"):
    parser.add_argument("slugs", nargs="*", metavar="SLUG", help="notebooks to run (default: all written)")
    parser.add_argument("--profile", default=profile_default, choices=PROFILES,
                        help=f"sizes to run at (default {profile_default})")
    parser.add_argument("--jobs", "-j", type=positive_int, default=None, help="parallel kernels (default: cores)")
    parser.add_argument("--force", action="store_true", help="ignore the cache and re-execute")
    parser.add_argument("--timeout", type=positive_seconds, default=None,
                        help="seconds any one cell may run before the notebook is stopped "
                             "(default: 300 smoke, 900 book, 21600 paper)")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"),
                        help="override a notebook parameter, e.g. -p SEED 3")
    parser.add_argument("--scheduler", metavar="ADDRESS", default=None,
                        help="execute on the Dask cluster at ADDRESS, e.g. tcp://host:8786 (default: this machine; "
                             "--jobs then defaults to the cluster's worker threads)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m offconvex", epilog=EPILOG,
                                     description="Execute, check and publish the offconvex companion book.",
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_run_options(commands.add_parser("run", help="execute notebooks with papermill (cached)"))
    book = commands.add_parser("book", help="run notebooks (at 5 seeds), write the report, build _build/html")
    _add_run_options(book)
    book.add_argument("--extra-seeds", type=non_negative_int, default=None, metavar="N",
                      help="seeds besides the published one at which every claim is judged (default 4; "
                           "0: the published seed only)")
    check = commands.add_parser("check", help="compare figures and claims of the last book run with baselines")
    check.add_argument("slugs", nargs="*", metavar="SLUG")
    baselines = commands.add_parser("baselines", help="regenerate tests/baselines from the book profile and its "
                                                      "rounding ensemble")
    baselines.add_argument("slugs", nargs="*", metavar="SLUG")
    baselines.add_argument("--jobs", "-j", type=positive_int, default=None)
    baselines.add_argument("--members", type=positive_int, default=None,
                           help="rounding-perturbed runs besides the published one (default: 7)")
    baselines.add_argument("--seeds-only", action="store_true",
                           help="only the claims' verdicts at the book's other seeds (seeds.json); the ensemble "
                                "baselines are kept")
    mutants = commands.add_parser("mutants", help="apply small real changes; report which the regression catches")
    mutants.add_argument("slugs", nargs="*", metavar="SLUG")
    mutants.add_argument("--jobs", "-j", type=positive_int, default=None)
    commands.add_parser("report", help="write the generated pages (report, gallery, stubs) from the run records")
    bench = commands.add_parser("bench", help="time the book cold, warm and smoke -> _build/bench.json")
    bench.add_argument("--jobs", "-j", type=positive_int, default=2)
    seeds = commands.add_parser("seeds", help="run the book profile at other seeds; which claims depend on the seed")
    seeds.add_argument("slugs", nargs="*", metavar="SLUG")
    # A slug after the seeds would be read as one more seed: end the list with `--` (or put slugs first).
    seeds.add_argument("--seeds", nargs="+", type=seed, default=None, metavar="SEED",
                       help="seeds besides each chapter's own (default: 1 2 3 4, the book's); end the list with -- "
                            "before slugs")
    seeds.add_argument("--jobs", "-j", type=positive_int, default=None)
    commands.add_parser("lock", help="rewrite requirements.lock and environment.yml from this environment")
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    from offconvex.book.provenance import git_commit

    try:
        installed = version("offconvex")
    except PackageNotFoundError:
        installed = "not installed"
    return f"offconvex {installed} (commit {git_commit(Project.default().root)})"


def _check_slugs(project: Project, slugs: list[str]) -> None:
    written = project.written_slugs()
    unknown = [slug for slug in slugs if slug not in written]
    if unknown:
        raise BookError(f"unknown chapter {', '.join(unknown)}; the chapters are: {', '.join(written)}")


def _check_checkout(project: Project) -> None:
    """A copied checkout whose .venv still points at the original tree would run (and write) the original."""
    if os.environ.get("OFFCONVEX_ROOT"):  # the tree was named on purpose (tests, cluster workers)
        return
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "lib" / "offconvex" / "__init__.py").is_file() and (folder / "Makefile").is_file():
            if folder != project.root.resolve():
                raise BookError(f"this checkout ({folder}) runs the library of another one ({project.root}): "
                                f"its edits would be ignored; run `make install` here (or "
                                f"`.venv/bin/pip install --no-deps -e .`) to point the environment at it")
            return


def main(argv=None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("\ninterrupted: the running notebooks were stopped; nothing published was changed "
              "(run the command again to resume from the cache)", file=sys.stderr)
        return 130
    except OSError as error:
        where = f" {error.filename}" if error.filename else ""
        why = "the disk is full" if error.errno == errno.ENOSPC else (error.strerror or str(error))
        print(f"error: cannot write{where}: {why}; free space or make the folder writable, then run again "
              "(nothing published was changed)", file=sys.stderr)
        return 3


def _main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    project = Project.default()
    try:
        _check_checkout(project)
        if getattr(args, "slugs", None):
            _check_slugs(project, args.slugs)
        if args.command == "run":
            from offconvex.book.runner import run

            results = run(project, args.slugs, args.profile, _parameters(args.parameter), args.jobs,
                          args.force, args.timeout, scheduler=args.scheduler)
            return _exit_code(results)
        if args.command == "book":
            from offconvex.book.seeds import EXTRA_SEEDS
            from offconvex.book.site import build_book

            extra = EXTRA_SEEDS if args.extra_seeds is None else args.extra_seeds
            return build_book(project, args.slugs, args.profile, _parameters(args.parameter), args.jobs,
                              args.force, args.timeout, scheduler=args.scheduler, extra_seeds=extra)
        if args.command == "check":
            from offconvex.book.regress import check_all

            return check_all(project, args.slugs)
        if args.command == "baselines":
            from offconvex.book.regress import DEFAULT_MEMBERS, update_baselines

            return update_baselines(project, args.slugs, args.jobs, args.members or DEFAULT_MEMBERS,
                                    seeds_only=args.seeds_only)
        if args.command == "mutants":
            from offconvex.book.mutants import study

            return study(project, args.slugs, args.jobs)
        if args.command == "report":
            from offconvex.book.site import write_pages

            write_pages(project, failed={})  # everything the toc names, so a manual build finds it all
            return 0
        if args.command == "bench":
            from offconvex.book.bench import bench

            return bench(project, args.jobs)
        if args.command == "seeds":
            from offconvex.book.seeds import other_seeds, sweep

            return sweep(project, args.seeds or other_seeds(0), args.slugs, args.jobs)
        if args.command == "lock":
            from offconvex.book.lock import write_lock

            return write_lock(project)
    except BookError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def _exit_code(results) -> int:
    failed = [result.slug for result in results if not result.ok]
    if failed:
        print(f"{len(failed)} of {len(results)} notebooks failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0
