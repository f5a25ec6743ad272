"""`run --scheduler`: notebooks as Dask tasks on an in-process LocalCluster, compared with a local run."""

import json
import re
import shutil
import socket

import dask
import pytest
from conftest import ROOT, toy_notebook
from offconvex.book.cluster import _version_mismatch, local_cluster
from offconvex.book.project import BookError
from offconvex.book.provenance import versions
from offconvex.book.runner import run

SLUG = "2020-11-27-reg-dl-not-norm"
TIMING_FIELDS = ("seconds", "peak_memory_mb")

GOOD = """\
from offconvex import book
book.start("good", PROFILE, SEED)
book.claim("it ran", True, scale=SCALE)
"""
BAD = """\
from offconvex import book
book.start("bad", PROFILE, SEED)
raise ValueError("deliberate failure for the test")
"""
# Kills the Dask worker process running it (the kernel's grandparent): the worker dies mid-task.
# A dead worker cannot remove the task's temporary folder (the kernel's working folder): do it here.
KILL = """\
import os, shutil, signal, psutil
os.kill(psutil.Process().parent().parent().pid, signal.SIGKILL)
shutil.rmtree(os.getcwd(), ignore_errors=True)
"""

MAPS = """\
import os
from offconvex import book
from offconvex.core.parallel import map_configurations
book.start("NAME", PROFILE, SEED)
pids = map_configurations(os.getpid, [{}] * 4)
book.claim("configurations ran as tasks on the workers", os.getpid() not in pids, pids=pids)
"""


@pytest.fixture(scope="module")
def scheduler():
    # No retries on other workers after a death, so a killed worker is reported at once.
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        with local_cluster(2) as cluster:
            yield cluster.scheduler_address


def published(project) -> dict:
    """Every published file (notebook, figures, run record) by path relative to the project."""
    roots = (project.posts, project.figures, project.runs)
    return {str(path.relative_to(project.root)): path for root in roots for path in sorted(root.rglob("*"))
            if path.is_file()}


def json_files(files: dict) -> dict:
    return {name: json.loads(path.read_text()) for name, path in files.items()
            if name.endswith(".json") and "/runs/" not in f"/{name}"}


def cell_outputs(notebook) -> list:
    """Outputs of every cell; save_figure's return value shows the (always different) staging path."""
    cells = json.loads(notebook.read_text())["cells"]
    text = json.dumps([cell.get("outputs", []) for cell in cells])
    return json.loads(re.sub(r"PosixPath\('[^']*'\)", "PosixPath(...)", text))


def without_timing(record: dict) -> dict:
    return {name: value for name, value in record.items() if name not in TIMING_FIELDS}


def test_cluster_run_publishes_what_a_local_run_publishes(scratch_project, scheduler):
    shutil.copyfile(ROOT / "notebooks" / f"{SLUG}.py", scratch_project.notebook(SLUG))
    local = run(scratch_project, [SLUG], "smoke", jobs=1, echo=lambda *a, **k: None)[0]
    assert local.status == "executed", local.error
    local_files = published(scratch_project)
    local_data = json_files(local_files)
    local_record = json.loads((scratch_project.runs / f"{SLUG}.json").read_text())
    local_outputs = cell_outputs(scratch_project.posts / f"{SLUG}.ipynb")

    lines = []
    remote = run(scratch_project, [SLUG], "smoke", force=True, scheduler=scheduler,
                 echo=lambda *a, **k: lines.append(a[0]))[0]
    assert remote.status == "executed", remote.error
    assert len(lines) == 2 and lines[0].startswith(f"[start  ] {SLUG}  profile smoke, #1 of 1")
    assert lines[-1].startswith(f"[done   ] {SLUG}") and "claims 11 of 11 reproduced, 0 not reproduced, 0 failing" in lines[-1]
    remote_files = published(scratch_project)
    assert remote_files.keys() == local_files.keys()
    assert json_files(remote_files) == local_data  # figure data and claims, number for number
    assert cell_outputs(scratch_project.posts / f"{SLUG}.ipynb") == local_outputs  # images byte for byte
    assert len([name for name in local_data if name.endswith("claims.json")]) == 1
    remote_record = json.loads((scratch_project.runs / f"{SLUG}.json").read_text())
    assert without_timing(remote_record) == without_timing(local_record)
    assert remote_record["seconds"] > 0 and remote_record["peak_memory_mb"] > 10


