"""Taylor models of a network around its initialization, and the randomized-sign coupling.

Post: *When are Neural Networks more powerful than Neural Tangent Kernels?* (offconvex, 2021-03-25);
papers: Bai & Lee, *Beyond Linearization* (ICLR 2020), Bai et al., *Taylorized Training* (arXiv 2002.04010).

The order-k Taylor model of f around θ₀ is f_k(θ; x) = Σ_{j≤k} g⁽ʲ⁾(0)/j! with g(s) = f(θ₀ + s(θ − θ₀); x):
k = 1 is the linearized (NTK) model, k = 2 the quadratic model. The derivatives of g are computed by nesting
``torch.func.jvp`` in the scalar s, so f_k is an ordinary differentiable function of θ that can be trained
with the same optimizer as f.

For the two-layer net of the post, f_{W₀+W}(x) = m^{-1/2} Σ_r a_r σ((w₀,r + w_r)ᵀx), the j-th term is
f⁽ʲ⁾ = m^{-1/2} Σ_r a_r σ⁽ʲ⁾(w₀,rᵀx)(w_rᵀx)ʲ / j! (post, expansion after "Higher-order Taylor expansion").
Flipping the movement of neuron r by a random sign s_r changes f⁽ʲ⁾'s summand by s_rʲ: odd terms average to
zero over the signs, even terms do not change at all (the "randomized coupling").
"""

import math
from collections.abc import Callable

import torch
from torch.func import jvp


def _check_order(order: int) -> None:
    if not isinstance(order, int) or order < 0:
        raise ValueError(f"Taylor order must be a non-negative int, got {order!r}")


def line_derivatives(apply: Callable, theta0: torch.Tensor, delta: torch.Tensor, order: int) -> tuple:
    """(g(0), g'(0), …, g⁽ᵏ⁾(0)) of g(s) = apply(θ₀ + s·δ), by k nested forward-mode passes."""
    _check_order(order)
    if theta0.shape != delta.shape:
        raise ValueError(f"theta0 {tuple(theta0.shape)} and delta {tuple(delta.shape)} must have equal shapes")

    def derivatives_up_to(level: int, s: torch.Tensor) -> tuple:
        if level == 0:
            return (apply(theta0 + s * delta),)
        primals, tangents = jvp(lambda u: derivatives_up_to(level - 1, u), (s,), (torch.ones_like(s),))
        return (*primals, tangents[-1])

    return derivatives_up_to(order, torch.zeros((), dtype=theta0.dtype))


def taylor_terms(apply: Callable, theta0: torch.Tensor, theta: torch.Tensor, order: int) -> tuple:
    """The Taylor terms f⁽ʲ⁾ = g⁽ʲ⁾(0)/j!, j = 0…order, of ``apply`` at θ₀ in the direction θ − θ₀."""
    derivatives = line_derivatives(apply, theta0, theta - theta0, order)
    return tuple(term / math.factorial(j) for j, term in enumerate(derivatives))


def taylor_model(apply: Callable, theta0: torch.Tensor, order: int) -> Callable:
    """θ ↦ f_k(θ) = Σ_{j≤order} f⁽ʲ⁾: the order-``order`` Taylor model of ``apply`` around ``theta0``.

    ``apply`` maps a flat parameter vector to outputs (e.g. logits on a fixed batch); the returned function
    has the same signature and is differentiable (torch.func.grad / autograd) in θ.
    """
    _check_order(order)
    theta0 = theta0.detach()
    return lambda theta: sum(taylor_terms(apply, theta0, theta, order))


# --- the two-layer network of the post, with closed-form Taylor terms --------------------------------------

def two_layer(w0: torch.Tensor, a: torch.Tensor, movement: torch.Tensor, x: torch.Tensor,
              sigma: Callable) -> torch.Tensor:
    """f_{W₀+W}(x) = m^{-1/2} Σ_r a_r σ((w₀,r + w_r)ᵀx); w0, movement (m, d), a (m,), x (n, d) → (n,)."""
    if w0.shape != movement.shape or a.shape != w0.shape[:1] or x.shape[1] != w0.shape[1]:
        raise ValueError(f"shapes do not match: w0 {tuple(w0.shape)}, movement {tuple(movement.shape)}, "
                         f"a {tuple(a.shape)}, x {tuple(x.shape)}")
    return sigma(x @ (w0 + movement).T) @ a / math.sqrt(w0.shape[0])


def two_layer_term(w0: torch.Tensor, a: torch.Tensor, movement: torch.Tensor, x: torch.Tensor,
                   sigma_derivative: Callable, order: int) -> torch.Tensor:
    """Closed-form f⁽ʲ⁾(x) = m^{-1/2} Σ_r a_r σ⁽ʲ⁾(w₀,rᵀx)(w_rᵀx)ʲ / j!, shape (n,).

    ``sigma_derivative`` is σ⁽ʲ⁾ for this ``order`` = j.
    """
    _check_order(order)
    summands = sigma_derivative(x @ w0.T) * (x @ movement.T) ** order / math.factorial(order)
    return summands @ a / math.sqrt(w0.shape[0])


def random_signs(n_neurons: int, generator: torch.Generator, dtype=torch.float64) -> torch.Tensor:
    """Independent uniform signs s_r ∈ {−1, +1}, shape (n_neurons,)."""
    if n_neurons < 1:
        raise ValueError(f"n_neurons must be >= 1, got {n_neurons}")
    return 2.0 * torch.randint(0, 2, (n_neurons,), generator=generator).to(dtype) - 1.0


def symmetric_init(n_pairs: int, dim: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric initialization: neurons in pairs with equal w₀,r and opposite a_r, so f⁽⁰⁾ ≡ 0.

    Returns w0 (2·n_pairs, dim) with rows ~ N(0, I/dim) and a (2·n_pairs,) = (+1, …, +1, −1, …, −1).
    """
    if n_pairs < 1 or dim < 1:
        raise ValueError(f"n_pairs and dim must be >= 1, got {n_pairs}, {dim}")
    half = torch.randn(n_pairs, dim, generator=generator, dtype=torch.float64) / math.sqrt(dim)
    a = torch.cat([torch.ones(n_pairs, dtype=torch.float64), -torch.ones(n_pairs, dtype=torch.float64)])
    return torch.cat([half, half]), a
