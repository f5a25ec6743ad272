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


@pytest.mark.parametrize("activation", ["linear", "relu"])
def test_reverse_over_reverse_hvp_equals_forward_over_reverse(activation):
    from offconvex.dynamics import homogeneous_networks as hn

    problem = hn.digits_problem(50, (64, 6, 5, 10), activation)
    theta = hn.xavier_uniform(problem.widths, torch_generator(3, "init"))
    vector = torch.randn(theta.shape, dtype=torch.float64, generator=torch_generator(3, "v"))
    expected = hessian.hvp_forward(problem.loss, theta, vector)
    got = hessian.hvp(problem.loss, theta, vector)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12 * float(expected.abs().max()))
    assert not got.requires_grad and not theta.requires_grad


def test_hvp_of_a_linear_loss_is_zero():
    theta = torch.ones(3, dtype=torch.float64)
    torch.testing.assert_close(hessian.hvp(lambda t: 2.0 * t.sum(), theta, theta), torch.zeros(3, dtype=torch.float64))
