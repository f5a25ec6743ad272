"""Symmetric tensor decomposition: gradient against autograd, batching, the lazy fit's tangent space."""

import numpy as np
import pytest
import torch
from offconvex.core.random import rng
from offconvex.factorization import symmetric_tensor_decomposition as td


def test_symmetric_cp_is_the_sum_of_cubes():
    W = rng(0, "w").standard_normal((3, 4))
    expected = sum(np.einsum("a,b,c->abc", w, w, w) for w in W)
    np.testing.assert_allclose(td.symmetric_cp(W), expected, rtol=1e-12, atol=1e-12)


def test_gradient_matches_autograd():
    d = 4
    target = td.symmetric_cp(td.orthonormal_components(d, 2, rng(1, "truth")))
    W = rng(1, "w").standard_normal((5, d))
    tensor = torch.tensor(W, requires_grad=True)
    cubes = torch.einsum("ia,ib,ic->abc", tensor, tensor, tensor)
    (0.5 * (cubes - torch.tensor(target)).square().sum()).backward()
    np.testing.assert_allclose(td.gradient(W, target), tensor.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_a_batch_runs_as_each_factor_alone_and_zero_rows_stay_zero():
    d = 3
    target = td.symmetric_cp(td.orthonormal_components(d, 2, rng(2, "truth")))
    batch = 0.1 * rng(2, "w").standard_normal((2, 4, d))
    batch[1, 2:] = 0.0
    final, trajectory = td.gradient_descent(batch, target, 0.05, 40, {"error": lambda W: td.relative_error(W, target)})
    for j in range(2):
        alone, _ = td.gradient_descent(batch[j], target, 0.05, 40, {})
        np.testing.assert_allclose(final[j], alone, rtol=1e-12, atol=1e-15)
    assert np.all(final[1, 2:] == 0) and trajectory["error"].shape == (41, 2)


def test_symmetric_coordinates_are_an_isometry():
    d = 4
    X = td.symmetric_cp(rng(3, "w").standard_normal((6, d)))
    Y = td.symmetric_cp(rng(3, "v").standard_normal((2, d)))
    flat, weights = td._symmetric_coordinates(d)
    assert len(flat) == td.symmetric_dimension(d) == 20
    x, y = X.reshape(-1)[flat] * weights, Y.reshape(-1)[flat] * weights
    assert x @ y == pytest.approx(np.sum(X * Y), rel=1e-12)


def test_lazy_fit_reaches_the_models_own_tensor_and_everything_once_md_reaches_D():
    d = 5
    W0 = rng(4, "w0").standard_normal((2, d))
    rank, residual = td.lazy_fit(W0, td.symmetric_cp(W0))  # T(W0) = (1/3) J vec(W0): in the tangent space
    assert rank == 2 * d and residual < 1e-12
    d = 4
    target = td.symmetric_cp(td.orthonormal_components(d, 3, rng(4, "truth")))
    start = rng(4, "many").standard_normal((5, d))  # 5 * 4 = 20 = D
    assert td.lazy_fit(start, target) == (20, pytest.approx(0.0, abs=1e-8))
    rank, residual = td.lazy_fit(start[:3], target)
    assert rank == 12 and residual > 0.3


def test_the_alexander_hirschowitz_exception_is_the_one_defective_cubic_case():
    """Cubics in 5 variables: 7 generic components span 34 tangent dimensions, not min(7 * 5, 35) = 35."""
    assert td.lazy_fit(rng(5, "w").standard_normal((7, 5)), np.zeros((5, 5, 5)) + 1.0)[0] == 34


def test_bad_input_raises_a_clear_error():
    with pytest.raises(ValueError):
        td.orthonormal_components(2, 3, rng(0, "x"))
    with pytest.raises(ValueError):
        td.gradient_descent(np.zeros((1, 2)), np.zeros((2, 2, 2)), 0.0, 1, {})
