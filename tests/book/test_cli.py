"""The command line under bad input and faults: one line saying what is wrong and what to do, and a
documented exit code (cli module docstring)."""

import errno
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from offconvex import cli
from offconvex.book.lock import write_lock

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("argv, message", [
    (["run", "--jobs", "0"], "argument --jobs/-j: must be 1 or more, got 0"),
    (["run", "--jobs", "-3"], "argument --jobs/-j: must be 1 or more, got -3"),
    (["run", "--timeout", "0"], "argument --timeout: must be a positive number of seconds, got 0"),
    (["run", "--timeout", "-5"], "argument --timeout: must be a positive number of seconds, got -5"),
    (["seeds", "--seeds", "0", "2020-11-27-reg-dl-not-norm"], "is not a seed; to name chapters, put them before"),
    (["seeds", "--seeds", "-1"], "seeds are 0 or more, got -1"),
])
def test_bad_numbers_are_refused_by_the_parser(argv, message, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(argv)
    assert stop.value.code == 2 and message in capsys.readouterr().err


def test_an_unknown_chapter_is_named_before_anything_runs(capsys):
    assert cli.main(["check", "bogus-slug"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: unknown chapter bogus-slug; the chapters are: ")
    assert "2020-11-11-instahide" in err and "2021-06-29-small-init-spectral" in err
    assert "make baselines" not in err and "\n" not in err


def test_version_names_the_package_and_commit(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.startswith("offconvex ")


def test_interrupt_and_file_system_errors_are_one_line_with_an_exit_code(monkeypatch, capsys):
    def interrupted(argv):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_main", interrupted)
    assert cli.main([]) == 130
    assert "interrupted: the running notebooks were stopped" in capsys.readouterr().err

    def read_only(argv):
        raise PermissionError(errno.EACCES, "Permission denied", "_build/runs/x.json")

    monkeypatch.setattr(cli, "_main", read_only)
    assert cli.main([]) == 3
    err = capsys.readouterr().err.strip()
    assert err == ("error: cannot write _build/runs/x.json: Permission denied; free space or make the folder "
                   "writable, then run again (nothing published was changed)")

    def full(argv):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cli, "_main", full)
    assert cli.main([]) == 3 and "the disk is full" in capsys.readouterr().err


def test_a_copied_checkout_is_told_it_runs_the_original(tmp_path, monkeypatch, capsys):
    copy = tmp_path / "copy"
    (copy / "lib" / "offconvex").mkdir(parents=True)
    (copy / "lib" / "offconvex" / "__init__.py").write_text("")
    (copy / "Makefile").write_text("")
    monkeypatch.chdir(copy)
    assert cli.main(["check"]) == 2
    err = capsys.readouterr().err
    assert f"this checkout ({copy.resolve()}) runs the library of another one" in err and "make install" in err


def test_lock_leaves_identical_files_untouched(scratch_project, capsys):
    shutil.copyfile(ROOT / "requirements.lock", scratch_project.lock_file)
    write_lock(scratch_project)
    before = {p: p.stat().st_mtime_ns for p in (scratch_project.lock_file, scratch_project.root / "environment.yml")}
    os.utime(scratch_project.lock_file, ns=(1, 1))
    os.utime(scratch_project.root / "environment.yml", ns=(1, 1))
    assert write_lock(scratch_project) == 0
    assert "nothing written" in capsys.readouterr().out
    assert all(p.stat().st_mtime_ns == 1 for p in before)


def test_make_help_lists_every_target():
    out = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True).stdout
    targets = {line.split()[1] for line in out.splitlines() if line.startswith("make ")}
    declared = next(line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith(".PHONY:"))
    assert set(declared.split()[1:]) - {"help"} <= targets


def test_the_module_docstring_documents_the_exit_codes():
    assert all(code in cli.__doc__ for code in ("0 done", "1 a notebook failed", "2 bad input", "3 the file",
                                                "130 interrupted"))


def test_bench_writes_the_generated_pages_before_building_the_site(scratch_project, monkeypatch, capsys):
    """A fresh clone has no book/reproducibility.md or gallery.md: the site build needs them first."""
    from offconvex.book import bench
    from offconvex.book.runner import Result

    order = []
    record = {"seconds": 1.0, "peak_memory_mb": 10.0}
    monkeypatch.setattr(bench, "run", lambda **kw: [Result("x", "executed", record)])
    monkeypatch.setattr(bench, "run_with_seeds", lambda *a, **kw: ([Result("x", "executed", record)], {}))
    monkeypatch.setattr(bench, "_timed_on_local_cluster", lambda project, jobs: (1.0, [Result("x", "executed", record)]))
    monkeypatch.setattr(bench, "write_pages", lambda project, failed: order.append("pages"))
    monkeypatch.setattr(bench, "build_site", lambda project: order.append("site") or 0)
    assert bench.bench(scratch_project, jobs=1) == 0
    assert order == ["pages", "site"]
    table = capsys.readouterr().out
    # the Dask line says which figure the budget judges; the load-normalized one is marked as not judged
    assert "(judged: Dask smoke wall time over the local one)" in table and "not judged: dask_overhead" in table
