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



@pytest.mark.parametrize("shape", [(3, 4), (3, 4, 5), (2, 3, 4, 5), (2, 2, 3, 2, 3)])
def test_closed_form_cp_gradients_equal_autograd(shape):
    rng = np.random.default_rng(3)
    factors = [rng.standard_normal((d, 7)) for d in shape]
    target = rng.standard_normal(shape)
    mask = tc.observation_mask(shape, int(np.prod(shape)) // 2, rng).astype(float)
    expected = tc.autograd_loss_gradients(factors, tc.cp_to_tensor, torch.from_numpy(target), torch.from_numpy(mask))
    for target_, mask_ in ((target, mask), (torch.from_numpy(target), torch.from_numpy(mask))):
        closed = tc.loss_gradients(factors, tc.cp_to_tensor, target_, mask_)
        for got, want in zip(closed, expected, strict=True):
            assert isinstance(got, np.ndarray) and got.dtype == np.float64
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * np.abs(want).max())


def test_closed_form_cp_gradients_in_float32_follow_autograd():
    rng = np.random.default_rng(4)
    factors = [rng.standard_normal((d, 50)) for d in (4, 5, 6, 3)]
    target = rng.standard_normal((4, 5, 6, 3))
    mask = torch.from_numpy(tc.observation_mask(target.shape, 150, rng).astype(float))
    args = (factors, tc.cp_to_tensor, torch.from_numpy(target), mask, torch.float32)
    for got, want in zip(tc.loss_gradients(*args), tc.autograd_loss_gradients(*args), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_closed_form_product_gradients_equal_autograd(depth):
    from offconvex.factorization import matrix_factorization as mf

    rng = np.random.default_rng(5)
    factors = [rng.standard_normal((6, 6)) for _ in range(depth)]
    target = rng.standard_normal((6, 6))
    mask = tc.observation_mask(target.shape, 20, rng).astype(float)
    closed = tc.loss_gradients(factors, mf.product, target, mask)
    expected = tc.autograd_loss_gradients(factors, mf.product, torch.from_numpy(target), torch.from_numpy(mask))
    # and the post's eq. (3) as written in matrix_factorization (half the summed squares, hence the scale)
    explicit = mf.factor_gradients(factors, target, mask)
    for got, want, eq3 in zip(closed, expected, explicit, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * np.abs(want).max())
        np.testing.assert_allclose(got, eq3 * 2 / mask.sum(), rtol=1e-12, atol=1e-12 * np.abs(want).max())


def test_fit_completion_closed_form_follows_the_autograd_run():
    """The whole loop with the closed form (CP, NumPy) against the same loop on an autograd-only model."""
    rng = np.random.default_rng(6)
    target = tc.cp_to_tensor([rng.standard_normal((d, 2)) for d in (5, 6, 4)])
    mask = tc.observation_mask(target.shape, 60, rng)
    params = [1e-2 * rng.standard_normal((d, 8)) for d in (5, 6, 4)]
    metrics = {"norm": lambda ps, T: np.linalg.norm(T)}
    closed = tc.fit_completion(params, tc.cp_to_tensor, target, mask, 300, metrics)[1]
    generic = tc.fit_completion(params, lambda fs: tc.cp_to_tensor(fs), target, mask, 300, metrics)[1]
    np.testing.assert_allclose(closed["loss"], generic["loss"], rtol=1e-9)
    np.testing.assert_allclose(closed["norm"], generic["norm"], rtol=1e-9)
