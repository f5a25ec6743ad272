"""Mixtures of Gaussians with one shared isotropic covariance: the multimodal targets of Part 2.

p(x) = Σ_j w_j N(x; μ_j, σ² I) and its potential f = -log p (Ge, Lee, Risteski 2018, Section 2:
k shifts of one log-concave density). Everything is vectorized over points ``x`` of shape (n, d).
"""

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp, softmax


@dataclass(frozen=True)
class GaussianMixture:
    weights: np.ndarray  # (m,) positive, summing to 1
    means: np.ndarray  # (m, d)
    scale: float = 1.0  # shared standard deviation σ: equal shapes are what the theorem needs

    def __post_init__(self):
        weights, means = np.asarray(self.weights, float), np.atleast_2d(np.asarray(self.means, float))
        if weights.ndim != 1 or len(weights) != len(means):
            raise ValueError(f"weights {weights.shape} and means {means.shape} disagree on the component count")
        if np.any(weights <= 0) or not np.isclose(weights.sum(), 1.0):
            raise ValueError(f"weights must be positive and sum to 1, got {weights}")
        if not self.scale > 0:
            raise ValueError(f"scale must be positive, got {self.scale!r}")
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "means", means)

    @property
    def dim(self) -> int:
        return self.means.shape[1]


def symmetric_pair(half_separation: float, dim: int = 1) -> GaussianMixture:
    """½ N(-r e₁, I) + ½ N(r e₁, I): the post's two unit-variance modes at distance 2r."""
    if half_separation < 0:
        raise ValueError(f"half_separation must be >= 0, got {half_separation}")
    means = np.zeros((2, dim))
    means[:, 0] = [-half_separation, half_separation]
    return GaussianMixture(np.array([0.5, 0.5]), means)


def _component_log_terms(mixture: GaussianMixture, x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, float)
    if x.ndim != 2 or x.shape[1] != mixture.dim:
        raise ValueError(f"x must have shape (n, {mixture.dim}), got {x.shape}")
    squared = (np.einsum("nd,nd->n", x, x)[:, None] - 2 * x @ mixture.means.T
               + np.einsum("md,md->m", mixture.means, mixture.means)[None])
    normalizer = 0.5 * mixture.dim * np.log(2 * np.pi * mixture.scale**2)
    return np.log(mixture.weights)[None] - squared / (2 * mixture.scale**2) - normalizer


def log_density(mixture: GaussianMixture, x: np.ndarray) -> np.ndarray:
    """log p(x), shape (n,), computed with logsumexp so far tails do not underflow."""
    return logsumexp(_component_log_terms(mixture, x), axis=1)


def responsibilities(mixture: GaussianMixture, x: np.ndarray) -> np.ndarray:
    """Posterior component probabilities P(j | x), shape (n, m)."""
    return softmax(_component_log_terms(mixture, x), axis=1)


def potential_value_and_grad(mixture: GaussianMixture):
    """Callable x -> (f(x), ∇f(x)) with f = -log p; ∇f(x) = Σ_j P(j|x) (x - μ_j) / σ²."""

    def value_and_grad(x):
        terms = _component_log_terms(mixture, x)
        top = terms.max(axis=1, keepdims=True)  # plain NumPy log-sum-exp: scipy's costs 10x at this size
        shifted = np.exp(terms - top)
        total = shifted.sum(axis=1, keepdims=True)
        grad = (x - (shifted / total) @ mixture.means) / mixture.scale**2
        return -(top + np.log(total))[:, 0], grad

    return value_and_grad


def symmetric_pair_value_and_grad(half_separation: float, dim: int = 1):
    """Closed form of ``potential_value_and_grad(symmetric_pair(r, dim))``, several times faster.

    p = ½N(-r e₁, I) + ½N(r e₁, I) = (2π)^{-d/2} e^{-‖x‖²/2 - r²/2} cosh(r x₁), so
    f = ‖x‖²/2 + r²/2 - log cosh(r x₁) + (d/2) log 2π and ∇f = x - r tanh(r x₁) e₁.
    """
    r = float(half_separation)
    constant = r**2 / 2 + dim / 2 * np.log(2 * np.pi)

    def value_and_grad(x):
        z = r * x[:, 0]
        log_cosh = np.abs(z) + np.log1p(np.exp(-2 * np.abs(z))) - np.log(2)
        grad = x.copy()
        grad[:, 0] -= r * np.tanh(z)
        return np.sum(x**2, axis=1) / 2 + constant - log_cosh, grad

    return value_and_grad


def potential_1d(mixture: GaussianMixture):
    """f on a 1-D grid (for quadrature), for a one-dimensional mixture."""
    if mixture.dim != 1:
        raise ValueError(f"potential_1d needs a one-dimensional mixture, got dim={mixture.dim}")
    return lambda grid: -log_density(mixture, np.asarray(grid, float)[:, None])


def nearest_mode(mixture: GaussianMixture, x: np.ndarray) -> np.ndarray:
    """Index of the most responsible component for every point, shape (n,)."""
    return np.argmax(_component_log_terms(mixture, x), axis=1)


def modes_on_a_line(n_modes: int, half_separation: float) -> GaussianMixture:
    """Equal-weight N(μ_j, 1) in one dimension, neighbours 2r apart and centred at 0: k = n_modes shifts
    of one Gaussian, the theorem's setting with w_min = 1/k."""
    if n_modes < 1 or half_separation <= 0:
        raise ValueError(f"need n_modes >= 1 and half_separation > 0, got {n_modes}, {half_separation}")
    means = half_separation * (2 * np.arange(n_modes) - (n_modes - 1))
    return GaussianMixture(np.full(n_modes, 1 / n_modes), means[:, None])