def test_a_failure_on_a_worker_is_one_line_and_the_others_publish(scratch_project, scheduler):
    for slug, body in {"good": GOOD, "bad": BAD, "killer": KILL, "slow": "import time\ntime.sleep(300)\n"}.items():
        scratch_project.notebook(slug).write_text(toy_notebook(body))
    lines = []
    results = {r.slug: r for r in run(scratch_project, profile="smoke", jobs=2, timeout=20, scheduler=scheduler,
                                      echo=lambda *a, **k: lines.append(a[0]))}
    assert results["good"].status == "executed"
    assert (scratch_project.runs / "good.json").exists() and (scratch_project.posts / "good.ipynb").exists()
    failed = {line.split()[2]: line for line in lines if line.startswith("[FAILED ]")}
    assert failed.keys() == {"bad", "killer", "slow"}
    assert all("\n" not in line for line in failed.values())
    assert "ValueError: deliberate failure for the test (on worker tcp://" in failed["bad"]
    assert (scratch_project.failed / "bad.ipynb").exists()  # the partial notebook came back as bytes
    assert "died while running it (KilledWorker)" in failed["killer"] and "worker tcp://" in failed["killer"]
    assert "CellTimeoutError" in failed["slow"] and "(on worker tcp://" in failed["slow"]
    assert not (scratch_project.runs / "bad.json").exists() and not (scratch_project.runs / "killer.json").exists()


def test_notebooks_holding_every_worker_thread_still_get_their_configurations_run(scratch_project, scheduler):
    # Two notebooks on two one-thread workers: each waits for its own configuration tasks, which can only
    # run because a waiting notebook lends its thread. Without that this would hang until the timeout.
    for slug in ("first", "second"):
        scratch_project.notebook(slug).write_text(toy_notebook(MAPS.replace("NAME", slug)))
    results = run(scratch_project, profile="smoke", scheduler=scheduler, jobs=2, timeout=60,
                  echo=lambda *a, **k: None)
    assert [r.status for r in results] == ["executed", "executed"], [r.error for r in results]
    for result in results:
        claim = result.record["claims"][0]
        assert claim["passed"], claim  # the tasks ran in the workers, not in the kernel


def test_an_unreachable_scheduler_is_a_one_line_error_before_anything_runs(scratch_project):
    scratch_project.notebook("good").write_text(toy_notebook(GOOD))
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(BookError, match=f"cannot reach the Dask scheduler at 'tcp://127.0.0.1:{port}'") as error:
        run(scratch_project, scheduler=f"tcp://127.0.0.1:{port}", echo=lambda *a, **k: None)
    assert "\n" not in str(error.value)
    assert not scratch_project.build.exists()


def test_a_worker_with_other_package_versions_is_named():
    here = versions()
    assert _version_mismatch(dict(here, python=here["python"] + "9"), here) is None  # patch level is fine
    assert _version_mismatch(dict(here, numpy="0.1"), here) == f"numpy 0.1 (here {here['numpy']})"


def test_worker_preload_imports_the_mathematics_not_the_machinery():
    from offconvex.book.warm_worker import dask_setup, library_modules

    modules = library_modules()
    assert {"offconvex.factorization.cp", "offconvex.factorization.tensor_completion",
            "offconvex.factorization.matrix_factorization", "offconvex.core.random"} <= set(modules)
    assert not any(name.startswith("offconvex.book") or name.endswith(".plots") for name in modules)
    dask_setup()  # every listed module imports


def test_the_book_cluster_starts_workers_without_a_fixed_malloc_trim_threshold():
    from distributed import Client

    with local_cluster(1) as cluster, Client(cluster) as client:
        worker_env = client.run(lambda: dict(__import__("os").environ))
    (env,) = worker_env.values()
    assert "MALLOC_TRIM_THRESHOLD_" not in env
