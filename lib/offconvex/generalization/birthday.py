"""The birthday-paradox test for the support size of a generative model (Arora, Risteski & Zhang,
ICLR 2018, arXiv 1706.08224; observation 1 of the offconvex post of 2022-06-06).

If a distribution puts its mass on M roughly equally likely points, a batch of s samples contains a
repeated point with probability about 1 - exp(-s^2 / (2 M)); so if batches of size s show (near-)duplicates
about half of the time, M is of order s^2. "Near-duplicate" is judged on a distance scale calibrated on
real data: the chosen quantile of nearest-neighbour distances between distinct real images.
"""

import numpy as np
from scipy.spatial.distance import cdist, pdist


def nearest_neighbour_distances(points: np.ndarray) -> np.ndarray:
    """Euclidean distance from each row of ``points`` (n, d) to its nearest other row; shape (n,)."""
    if len(points) < 2:
        raise ValueError(f"need at least 2 points, got {len(points)}")
    distances = cdist(points, points)
    np.fill_diagonal(distances, np.inf)
    return distances.min(axis=1)


def duplicate_threshold(points_by_class: list, quantile: float) -> float:
    """The ``quantile`` of within-class nearest-neighbour distances of real data (a list of (n_c, d))."""
    if not 0 < quantile < 1:
        raise ValueError(f"quantile must lie in (0, 1), got {quantile!r}")
    return float(np.quantile(np.concatenate([nearest_neighbour_distances(p) for p in points_by_class]),
                             quantile))


def has_near_duplicate(batches: np.ndarray, threshold: float) -> np.ndarray:
    """Whether each batch (B, s, d) holds two samples closer than ``threshold``; bool array (B,)."""
    if batches.ndim != 3 or batches.shape[1] < 2:
        raise ValueError(f"batches must have shape (B, s >= 2, d), got {batches.shape}")
    return np.array([pdist(batch).min() < threshold for batch in batches])


def batches_from_pool(pool: np.ndarray, batch_size: int, n_batches: int, rng: np.random.Generator):
    """``n_batches`` batches (n_batches, batch_size, d) drawn without replacement within each batch."""
    if not 2 <= batch_size <= len(pool):
        raise ValueError(f"batch_size must lie in [2, {len(pool)}], got {batch_size!r}")
    return np.stack([pool[rng.choice(len(pool), batch_size, replace=False)] for _ in range(n_batches)])


def collision_probability(batch_size, support_size) -> np.ndarray:
    """Birthday-paradox probability 1 - prod_{i<s} (1 - i/M) of a repeat among s draws from M equal atoms."""
    s, m = np.broadcast_arrays(np.asarray(batch_size), np.asarray(support_size, dtype=float))
    if np.any(s < 1) or np.any(m < 1):
        raise ValueError(f"batch_size and support_size must be >= 1, got {batch_size!r}, {support_size!r}")
    steps = np.arange(int(s.max()))
    factors = np.clip(1 - steps / m[..., None], 0, 1)
    factors = np.where(steps < s[..., None], factors, 1.0)
    return 1 - np.prod(factors, axis=-1)


def support_size_estimate(batch_sizes, duplicate_rates) -> float:
    """s^2 for the smallest tested batch size s whose duplicate rate reaches 1/2 (inf if none does)."""
    batch_sizes, duplicate_rates = np.asarray(batch_sizes), np.asarray(duplicate_rates)
    reached = np.flatnonzero(duplicate_rates >= 0.5)
    return float(batch_sizes[reached[0]] ** 2) if reached.size else float("inf")
