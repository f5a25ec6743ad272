import numpy as np
import pytest
import torch
from offconvex.core import memo
from offconvex.core.parallel import map_configurations
from offconvex.core.random import perturb_draws, rng

CALLS = []


def noisy_sum(values, scale=1.0):
    """Stands in for a library function; records every real call."""
    CALLS.append(1)
    return scale * np.asarray(values).sum() + rng(0, "noise").standard_normal()


noisy_sum.__module__ = "offconvex.tests_memo"  # only library functions are memoized


@pytest.fixture
def memo_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(memo.MEMO_DIR_ENV, str(tmp_path))
    CALLS.clear()
    return tmp_path


def test_without_the_runners_folder_every_call_computes(monkeypatch):
    monkeypatch.delenv(memo.MEMO_DIR_ENV, raising=False)
    CALLS.clear()
    memo.memoized_call(noisy_sum, {"values": [1.0, 2.0]})
    memo.memoized_call(noisy_sum, {"values": [1.0, 2.0]})
    assert len(CALLS) == 2


def test_the_same_call_is_read_back_bit_for_bit(memo_dir):
    first = memo.memoized_call(noisy_sum, {"values": np.arange(3.0), "scale": 2.0})
    again = memo.memoized_call(noisy_sum, {"scale": 2.0, "values": np.arange(3.0)})
    assert len(CALLS) == 1 and again == first
    assert len(list(memo_dir.rglob("*.pickle"))) == 1


@pytest.mark.parametrize(
    "changed",
    [
        {"values": np.arange(3.0) + 1e-15 * np.arange(3.0), "scale": 2.0},  # one rounding step of content
        {"values": np.arange(3.0, dtype=np.float32), "scale": 2.0},  # dtype
        {"values": np.arange(3.0).reshape(3, 1), "scale": 2.0},  # shape
        {"values": np.arange(3.0), "scale": 2},  # int is not float
        {"values": torch.arange(3.0), "scale": 2.0},  # a tensor is not an array
    ],
)
def test_any_change_of_an_argument_computes_afresh(memo_dir, changed):
    memo.memoized_call(noisy_sum, {"values": np.arange(3.0), "scale": 2.0})
    memo.memoized_call(noisy_sum, changed)
    assert len(CALLS) == 2


def test_an_ensemble_member_and_another_kernel_choice_compute_afresh(memo_dir, monkeypatch):
    arguments = {"values": [1.0]}
    memo.memoized_call(noisy_sum, arguments)
    perturb_draws(1)
    try:
        memo.memoized_call(noisy_sum, arguments)
    finally:
        perturb_draws(0)
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    memo.memoized_call(noisy_sum, arguments)
    assert len(CALLS) == 3


def test_stateful_or_unnamed_arguments_are_never_memoized(memo_dir):
    memo.memoized_call(noisy_sum, {"values": [1.0], "scale": rng(0, "x").random()})  # a plain float: memoized
    memo.memoized_call(noisy_sum, {"values": [1.0], "scale": rng(0, "x").random()})
    assert len(CALLS) == 1
    assert memo.call_key(noisy_sum, {"values": rng(0, "x")}) is None  # a generator would not be advanced
    assert memo.call_key(noisy_sum, {"values": lambda: 1}) is None
    assert memo.call_key(lambda values: values, {"values": 1}) is None


def test_a_torn_file_is_computed_again_and_replaced(memo_dir):
    memo.memoized_call(noisy_sum, {"values": [1.0]})
    (stored,) = memo_dir.rglob("*.pickle")
    stored.write_bytes(b"not a pickle")
    value = memo.memoized_call(noisy_sum, {"values": [1.0]})
    assert len(CALLS) == 2 and memo.memoized_call(noisy_sum, {"values": [1.0]}) == value and len(CALLS) == 2


def test_prune_keeps_only_this_library_versions_results(memo_dir):
    memo.memoized_call(noisy_sum, {"values": [1.0]})
    (memo_dir / "an-older-library" / "ab").mkdir(parents=True)
    memo.prune(memo_dir)
    assert [path.name for path in memo_dir.iterdir()] == [memo.library_digest()[:16]]
    memo.prune(memo_dir, keep_current=False)
    assert list(memo_dir.iterdir()) == []


def test_map_configurations_reuses_results_and_refuses_an_argument_given_twice(memo_dir):
    configurations = [{"values": [1.0, 2.0]}, {"values": [3.0]}]
    first = map_configurations(noisy_sum, configurations, scale=0.5)
    assert map_configurations(noisy_sum, configurations[::-1], scale=0.5) == first[::-1]
    assert len(CALLS) == 2
    with pytest.raises(TypeError, match="scale"):
        map_configurations(noisy_sum, [{"values": [1.0], "scale": 1.0}], scale=0.5)
