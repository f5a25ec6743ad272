import numpy as np
import pytest
import torch
from offconvex.core.random import rng
from offconvex.sampling import factorization_posterior as fp
from offconvex.sampling import langevin
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


def test_orbit_relaxation_rate_is_the_so_k_gap_and_needs_equal_singular_values():
    isotropic = fp.planted_factor([0.5, 0.5, 0.5], 4, rng(0, "init"))
    assert fp.orbit_relaxation_rate(isotropic) == pytest.approx(2 / (2 * 0.25))
    # k = 2 agrees with the angle diffusion: E[cos θ_t] = exp(-t D / 2) with D = 2/‖X₀‖².
    two = fp.planted_factor([1.5, 1.5], 3, rng(0, "init"))
    assert fp.orbit_relaxation_rate(two) == pytest.approx(fp.diffusion_on_orbit(two) / 2)
    with pytest.raises(ValueError, match="equal singular values"):
        fp.orbit_relaxation_rate(X0)


def test_pooled_rotation_correlation_of_a_known_angle_path():
    # Angles θ_t = ω t: tr(R_sᵀ R_{s+τ})/2 = cos(ω τ) at every start s and chain.
    times = np.arange(20) * 0.1
    rotations = np.stack([np.stack([rotation(0.3 * t), rotation(-0.3 * t)]) for t in times])
    correlation = fp.pooled_rotation_correlation(rotations, 5)
    assert correlation.shape == (6, 2)
    np.testing.assert_allclose(correlation, np.cos(0.3 * 0.1 * np.arange(6))[:, None] * np.ones(2))
    np.testing.assert_allclose(fp.normalized_trace(rotations[3]), np.cos(0.3 * times[3]))
    with pytest.raises(ValueError, match="max_lag"):
        fp.pooled_rotation_correlation(rotations, 20)


def test_rotation_mixes_at_the_so3_gap():
    # Statistical, fixed seed: ULA at β = 30 on a rank-3 isotropic X₀; E[tr R_t]/3 decays at rate 1.
    planted = fp.planted_factor([1.0, 1.0, 1.0], 4, rng(0, "init"))
    potential, step = fp.value_and_grad(planted @ planted.T, 30.0), 0.01 / 30.0
    state, gen, traces = langevin.init(np.tile(planted, (300, 1, 1)), potential), rng(0, "noise"), []
    for i in range(1501):
        if i % 150 == 0:
            traces.append(fp.normalized_trace(fp.procrustes_rotation(state.position, planted, special=True)).mean())
        state = langevin.ula_step(state, potential, step, gen)
    rate = -np.polyfit(np.arange(len(traces)) * 150 * step, np.log(traces), 1)[0]
    assert rate == pytest.approx(fp.orbit_relaxation_rate(planted), rel=0.15)
