"""Tensor (and matrix) completion by gradient descent over a factorization, with the authors' GroupRMSprop.

A *sensing-by-completion* problem: a ground-truth tensor ``T*`` is observed on a random subset of its
entries; a factorization (matrix, CP or hierarchical) is fit to those entries by minimising the mean
squared error over them (the papers' ``nn.MSELoss``). Any function mapping a list of torch parameter
tensors to the full tensor can be fit: the model is evaluated *in full* and masked, which on a CPU is much
faster than gathering the observed entries (research notes §4).

The step rule is ``offconvex.factorization.group_rmsprop`` (one global adaptive step size). Gradients are
written out in closed form for the CP and matrix-product models (a step is ~10^6 flops, and autograd's
per-step overhead was a third of it: profile in the commit message) and come from torch autograd for any
other model. The parameters live as NumPy arrays between steps and are viewed as torch tensors without a
copy for the backward pass.
"""

import functools
from collections.abc import Callable

import numpy as np
import torch

from offconvex.core.trajectory import Trajectory, iterate
from offconvex.factorization.group_rmsprop import GroupRMSpropState, group_rmsprop_init, group_rmsprop_step
from offconvex.factorization.matrix_factorization import product


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


def autograd_loss_gradients(params, to_tensor: Callable, target, mask, dtype=torch.float64) -> list:
    """Gradients (NumPy float64) of the masked MSE of ``to_tensor(params)`` by torch autograd (any model)."""
    tensors = _as_torch(params, dtype, requires_grad=True)
    loss = masked_mse(to_tensor(tensors), target, mask)
    return [g.double().numpy() for g in torch.autograd.grad(loss, tensors)]


def _khatri_rao_chain(parts) -> list:
    """Prefixes ``[parts[0], KR(parts[0], parts[1]), ...]`` of the Khatri–Rao chain, for the backward pass."""
    prefixes = [parts[0]]
    for part in parts[1:]:
        prefixes.append(khatri_rao(prefixes[-1], part))
    return prefixes


def khatri_rao_chain_backward(parts, prefixes, grad) -> list:
    """Gradients with respect to ``parts`` given ``grad`` of the chain's last prefix ``(prod d, R)``.

    ``KR(a, b)[i*J + j, r] = a[i, r] b[j, r]``, so ``d a = sum_j g[i, j] b[j]`` and ``d b = sum_i g[i, j] a[i]``.
    """
    grads = [None] * len(parts)
    for k in range(len(parts) - 1, 0, -1):
        blocks = grad.reshape(prefixes[k - 1].shape[0], parts[k].shape[0], -1)
        grads[k] = (blocks * prefixes[k - 1][:, None, :]).sum(0)
        grad = (blocks * parts[k][None, :, :]).sum(1)
    grads[0] = grad
    return grads


def cp_residual_gradients(factors, residual) -> list:
    """Gradients of a loss with ``dL/dT = residual`` through :func:`cp_to_tensor`, in closed form.

    The same split as the forward pass: ``T = KR(first half) @ KR(second half)^T`` as a matrix, so
    ``d KR(first) = G @ KR(second)`` and ``d KR(second) = G^T @ KR(first)`` (two matmuls, the operations
    autograd performs), then back through each Khatri–Rao chain. Torch tensors or NumPy arrays.
    """
    half = len(factors) // 2
    left, right = _khatri_rao_chain(factors[:half]), _khatri_rao_chain(factors[half:])
    matrix = residual.reshape(left[-1].shape[0], right[-1].shape[0])
    return (khatri_rao_chain_backward(factors[:half], left, matrix @ right[-1])
            + khatri_rao_chain_backward(factors[half:], right, matrix.T @ left[-1]))


