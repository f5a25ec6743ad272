"""Matrix sensing: the operator's isotropy, the gradient against autograd, batching, subspace angles."""

import numpy as np
import pytest
import torch
from offconvex.core.random import rng
from offconvex.factorization import matrix_sensing as ms


def test_operator_is_isotropic_on_symmetric_matrices_in_expectation():
    """E[A*A(Z)] = Z: the average of <A_i, Z> A_i over many draws approaches Z."""
    n, m = 4, 200_000
    A = ms.symmetric_gaussian_sensing(m, n, rng(0, "sensing"))
    Z = rng(0, "z").standard_normal((n, n))
    Z = Z + Z.T
    np.testing.assert_allclose(ms.adjoint(A, ms.measure(A, Z)), Z, atol=0.05 * np.abs(Z).max())


def test_measurement_matrices_are_symmetric_with_the_stated_variances():
    A = ms.symmetric_gaussian_sensing(5000, 3, rng(1, "sensing")).reshape(-1, 3, 3)
    np.testing.assert_array_equal(A, A.transpose(0, 2, 1))
    assert np.mean(A[:, 0, 0] ** 2) == pytest.approx(1.0, rel=0.05)
    assert np.mean(A[:, 0, 1] ** 2) == pytest.approx(0.5, rel=0.05)


def test_adjoint_is_the_transpose_of_measure():
    A = ms.symmetric_gaussian_sensing(7, 5, rng(2, "sensing"))
    Z, v = rng(2, "z").standard_normal((5, 5)), rng(2, "v").standard_normal(7)
    assert np.sum(ms.adjoint(A, v) * Z) == pytest.approx(v @ ms.measure(A, Z) / 7, rel=1e-12)


def test_gradient_step_follows_the_autograd_gradient_of_the_loss():
    n, k, m = 6, 4, 20
    X, _ = ms.low_rank_truth(n, [1.0, 0.5], rng(3, "truth"))
    A = ms.symmetric_gaussian_sensing(m, n, rng(3, "sensing"))
    y = ms.measure(A, X @ X.T)
    U = rng(3, "u").standard_normal((n, k))
    tensor = torch.tensor(U, requires_grad=True)
    residual = torch.tensor(A) @ (tensor @ tensor.T).reshape(-1) - torch.tensor(y)
    (residual.square().sum() / (4 * m)).backward()
    np.testing.assert_allclose(ms.gradient_step(A, y, U, 0.1), U - 0.1 * tensor.grad.numpy(), rtol=1e-12)
    assert ms.loss(A, y, U) == pytest.approx(residual.square().sum().item() / (4 * m), rel=1e-12)


def test_a_batch_of_factors_runs_as_each_factor_alone():
    n = 5
    A = ms.symmetric_gaussian_sensing(12, n, rng(4, "sensing"))
    X, V = ms.low_rank_truth(n, [1.0], rng(4, "truth"))
    y = ms.measure(A, X @ X.T)
    batch = np.stack([0.1 * ms.padded_gaussian_factor(n, k, rng(4, f"k{k}"), width=n) for k in (1, 3, 5)])
    metrics = ms.phase_metrics(X, V, ms.spectral_estimate(A, y, 1))
    final, trajectory = ms.gradient_descent(A, y, batch, 0.1, 30, metrics, record_every=10)
    for j, U in enumerate(batch):
        alone, _ = ms.gradient_descent(A, y, U, 0.1, 30, {})
        np.testing.assert_allclose(final[j], alone, rtol=1e-12, atol=1e-15)
    assert trajectory["error"].shape == (4, 3) and trajectory["sin_truth"].shape == (4, 3)


def test_zero_padded_columns_stay_zero():
    n = 6
    A = ms.symmetric_gaussian_sensing(15, n, rng(5, "sensing"))
    y = ms.measure(A, np.eye(n)[:, :2] @ np.eye(n)[:2])
    U = ms.padded_gaussian_factor(n, 2, rng(5, "init"), width=n)
    final, _ = ms.gradient_descent(A, y, U, 0.1, 50, {})
    assert np.all(final[:, 2:] == 0)


def test_exact_rank_model_recovers_the_truth():
    """k = r with enough measurements: gradient descent from a small start converges to M."""
    n = 8
    X, _ = ms.low_rank_truth(n, [1.0, 0.5], rng(6, "truth"))
    A = ms.symmetric_gaussian_sensing(120, n, rng(6, "sensing"))
    U0 = 1e-3 * ms.padded_gaussian_factor(n, 2, rng(6, "init"))
    final, _ = ms.gradient_descent(A, ms.measure(A, X @ X.T), U0, 0.2, 1500, {})
    assert ms.relative_error(final, X @ X.T) < 1e-10


def test_sine_of_largest_angle_between_known_subspaces():
    e = np.eye(3)
    theta = 0.3
    P = np.stack([e[:, 0], np.cos(theta) * e[:, 1] + np.sin(theta) * e[:, 2]], axis=1)
    assert ms.sin_largest_angle(P, e[:, :2]) == pytest.approx(np.sin(theta), rel=1e-12)
    assert ms.sin_largest_angle(e[:, :2], e[:, :2]) == pytest.approx(0.0, abs=1e-15)


def test_spectral_estimate_is_the_truth_when_the_operator_is_the_identity():
    """With A the n^2 coordinate functionals (times sqrt(n^2) for A* scaling), A*(y) = M."""
    n = 4
    X, V = ms.low_rank_truth(n, [2.0, 1.0], rng(7, "truth"))
    A = np.eye(n * n) * np.sqrt(n * n)
    y = ms.measure(A, X @ X.T) / np.sqrt(n * n)
    assert ms.sin_largest_angle(ms.spectral_estimate(A, y, 2), V) < 1e-12
    assert ms.sin_largest_angle(ms.top_subspace(X, 2), V) < 1e-12


@pytest.mark.parametrize("call", [
    lambda: ms.symmetric_gaussian_sensing(0, 3, rng(0, "x")),
    lambda: ms.low_rank_truth(2, [1.0, 1.0, 1.0], rng(0, "x")),
    lambda: ms.padded_gaussian_factor(3, 4, rng(0, "x"), width=3),
    lambda: ms.measure(np.zeros((2, 9)), np.zeros((4, 4))),
])
def test_bad_input_raises_a_clear_error(call):
    with pytest.raises(ValueError):
        call()
