"""Brownian motion (generator ½Δ) on the plane and on the unit sphere S², and the reflection coupling.

Reflection coupling (Part 3, "reflection" figure): with u = (x - y)/‖x - y‖ and H = I - 2uuᵀ, the second
walker moves by H times the first walker's increment, i.e. its mirror image across the hyperplane bisecting
the two points. H also maps x to y on the sphere, so it carries tangent vectors at x to tangent vectors at
y. Once the walkers meet (chord distance below ``threshold``, a step that swaps their order along u, or
a Brownian-bridge crossing between two steps) they move together; we freeze them. On the plane the
bridge test makes the coupling time exact at the step times; on the sphere it is first-order.
Vectorized over pairs: ``x`` and ``y`` have shape (pairs, dim).
"""

from typing import NamedTuple

import numpy as np
from scipy.special import erfc


class CoupledPair(NamedTuple):
    x: np.ndarray  # (pairs, dim)
    y: np.ndarray  # (pairs, dim)
    coupling_time: np.ndarray  # (pairs,) time the pair met, inf while apart
    time: float  # current time t = steps · η


def init(x: np.ndarray, y: np.ndarray) -> CoupledPair:
    """Pairs starting at ``x`` and ``y`` (pairs, dim), float64."""
    x, y = np.array(x, dtype=np.float64), np.array(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 2:
        raise ValueError(f"x and y need the same shape (pairs, dim), got {x.shape} and {y.shape}")
    return CoupledPair(x, y, np.full(len(x), np.inf), 0.0)


def reflect(increment: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """H increment with H = I - 2uuᵀ, u = (x - y)/‖x - y‖, row by row; identity where x = y."""
    difference = x - y
    norm = np.linalg.norm(difference, axis=1, keepdims=True)
    u = np.divide(difference, norm, out=np.zeros_like(difference), where=norm > 0)
    return increment - 2 * np.sum(u * increment, axis=1, keepdims=True) * u


def tangent_projection(increment: np.ndarray, x: np.ndarray) -> np.ndarray:
    """(I - xxᵀ) increment: the part of each row tangent to the unit sphere at x."""
    return increment - np.sum(x * increment, axis=1, keepdims=True) * x


def sphere_step(x: np.ndarray, tangent_increment: np.ndarray) -> np.ndarray:
    """Move on the unit sphere by a tangent increment and project back (first-order exact in η)."""
    moved = x + tangent_increment
    return moved / np.linalg.norm(moved, axis=1, keepdims=True)


def _coupled_step(pair: CoupledPair, step_size: float, threshold: float, generator, on_sphere: bool):
    if not step_size > 0 or not threshold > 0:
        raise ValueError(f"step_size and threshold must be positive, got {step_size}, {threshold}")
    apart = np.isinf(pair.coupling_time)
    increment = np.sqrt(step_size) * generator.standard_normal(pair.x.shape)
    if on_sphere:
        increment = tangent_projection(increment, pair.x)
    mirrored = reflect(increment, pair.x, pair.y)
    move = sphere_step if on_sphere else np.add
    x = np.where(apart[:, None], move(pair.x, increment), pair.x)
    y = np.where(apart[:, None], move(pair.y, mirrored), pair.y)
    time = pair.time + step_size
    before, after = np.linalg.norm(pair.x - pair.y, axis=1), np.linalg.norm(x - y, axis=1)
    # Met: closer than the threshold; or the mirrored moves carried the walkers across each other (the
    # difference changed sign along u); or the distance, a BM with variance 4t between the two samples,
    # touched 0 in between: a Brownian bridge does so with probability exp(-2 ρ_a ρ_b / (4η)).
    crossed = np.sum((x - y) * (pair.x - pair.y), axis=1) <= 0
    bridge_hit = generator.uniform(size=len(x)) < np.exp(-before * after / (2 * step_size))
    met = apart & ((after < threshold) | crossed | bridge_hit)
    return CoupledPair(x, y, np.where(met, time, pair.coupling_time), time)


def plane_coupled_step(pair: CoupledPair, step_size: float, threshold: float, generator: np.random.Generator):
    """One reflection-coupled Brownian step of size η on R^dim for every pair still apart."""
    return _coupled_step(pair, step_size, threshold, generator, on_sphere=False)


def sphere_coupled_step(pair: CoupledPair, step_size: float, threshold: float, generator: np.random.Generator):
    """One reflection-coupled Brownian step of size η on the unit sphere for every pair still apart."""
    return _coupled_step(pair, step_size, threshold, generator, on_sphere=True)


def sphere_pair(n_pairs: int, geodesic_distance: float, generator: np.random.Generator):
    """``n_pairs`` random pairs of points on S² at the given geodesic distance (uniform orientation)."""
    if not 0 <= geodesic_distance <= np.pi:
        raise ValueError(f"geodesic_distance must lie in [0, π], got {geodesic_distance}")
    x = generator.standard_normal((n_pairs, 3))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    direction = tangent_projection(generator.standard_normal((n_pairs, 3)), x)
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    return x, np.cos(geodesic_distance) * x + np.sin(geodesic_distance) * direction


def geodesic_distance(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Great-circle distance between unit vectors, row by row."""
    return np.arccos(np.clip(np.sum(x * y, axis=1), -1.0, 1.0))


def plane_coupling_probability(distance: float, time: np.ndarray) -> np.ndarray:
    """P(coupled by t) for reflection-coupled planar BMs at distance ρ₀: erfc(ρ₀ / (2 sqrt(2t))).

    The distance is ρ₀ + 2W_t until it hits 0 (reflection principle).
    """
    time = np.asarray(time, dtype=float)
    if np.any(time < 0):
        raise ValueError(f"times must be non-negative, got min {time.min()}")
    with np.errstate(divide="ignore"):
        return erfc(distance / (2 * np.sqrt(2 * time)))


def coupled_fraction(coupling_time: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Empirical P(coupled by t) at each of ``times``."""
    return np.mean(np.asarray(coupling_time)[None, :] <= np.asarray(times)[:, None], axis=1)
