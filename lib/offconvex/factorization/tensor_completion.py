"""Tensor (and matrix) completion by gradient descent over a factorization, with the authors' GroupRMSprop.

A *sensing-by-completion* problem: a ground-truth tensor ``T*`` is observed on a random subset of its
entries; a factorization (matrix, CP or hierarchical) is fit to those entries by minimising the mean
squared error over them (the papers' ``nn.MSELoss``). Any function mapping a list of torch parameter
tensors to the full tensor can be fit: the model is evaluated *in full* and masked, which on a CPU is much
faster than gathering the observed entries (research notes §4).

The step rule is ``offconvex.factorization.group_rmsprop`` (one global adaptive step size); gradients come from torch
autograd. The parameters live as NumPy arrays between steps and are viewed as torch tensors without a
copy for the backward pass.
"""

from collections.abc import Callable

import numpy as np
import torch

from offconvex.core.trajectory import Trajectory, iterate
from offconvex.factorization.group_rmsprop import GroupRMSpropState, group_rmsprop_init, group_rmsprop_step


def observation_mask(shape, n_observed: int, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask of ``shape`` with ``n_observed`` entries chosen uniformly without replacement."""
    size = int(np.prod(shape))
    if not 0 < n_observed <= size:
        raise ValueError(f"n_observed must be in (0, {size}], got {n_observed}")
    mask = np.zeros(size, dtype=bool)
    mask[rng.choice(size, n_observed, replace=False)] = True
    return mask.reshape(shape)


def khatri_rao(a, b):
    """Column-wise Kronecker product of ``(I, R)`` and ``(J, R)`` → ``(I*J, R)``; works for torch and NumPy."""
    return (a[:, None, :] * b[None, :, :]).reshape(-1, a.shape[1])


def cp_to_tensor(factors):
    """Full CP tensor ``sum_r w_r^1 ⊗ ... ⊗ w_r^N`` from ``factors[n]`` of shape ``(d_n, R)`` (torch or NumPy).

    Splits the modes into two halves and multiplies their Khatri–Rao products, ``KR(first) @ KR(second)^T``:
    one matmul, the fastest CPU route for order 3–4 (same result as ``offconvex.factorization.cp.cp_to_tensor``).
    """
    if len(factors) < 2:
        raise ValueError(f"need at least 2 factors, got {len(factors)}")
    shape = tuple(f.shape[0] for f in factors)
    half = len(factors) // 2
    left, right = factors[0], factors[half]
    for f in factors[1:half]:
        left = khatri_rao(left, f)
    for f in factors[half + 1:]:
        right = khatri_rao(right, f)
    return (left @ right.T).reshape(shape)


def masked_mse(full, target, mask):
    """Mean squared error over the observed entries (``mask`` is 0/1 of the same shape)."""
    return ((full - target) ** 2 * mask).sum() / mask.sum()


def reconstruction_error(estimate, target) -> float:
    """Normalized reconstruction error ``||W - T*||_F / ||T*||_F``."""
    return float(np.linalg.norm(estimate - target) / np.linalg.norm(target))


def _as_torch(arrays, dtype, requires_grad=False):
    tensors = [torch.from_numpy(np.ascontiguousarray(a)).to(dtype) for a in arrays]
    return [t.requires_grad_(requires_grad) for t in tensors]


def loss_gradients(params, to_tensor: Callable, target, mask, dtype=torch.float64) -> list:
    """Gradients (NumPy float64) of the masked MSE of ``to_tensor(params)`` with respect to each parameter."""
    tensors = _as_torch(params, dtype, requires_grad=True)
    loss = masked_mse(to_tensor(tensors), target, mask)
    return [g.double().numpy() for g in torch.autograd.grad(loss, tensors)]


def full_tensor(params, to_tensor: Callable, dtype=torch.float64) -> np.ndarray:
    """``to_tensor`` evaluated on NumPy parameters, returned as a float64 NumPy array."""
    with torch.no_grad():
        return to_tensor(_as_torch(params, dtype)).double().numpy()


def patience_stop(loss: Callable, tol: float, patience: int) -> Callable:
    """Stop rule of the authors' runs: ``loss(state) < tol`` at ``patience`` consecutive record points.

    Training on below the tolerance matters: the adaptive step keeps shrinking the error for a while
    (research notes §2, Fig 4). The returned callable keeps its count between calls.
    """
    if tol <= 0 or patience < 1:
        raise ValueError(f"need tol > 0 and patience >= 1, got {tol}, {patience}")
    below = [0]

    def stop(state) -> bool:
        below[0] = below[0] + 1 if loss(state) < tol else 0
        return below[0] >= patience

    return stop


def fit_completion(params, to_tensor: Callable, target: np.ndarray, mask: np.ndarray, n_steps: int,
                   metrics: dict, lr: float = 1e-2, record_every: int = 25, tol: float = 0.0,
                   patience: int = 1, dtype=torch.float64) -> tuple[GroupRMSpropState, Trajectory]:
    """Fit ``to_tensor(params)`` to ``target`` on ``mask`` with GroupRMSprop; record ``metrics`` on the way.

    ``metrics`` maps names to functions of ``(params, full_tensor)`` (NumPy); ``"loss"`` (the masked MSE)
    is always recorded. Stops after ``n_steps`` or once the loss is below ``tol`` at ``patience``
    consecutive record points. ``dtype`` is the torch precision of the forward/backward pass.
    Returns the final optimizer state and the trajectory.
    """
    target_t, mask_t = _as_torch([target, mask.astype(float)], dtype)
    observed, cache = mask.astype(bool), {}

    def evaluate(state):  # the full tensor, computed once per record point for all metrics
        if cache.get("step") != state.step:
            cache.update(step=state.step, full=full_tensor(state.params, to_tensor, dtype))
        return cache["full"]

    def step(state):
        return group_rmsprop_step(state, loss_gradients(state.params, to_tensor, target_t, mask_t, dtype), lr)

    def loss(state):
        return float(np.mean((evaluate(state)[observed] - target[observed]) ** 2))

    recorded = {"loss": loss} | {
        name: (lambda state, m=m: m(state.params, evaluate(state))) for name, m in metrics.items()}
    stop = patience_stop(loss, tol, patience) if tol > 0 else None
    return iterate(group_rmsprop_init(params), step, n_steps, recorded, record_every, stop)


def top_k(values, k: int) -> np.ndarray:
    """The ``k`` largest entries of ``values`` in decreasing order (padded with zeros if fewer)."""
    ordered = np.sort(np.asarray(values, dtype=float))[::-1][:k]
    return np.pad(ordered, (0, k - ordered.size))


def half_rise_iterations(steps, curves) -> np.ndarray:
    """For each column of ``curves`` ``(T, K)``: the first recorded step at which it exceeds half its final value.

    A statistic of *incremental learning*: if components are learned one after another, these
    iterations are increasing and well separated; if simultaneously, they coincide.
    """
    steps, curves = np.asarray(steps), np.asarray(curves, dtype=float)
    if curves.ndim != 2 or curves.shape[0] != steps.size:
        raise ValueError(f"curves must be (T, K) with T = {steps.size}, got shape {curves.shape}")
    above = curves > 0.5 * curves[-1]
    return steps[np.argmax(above, axis=0)]
