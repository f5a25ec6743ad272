"""One notebook in one fresh worker process: the kernel's settings and environment, and its execution.

Shared by the local runner (offconvex.book.runner) and cluster tasks (offconvex.book.cluster), which
both import it; neither imports the other's internals. A fresh process per notebook is what makes the
kernel's peak memory measurable, and its own session lets an interrupted run stop every worker.
"""

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import psutil


@dataclass
class Job:
    slug: str
    notebook: Path
    profile: str
    parameters: dict
    key: str
    # False for runs only read for their claims (the book's other seeds): figures keep their data, no images
    images: bool = True


FIGURE_IMAGES_ENV = "OFFCONVEX_FIGURE_IMAGES"


def kernel_settings(figure_dir: Path, commit: str, root: Path | None = None) -> dict:
    """What every chapter kernel gets, wherever it runs: one thread, a fixed hash seed, where to write."""
    settings = dict(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", OFFCONVEX_THREADS="1",
                    PYTHONHASHSEED="0", OFFCONVEX_FIGURE_DIR=str(figure_dir), OFFCONVEX_COMMIT=commit)
    if root is not None:  # a cluster worker has its own checkout: it keeps the package's own location
        settings["OFFCONVEX_ROOT"] = str(root)
    return settings


def kernel_environment(settings: dict) -> dict:
    """This machine's environment with ``settings`` applied (run where the kernel starts)."""
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)  # an inherited Agg backend would give the notebook no images at all
    # Dask sets this (65536) for its worker processes, and in the process that starts them; any fixed value
    # turns off glibc's adaptive thresholds, which makes loops over small tensors about 2x slower.
    env.pop("MALLOC_TRIM_THRESHOLD_", None)
    env.update(settings)
    return env


def execute_in_process(notebook: Path, staging: Path, parameters: dict, cwd: Path, timeout: float,
                       env: dict, progress=None) -> dict:
    """Execute ``notebook`` into ``staging`` in a fresh ``_worker`` process; returns its outcome.

    The outcome is ``{"ok", "seconds", "peak_memory_mb", "error"}``; a fresh process per notebook is
    what makes the kernel's peak memory measurable. Shared by local runs and cluster tasks.
    ``progress(cell, cells)`` is called as each cell starts.
    """
    spec = {"notebook": str(notebook), "staging": str(staging), "parameters": parameters, "cwd": str(cwd),
            "timeout": timeout}
    spec_file = staging / "spec.json"
    spec_file.write_text(json.dumps(spec))
    # Its own session: a Ctrl-C reaches the runner alone, which stops every worker (stop_running_workers),
    # and each worker shuts its kernel down; the same happens when only the runner is sent SIGINT.
    worker = subprocess.Popen([sys.executable, "-m", "offconvex.book._worker", str(spec_file)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    with _RUNNING_LOCK:
        _RUNNING.add(worker)
    lines: list[str] = []
    reader = threading.Thread(target=_read_worker, args=(worker.stdout, lines, progress), daemon=True)
    reader.start()
    try:
        worker.wait(timeout=timeout + 60)
        reader.join(timeout=60)  # the pipe closes when the worker and its kernel are gone
        results = [line for line in lines if line.startswith("OFFCONVEX-RESULT ")]
        outcome = json.loads(results[-1].split(" ", 1)[1]) if results else {
            "ok": False, "error": f"worker crashed: {' '.join(' '.join(lines).split()[-40:])}"}
    except subprocess.TimeoutExpired:
        _stop(worker)
        outcome = {"ok": False, "error": f"timed out after {timeout:.0f} s (raise it with --timeout)"}
    finally:
        with _RUNNING_LOCK:
            _RUNNING.discard(worker)
        spec_file.unlink(missing_ok=True)
    return outcome


def _read_worker(stream, lines: list, progress) -> None:
    for line in stream:
        if line.startswith("OFFCONVEX-PROGRESS "):
            if progress is not None:
                cell, cells = map(int, line.split()[1:3])
                progress(cell, cells)
        else:
            lines.append(line.rstrip("\n"))


_RUNNING: set = set()
_RUNNING_LOCK = threading.Lock()


def _stop(worker: subprocess.Popen, grace: float = 30.0) -> None:
    """SIGTERM (the worker shuts its kernel down), then SIGKILL after ``grace`` seconds, for the worker and
    for what it started: the kernel runs in its own session, and one left behind (a Ctrl-C during the
    kernel's start, a shutdown that outlasts the grace) would keep the worker's output pipe open."""
    if worker.poll() is not None:
        return
    started = _descendants(worker.pid)
    worker.terminate()
    try:
        worker.wait(grace)
    except subprocess.TimeoutExpired:
        started += _descendants(worker.pid)  # a kernel that started after the SIGTERM
        worker.kill()
        worker.wait()
    for process in started:
        try:
            process.kill()  # psutil checks that it is still the process listed (no pid reuse)
        except psutil.Error:
            pass


def _descendants(pid: int) -> list:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def stop_running_workers() -> None:
    """Stop every notebook this process is executing (an interrupted run)."""
    with _RUNNING_LOCK:
        running = list(_RUNNING)
    for worker in running:
        _stop(worker)


