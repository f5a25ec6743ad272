"""Learning the step size of gradient descent on a quadratic by meta-gradient descent.

Wang, Yuan, Wu, Ge, "Guarantees for tuning the step size using a learning-to-learn approach" (ICML 2021,
arXiv 2006.16495), Section 3. On ``f(w) = w^T H w / 2`` with eigenpairs ``(lam_i, u_i)``, gradient
descent with step ``eta`` from ``w_0`` (coordinates ``c_i = <w_0, u_i>``) reaches after ``t`` steps

    f(w_t) = 1/2 sum_i c_i^2 lam_i q_i^(2t),       q_i = 1 - eta lam_i,

so the naive meta-objective ``f(w_t)`` and its derivative (Theorem 3) are exponentially small or large
in ``t``, while the derivative of ``log f(w_t) / t`` (Theorem 4) is a ratio of two power sums that stays
bounded. Every evaluation here divides each ``q_i`` by ``s = max_i |q_i|`` first, so the ratio never
forms ``s^(2t)`` and the raw quantities are returned as logarithms, finite for any ``t``.
"""

import numpy as np


def quadratic_spectrum(d: int, width: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (decreasing, ``(d,)``) of ``H = X X^T`` with ``X`` a ``d x width`` standard Gaussian,
    and the coordinates ``c`` (``(d,)``) in its eigenbasis of a start ``w_0`` uniform on the unit sphere."""
    if d < 1 or width < 1:
        raise ValueError(f"need d >= 1 and width >= 1, got d={d}, width={width}")
    X = rng.standard_normal((d, width))
    lam, U = np.linalg.eigh(X @ X.T)
    w0 = rng.standard_normal(d)
    return lam[::-1].copy(), (U.T @ (w0 / np.linalg.norm(w0)))[::-1].copy()


def scaled_power_sums(eta, lam: np.ndarray, c: np.ndarray, t: int):
    """``log s``, ``A = sum c^2 lam^2 (q/s)^(2t-1)`` and ``B = sum c^2 lam (q/s)^(2t)``, each shaped as
    ``eta`` (any shape), with ``q = 1 - eta lam`` and ``s = max_i |q_i|`` (Corollary 1's rescaling)."""
    if t < 1:
        raise ValueError(f"the horizon t must be at least 1, got {t}")
    q = 1 - np.asarray(eta, dtype=float)[..., None] * lam
    s = np.abs(q).max(axis=-1)
    r = q / s[..., None]
    weights = c**2 * lam
    return np.log(s), np.sum(weights * lam * r ** (2 * t - 1), -1), np.sum(weights * r ** (2 * t), -1)


def log_unrolled_loss(eta, lam, c, t: int) -> np.ndarray:
    """``log f(w_t)`` (shape of ``eta``) without forming ``f``, which over- or underflows for large ``t``."""
    log_s, _, B = scaled_power_sums(eta, lam, c, t)
    return np.log(0.5) + 2 * t * log_s + np.log(B)


def log10_abs_raw_meta_gradient(eta, lam, c, t: int) -> np.ndarray:
    """``log10 |d f(w_t) / d eta|`` with ``f' = -t sum c^2 lam^2 q^(2t-1)`` (Theorem 3), shape of ``eta``."""
    log_s, A, _ = scaled_power_sums(eta, lam, c, t)
    return (np.log(t) + (2 * t - 1) * log_s + np.log(np.abs(A))) / np.log(10)


def log_meta_gradient(eta, lam, c, t: int) -> np.ndarray:
    """``d/d eta [log f(w_t) / t] = -2 A / (B s)`` (Theorem 4), shape of ``eta``; bounded for every ``t``."""
    log_s, A, B = scaled_power_sums(eta, lam, c, t)
    return -2 * A / (B * np.exp(log_s))


def optimal_step(lam: np.ndarray, c: np.ndarray, horizons, iterations: int = 200) -> np.ndarray:
    """Minimizer ``eta*`` of ``f(w_t)`` for each horizon ``t`` in ``horizons`` (``(T,)``), by bisection on
    the sign of the log-objective's derivative: negative below ``eta*``, positive above (quasi-convexity,
    Theorem 4). The bracket ``[0, 2 / lam_min]`` holds it, since there every ``q_i <= -1``."""
    horizons = np.atleast_1d(horizons)
    low, high = np.zeros(len(horizons)), np.full(len(horizons), 2 / lam[-1])
    for _ in range(iterations):
        middle = (low + high) / 2
        slopes = np.array([log_meta_gradient(m, lam, c, int(t)) for m, t in zip(middle, horizons, strict=True)])
        low, high = np.where(slopes < 0, middle, low), np.where(slopes < 0, high, middle)
    return (low + high) / 2


def meta_gradient_descent(eta0: float, lam, c, t: int, meta_steps: int, step_scale: float) -> np.ndarray:
    """Meta-gradient descent on ``log f(w_t) / t`` with meta-step ``step_scale / sqrt(k)`` at step ``k``
    and ``eta`` clipped at 0 (Theorem 4's algorithm). Returns ``eta_0 .. eta_K``: ``(meta_steps + 1,)``."""
    etas = np.empty(meta_steps + 1)
    etas[0] = eta0
    for k in range(1, meta_steps + 1):
        step = step_scale / np.sqrt(k)
        etas[k] = max(etas[k - 1] - step * log_meta_gradient(etas[k - 1], lam, c, t), 0.0)
    return etas


def unrolled_meta_gradient(eta: float, H: np.ndarray, w0: np.ndarray, t: int, dtype=np.float64):
    """``f(w_t)`` and ``d f(w_t) / d eta`` by reverse mode through the ``t`` unrolled steps, in ``dtype``:
    the naive computation whose intermediates overflow (Corollary 1). Returns two scalars of ``dtype``."""
    H, eta = H.astype(dtype), dtype(eta)
    path = [w0.astype(dtype)]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(t):
            path.append(path[-1] - eta * (H @ path[-1]))
        adjoint = H @ path[-1]  # d f / d w_t
        loss = dtype(0.5) * (path[-1] @ adjoint)
        gradient = dtype(0)
        for w in reversed(path[:-1]):
            gradient -= adjoint @ (H @ w)  # w_{k+1} depends on eta through -eta H w_k
            adjoint = adjoint - eta * (H @ adjoint)
    return loss, gradient
