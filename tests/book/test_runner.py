"""The runner: validation before anything runs, failure isolation, the content-keyed cache."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import toy_notebook
from offconvex.book import cache
from offconvex.book.params import parse_value, resolve_parameters
from offconvex.book.project import BookError
from offconvex.book.runner import plan, run

GOOD = """\
import matplotlib.pyplot as plt
import numpy as np
from offconvex import book
book.start("good", PROFILE, SEED)
x = np.arange(5) * SCALE
fig, ax = plt.subplots()
ax.plot(x, x ** 2)
book.save_figure(fig, "fig1-square", data={"x": x, "y": x ** 2}, caption="Squares.")
book.claim("squares grow", bool(np.all(np.diff(x ** 2) > 0)), last=float(x[-1] ** 2))
book.claims_table()
"""

BAD = """\
from offconvex import book
book.start("bad", PROFILE, SEED)
raise ValueError("deliberate failure for the test")
"""


def write(project, slug, body):
    project.notebook(slug).write_text(toy_notebook(body))


def quiet(*args, **kwargs):
    pass


def test_parse_value_reads_literals_and_strings():
    assert parse_value("3") == 3 and parse_value("1e-3") == 1e-3 and parse_value("true") is True
    assert parse_value("smoke") == "smoke" and parse_value("[1, 2]") == [1, 2]


def test_unknown_slug_profile_and_parameter_are_refused_before_running(scratch_project):
    write(scratch_project, "good", GOOD)
    with pytest.raises(BookError, match="unknown notebook 'nope'"):
        plan(scratch_project, ["nope"], "book", {})
    with pytest.raises(BookError, match="unknown profile 'huge'"):
        plan(scratch_project, ["good"], "huge", {})
    with pytest.raises(BookError, match="unknown parameter SEEDS for good; its parameters are"):
        plan(scratch_project, ["good"], "book", {"SEEDS": 1})
    assert not scratch_project.build.exists()  # nothing ran, nothing was written


def test_wrong_parameter_type_names_the_expected_type(scratch_project):
    write(scratch_project, "good", GOOD)
    notebook = scratch_project.notebook("good")
    with pytest.raises(BookError, match=r"parameter SEED of good expects int \(default 0\), got 'x'"):
        resolve_parameters(notebook, "book", {"SEED": "x"})
    with pytest.raises(BookError, match="expects int"):
        resolve_parameters(notebook, "book", {"SEED": True})
    assert resolve_parameters(notebook, "smoke", {"SCALE": 3})["SCALE"] == 3.0  # int widens to float


def test_cache_key_covers_notebook_library_lock_profile_and_parameters(scratch_project):
    write(scratch_project, "good", GOOD)
    params = {"PROFILE": "book", "SEED": 0, "SCALE": 2.0}
    key = cache.cache_key(scratch_project, "good", "book", params)
    assert key == cache.cache_key(scratch_project, "good", "book", dict(params))
    assert key != cache.cache_key(scratch_project, "good", "smoke", params)
    assert key != cache.cache_key(scratch_project, "good", "book", dict(params, SEED=1))
    (scratch_project.lib / "offconvex" / "module.py").write_text("VALUE = 2\n")
    changed_lib = cache.cache_key(scratch_project, "good", "book", params)
    assert changed_lib != key
    scratch_project.lock_file.write_text("numpy==0\n")
    assert cache.cache_key(scratch_project, "good", "book", params) != changed_lib
    assert key != cache.cache_key(scratch_project, "good", "book", dict(params, PERTURBATION=1))


def test_driver_only_modules_do_not_change_the_key_and_no_kernel_code_imports_them(scratch_project):
    write(scratch_project, "good", GOOD)
    params = {"PROFILE": "book", "SEED": 0, "SCALE": 2.0}
    key = cache.cache_key(scratch_project, "good", "book", params)
    report = scratch_project.lib / "offconvex" / "book" / "report.py"
    report.parent.mkdir(parents=True)
    report.write_text("# reads run records only\n")
    assert cache.cache_key(scratch_project, "good", "book", params) == key
    # What a kernel imports must be hashed: no notebook and no module outside DRIVER_ONLY imports a driver
    # module (else editing it could change a figure while the cache kept the old one).
    import ast

    driver = {path.removesuffix(".py").replace("/", ".") for path in cache.DRIVER_ONLY}
    root = Path(__file__).resolve().parents[2]
    sources = [p for p in (root / "lib").rglob("*.py")
               if p.relative_to(root / "lib").as_posix() not in cache.DRIVER_ONLY]
    sources += sorted((root / "notebooks").glob("*.py"))
    for source in sources:
        for node in ast.walk(ast.parse(source.read_text())):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import) else
                     [node.module] + [f"{node.module}.{a.name}" for a in node.names]
                     if isinstance(node, ast.ImportFrom) and node.module else [])
            assert not driver & set(names), f"{source.name} imports a driver-only module {driver & set(names)}"


def test_failure_is_isolated_reported_and_keeps_earlier_outputs(scratch_project):
    write(scratch_project, "good", GOOD)
    write(scratch_project, "bad", BAD)
    lines = []
    results = {r.slug: r for r in run(scratch_project, jobs=2, echo=lambda *a, **k: lines.append(a[0]))}
    assert results["good"].status == "executed" and results["bad"].status == "failed"
    assert "ValueError: deliberate failure for the test" in results["bad"].error
    # numbered as in the .py the user edits (papermill's injected cell not counted), with its line
    bad_lines = scratch_project.notebook("bad").read_text().splitlines()
    body_line = max(i for i, line in enumerate(bad_lines, 1) if line.startswith("# %%")) + 1
    assert f"cell 2 of notebooks/bad.py (line {body_line}): ValueError" in results["bad"].error
    assert (scratch_project.failed / "bad.ipynb").exists()
    record = json.loads((scratch_project.runs / "good.json").read_text())
    assert record["claims"][0]["passed"] and record["figures"] == ["fig1-square"]
    assert record["peak_memory_mb"] > 10 and record["parameters"]["SCALE"] == 2.0
    assert any(line.startswith("[FAILED ] bad") for line in lines)
    assert any(line.startswith("[done   ] good") and "claims 1 of 1 reproduced, 0 not reproduced, 0 failing"
               in line for line in lines)
    # A later failing version of 'good' must not remove what was published before.
    published = (scratch_project.posts / "good.ipynb").read_bytes()
    write(scratch_project, "good", BAD.replace('"bad"', '"good"'))
    assert not run(scratch_project, ["good"], echo=quiet)[0].ok
    assert (scratch_project.posts / "good.ipynb").read_bytes() == published
    assert (scratch_project.figures / "good" / "fig1-square.png").exists()


def test_cache_hit_and_corrupt_entry_is_re_executed(scratch_project):
    write(scratch_project, "good", GOOD)
    first = run(scratch_project, ["good"], echo=quiet)[0]
    assert first.status == "executed"
    assert run(scratch_project, ["good"], echo=quiet)[0].status == "cached"
    entry = cache.entry_path(scratch_project, "good", first.record["cache_key"])
    (entry / "figures" / "fig1-square.json").write_text("{broken")
    lines = []
    again = run(scratch_project, ["good"], echo=lambda *a, **k: lines.append(a[0]))[0]
    assert again.status == "executed"
    assert any("corrupt (checksum mismatch in figures/fig1-square.json); re-executing" in line for line in lines)
    assert json.loads((scratch_project.figures / "good" / "fig1-square.json").read_text())["data"]["y"][-1] == 64.0
    assert run(scratch_project, ["good"], force=True, echo=quiet)[0].status == "executed"


def test_kernels_never_inherit_a_fixed_malloc_trim_threshold(monkeypatch):
    from offconvex.book.execute import kernel_environment

    # Dask exports it in the process that starts its workers; with it, small-tensor loops run 2x slower.
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    env = kernel_environment({"OMP_NUM_THREADS": "1"})
    assert "MALLOC_TRIM_THRESHOLD_" not in env and "MPLBACKEND" not in env and env["OMP_NUM_THREADS"] == "1"


def test_pruning_keeps_ensemble_members_apart_from_other_runs(scratch_project, monkeypatch):
    import json
    import os

    monkeypatch.setattr(cache, "KEEP_PER_SLUG", 2)
    monkeypatch.setattr(cache, "KEEP_MEMBERS_PER_SLUG", 3)
    folder = scratch_project.cache / "toy"

    def entry(name, member, age):
        path = folder / name
        path.mkdir(parents=True)
        (path / "record.json").write_text(json.dumps({"parameters": {"PERTURBATION": member}}))
        os.utime(path, (1000 - age, 1000 - age))
        return path

    runs = [entry(f"run{i}", 0, i) for i in range(4)]
    members = [entry(f"member{i}", i + 1, 10 + i) for i in range(5)]
    in_flight = folder / ".staging-abc"
    in_flight.mkdir()
    cache.prune(scratch_project, "toy", keep=runs[0])
    assert sorted(p.name for p in folder.iterdir()) == [".staging-abc", "member0", "member1", "member2", "run0", "run1"]
    assert all(m.exists() for m in members[:3])


SLEEPER = """\
import time
from offconvex import book
book.start("sleeper", PROFILE, SEED)
time.sleep(120)
"""


def _kernels_of(folder: Path) -> list[int]:
    """Live kernels whose environment points their figures into ``folder`` (not the worker that starts
    one, whose environment says the same: a SIGINT must come once the notebook runs)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if str(folder).encode() in (proc / "environ").read_bytes() and proc.name != str(os.getpid()) \
                    and b"ipykernel" in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc to find the kernel")
