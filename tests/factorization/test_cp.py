"""CP factorization against tensorly, its gradients against autograd, and rank estimation."""

import numpy as np
import pytest
import tensorly
import torch
from offconvex.core.random import rng
from offconvex.factorization import cp
from offconvex.factorization.group_rmsprop import group_rmsprop_init, group_rmsprop_step
from tensorly.cp_tensor import cp_to_tensor as tl_cp_to_tensor
from tensorly.decomposition import parafac


def factors(shape=(3, 4, 5), rank=2, seed=0):
    generator = rng(seed, "cp-test")
    return [generator.standard_normal((d, rank)) for d in shape]


def test_cp_to_tensor_khatri_rao_and_unfold_match_tensorly():
    fs = factors()
    np.testing.assert_allclose(cp.cp_to_tensor(fs), tl_cp_to_tensor((np.ones(2), fs)), rtol=1e-13)
    np.testing.assert_allclose(cp.khatri_rao(fs[1:]), tensorly.tenalg.khatri_rao(fs[1:]), rtol=1e-13)
    tensor = cp.cp_to_tensor(fs)
    for mode in range(3):
        np.testing.assert_array_equal(cp.unfold(tensor, mode), tensorly.unfold(tensor, mode))


def test_component_norms_are_frobenius_norms_of_the_rank_one_terms():
    fs = factors()
    for r in range(2):
        term = cp.cp_to_tensor([f[:, [r]] for f in fs])
        assert cp.component_norms(fs)[r] == pytest.approx(np.linalg.norm(term), rel=1e-12)


def test_cp_gradients_match_autograd():
    fs, residual = factors(), rng(1, "residual").standard_normal((3, 4, 5))
    tensors = [torch.tensor(f, requires_grad=True) for f in fs]
    full = torch.einsum("ir,jr,kr->ijk", *tensors)
    torch.sum(full * torch.tensor(residual)).backward()
    for ours, t in zip(cp.cp_gradients(fs, residual), tensors, strict=True):
        np.testing.assert_allclose(ours, t.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_own_als_fits_as_well_as_tensorly_parafac():
    tensor = cp.cp_to_tensor(factors(shape=(6, 6, 6), rank=3, seed=2))
    _, ours = cp.cp_als(tensor, 3, rng(0, "als"), tol_mse=1e-20, n_iter_max=500)
    theirs = parafac(tensor, 3, n_iter_max=500, tol=1e-14, init="random", random_state=0)
    their_mse = np.mean((tl_cp_to_tensor(theirs) - tensor) ** 2)
    assert ours < 1e-12 and their_mse < 1e-12


def test_estimated_rank_of_exact_low_rank_tensors():
    for rank in (1, 2, 3):
        tensor = cp.random_cp_tensor((6, 6, 6), rank, rng(rank, "truth"))
        assert cp.estimate_cp_rank(tensor, rng(0, "rank")) == rank
    assert cp.estimate_cp_rank(np.zeros((3, 3, 3)), rng(0, "rank")) == 0


def test_random_cp_tensor_has_the_requested_norm():
    assert np.linalg.norm(cp.random_cp_tensor((8, 8, 8), 1, rng(0, "t"), fro_norm=2.5)) == pytest.approx(2.5)


def test_group_rmsprop_first_step_has_unit_normalized_speed():
    """After one step the EMA is (1-alpha)*|g|^2 and the bias correction divides it back to |g|^2."""
    grads = (np.array([3.0, 0.0]), np.array([[4.0]]))
    state = group_rmsprop_step(group_rmsprop_init([np.zeros(2), np.zeros((1, 1))]), grads, lr=0.1, eps=0.0 + 1e-12)
    np.testing.assert_allclose(state.params[0], -0.1 * grads[0] / 5.0, rtol=1e-9)
    np.testing.assert_allclose(state.params[1], -0.1 * grads[1] / 5.0, rtol=1e-9)
    with pytest.raises(ValueError, match="lr > 0"):
        group_rmsprop_step(state, grads, lr=-1.0)


def test_completion_recovers_a_rank_one_tensor_from_half_its_entries():
    truth = cp.random_cp_tensor((6, 6, 6), 1, rng(0, "truth"))
    mask = (rng(0, "mask").random(truth.shape) < 0.5).astype(float)
    start = cp.init_factors(truth.shape, 36, 1e-3, rng(0, "init"))
    fitted, trajectory = cp.fit_completion(start, truth, mask, max_iter=5000)
    assert trajectory["loss"][-1] < 1e-6
    assert np.linalg.norm(cp.cp_to_tensor(fitted) - truth) / np.linalg.norm(truth) < 1e-2


def test_random_cp_returns_the_tensor_and_factors_of_it():
    tensor, factors = cp.random_cp((5, 6, 7), 3, rng(4, "truth"), fro_norm=2.0)
    np.testing.assert_array_equal(tensor, cp.random_cp_tensor((5, 6, 7), 3, rng(4, "truth"), fro_norm=2.0))
    np.testing.assert_allclose(cp.cp_to_tensor(factors), tensor, rtol=1e-12, atol=1e-15)
    assert [f.shape for f in factors] == [(5, 3), (6, 3), (7, 3)] and np.linalg.norm(tensor) == pytest.approx(2.0)
