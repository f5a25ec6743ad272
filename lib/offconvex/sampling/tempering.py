"""Simulated tempering Langevin (Ge, Lee, Risteski 2018): a chain on (level i, position x).

Levels carry inverse temperatures 0 < β_1 < ... < β_L = 1 and the tempered targets
p_i(x) = exp(-β_i f(x)) / Z_i. A sweep does ``moves_per_swap`` Langevin steps at the chain's own
level (x ← x - η β_i ∇f(x) + sqrt(2η) ξ, the post's tempered Langevin equation) and then proposes
i' = i ± 1, accepted with probability min{1, p_{i'}(x) / p_i(x)}, which needs the (estimated) log Z_i.
Stationary law: level i with weight ∝ Z_i / Ẑ_i, and x | i ~ p_i, so exact Ẑ gives uniform levels.
"""

from typing import NamedTuple

import numpy as np
from scipy.special import logsumexp

from offconvex.sampling import langevin


class TemperingState(NamedTuple):
    position: np.ndarray  # (chains, d)
    level: np.ndarray  # (chains,) int in [0, L): 0 is the hottest, L-1 the target β = 1
    potential: np.ndarray  # (chains,) f(position) at β = 1
    gradient: np.ndarray  # (chains, d) ∇f(position) at β = 1
    n_swaps_accepted: np.ndarray  # (chains,)


def check_ladder(betas: np.ndarray) -> np.ndarray:
    """Validate an increasing ladder of inverse temperatures ending at 1."""
    betas = np.asarray(betas, dtype=float)
    if betas.ndim != 1 or len(betas) < 2 or betas[0] <= 0 or np.any(np.diff(betas) <= 0):
        raise ValueError(f"betas must be positive and strictly increasing, got {betas}")
    if not np.isclose(betas[-1], 1.0):
        raise ValueError(f"the last level must be the target, betas[-1] = 1, got {betas[-1]}")
    return betas


def init(position: np.ndarray, level: np.ndarray, value_and_grad) -> TemperingState:
    """Start chains at ``position`` (chains, d) on levels ``level`` (chains,)."""
    position = np.array(position, dtype=np.float64)
    value, grad = value_and_grad(position)
    level = np.broadcast_to(np.asarray(level, dtype=np.int64), value.shape).copy()
    return TemperingState(position, level, value, grad, np.zeros(len(value), dtype=np.int64))


def langevin_move(state: TemperingState, value_and_grad, betas: np.ndarray, step_size: float,
                  generator: np.random.Generator) -> TemperingState:
    """One ULA step per chain on its own level's potential β_i f (same η at every level)."""
    if not step_size > 0:
        raise ValueError(f"step_size must be positive, got {step_size!r}")
    beta = betas[state.level][:, None]
    noise = generator.standard_normal(state.position.shape)
    position = state.position - step_size * beta * state.gradient + np.sqrt(2 * step_size) * noise
    value, grad = value_and_grad(position)
    return state._replace(position=position, potential=value, gradient=grad)


def swap_log_ratio(potential: np.ndarray, level: np.ndarray, proposed: np.ndarray, betas: np.ndarray,
                   log_partition: np.ndarray) -> np.ndarray:
    """log p_{i'}(x) / p_i(x) = -(β_{i'} - β_i) f(x) - (log Z_{i'} - log Z_i), per chain."""
    return (-(betas[proposed] - betas[level]) * potential
            - (log_partition[proposed] - log_partition[level]))


def level_move(state: TemperingState, betas: np.ndarray, log_partition: np.ndarray,
               generator: np.random.Generator) -> TemperingState:
    """Propose a neighbouring level (±1 with probability ½; off the ladder is rejected), Metropolis test."""
    proposed = state.level + np.where(generator.uniform(size=len(state.level)) < 0.5, -1, 1)
    inside = (proposed >= 0) & (proposed < len(betas))
    proposed = np.where(inside, proposed, state.level)
    log_ratio = swap_log_ratio(state.potential, state.level, proposed, betas, log_partition)
    accept = inside & (np.log(generator.uniform(size=len(state.level))) < log_ratio)
    return state._replace(level=np.where(accept, proposed, state.level),
                          n_swaps_accepted=state.n_swaps_accepted + accept)