def product_residual_gradients(factors, residual) -> list:
    """Gradients of a loss with ``dL/dW = residual`` through ``W = W_L ... W_1`` (``factors = [W_1, ..., W_L]``).

    ``d W_j = (W_L ... W_{j+1})^T G (W_{j-1} ... W_1)^T`` (the post's eq. (3)), accumulated from the top as
    back-propagation does: no product is formed twice.
    """
    below = [factors[0]]  # below[k] = W_{k+1} ... W_1 (0-based factors)
    for factor in factors[1:-1]:
        below.append(factor @ below[-1])
    grads, upstream = [], residual
    for j in range(len(factors) - 1, 0, -1):
        grads.append(upstream @ below[j - 1].T)
        upstream = factors[j].T @ upstream
    grads.append(upstream)
    return grads[::-1]


# Models with a written-out gradient: ``model -> residual_gradients(params, residual, **keywords)``, where
# ``residual = dL/d(model(params))``. A ``functools.partial`` of a model passes its keywords (e.g. a mode tree).
CLOSED_FORM_GRADIENTS = {}


def register_closed_form(model: Callable, residual_gradients: Callable) -> None:
    """Use ``residual_gradients`` instead of autograd for ``model`` (and partials of it) in :func:`loss_gradients`."""
    CLOSED_FORM_GRADIENTS[model] = residual_gradients


def _closed_form(to_tensor: Callable):
    """``params, residual -> gradients`` for a model with a written-out gradient, else None."""
    model = to_tensor.func if isinstance(to_tensor, functools.partial) and not to_tensor.args else to_tensor
    residual_gradients = CLOSED_FORM_GRADIENTS.get(model)
    if residual_gradients is None or model is to_tensor:
        return residual_gradients
    return functools.partial(residual_gradients, **to_tensor.keywords)


def loss_gradients(params, to_tensor: Callable, target, mask, dtype=torch.float64) -> list:
    """Gradients (NumPy float64) of the masked MSE of ``to_tensor(params)`` with respect to each parameter.

    CP (:func:`cp_to_tensor`) and matrix products (``matrix_factorization.product``) use their closed-form
    gradients (in NumPy for float64, in torch for other ``dtype``); any other model uses autograd.
    ``target`` and ``mask`` are torch tensors or NumPy arrays of the tensor's shape.
    """
    residual_gradients = _closed_form(to_tensor)
    if residual_gradients is None:
        return autograd_loss_gradients(params, to_tensor, _as_tensor(target, dtype), _as_tensor(mask, dtype), dtype)
    if dtype == torch.float64:  # NumPy: no conversions, and the parameters are float64 already
        params, target, mask = [np.asarray(p, dtype=float) for p in params], _as_array(target), _as_array(mask)
    else:
        params, target, mask = _as_torch(params, dtype), _as_tensor(target, dtype), _as_tensor(mask, dtype)
    residual = (2.0 / float(mask.sum())) * (mask * (to_tensor(params) - target))  # d(masked MSE)/dT
    grads = residual_gradients(params, residual)
    return [g if isinstance(g, np.ndarray) else g.double().numpy() for g in grads]


register_closed_form(cp_to_tensor, cp_residual_gradients)
register_closed_form(product, product_residual_gradients)


def _as_tensor(values, dtype):
    return values.to(dtype) if isinstance(values, torch.Tensor) else torch.from_numpy(np.asarray(values, float)).to(dtype)


def _as_array(values):
    return values.double().numpy() if isinstance(values, torch.Tensor) else np.asarray(values, dtype=float)


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
    if _closed_form(to_tensor) is not None and dtype == torch.float64:  # NumPy end to end
        target_t, mask_t = np.asarray(target, dtype=float), mask.astype(float)
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


def top_component_norms(factors, full_tensor, k: int) -> np.ndarray:
    """The ``k`` largest CP component norms, decreasing: a metric of :func:`fit_completion`.

    Named rather than a lambda so that a fit recording it can be memoized (``offconvex.core.memo``):
    ``functools.partial(top_component_norms, k=10)``. ``full_tensor`` is unused.
    """
    from offconvex.factorization.cp import component_norms

    return top_k(component_norms(factors), k)


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
