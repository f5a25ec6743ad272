"""Langevin Monte Carlo for p(x) ∝ exp(-f(x)): unadjusted (ULA) and Metropolis-adjusted (MALA).

Both are init/step pairs over a :class:`LangevinState` that holds many independent chains at once:
``position`` has shape ``(chains, *event_shape)`` (a point of R^d, or a d×k matrix, per chain).
The proposal is the post's equation (Part 2, first display)

    x' = x - η ∇f(x) + sqrt(2η) ξ,   ξ ~ N(0, I),

so ``n`` steps cover diffusion time ``t = n η``. ``value_and_grad(x) -> (f (chains,), ∇f (chains, ...))``
is any vectorized potential (see ``offconvex.sampling.mixtures`` and ``offconvex.sampling.factorization_posterior``).
"""

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from scipy.integrate import cumulative_trapezoid, trapezoid

ValueAndGrad = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


class LangevinState(NamedTuple):
    position: np.ndarray  # (chains, *event_shape)
    potential: np.ndarray  # (chains,) f(position)
    gradient: np.ndarray  # (chains, *event_shape) ∇f(position)
    n_accepted: np.ndarray  # (chains,) accepted MALA proposals (ULA accepts every move)


def _check_step_size(step_size: float) -> None:
    if not np.isfinite(step_size) or step_size <= 0:
        raise ValueError(f"step_size must be a positive finite number, got {step_size!r}")


def init(position: np.ndarray, value_and_grad: ValueAndGrad) -> LangevinState:
    """Start chains at ``position`` (chains, *event_shape), float64."""
    position = np.array(position, dtype=np.float64)
    if position.ndim < 2:
        raise ValueError(f"position needs shape (chains, *event_shape), got shape {position.shape}")
    value, grad = value_and_grad(position)
    return LangevinState(position, value, grad, np.zeros(position.shape[0], dtype=np.int64))


def _proposal(state: LangevinState, step_size: float, generator: np.random.Generator) -> np.ndarray:
    noise = generator.standard_normal(state.position.shape)
    return state.position - step_size * state.gradient + np.sqrt(2 * step_size) * noise


def ula_step(state: LangevinState, value_and_grad: ValueAndGrad, step_size: float,
             generator: np.random.Generator) -> LangevinState:
    """One unadjusted Langevin step for every chain (biased by O(η) at stationarity)."""
    _check_step_size(step_size)
    position = _proposal(state, step_size, generator)
    value, grad = value_and_grad(position)
    return LangevinState(position, value, grad, state.n_accepted + 1)


def _log_proposal_density(to: np.ndarray, frm: np.ndarray, grad_frm: np.ndarray, step_size: float):
    """log q(to | frm) up to a constant: -‖to - frm + η∇f(frm)‖² / (4η), summed over event axes."""
    residual = to - frm + step_size * grad_frm
    return -np.sum(residual.reshape(len(to), -1) ** 2, axis=1) / (4 * step_size)


def mala_step(state: LangevinState, value_and_grad: ValueAndGrad, step_size: float,
              generator: np.random.Generator) -> LangevinState:
    """One Metropolis-adjusted Langevin step: the ULA proposal, accepted with the MH ratio (exact target)."""
    _check_step_size(step_size)
    proposal = _proposal(state, step_size, generator)
    value, grad = value_and_grad(proposal)
    log_ratio = (state.potential - value
                 + _log_proposal_density(state.position, proposal, grad, step_size)
                 - _log_proposal_density(proposal, state.position, state.gradient, step_size))
    accept = np.log(generator.uniform(size=len(value))) < log_ratio
    expand = accept.reshape((-1,) + (1,) * (proposal.ndim - 1))
    return LangevinState(np.where(expand, proposal, state.position), np.where(accept, value, state.potential),
                         np.where(expand, grad, state.gradient), state.n_accepted + accept)


def select(state: LangevinState, chains: np.ndarray) -> LangevinState:
    """The sub-state of the chains indexed by ``chains`` (boolean mask or indices)."""
    return LangevinState(*(field[chains] for field in state))


def hitting_steps(state: LangevinState, step: Callable[[LangevinState], LangevinState],
                  has_hit: Callable[[np.ndarray], np.ndarray], max_steps: int) -> np.ndarray:
    """Number of steps until each chain first satisfies ``has_hit(position)``; ``inf`` if not by ``max_steps``.

    Only chains still running are stepped, so the cost falls as chains arrive.
    """
    if max_steps < 1:
        raise ValueError(f"max_steps must be >= 1, got {max_steps}")
    steps = np.full(len(state.position), np.inf)
    steps[has_hit(state.position)] = 0
    running = np.flatnonzero(np.isinf(steps))
    state = select(state, running)
    for k in range(1, max_steps + 1):
        if len(running) == 0:
            break
        state = step(state)
        arrived = has_hit(state.position)
        if arrived.any():
            steps[running[arrived]] = k
            running, state = running[~arrived], select(state, ~arrived)
    return steps


def mean_hitting_time_1d(potential: Callable[[np.ndarray], np.ndarray], start: float, target: float,
                         lower: float, n_grid: int = 20001) -> float:
    """Exact mean time for dX = -f'(X) dt + sqrt(2) dW to go from ``start`` up to ``target``.

    With a reflecting wall at ``lower`` (far in the left tail for a confining f), the mean first
    passage time is  T = ∫_start^target e^{f(y)} ∫_lower^y e^{-f(z)} dz dy  (Bovier et al. 2004;
    research note A.2), evaluated by the trapezoid rule on ``n_grid`` points.
    """
    if not lower <= start < target:
        raise ValueError(f"need lower <= start < target, got lower={lower}, start={start}, target={target}")
    y = np.linspace(lower, target, n_grid)
    f = potential(y)
    shift = f.min()  # factor e^{±shift} cancels between the inner and outer integrand
    inner = cumulative_trapezoid(np.exp(-(f - shift)), y, initial=0.0)
    outer = np.exp(f - shift) * inner
    keep = y >= start
    return float(trapezoid(outer[keep], y[keep]))


def ula_gaussian_variance(variance: float, step_size: float) -> float:
    """Stationary variance of ULA on N(0, variance) per coordinate: variance / (1 - η / (2 variance)).

    From x' = (1 - η/s²) x + sqrt(2η) ξ: v = 2η / (1 - (1 - η/s²)²). Needs η < 2 s² for stability.
    """
    if not 0 < step_size < 2 * variance:
        raise ValueError(f"ULA on N(0, {variance}) is unstable or undefined for step_size={step_size}")
    return variance / (1 - step_size / (2 * variance))
