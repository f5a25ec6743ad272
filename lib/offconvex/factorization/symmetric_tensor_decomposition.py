"""Over-parameterized decomposition of a symmetric order-3 tensor: gradient descent against the lazy fit.

Wang, Wu, Lee, Ma, Ge, "Beyond Lazy Training for Over-parameterized Tensor Decomposition" (NeurIPS
2020, arXiv 2010.11356), Section 1: fit ``T* = sum_j u_j^{(x)3}`` with ``T(W) = sum_i w_i^{(x)3}`` (odd
order, so the coefficients are absorbed in the ``w_i``) by gradient descent on
``L(W) = 1/2 ||T(W) - T*||_F^2``, and compare with the best *lazy* fit: the linearization of ``T`` at
the initialization ``W_0``, whose reach is the tangent space spanned by
``Sym(delta (x) w_i (x) w_i)``, of dimension at most ``m d``.

Factors are stored as ``W`` of shape ``(..., m, d)`` (one row per component); a batch of factors runs
as one tensor, and zero rows stay zero under gradient descent, so fewer components are padded.
"""

from itertools import combinations_with_replacement
from math import comb

import numpy as np

from offconvex.core.trajectory import Trajectory, iterate


def symmetric_dimension(d: int, order: int = 3) -> int:
    """Dimension ``C(d + order - 1, order)`` of symmetric tensors of order ``order`` on ``R^d``."""
    return comb(d + order - 1, order)


def orthonormal_components(d: int, r: int, rng: np.random.Generator) -> np.ndarray:
    """``r`` orthonormal unit vectors in ``R^d`` (QR of a Gaussian matrix), as rows: ``(r, d)``."""
    if not 1 <= r <= d:
        raise ValueError(f"need 1 <= r <= d, got r={r}, d={d}")
    Q, _ = np.linalg.qr(rng.standard_normal((d, r)))
    return Q.T


def symmetric_cp(W: np.ndarray) -> np.ndarray:
    """``sum_i w_i (x) w_i (x) w_i`` for ``W`` ``(..., m, d)``: returns ``(..., d, d, d)``."""
    d = W.shape[-1]
    pairs = (W[..., :, None] * W[..., None, :]).reshape(*W.shape[:-1], d * d)
    return (np.swapaxes(W, -1, -2) @ pairs).reshape(*W.shape[:-2], d, d, d)


def relative_error(W: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``||T(W) - T*||_F / ||T*||_F`` for each factor in the batch."""
    return np.linalg.norm((symmetric_cp(W) - target).reshape(*W.shape[:-2], -1), axis=-1) / np.linalg.norm(target)


def gradient(W: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``dL/dw_i = 3 R(., w_i, w_i)`` with ``R = T(W) - T*`` (symmetric), for each factor: ``(..., m, d)``."""
    d = W.shape[-1]
    residual = (symmetric_cp(W) - target).reshape(*W.shape[:-2], d, d * d)
    pairs = (W[..., :, None] * W[..., None, :]).reshape(*W.shape[:-1], d * d)
    return 3 * np.swapaxes(residual @ np.swapaxes(pairs, -1, -2), -1, -2)


def gradient_descent(W0: np.ndarray, target: np.ndarray, step: float, n_steps: int, metrics: dict,
                     record_every: int = 1) -> tuple[np.ndarray, Trajectory]:
    """Plain gradient descent on ``L`` from the batch ``W0`` ``(..., m, d)``, recording ``metrics``."""
    if step <= 0:
        raise ValueError(f"step must be positive, got {step}")
    return iterate(W0, lambda W: W - step * gradient(W, target), n_steps, metrics, record_every)


def _symmetric_coordinates(d: int) -> tuple[np.ndarray, np.ndarray]:
    """Flat indices of the sorted triples ``a <= b <= c`` and ``sqrt`` of their number of permutations:
    reading a symmetric tensor there, times the weights, is an isometry onto ``R^D``."""
    triples = list(combinations_with_replacement(range(d), 3))
    flat = np.array([(a * d + b) * d + c for a, b, c in triples])
    permutations = np.array([6 // (1 + (a == b) + (b == c) + (a == c) + 2 * (a == b == c)) for a, b, c in triples])
    return flat, np.sqrt(permutations)


def tangent_basis(W0: np.ndarray) -> np.ndarray:
    """The tangent vectors ``e_a(x)w_i(x)w_i + w_i(x)e_a(x)w_i + w_i(x)w_i(x)e_a`` of ``T`` at ``W0``
    ``(m, d)``, in isometric symmetric coordinates: ``(D, m d)``, column ``i d + a``."""
    m, d = W0.shape
    eye = np.eye(d)
    columns = (np.einsum("ax,iy,iz->iaxyz", eye, W0, W0) + np.einsum("ix,ay,iz->iaxyz", W0, eye, W0)
               + np.einsum("ix,iy,az->iaxyz", W0, W0, eye)).reshape(m * d, d**3)
    flat, weights = _symmetric_coordinates(d)
    return (columns[:, flat] * weights).T


def lazy_fit(W0: np.ndarray, target: np.ndarray, rtol: float = 1e-10) -> tuple[int, float]:
    """Rank of the tangent space at ``W0`` and the relative residual of the best fit of ``T*`` in it.

    The residual ``||(I - P) t*|| / ||t*||`` (``P`` the orthogonal projector on the tangent space) is
    the best any linearized (lazy, kernel) model at ``W0`` reaches, with unbounded weights.
    """
    J = tangent_basis(W0)
    flat, weights = _symmetric_coordinates(W0.shape[1])
    t = target.reshape(-1)[flat] * weights
    left, singular, _ = np.linalg.svd(J, full_matrices=False)
    basis = left[:, singular > rtol * singular[0]]
    residual = t - basis @ (basis.T @ t)
    return basis.shape[1], float(np.linalg.norm(residual) / np.linalg.norm(t))
