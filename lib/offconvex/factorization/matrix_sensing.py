"""Symmetric low-rank matrix sensing by gradient descent on an over-parameterized factor.

Stöger & Soltanolkotabi, "Small random initialization is akin to spectral learning" (NeurIPS 2021,
arXiv 2106.15013), Section 2: the ground truth ``M = X X^T`` (``X`` is ``n x r``) is seen through ``m``
linear measurements ``y_i = <A_i, M>``; the model is ``U U^T`` with ``U`` of shape ``n x k``, ``k >= r``,
trained on ``f(U) = 1/(4m) sum_i (<A_i, U U^T> - y_i)^2`` from ``U_0 = alpha * (iid N(0, 1/k))``.

The operator is kept as one ``m x n^2`` matrix whose rows are the flattened ``A_i``, so a gradient step
is two matrix-vector products, and every function accepts a leading batch of factors (one per
initialization scale or width), which run as one tensor.
"""

import numpy as np

from offconvex.core.trajectory import Trajectory, iterate


def symmetric_gaussian_sensing(m: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """``m`` symmetric Gaussian measurement matrices ``A_i = (G_i + G_i^T) / 2``, flattened: ``(m, n^2)``.

    The diagonal entries have variance 1 and the off-diagonal ones 1/2, which makes
    ``E[A*A(Z)] = Z`` for every symmetric ``Z`` (see ``adjoint``).
    """
    if m < 1 or n < 1:
        raise ValueError(f"need m >= 1 and n >= 1, got m={m}, n={n}")
    G = rng.standard_normal((m, n, n))
    return ((G + G.transpose(0, 2, 1)) / 2).reshape(m, n * n)


def measure(A: np.ndarray, M: np.ndarray) -> np.ndarray:
    """``A(M)_i = <A_i, M>`` for ``M`` of shape ``(..., n, n)``: returns ``(..., m)``."""
    n = M.shape[-1]
    if A.shape[1] != n * n:
        raise ValueError(f"operator acts on {A.shape[1]} entries, matrices have {n}x{n}")
    return M.reshape(*M.shape[:-2], n * n) @ A.T


def adjoint(A: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``A*(v) = (1/m) sum_i v_i A_i`` for ``v`` of shape ``(..., m)``: returns ``(..., n, n)``."""
    m, n_squared = A.shape
    n = int(round(np.sqrt(n_squared)))
    return (v @ A / m).reshape(*v.shape[:-1], n, n)


def low_rank_truth(n: int, eigenvalues, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``X = V diag(eigenvalues)^(1/2)`` with ``V`` a random orthonormal ``n x r``: returns ``(X, V)``.

    ``M = X X^T`` then has eigenvalues ``eigenvalues`` and top eigenvectors ``V``.
    """
    eigenvalues = np.asarray(eigenvalues, dtype=float)
    if eigenvalues.ndim != 1 or np.any(eigenvalues <= 0) or eigenvalues.size > n:
        raise ValueError(f"need 1 to n={n} positive eigenvalues, got {eigenvalues}")
    V, _ = np.linalg.qr(rng.standard_normal((n, eigenvalues.size)))
    return V * np.sqrt(eigenvalues), V


def padded_gaussian_factor(n: int, k: int, rng: np.random.Generator, width: int | None = None) -> np.ndarray:
    """``n x k`` iid ``N(0, 1/k)`` entries, padded with zero columns to ``width`` (default ``k``).

    A zero column of ``U`` stays zero under gradient descent (each step multiplies ``U`` on the left),
    so widths ``k < width`` can run in one batch with the widest factor.
    """
    width = k if width is None else width
    if not 1 <= k <= width:
        raise ValueError(f"need 1 <= k <= width, got k={k}, width={width}")
    U = np.zeros((n, width))
    U[:, :k] = rng.standard_normal((n, k)) / np.sqrt(k)
    return U


def loss(A: np.ndarray, y: np.ndarray, U: np.ndarray) -> np.ndarray:
    """``f(U) = 1/(4m) ||A(U U^T) - y||^2`` for each factor in the batch ``U`` ``(..., n, k)``."""
    residual = measure(A, U @ np.swapaxes(U, -1, -2)) - y
    return np.sum(residual**2, axis=-1) / (4 * A.shape[0])


def gradient_step(A: np.ndarray, y: np.ndarray, U: np.ndarray, step: float) -> np.ndarray:
    """One step ``U <- U - step * A*(A(U U^T) - y) U``, the gradient of ``f`` (paper's update rule)."""
    residual = measure(A, U @ np.swapaxes(U, -1, -2)) - y
    return U - step * adjoint(A, residual) @ U


def spectral_estimate(A: np.ndarray, y: np.ndarray, r: int) -> np.ndarray:
    """Top-``r`` eigenvectors of ``A*(y)`` (the spectral initialization's subspace): ``(n, r)``."""
    eigenvalues, vectors = np.linalg.eigh(adjoint(A, y))
    return vectors[:, np.argsort(eigenvalues)[::-1][:r]]


def top_subspace(U: np.ndarray, r: int) -> np.ndarray:
    """Orthonormal basis of the top-``r`` left singular space of each ``U`` ``(..., n, k)``."""
    left, _, _ = np.linalg.svd(U, full_matrices=False)
    return left[..., :r]


def sin_largest_angle(P: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """Sine of the largest principal angle between ``span(P)`` and ``span(Q)`` (orthonormal ``(..., n, r)``).

    Equals the spectral norm of ``(I - Q Q^T) P``.
    """
    outside = P - Q @ (np.swapaxes(Q, -1, -2) @ P)
    return np.linalg.norm(outside, ord=2, axis=(-2, -1))


def relative_error(U: np.ndarray, M: np.ndarray) -> np.ndarray:
    """``||U U^T - M||_F / ||M||_F`` for each factor in the batch."""
    difference = U @ np.swapaxes(U, -1, -2) - M
    return np.linalg.norm(difference, axis=(-2, -1)) / np.linalg.norm(M)


def phase_metrics(X: np.ndarray, V: np.ndarray, V_spectral: np.ndarray) -> dict:
    """The quantities that separate the three phases, as functions of a batch of factors ``U``.

    ``error``: relative error; ``sin_truth``/``sin_spectral``: largest-angle sine between the top-``r``
    left singular space of ``U`` and the truth's ``V`` / the spectral estimate; ``signal``:
    ``sigma_min(V^T U)``; ``orthogonal``: ``||(I - V V^T) U||`` (spectral norm); ``norm``: ``||U||``.
    """
    M, r = X @ X.T, V.shape[1]
    return {
        "error": lambda U: relative_error(U, M),
        "sin_truth": lambda U: sin_largest_angle(top_subspace(U, r), V),
        "sin_spectral": lambda U: sin_largest_angle(top_subspace(U, r), V_spectral),
        "signal": lambda U: np.linalg.svd(V.T @ U, compute_uv=False)[..., r - 1],
        "orthogonal": lambda U: np.linalg.norm(U - V @ (V.T @ U), ord=2, axis=(-2, -1)),
        "norm": lambda U: np.linalg.norm(U, ord=2, axis=(-2, -1)),
    }


def gradient_descent(A: np.ndarray, y: np.ndarray, U0: np.ndarray, step: float, n_steps: int,
                     metrics: dict, record_every: int = 1) -> tuple[np.ndarray, Trajectory]:
    """Run ``gradient_step`` ``n_steps`` times on the batch ``U0`` ``(..., n, k)``, recording ``metrics``.

    Returns the final batch and the trajectory (each metric ``(records, ...)``).
    """
    if step <= 0:
        raise ValueError(f"step must be positive, got {step}")
    return iterate(U0, lambda U: gradient_step(A, y, U, step), n_steps, metrics, record_every)
