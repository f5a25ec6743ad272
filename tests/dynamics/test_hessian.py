import numpy as np
import pytest
import torch
from offconvex.core.random import rng, torch_generator
from offconvex.dynamics import hessian


def _quadratic():
    generator = torch_generator(0, "matrix")
    half = torch.randn(30, 30, dtype=torch.float64, generator=generator)
    matrix = 0.5 * (half + half.T)
    return matrix, (lambda theta: 0.5 * theta @ matrix @ theta)


def test_hvp_and_dense_hessian_of_a_quadratic_are_the_matrix():
    matrix, loss = _quadratic()
    theta = torch.randn(30, dtype=torch.float64, generator=torch_generator(0, "theta"))
    vector = torch.randn(30, dtype=torch.float64, generator=torch_generator(0, "v"))
    torch.testing.assert_close(hessian.hvp(loss, theta, vector), matrix @ vector)
    torch.testing.assert_close(hessian.dense_hessian(loss, theta), matrix)


def test_lanczos_and_dense_agree_with_eigvalsh():
    matrix, loss = _quadratic()
    theta = torch.zeros(30, dtype=torch.float64)
    expected = float(torch.linalg.eigvalsh(matrix)[0])
    assert hessian.min_eigenvalue_dense(loss, theta) == pytest.approx(expected, abs=1e-10)
    assert hessian.min_eigenvalue_lanczos(loss, theta, rng(0, "lanczos")) == pytest.approx(expected, abs=1e-7)


def test_nonquadratic_hessian_against_closed_form():
    loss = lambda theta: (theta[0] * theta[1]) ** 2  # noqa: E731 - Hessian [[2y², 4xy], [4xy, 2x²]]
    theta = torch.tensor([1.0, 2.0], dtype=torch.float64)
    expected = np.linalg.eigvalsh(np.array([[8.0, 8.0], [8.0, 2.0]]))[0]
    assert hessian.min_eigenvalue_dense(loss, theta) == pytest.approx(expected)


def test_random_point_has_the_same_norm():
    theta = torch.arange(5, dtype=torch.float64)
    point = hessian.random_point_like(theta, torch_generator(0, "random"))
    assert float(point.norm()) == pytest.approx(float(theta.norm()))


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="vector shape"):
        hessian.hvp(lambda t: t.sum(), torch.zeros(3), torch.zeros(4))
    with pytest.raises(ValueError, match="theta"):
        hessian.dense_hessian(lambda t: t.sum(), torch.zeros(2, 2))
