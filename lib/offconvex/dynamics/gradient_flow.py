"""Gradient flow (GF) and gradient descent (GD) as its Euler discretisation.

Post: *Does Gradient Flow Over Neural Networks Really Represent Gradient Descent?* (offconvex, 2022-01-06),
paper: Elkabetz & Cohen, NeurIPS 2021 (arXiv 2107.06608).

GF is the ODE dθ/dt = −∇f(θ) (post eq. "GF"); GD is θ_{k+1} = θ_k − η∇f(θ_k) (post eq. "GD"), i.e. Euler's
method for GF with step η, so iterate k is compared with the flow at time t = kη. Theorem 1 of the post
bounds the gap by O(exp(−∫₀ᵗ λ₋) · t · η) with λ₋ the negative part of the smallest Hessian eigenvalue on the
flow; :func:`euler_error_bound_shape` evaluates that shape (without its unknown constant).
"""

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from scipy.integrate import cumulative_trapezoid, solve_ivp


def _check_positive(name: str, value: float) -> None:
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")


def gradient_flow(grad: Callable, theta0, times, rtol: float = 1e-11, atol: float = 1e-13) -> np.ndarray:
    """Solve GF dθ/dt = −grad(θ) from ``theta0`` and return θ at ``times``.

    Parameters
    ----------
    grad : callable, (d,) -> (d,), the gradient ∇f.
    theta0 : (d,) initial point.
    times : (T,) increasing times ≥ 0 at which to report the flow.
    rtol, atol : tolerances of the adaptive integrator (tight: the flow is the reference GD is judged by).

    Returns
    -------
    (T, d) array, row i is θ(times[i]).
    """
    times = np.asarray(times, dtype=float)
    if times.ndim != 1 or times.size == 0 or times[0] < 0 or np.any(np.diff(times) <= 0):
        raise ValueError(f"times must be a non-empty increasing 1-D array of t >= 0, got {times!r}")
    theta0 = np.asarray(theta0, dtype=float)
    solution = solve_ivp(lambda _t, theta: -np.asarray(grad(theta), dtype=float), (0.0, times[-1]), theta0,
                         method="DOP853", t_eval=times, rtol=rtol, atol=atol)
    if not solution.success:
        raise RuntimeError(f"gradient flow integration failed: {solution.message}")
    return solution.y.T


class GDState(NamedTuple):
    theta: np.ndarray  # (d,) current iterate
    k: int  # iterations taken


def gd_init(theta0) -> GDState:
    """Initial state of GD at ``theta0`` (copied, float64)."""
    return GDState(np.array(theta0, dtype=float), 0)


def gd_step(state: GDState, grad: Callable, eta: float) -> GDState:
    """One GD step θ ← θ − η∇f(θ), i.e. one Euler step of GF with step ``eta``."""
    return GDState(state.theta - eta * np.asarray(grad(state.theta), dtype=float), state.k + 1)


def gradient_descent(grad: Callable, theta0, eta: float, n_steps: int) -> np.ndarray:
    """All iterates θ_0 … θ_{n_steps} of GD with step ``eta``; shape (n_steps + 1, d)."""
    _check_positive("eta", eta)
    if n_steps < 0:
        raise ValueError(f"n_steps must be >= 0, got {n_steps}")
    state = gd_init(theta0)
    iterates = [state.theta]
    for _ in range(n_steps):
        state = gd_step(state, grad, eta)
        iterates.append(state.theta)
    return np.stack(iterates)


def euler_error_bound_shape(times, lambda_min, eta: float) -> np.ndarray:
    """Shape of Theorem 1's bound, exp(∫₀ᵗ |λ₋(s)| ds) · t · η, at ``times``, without its constant.

    Parameters
    ----------
    times : (T,) increasing times starting at 0.
    lambda_min : (T,) smallest Hessian eigenvalue of f on the flow at those times.
    eta : step size of GD.
    """
    _check_positive("eta", eta)
    times, lambda_min = np.asarray(times, dtype=float), np.asarray(lambda_min, dtype=float)
    if times.shape != lambda_min.shape or times.ndim != 1:
        raise ValueError(f"times and lambda_min need the same 1-D shape, got {times.shape}, {lambda_min.shape}")
    negative_part = np.minimum(lambda_min, 0.0)
    return np.exp(-cumulative_trapezoid(negative_part, times, initial=0.0)) * times * eta


def gd_vs_gf_error(grad: Callable, theta0, eta: float, horizon: float, rtol: float = 1e-11) -> tuple:
    """Run GD with step ``eta`` up to time ``horizon`` and compare each iterate with the flow at t = kη.

    Returns ``(times, gd_iterates, flow, error)`` with shapes (K+1,), (K+1, d), (K+1, d), (K+1,),
    where error[k] = ‖θ(kη) − θ_k‖ and K = round(horizon / eta).
    """
    _check_positive("horizon", horizon)
    n_steps = int(round(horizon / eta))
    gd = gradient_descent(grad, theta0, eta, n_steps)
    times = eta * np.arange(n_steps + 1)
    flow = gradient_flow(grad, theta0, times, rtol=rtol)
    return times, gd, flow, np.linalg.norm(flow - gd, axis=1)


# A two-dimensional non-convex test objective: a convex bowl in x times a double well in y,
# f(x, y) = a x²/2 + (y² − 1)²/4. Its Hessian is diag(a, 3y² − 1): the ridge |y| < 1/√3 has negative
# curvature (down to −1 at y = 0), so a flow that starts near the ridge is unstable there and amplifies
# the Euler error like e^{t}, while a flow started inside a well only sees positive curvature.

def double_well(theta, a: float = 1.0) -> float:
    """f(x, y) = a x²/2 + (y² − 1)²/4 at ``theta`` = (x, y)."""
    x, y = theta
    return 0.5 * a * x**2 + 0.25 * (y**2 - 1.0) ** 2


def double_well_grad(theta, a: float = 1.0) -> np.ndarray:
    """∇f = (a x, y³ − y); shape (2,)."""
    x, y = theta
    return np.array([a * x, y**3 - y])


def double_well_hessian_min(theta, a: float = 1.0) -> float:
    """Smallest Hessian eigenvalue min(a, 3y² − 1) at ``theta`` = (x, y)."""
    return float(min(a, 3.0 * theta[1] ** 2 - 1.0))
