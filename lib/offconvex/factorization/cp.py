"""CP (CANDECOMP/PARAFAC) tensor factorization in NumPy float64.

A tensor of order N is ``sum_r w_r^1 ⊗ ... ⊗ w_r^N``; ``factors[n]`` is the ``(d_n, R)`` matrix whose
columns are the ``w_r^n``. Function names follow tensorly (``cp_to_tensor``, ``khatri_rao``, ``unfold``).
"""

from functools import reduce

import numpy as np


def khatri_rao(matrices) -> np.ndarray:
    """Column-wise Kronecker product: ``(prod d_n, R)``; the last matrix's index varies fastest."""
    def pair(a, b):
        return (a[:, None, :] * b[None, :, :]).reshape(-1, a.shape[1])

    return reduce(pair, matrices)


def unfold(tensor, mode: int) -> np.ndarray:
    """Mode-``mode`` matricization ``(d_mode, prod of the other dims)`` (C order over the rest)."""
    return np.moveaxis(tensor, mode, 0).reshape(tensor.shape[mode], -1)


def cp_to_tensor(factors) -> np.ndarray:
    """Full tensor of a CP factorization, via one Khatri–Rao matmul (much faster than einsum)."""
    shape = tuple(f.shape[0] for f in factors)
    if len(factors) == 1:
        return factors[0].sum(axis=1)
    return (factors[0] @ khatri_rao(factors[1:]).T).reshape(shape)


def component_norms(factors) -> np.ndarray:
    """``(R,)`` Frobenius norm of each rank-one component: the product of its factor-column norms."""
    return np.prod([np.linalg.norm(f, axis=0) for f in factors], axis=0)


def cp_gradients(factors, residual) -> list:
    """Gradient of ``<residual, cp_to_tensor(factors)>``-linearized loss: for a loss L with
    ``dL/dT = residual``, returns ``dL/dfactors[n] = unfold(residual, n) @ khatri_rao(others)``."""
    grads = []
    for n in range(len(factors)):
        others = [f for m, f in enumerate(factors) if m != n]
        grads.append(unfold(residual, n) @ khatri_rao(others))
    return grads


def init_factors(shape, rank: int, std: float, rng: np.random.Generator) -> list:
    """i.i.d. N(0, std^2) factors, one ``(d_n, rank)`` matrix per mode."""
    if rank < 1 or std <= 0:
        raise ValueError(f"need rank >= 1 and std > 0, got rank={rank}, std={std}")
    return [std * rng.standard_normal((d, rank)) for d in shape]


def random_cp(shape, rank: int, rng: np.random.Generator, fro_norm: float = 1.0):
    """``(tensor, factors)``: a ground truth of CP rank ``rank`` from Gaussian factors, rescaled to Frobenius
    norm ``fro_norm``, and factors of it (the first one carries the rescaling) for its component norms."""
    factors = [rng.standard_normal((d, rank)) for d in shape]
    tensor = cp_to_tensor(factors)
    scale = fro_norm / np.linalg.norm(tensor)
    return tensor * scale, [factors[0] * scale, *factors[1:]]


def random_cp_tensor(shape, rank: int, rng: np.random.Generator, fro_norm: float = 1.0) -> np.ndarray:
    """Ground truth of CP rank ``rank`` from Gaussian factors, rescaled to Frobenius norm ``fro_norm``."""
    return random_cp(shape, rank, rng, fro_norm)[0]


def cp_als(tensor, rank: int, rng: np.random.Generator, n_iter_max: int = 1000, tol_mse: float = 1e-6):
    """Alternating least squares for a rank-``rank`` CP fit; stops once the mean squared error < ``tol_mse``.

    Each sweep solves for one factor with the others fixed (normal equations through the Hadamard
    product of Gram matrices, solved with a pseudo-inverse). Returns ``(factors, mse)``.
    """
    factors = [rng.standard_normal((d, rank)) for d in tensor.shape]
    unfolded = [unfold(tensor, n) for n in range(tensor.ndim)]
    mse = np.inf
    for _ in range(n_iter_max):
        for n in range(tensor.ndim):
            others = [f for m, f in enumerate(factors) if m != n]
            gram = reduce(np.multiply, [f.T @ f for f in others])
            factors[n] = unfolded[n] @ khatri_rao(others) @ np.linalg.pinv(gram)
        mse = float(np.mean((cp_to_tensor(factors) - tensor) ** 2))
        if mse < tol_mse:
            break
    return factors, mse


def estimate_cp_rank(tensor, rng: np.random.Generator, tol_mse: float = 1e-6, max_rank: int | None = None,
                     n_iter_max: int = 1000) -> int:
    """Smallest R whose CP-ALS fit reaches mean squared error < ``tol_mse`` (binary search; 0 for zero).

    This is a numerical rank: exact tensor rank is NP-hard, and ALS may miss a fit that exists, so the
    estimate is an upper bound in spirit (as in the paper's evaluation).
    """
    if not np.any(tensor):
        return 0
    high = max_rank or int(np.prod(tensor.shape) // max(tensor.shape))
    low = 1
    while low < high:
        middle = (low + high) // 2
        if cp_als(tensor, middle, rng, n_iter_max, tol_mse)[1] < tol_mse:
            high = middle
        else:
            low = middle + 1
    return low


def estimate_cp_ranks(tensors, seed: int, stream: str, tol_mse: float = 1e-6, max_rank: int | None = None,
                      n_iter_max: int = 1000) -> list[int]:
    """:func:`estimate_cp_rank` of each tensor in turn, every ALS start drawn from one stream.

    The stream is ``offconvex.core.random.rng(seed, stream)``, created here and shared in order, so the call
    is a function of plain arguments (``map_configurations`` can hand it to a worker or reuse its result).
    """
    from offconvex.core.random import rng

    generator = rng(seed, stream)
    return [estimate_cp_rank(tensor, generator, tol_mse, max_rank, n_iter_max) for tensor in tensors]


def completion_mse(factors, target, mask) -> float:
    """Mean squared error of ``cp_to_tensor(factors)`` over the observed entries (``mask == 1``)."""
    return float(np.sum(mask * (cp_to_tensor(factors) - target) ** 2) / np.sum(mask))


def fit_completion(factors, target, mask, lr: float = 1e-2, tol_mse: float = 1e-6, patience: int = 3,
                   check_every: int = 100, max_iter: int = 100_000, record_every: int = 25):
    """Tensor completion by GroupRMSprop on CP factors (the authors' optimizer), from ``factors``.

    Stops after ``patience`` consecutive checks (every ``check_every`` iterations) with train MSE below
    ``tol_mse``, as in the paper's code; stopping at the first crossing leaves the error
    tolerance-limited. Returns ``(factors, Trajectory)`` with ``loss`` and top ``component_norms``.
    """
    from offconvex.core.trajectory import iterate
    from offconvex.factorization.group_rmsprop import group_rmsprop_init, group_rmsprop_step

    observed = float(np.sum(mask))

    def step(state):
        residual = 2.0 * mask * (cp_to_tensor(state.params) - target) / observed
        return group_rmsprop_step(state, cp_gradients(state.params, residual), lr=lr)

    below = 0

    def converged(state):
        nonlocal below
        below = below + 1 if completion_mse(state.params, target, mask) < tol_mse else 0
        return below >= patience

    metrics = {"loss": lambda s: completion_mse(s.params, target, mask),
               "component_norms": lambda s: np.sort(component_norms(s.params))[::-1][:10]}
    state, trajectory = iterate(group_rmsprop_init(factors), step, max_iter, metrics, check_every, converged)
    del record_every  # records are taken at the convergence checks
    return list(state.params), trajectory
