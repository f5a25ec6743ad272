import numpy as np
import pytest
import torch
from offconvex.core.random import rng
from offconvex.sampling import factorization_posterior as fp
from torch.func import hessian

X0 = fp.planted_factor([1.2, 0.8], 3, rng(0, "init"))
M = X0 @ X0.T


def rotation(theta):
    return np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])


def test_gradient_and_hessian_match_torch():
    X = X0 + 0.1 * rng(1, "init").standard_normal(X0.shape)
    value, grad = fp.value_and_grad(M, 2.0)(X[None])
    f = lambda Z: 2.0 * torch.sum((Z @ Z.T - torch.tensor(M)) ** 2)  # noqa: E731
    Xt = torch.tensor(X, requires_grad=True)
    f(Xt).backward()
    np.testing.assert_allclose(grad[0], Xt.grad.numpy(), rtol=1e-10)
    exact = hessian(lambda Z: torch.sum((Z @ Z.T - torch.tensor(M)) ** 2))(torch.tensor(X0))
    np.testing.assert_allclose(fp.hessian_at(X0), exact.reshape(6, 6).numpy(), atol=1e-10)


def test_orbit_is_the_zero_set_and_components_are_told_apart():
    flip = np.diag([1.0, -1.0])
    X = np.stack([X0 @ rotation(0.7), X0 @ flip @ rotation(0.3)])
    np.testing.assert_allclose(fp.loss(X, M), 0, atol=1e-24)
    np.testing.assert_allclose(fp.distance_to_orbit(X, X0), 0, atol=1e-12)
    assert fp.distance_to_orbit(X, X0, special=True)[1] > 0.5
    np.testing.assert_array_equal(fp.orientation(X, X0), [1, -1])
    assert fp.rotation_angle(fp.procrustes_rotation(X[:1], X0))[0] == pytest.approx(0.7)


def test_hessian_null_space_is_the_orbit_tangent():
    eigenvalues = np.linalg.eigvalsh(fp.hessian_at(X0))
    assert np.sum(eigenvalues < 1e-9) == 1  # dim O(2) = 1
    assert fp.equipartition_energy(3, 2) == 2.5


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match="d=3"):
        fp.planted_factor([1.0, 1.0, 1.0, 1.0], 3, rng(0, "init"))
    with pytest.raises(ValueError, match=r"\(2, 2\)"):
        fp.orientation(np.zeros((2, 2)), X0)
