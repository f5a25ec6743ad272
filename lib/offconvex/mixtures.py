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
    squared = np.sum((x[:, None, :] - mixture.means[None]) ** 2, axis=2)
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
        weights = softmax(terms, axis=1)
        grad = (x - weights @ mixture.means) / mixture.scale**2
        return -logsumexp(terms, axis=1), grad

    return value_and_grad


def potential_1d(mixture: GaussianMixture):
    """f on a 1-D grid (for quadrature), for a one-dimensional mixture."""
    if mixture.dim != 1:
        raise ValueError(f"potential_1d needs a one-dimensional mixture, got dim={mixture.dim}")
    return lambda grid: -log_density(mixture, np.asarray(grid, float)[:, None])


def nearest_mode(mixture: GaussianMixture, x: np.ndarray) -> np.ndarray:
    """Index of the most responsible component for every point, shape (n,)."""
    return np.argmax(_component_log_terms(mixture, x), axis=1)