def sweep(state: TemperingState, value_and_grad, betas: np.ndarray, log_partition: np.ndarray,
          step_size: float, moves_per_swap: int, generator: np.random.Generator) -> TemperingState:
    """``moves_per_swap`` Langevin moves within the level, then one level proposal."""
    if moves_per_swap < 1:
        raise ValueError(f"moves_per_swap must be >= 1, got {moves_per_swap}")
    for _ in range(moves_per_swap):
        state = langevin_move(state, value_and_grad, betas, step_size, generator)
    return level_move(state, betas, log_partition, generator)


def log_partition_on_grid(potential_on_grid: np.ndarray, betas: np.ndarray, cell_volume: float) -> np.ndarray:
    """Reference log Z_β = log ∫ exp(-β f) by a Riemann sum over a grid of f values, shape (L,)."""
    flat = np.ravel(potential_on_grid)
    return np.array([logsumexp(-beta * flat) for beta in betas]) + np.log(cell_volume)


def estimate_log_partition(value_and_grad, betas: np.ndarray, position: np.ndarray, step_size: float,
                           n_steps: int, generator: np.random.Generator) -> np.ndarray:
    """Estimate log Z_i - log Z_1 level by level (importance ratios with resampling, research note A.3).

    Particles ``position`` (n, d) equilibrate by ULA at β_1, give
    Ẑ_{i+1}/Ẑ_i = mean_s exp(-(β_{i+1} - β_i) f(x_s)), are resampled with those weights, re-equilibrate
    at β_{i+1}, and so on. Returns shape (L,) with a leading 0.
    """
    betas = check_ladder(betas)
    log_z = [0.0]
    for i in range(len(betas)):
        potential = tempered_potential(value_and_grad, betas[i])
        state = langevin.init(position, potential)
        for _ in range(n_steps):
            state = langevin.ula_step(state, potential, step_size, generator)
        if i + 1 == len(betas):
            break
        log_weights = -(betas[i + 1] - betas[i]) * state.potential / betas[i]  # state holds β_i f
        log_z.append(log_z[-1] + logsumexp(log_weights) - np.log(len(log_weights)))
        resampling = np.exp(log_weights - logsumexp(log_weights))
        position = state.position[generator.choice(len(log_weights), size=len(log_weights), p=resampling)]
    return np.array(log_z)


def tempered_potential(value_and_grad, beta: float):
    """Callable x -> (β f(x), β ∇f(x)): the potential of level β."""
    if not beta > 0:
        raise ValueError(f"beta must be positive, got {beta!r}")

    def potential(x):
        value, grad = value_and_grad(x)
        return beta * value, beta * grad

    return potential


def select(state: TemperingState, chains: np.ndarray) -> TemperingState:
    """The sub-state of the chains indexed by ``chains`` (boolean mask or indices)."""
    return TemperingState(*(field[chains] for field in state))


def target_hitting_sweeps(state: TemperingState, advance, in_target, target_level: int,
                          max_sweeps: int) -> np.ndarray:
    """Sweeps until each chain is on ``target_level`` (β = 1: L - 1) with ``in_target(position)``, (chains,).

    ``advance(state) -> state`` is one sweep; a chain not there by ``max_sweeps`` gets ``inf``. Only
    chains still running are advanced, so the cost falls as they arrive.
    """
    if max_sweeps < 1:
        raise ValueError(f"max_sweeps must be >= 1, got {max_sweeps}")
    sweeps = np.full(len(state.level), np.inf)
    running = np.arange(len(state.level))
    for n in range(max_sweeps + 1):
        arrived = (state.level == target_level) & in_target(state.position)
        sweeps[running[arrived]] = n
        running, state = running[~arrived], select(state, ~arrived)
        if len(running) == 0:
            break
        if n < max_sweeps:
            state = advance(state)
    return sweeps


def level_occupation(levels: np.ndarray, n_levels: int) -> np.ndarray:
    """Fraction of (chain, time) samples on each level, shape (L,)."""
    return np.bincount(np.ravel(levels), minlength=n_levels) / np.size(levels)
