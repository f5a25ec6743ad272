"""The adaptive step size the authors of the implicit-regularization papers used ("GroupRMSprop").

One scalar step for all parameters: an exponential moving average of the *total* squared gradient norm
sets the step, so the direction is the plain gradient and only the speed adapts. This is what lets
runs from tiny initializations escape the origin in thousands rather than millions of iterations.
"""

from typing import NamedTuple

import numpy as np


class GroupRMSpropState(NamedTuple):
    params: tuple  # arrays, updated together
    square_avg: float  # EMA of sum_p ||grad_p||^2
    step: int


def group_rmsprop_init(params) -> GroupRMSpropState:
    return GroupRMSpropState(tuple(np.asarray(p, dtype=float) for p in params), 0.0, 0)


def group_rmsprop_step(state: GroupRMSpropState, grads, lr: float = 1e-2, alpha: float = 0.99,
                       eps: float = 1e-6) -> GroupRMSpropState:
    """``p <- p - lr / (sqrt(EMA / (1 - alpha^t)) + eps) * grad_p`` with one EMA over all gradients.

    ``eps`` caps the step multiplier at ``lr / eps``: with very small gradients the method is plain GD
    with step ``lr / eps`` (a source of long stalls from tiny inits).
    """
    if lr <= 0 or not 0 <= alpha < 1 or eps <= 0:
        raise ValueError(f"need lr > 0, 0 <= alpha < 1, eps > 0; got {lr}, {alpha}, {eps}")
    step = state.step + 1
    total = sum(float(np.vdot(g, g)) for g in grads)
    square_avg = alpha * state.square_avg + (1 - alpha) * total
    scale = lr / (np.sqrt(square_avg / (1 - alpha**step)) + eps)
    params = tuple(p - scale * g for p, g in zip(state.params, grads, strict=True))
    return GroupRMSpropState(params, square_avg, step)
