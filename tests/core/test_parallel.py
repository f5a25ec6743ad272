"""map_configurations: a plain map locally, one Dask task per configuration on a cluster, same results."""

import functools
import os

import numpy as np
import pytest
import torch
from distributed import Client
from offconvex.book.cluster import local_cluster
from offconvex.core.parallel import SCHEDULER_ENV, WAITING_FILE_ENV, _flushes_denormals, map_configurations
from offconvex.core.random import rng
from offconvex.factorization import cp

SHAPE = (4, 5, 6)


def configurations():
    """Fresh generators every time: a local map advances them, a task gets a copy."""
    return [{"rank": rank, "rng": rng(seed, "truth")} for seed in range(3) for rank in (1, 2)]


@pytest.fixture(scope="module")
def cluster():
    with local_cluster(2) as local:
        with Client(local, set_as_default=False) as client:
            yield local.scheduler_address, client


def local_results():
    return [cp.random_cp_tensor(SHAPE, **configuration) for configuration in configurations()]


def test_local_path_is_the_plain_loop_in_order():
    results = map_configurations(cp.random_cp_tensor, configurations(), shape=SHAPE)
    expected = local_results()
    assert [r.shape for r in results] == [SHAPE] * 6
    assert all(np.array_equal(a, b) for a, b in zip(results, expected, strict=True))
    assert not np.array_equal(results[0], results[2])  # different seeds really differ: order is checked


def test_functions_defined_outside_a_library_are_refused():
    with pytest.raises(ValueError, match="importable from a library module"):
        map_configurations(lambda x: x, [{"x": 1}])
    partial = functools.partial(cp.random_cp_tensor, SHAPE)
    assert np.array_equal(map_configurations(partial, configurations()[:1])[0], local_results()[0])


def test_inside_a_dask_task_each_configuration_is_a_task_with_the_same_results(cluster):
    _, client = cluster
    # One task that maps: with two one-thread workers it must secede (worker_client) or it would deadlock.
    remote = client.submit(map_configurations, cp.random_cp_tensor, configurations(), shape=SHAPE).result(timeout=60)
    assert all(np.array_equal(a, b) for a, b in zip(remote, local_results(), strict=True))
    where = client.submit(map_configurations, os.getpid, [{}] * 6, pure=False).result(timeout=60)
    assert os.getpid() not in where


def test_in_a_kernel_started_by_a_notebook_task_configurations_go_to_the_scheduler(cluster, monkeypatch, tmp_path):
    address, _ = cluster
    waiting = tmp_path / "waiting"
    monkeypatch.setenv(SCHEDULER_ENV, address)
    monkeypatch.setenv(WAITING_FILE_ENV, str(waiting))
    results = map_configurations(cp.random_cp_tensor, configurations(), shape=SHAPE)
    assert all(np.array_equal(a, b) for a, b in zip(results, local_results(), strict=True))
    assert os.getpid() not in map_configurations(os.getpid, [{}, {}])  # it ran on the workers
    assert not waiting.exists()  # the notebook task got its thread back, then took it again


def test_configuration_tasks_get_the_callers_numerical_settings(cluster, monkeypatch):
    address, _ = cluster
    monkeypatch.setenv(SCHEDULER_ENV, address)
    try:
        for flush in (True, False, True):
            torch.set_flush_denormal(flush)  # as book.start does in a kernel
            assert map_configurations(_flushes_denormals, [{}] * 4) == [flush] * 4
    finally:
        torch.set_flush_denormal(False)
    assert not _flushes_denormals()
