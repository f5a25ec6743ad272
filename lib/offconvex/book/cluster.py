"""Run chapter notebooks as tasks on a Dask ``distributed`` cluster (``run --scheduler ADDRESS``).

A task is self-contained: it receives the notebook's source text, its parameters and the commit,
executes it in a temporary folder on the worker through the same ``_worker`` process and kernel
settings as a local run, and returns the executed notebook and figures as bytes. The runner writes
them into its staging folder and goes on exactly as after a local execution, so workers need the same
commit installed but no filesystem shared with the machine that runs the command.
"""

import socket
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path

from offconvex.book.execute import Job, execute_in_process, kernel_environment, kernel_settings
from offconvex.book.project import BookError, Project
from offconvex.book.provenance import versions
from offconvex.core.parallel import SCHEDULER_ENV, WAITING_FILE_ENV  # what the task tells its kernel

CONNECT_TIMEOUT_S = 5
POLL_S = 0.2  # how often a notebook task looks whether its kernel waits for configuration tasks


# Dask starts its worker processes with MALLOC_TRIM_THRESHOLD_=65536 (and writes it into the environment
# of the process that starts them). A fixed trim threshold turns off glibc's adaptive malloc thresholds and
# makes this library's loops over small tensors about 2x slower, so workers we start go without it; the
# README gives the same setting, as a Dask YAML file, for workers started by hand.
WORKER_CONFIG = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}


@contextmanager
def local_cluster(n_workers: int):
    """An in-process ``LocalCluster`` of one-thread worker processes, set up as the book's workers should be."""
    import dask
    from distributed import LocalCluster

    with dask.config.set(WORKER_CONFIG), LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                                      dashboard_address=":0",
                                                      preload=["offconvex.book.warm_worker"]) as cluster:
        yield cluster


@contextmanager
def connect(address: str):
    """A ``Cluster`` connected to the scheduler at ``address``; a ``BookError`` when it cannot be reached."""
    from distributed import Client

    try:
        _check_reachable(address)
        client = Client(address, timeout=f"{CONNECT_TIMEOUT_S}s", set_as_default=False)
    except Exception as error:  # noqa: BLE001 - whatever the cause, one line saying what to do
        reason = " ".join(str(error).split())[:160] or type(error).__name__
        raise BookError(f"cannot reach the Dask scheduler at {address!r} ({reason}); start one with "
                        f"`dask scheduler` and workers with `dask worker ADDRESS`, or fix --scheduler") from None
    try:
        yield Cluster(client)
    finally:
        client.close()


def _check_reachable(address: str) -> None:
    """Fail fast (and quietly) on a closed TCP port, before ``Client`` retries until its timeout."""
    from distributed.comm import parse_address
    from distributed.comm.addressing import parse_host_port

    scheme, location = parse_address(address)
    if scheme in ("tcp", "tls"):
        host, port = parse_host_port(location)
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()


class Cluster:
    """The runner's executor for one connected cluster (see ``runner._execute``)."""

    def __init__(self, client):
        self.client = client

    def threads(self) -> int:
        """Worker threads now connected (at least 1, so that an empty, scaling cluster still gets work)."""
        workers = self.client.scheduler_info(n_workers=-1)["workers"].values()
        return max(1, sum(worker["nthreads"] for worker in workers))

    def execute(self, project: Project, job: Job, staging: Path, timeout: float, commit: str) -> dict:
        payload = {"slug": job.slug, "source": job.notebook.read_text(), "parameters": job.parameters,
                   "timeout": timeout, "commit": commit}
        key = f"notebook-{job.slug}-{uuid.uuid4().hex[:8]}"
        future = self.client.submit(execute_task, payload, key=key, pure=False)
        try:
            # The task enforces the timeout itself; this margin covers queueing and transfer.
            result = future.result(timeout=timeout + 300)
        except Exception as error:  # noqa: BLE001 - any cluster failure is this notebook's one-line error
            return {"ok": False, "error": self._describe_failure(future, error)}
        for name, content in result["files"].items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        outcome = result["outcome"]
        mismatch = _version_mismatch(result["versions"], versions())
        if outcome["ok"] and mismatch:
            outcome = {"ok": False, "error": f"worker has {mismatch}: install the same requirements.lock there"}
        if not outcome["ok"]:
            outcome["error"] += f" (on worker {result['worker']})"
        return outcome

    def _describe_failure(self, future, error: Exception) -> str:
        from distributed import KilledWorker

        if isinstance(error, KilledWorker):
            return f"worker {error.last_worker.address} died while running it (KilledWorker)"
        where = self._worker_of(future.key)
        future.cancel()
        if isinstance(error, TimeoutError):
            return f"no result from the cluster in time (timeout; task on {where})"
        return f"{type(error).__name__}: {' '.join(str(error).split())[:300]} (on worker {where})"

    def _worker_of(self, key) -> str:
        try:
            processing = self.client.processing()
        except Exception:  # noqa: BLE001 - the scheduler may be gone too; the address is a courtesy
            return "unknown"
        return next((worker for worker, keys in processing.items() if key in keys), "unknown")


def _version_mismatch(worker: dict, here: dict) -> str | None:
    """Packages whose versions differ (Python by minor version, as in the cache key)."""
    def comparable(versions):
        return {name: (version.rsplit(".", 1)[0] if name == "python" else version)
                for name, version in versions.items() if name != "jupyter-book"}  # workers need not build

    worker, here = comparable(worker), comparable(here)
    different = [f"{name} {worker.get(name)} (here {version})" for name, version in here.items()
                 if worker.get(name) != version]
    return ", ".join(different) or None


def execute_task(payload: dict) -> dict:
    """The Dask task: execute one notebook in a temporary folder on this worker; outputs come back as bytes."""
    from distributed import get_worker

    worker = get_worker()
    with tempfile.TemporaryDirectory(prefix=f"offconvex-{payload['slug']}-") as folder:
        folder = Path(folder)
        staging = folder / "staging"
        (staging / "figures").mkdir(parents=True)
        notebook = folder / f"{payload['slug']}.py"
        notebook.write_text(payload["source"])
        waiting = folder / "waiting-for-configurations"
        settings = kernel_settings(staging / "figures", payload["commit"]) | {
            SCHEDULER_ENV: worker.scheduler.address, WAITING_FILE_ENV: str(waiting)}
        env = kernel_environment(settings)
        outcome = _while_giving_back_thread(
            waiting, execute_in_process, notebook, staging, payload["parameters"], folder, payload["timeout"], env)
        files = {str(path.relative_to(staging)): path.read_bytes()
                 for path in sorted(staging.rglob("*")) if path.is_file()}
    return {"outcome": outcome, "files": files, "worker": worker.address, "versions": versions()}


def _while_giving_back_thread(waiting: Path, function, *args):
    """Call ``function(*args)`` in a helper thread; while ``waiting`` exists, give this task's thread back.

    The kernel creates ``waiting`` while it waits for its own configuration tasks
    (``offconvex.core.parallel``): seceding then lets them run on this worker thread, so a cluster whose
    threads all hold notebooks cannot deadlock, and otherwise a notebook keeps its thread (no
    oversubscription). ``secede``/``rejoin`` must be called from the task's own thread, hence the poll.
    """
    from distributed import rejoin, secede

    seceded = False
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="offconvex-notebook") as helper:
        running = helper.submit(function, *args)
        while not wait([running], timeout=POLL_S).done:
            if waiting.exists() != seceded:
                (secede if not seceded else rejoin)()
                seceded = not seceded
        if seceded:
            rejoin()
        return running.result()
