"""Scaling laws fitted to measured times: power laws, exponential rates, and their bootstrap spread.

The sampling chapters check theorems about *scaling* (Part 2: simulated tempering's time grows
polynomially in the number of modes k; Part 3: the relaxation rate along the manifold grows with
its dimension and does not depend on β). A measured time is a mean over independent chains, so its
uncertainty comes from resampling the chains (the bootstrap), one array per value of the variable.
"""

from collections.abc import Callable, Sequence

import numpy as np


def power_law_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares fit of log y = log c + α log x; returns (α, log c). Needs x, y > 0, shape (n,)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.shape != y.shape or len(x) < 2 or np.any(x <= 0) or np.any(y <= 0):
        raise ValueError(f"need two or more positive (x, y) pairs of one shape, got x={x}, y={y}")
    exponent, log_prefactor = np.polyfit(np.log(x), np.log(y), 1)
    return float(exponent), float(log_prefactor)


def exponential_rate(times: np.ndarray, values: np.ndarray) -> float:
    """Rate λ of values ≈ c e^{-λ t}: minus the least-squares slope of log values on times, shape (n,)."""
    times, values = np.asarray(times, float), np.asarray(values, float)
    if times.shape != values.shape or len(times) < 2 or np.any(values <= 0):
        raise ValueError(f"need two or more positive values on as many times, got {values}")
    return float(-np.polyfit(times, np.log(values), 1)[0])


def bootstrap(samples: Sequence[np.ndarray], statistic: Callable[[list[np.ndarray]], float | tuple],
              n_resamples: int, generator: np.random.Generator) -> np.ndarray:
    """``statistic`` recomputed on resampled chains, shape (n_resamples, *statistic's shape).

    ``samples`` holds one array per value of the scanned variable, chains along axis 0; each array's
    chains are resampled with replacement, independently of the others (the runs are independent).
    """
    if n_resamples < 2:
        raise ValueError(f"n_resamples must be >= 2, got {n_resamples}")
    samples = [np.asarray(sample) for sample in samples]
    draws = []
    for _ in range(n_resamples):
        resampled = [sample[generator.integers(0, len(sample), len(sample))] for sample in samples]
        draws.append(statistic(resampled))
    return np.array(draws, dtype=float)


def power_law_band(x: np.ndarray, fits: np.ndarray, coverage: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise band of the power laws c x^α for bootstrap fits (n, 2) of (α, log c), each shape x's."""
    if not 0 < coverage < 1:
        raise ValueError(f"coverage must be in (0, 1), got {coverage}")
    fits = np.asarray(fits, float)
    curves = np.exp(fits[:, 1:2] + fits[:, 0:1] * np.log(np.asarray(x, float))[None])
    tail = 100 * (1 - coverage) / 2
    return np.percentile(curves, tail, axis=0), np.percentile(curves, 100 - tail, axis=0)