def test_sigint_to_the_runner_alone_stops_its_kernels_and_publishes_nothing(scratch_project):
    write(scratch_project, "sleeper", SLEEPER)
    env = dict(os.environ, OFFCONVEX_ROOT=str(scratch_project.root))
    # A test session started in the background by a shell (`make test &`) ignores SIGINT, and so would
    # the runner it starts (Python keeps an ignored SIGINT ignored): give the runner the default back.
    runner = subprocess.Popen([sys.executable, "-m", "offconvex", "run", "sleeper"], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while not _kernels_of(scratch_project.cache) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _kernels_of(scratch_project.cache), "the notebook never started"
    time.sleep(3)  # inside time.sleep(120) by now
    runner.send_signal(signal.SIGINT)  # the runner alone, not its process group
    out, err = runner.communicate(timeout=120)  # a liveness deadline, generous for a loaded machine
    assert runner.returncode == 130, err
    assert err.strip().splitlines()[-1].startswith("interrupted: the running notebooks were stopped")
    assert "Traceback" not in err
    deadline = time.monotonic() + 60
    while _kernels_of(scratch_project.cache) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _kernels_of(scratch_project.cache), "a kernel outlived the interrupted runner"
    assert not (scratch_project.posts / "sleeper.ipynb").exists()


NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@pytest.mark.parametrize("notebook, overrides, message", [
    ("2021-03-01-beyond-log-concave-2", {"N_LEVELS": 0}, "parameter N_LEVELS of 2021-03-01-beyond-log-concave-2 "
                                                         "must be >= 2, got 0"),
    ("2020-11-11-instahide", {"N_TRAIN": 0}, "parameter N_TRAIN of 2020-11-11-instahide must be in 100..1697, got 0"),
    ("2020-11-11-instahide", {"N_TRAIN": 100000}, "must be in 100..1697, got 100000"),
    ("2021-03-12-beyond-log-concave-3", {"COUPLING_STEP": 0.0}, "parameter COUPLING_STEP of "
                                                               "2021-03-12-beyond-log-concave-3 must be > 0, got 0.0"),
    ("2021-03-25-beyond-ntk", {"SEED": -1}, "parameter SEED of 2021-03-25-beyond-ntk must be >= 0, got -1"),
    ("2021-07-08-imp-reg-tf", {"DATASET": "cifar"}, "must be one of 'digits', 'mnist', 'fashion-mnist', got 'cifar'"),
])
def test_declared_parameter_ranges_are_checked_before_any_kernel_starts(notebook, overrides, message):
    with pytest.raises(BookError) as error:
        resolve_parameters(NOTEBOOKS / f"{notebook}.py", "book", overrides)
    assert message in str(error.value)


def test_values_inside_the_declared_ranges_pass():
    resolved = resolve_parameters(NOTEBOOKS / "2021-07-08-imp-reg-tf.py", "smoke", {"DATASET": "mnist", "SEED": 3})
    assert resolved["DATASET"] == "mnist" and resolved["SEED"] == 3


def test_a_long_notebook_reports_which_cell_it_is_in(scratch_project, monkeypatch):
    from offconvex.book import runner

    monkeypatch.setattr(runner, "PROGRESS_AFTER_S", 0)
    monkeypatch.setattr(runner, "PROGRESS_EVERY_S", {True: 0, False: 0})
    body = 'from offconvex import book\nbook.start("slow", PROFILE, SEED)\n\n# %%\nx = 1\n\n# %%\ny = 2\n'
    write(scratch_project, "slow", body)
    lines = []
    assert run(scratch_project, ["slow"], echo=lambda line, **k: lines.append(line))[0].ok
    progress = [line for line in lines if line.startswith("[running] slow")]
    assert progress and progress[-1].split("  ")[1].startswith("cell 5 of 5, ")  # 4 cells + papermill's


MEMOIZED = """\
import numpy as np
from offconvex import book
from offconvex.core.parallel import map_configurations
from offconvex.factorization import cp
book.start("memo", PROFILE, SEED)
# the chapter repeats its experiment at seeds SEED and SEED + 1
tensors = map_configurations(
    cp.cp_to_tensor, [{"factors": [np.full((2, 1), SEED + k)] * 3} for k in range(2)])
book.claim("one cube per seed", len(tensors) == 2, first=float(tensors[0].sum()))
"""


def test_later_runs_reuse_configuration_results_and_force_starts_afresh(scratch_project):
    from offconvex.book.runner import memo_folder

    write(scratch_project, "memo", MEMOIZED)
    stored = lambda: sorted(path.name for path in memo_folder(scratch_project).rglob("*.pickle"))  # noqa: E731
    run(scratch_project, ["memo"], echo=quiet)
    assert len(stored()) == 2
    run(scratch_project, ["memo"], overrides={"SEED": 1}, echo=quiet)
    assert len(stored()) == 3  # seed 1 asked again what seed 0 had computed at its second seed
    assert run(scratch_project, ["memo"], force=True, echo=quiet)[0].status == "executed"
    assert len(stored()) == 2  # --force dropped every earlier result before running
