import numpy as np
import pytest
import tensorly as tl
import torch
from offconvex.factorization import tensor_completion as tc
from tensorly.cp_tensor import cp_to_tensor as tl_cp_to_tensor


@pytest.mark.parametrize("shape", [(3, 4), (3, 4, 5), (2, 3, 4, 5), (2, 2, 3, 2, 3)])
def test_cp_to_tensor_matches_tensorly(shape):
    rng = np.random.default_rng(0)
    factors = [rng.standard_normal((d, 6)) for d in shape]
    expected = tl.to_numpy(tl_cp_to_tensor((np.ones(6), factors)))
    np.testing.assert_allclose(tc.cp_to_tensor(factors), expected, rtol=1e-12, atol=1e-12)
    as_torch = tc.cp_to_tensor([torch.from_numpy(f) for f in factors]).numpy()
    np.testing.assert_allclose(as_torch, expected, rtol=1e-12, atol=1e-12)


def test_observation_mask_counts_and_errors():
    mask = tc.observation_mask((10, 10, 10), 200, np.random.default_rng(0))
    assert mask.shape == (10, 10, 10) and mask.sum() == 200
    with pytest.raises(ValueError, match="1001"):
        tc.observation_mask((10, 10, 10), 1001, np.random.default_rng(0))


def test_loss_gradients_match_explicit_cp_gradient():
    rng = np.random.default_rng(1)
    factors = [rng.standard_normal((d, 3)) for d in (3, 4, 5)]
    target = rng.standard_normal((3, 4, 5))
    mask = tc.observation_mask(target.shape, 30, rng).astype(float)
    grads = tc.loss_gradients(factors, tc.cp_to_tensor, torch.from_numpy(target), torch.from_numpy(mask))
    residual = 2 * mask * (tc.cp_to_tensor(factors) - target) / mask.sum()  # d(mean sq error)/dT
    explicit = np.einsum("ijk,jr,kr->ir", residual, factors[1], factors[2])
    np.testing.assert_allclose(grads[0], explicit, rtol=1e-10)


def test_half_rise_iterations_and_top_k():
    steps = np.array([0, 10, 20, 30])
    curves = np.array([[0, 0], [3, 0], [4, 1], [4, 4]], dtype=float)
    np.testing.assert_array_equal(tc.half_rise_iterations(steps, curves), [10, 30])
    np.testing.assert_array_equal(tc.top_k([1.0, 3.0, 2.0], 4), [3.0, 2.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="shape"):
        tc.half_rise_iterations(steps, curves[:2])


def test_patience_stop_needs_consecutive_checks():
    stop = tc.patience_stop(lambda value: value, tol=1.0, patience=2)
    assert [stop(v) for v in (0.5, 2.0, 0.5, 0.5)] == [False, False, False, True]


def test_fit_completion_recovers_rank_one_matrix_and_records():
    rng = np.random.default_rng(2)
    target = np.outer(rng.standard_normal(8), rng.standard_normal(8))
    mask = tc.observation_mask(target.shape, 40, rng)
    params = [1e-2 * rng.standard_normal((8, 8)) for _ in range(2)]
    state, trajectory = tc.fit_completion(
        params, lambda ps: ps[1] @ ps[0], target, mask, 3000,
        {"top": lambda ps, W: np.linalg.svd(W, compute_uv=False)[:2]}, tol=1e-4, patience=3)
    assert trajectory["loss"][-1] < 1e-4 and trajectory["top"].shape[1] == 2
    assert tc.reconstruction_error(state.params[1] @ state.params[0], target) < 5e-2
    assert state.step == trajectory.steps[-1] < 3000

