"""Deep matrix factorization: matrix completion through a product of L matrices (a linear network).

The post's equations (1)–(3): loss over observed entries of the product ``W = W_L ... W_1``. We use
half the sum of squared errors, as the paper's code does, so the gradient is ``mask * (W - M)``.
"""

import numpy as np
from scipy.integrate import solve_ivp

from offconvex.core.trajectory import Trajectory


def product(factors) -> np.ndarray:
    """``W_L @ ... @ W_1`` for ``factors = [W_1, ..., W_L]`` (each ``(d_{j+1}, d_j)``)."""
    result = factors[0]
    for factor in factors[1:]:
        result = factor @ result
    return result


def completion_loss(W, target, mask) -> float:
    """``0.5 * sum over observed (i, j) of (W_ij - M_ij)^2``; ``mask`` is 1 on observed entries."""
    return 0.5 * float(np.sum(mask * (W - target) ** 2))


def factor_gradients(factors, target, mask) -> list:
    """Gradient of ``completion_loss(product(factors))`` with respect to each factor.

    ``d/dW_j = (W_L...W_{j+1})^T  G  (W_{j-1}...W_1)^T`` with ``G = mask * (W - M)``.
    """
    depth = len(factors)
    G = mask * (product(factors) - target)
    grads = []
    for j in range(depth):
        above = product(factors[j + 1:]) if j + 1 < depth else np.eye(G.shape[0])
        below = product(factors[:j]) if j > 0 else np.eye(factors[0].shape[1])
        grads.append(above.T @ G @ below.T)
    return grads


def init_factors(depth: int, dim: int, std: float, rng: np.random.Generator,
                 positive_det: bool = False, max_tries: int = 1000) -> list:
    """``depth`` square ``dim x dim`` factors with i.i.d. N(0, std^2) entries.

    ``positive_det`` resamples until ``det(product) > 0`` (the theorem's condition; probability 1/2).
    """
    if depth < 1 or dim < 1 or std <= 0:
        raise ValueError(f"need depth >= 1, dim >= 1, std > 0; got {depth}, {dim}, {std}")
    for _ in range(max_tries):
        factors = [std * rng.standard_normal((dim, dim)) for _ in range(depth)]
        if not positive_det or np.linalg.det(product(factors)) > 0:
            return factors
    raise RuntimeError(f"no init with positive determinant in {max_tries} tries")


def _pack(factors) -> np.ndarray:
    return np.concatenate([f.ravel() for f in factors])


def _unpack(theta, depth: int, dim: int) -> list:
    return list(theta.reshape(depth, dim, dim))


def gradient_flow(factors, target, mask, t_max: float, loss_stop: float = 0.0, rtol: float = 1e-8,
                  atol: float = 1e-12, metrics: dict | None = None, record_params: bool = False) -> Trajectory:
    """Integrate ``dW_j/dt = -d loss/dW_j`` with LSODA from ``factors`` until ``t_max`` or ``loss_stop``.

    Records ``metrics`` (name -> function of the product matrix) at every solver step; ``loss`` and the
    gradient-flow time (``Trajectory.steps``) are always recorded; ``record_params`` adds the stacked
    factors as ``"params"`` (shape ``(T, L, d, d)``). Square factors only.
    """
    depth, dim = len(factors), factors[0].shape[0]

    def velocity(_, theta):
        return -_pack(factor_gradients(_unpack(theta, depth, dim), target, mask))

    def reached(_, theta):
        return completion_loss(product(_unpack(theta, depth, dim)), target, mask) - loss_stop

    reached.terminal = True
    solution = solve_ivp(velocity, (0.0, t_max), _pack(factors), method="LSODA", rtol=rtol, atol=atol,
                         events=reached if loss_stop > 0 else None)
    if solution.status == -1:
        raise RuntimeError(f"gradient flow failed: {solution.message}")
    products = [product(_unpack(theta, depth, dim)) for theta in solution.y.T]
    recorded = {"loss": np.array([completion_loss(W, target, mask) for W in products])}
    for name, metric in (metrics or {}).items():
        recorded[name] = np.array([metric(W) for W in products])
    if record_params:
        recorded["params"] = solution.y.T.reshape(-1, depth, dim, dim).copy()
    return Trajectory(solution.t, recorded)


def gradient_descent(factors, target, mask, lr: float, n_steps: int, record_every: int = 1,
                     metrics: dict | None = None, loss_stop: float = 0.0):
    """Plain full-batch GD on the factors; returns the final factors and a Trajectory over iterations."""
    from offconvex.core.trajectory import iterate

    def step(current):
        return [f - lr * g for f, g in zip(current, factor_gradients(current, target, mask), strict=True)]

    recorded = {"loss": lambda fs: completion_loss(product(fs), target, mask)}
    recorded |= {name: (lambda fs, m=m: m(product(fs))) for name, m in (metrics or {}).items()}
    stop = (lambda fs: completion_loss(product(fs), target, mask) < loss_stop) if loss_stop > 0 else None
    return iterate(list(factors), step, n_steps, recorded, record_every, stop)
