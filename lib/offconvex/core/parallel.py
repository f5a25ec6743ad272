"""Independent configurations of one experiment (seeds, sizes, scales), computed in order.

A chapter writes ``map_configurations(function, configurations, **shared)`` where it would write
``[function(**configuration, **shared) for configuration in configurations]``. Run locally, it is
exactly that loop, in the kernel: kernels are one-threaded and the runner already runs notebooks in
parallel. When the notebook runs as a task on a Dask cluster (``python -m offconvex run --scheduler``),
each configuration becomes its own task on the same cluster, run with the kernel's numerical settings
(threads, deterministic torch, denormals flushed), so the results are the same numbers in the same order.
"""

import functools
import os
import sys
from contextlib import contextmanager, nullcontext
from pathlib import Path

from offconvex.core.memo import flushes_denormals as _flushes_denormals  # the memo keys on it too
from offconvex.core.memo import memoized_call

# Set by offconvex.book.cluster in the environment of a kernel that runs as a Dask task.
SCHEDULER_ENV = "OFFCONVEX_SCHEDULER"
WAITING_FILE_ENV = "OFFCONVEX_WAITING_FILE"


def map_configurations(function, configurations, **shared) -> list:
    """``[function(**configuration, **shared) for configuration in configurations]``, on the cluster if any.

    Parameters
    ----------
    function : a function importable from a library module (``offconvex.factorization.cp.fit_completion``), or a
        ``functools.partial`` of one: a worker imports it by name, so it cannot be defined in the notebook.
    configurations : iterable of dict
        Keyword arguments of one independent run each (a seed, a size, an initialization scale).
    **shared
        Keyword arguments common to every run.

    ``function`` must not depend on changing its arguments: on a cluster it gets copies (so a generator
    passed in is not advanced in the caller). Results come back in the order of ``configurations``.
    In a kernel started by the book's runner, a result is read back when the same call (same library,
    arguments and numerical settings) was made by an earlier run (``offconvex.core.memo``).
    """
    _check_importable(function)
    configurations = [dict(configuration) for configuration in configurations]
    client = _cluster_client()
    if client is None:
        return [memoized_call(function, _arguments(configuration, shared)) for configuration in configurations]
    with client as connected:
        settings = _numerical_settings()
        futures = [connected.submit(_configuration_task, function, configuration, shared, settings, pure=False)
                   for configuration in configurations]
        return connected.gather(futures)


def _arguments(configuration: dict, shared: dict) -> dict:
    repeated = configuration.keys() & shared.keys()
    if repeated:
        raise TypeError(f"map_configurations got {sorted(repeated)} both in a configuration and as shared arguments")
    return configuration | shared


def _check_importable(function) -> None:
    target = function.func if isinstance(function, functools.partial) else function
    module, name = getattr(target, "__module__", None), getattr(target, "__qualname__", repr(target))
    if module in (None, "__main__") or "<" in name:
        raise ValueError(f"map_configurations needs a function importable from a library module "
                         f"(e.g. offconvex.factorization.cp.fit_completion), got {name} from {module}; move it to lib/offconvex")


def _cluster_client():
    """A context manager giving a Dask client when this code runs on a cluster, else None.

    Inside a Dask task, ``worker_client`` secedes from the worker's thread pool while waiting, so
    a few workers cannot deadlock. In a kernel started by a notebook task, the waiting file tells
    that task to give its thread back while the configurations run (see offconvex.book.cluster).
    """
    try:
        from distributed import get_worker, worker_client
    except ImportError:
        return None
    try:
        get_worker()
        return worker_client()
    except ValueError:  # not inside a task
        pass
    address = os.environ.get(SCHEDULER_ENV)
    return _kernel_client(address) if address else None


@contextmanager
def _kernel_client(address: str):
    from distributed import Client

    marker = os.environ.get(WAITING_FILE_ENV)
    if marker:
        Path(marker).touch()
    try:
        with Client(address, set_as_default=False, timeout="30s") as client:
            yield client
    finally:
        if marker:
            Path(marker).unlink(missing_ok=True)


def _numerical_settings() -> dict:
    """The caller's torch settings (``book.start`` pins them in a kernel) to reproduce on the worker."""
    from offconvex.core.random import perturbation_member

    settings = {"perturbation": perturbation_member()}
    torch = sys.modules.get("torch")
    if torch is not None:
        settings.update(threads=torch.get_num_threads(), deterministic=torch.are_deterministic_algorithms_enabled(),
                        flush_denormal=_flushes_denormals())
    return settings


def _configuration_task(function, configuration: dict, shared: dict, settings: dict):
    """One configuration on a worker thread, with the caller's numerical settings and one BLAS thread."""
    from threadpoolctl import threadpool_limits

    from offconvex.core.random import perturb_draws, use_deterministic_torch

    perturb_draws(settings.get("perturbation", 0))  # an ensemble member's draws are nudged on the worker too
    if "threads" in settings:
        import torch

        torch.set_num_threads(settings["threads"])
        use_deterministic_torch(settings["deterministic"])
        torch.set_flush_denormal(settings["flush_denormal"])  # per thread: set where the work runs
    with threadpool_limits(1) if settings.get("threads", 1) == 1 else nullcontext():
        return function(**configuration, **shared)
