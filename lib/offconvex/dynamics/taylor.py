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
from typing import NamedTuple

import numpy as np
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


def truncation_errors(apply: Callable, theta0: torch.Tensor, theta: torch.Tensor, max_order: int) -> np.ndarray:
    """‖f_k(θ) − f(θ)‖ / ‖f(θ)‖ for k = 1…max_order: how well the expansion at θ₀ reproduces ``apply`` at θ.

    This is the static Taylor remainder at one point (e.g. the trained network's weights), free of the
    training dynamics that take a trained Taylor model to weights of its own; shape (max_order,).
    """
    _check_order(max_order)
    if max_order < 1:
        raise ValueError(f"max_order must be >= 1, got {max_order}")
    with torch.no_grad():
        exact = apply(theta)
        partial_sums = torch.stack(list(taylor_terms(apply, theta0, theta, max_order))).cumsum(0)[1:]
        gaps = (partial_sums - exact).reshape(max_order, -1)
        return (gaps.norm(dim=1) / exact.norm()).numpy()


# --- a bias-free one-hidden-layer network and its Taylor models, in closed form, batched ---------------------

def activation_coefficients(sigma: Callable, z0: torch.Tensor, order: int) -> torch.Tensor:
    """σ⁽ʲ⁾(z₀)/j! for j = 0…order, elementwise, by nested forward mode; shape (order + 1, *z0.shape)."""
    derivatives = line_derivatives(sigma, z0, torch.ones_like(z0), order)
    return torch.stack([term / math.factorial(j) for j, term in enumerate(derivatives)])


class TwoLayerTaylor(NamedTuple):
    """Logits of the net F = (W₂ + Δ₂) σ(x(W₁ + Δ₁)ᵀ) and of its Taylor models around θ₀ = (W₁, W₂), on fixed x.

    With u = xΔ₁ᵀ (n, hidden) and P_k(u) = Σ_{j≤k} σ⁽ʲ⁾(xW₁ᵀ) uʲ / j!, the order-k model keeps the terms of
    total degree ≤ k in (Δ₁, Δ₂): f_k = P_k(u) W₂ᵀ + P_{k−1}(u) Δ₂ᵀ — the same polynomial as
    :func:`taylor_model` of the network, without nesting jvp through every training step.
    θ is flat [vec W₁ (hidden, d_in), vec W₂ (d_out, hidden)], as :mod:`homogeneous_networks` lays it out.
    """

    x: torch.Tensor  # (n, d_in)
    w1: torch.Tensor  # (hidden, d_in), at θ₀
    w2: torch.Tensor  # (d_out, hidden), at θ₀
    sigma: Callable
    coefficients: torch.Tensor  # (max_order + 1, n, hidden): σ⁽ʲ⁾(xW₁ᵀ)/j!

    def split(self, thetas: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Layer movements Δ₁ (M, hidden, d_in), Δ₂ (M, d_out, hidden) of a batch of flat θ (M, p)."""
        cut = self.w1.numel()
        return thetas[:, :cut].reshape(-1, *self.w1.shape) - self.w1, thetas[:, cut:].reshape(-1, *self.w2.shape) - self.w2

    def logits(self, thetas: torch.Tensor, orders) -> torch.Tensor:
        """Logits (M, n, d_out) of model i at θ_i (thetas (M, p)): the network where orders[i] is None, else
        its order-``orders[i]`` Taylor model."""
        if thetas.ndim != 2 or len(orders) != len(thetas):
            raise ValueError(f"need thetas (M, p) and M orders, got {tuple(thetas.shape)} and {len(orders)}")
        move1, move2 = self.split(thetas)
        u = torch.einsum("ni,mhi->mnh", self.x, move1)
        return torch.stack([self._one(u[i], move2[i], order) for i, order in enumerate(orders)])

    def _one(self, u: torch.Tensor, move2: torch.Tensor, order: int | None) -> torch.Tensor:
        if order is None:
            return self.sigma(self.x @ self.w1.T + u) @ (self.w2 + move2).T
        if not 1 <= order < len(self.coefficients):
            raise ValueError(f"order must be in [1, {len(self.coefficients) - 1}] or None, got {order!r}")
        partial_sums = [self.coefficients[0]]  # P_0, …, P_order by Horner-free accumulation of powers
        power = torch.ones_like(u)
        for j in range(1, order + 1):
            power = power * u
            partial_sums.append(partial_sums[-1] + self.coefficients[j] * power)
        return partial_sums[order] @ self.w2.T + partial_sums[order - 1] @ move2.T


def two_layer_taylor(theta0: torch.Tensor, x: torch.Tensor, widths, sigma: Callable, max_order: int) -> TwoLayerTaylor:
    """:class:`TwoLayerTaylor` of the bias-free net with ``widths`` (d_in, hidden, d_out) around flat ``theta0``."""
    if len(widths) != 3:
        raise ValueError(f"widths must be (d_in, hidden, d_out), got {widths!r}")
    d_in, hidden, d_out = widths
    if theta0.shape != (hidden * d_in + d_out * hidden,):
        raise ValueError(f"theta0 must have shape ({hidden * d_in + d_out * hidden},), got {tuple(theta0.shape)}")
    w1 = theta0[: hidden * d_in].reshape(hidden, d_in)
    w2 = theta0[hidden * d_in:].reshape(d_out, hidden)
    return TwoLayerTaylor(x, w1, w2, sigma, activation_coefficients(sigma, x @ w1.T, max_order))


def train_alike(logits: Callable, labels: torch.Tensor, theta0: torch.Tensor, learning_rates, n_steps: int,
                record_at) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Full-batch GD on mean cross-entropy for M models at once, each from ``theta0`` with its own step size.

    ``logits`` maps θ (M, p) to logits (M, n, classes); model i's loss depends on θ_i alone, so one backward
    pass through the sum of the M losses gives every model its own gradient. Returns the recorded steps (R,),
    the training losses (R, M) and the iterates (R, M, p) at the steps in ``record_at``.
    """
    rates = torch.as_tensor(learning_rates, dtype=theta0.dtype)[:, None]
    record = sorted({int(k) for k in record_at})
    if rates.ndim != 2 or n_steps < 0 or not record or record[0] < 0 or record[-1] > n_steps:
        raise ValueError(f"need M step sizes, n_steps >= 0 and record_at in [0, n_steps]; got "
                         f"{tuple(rates.shape)}, {n_steps}, {record}")
    thetas = theta0.detach().repeat(len(rates), 1)
    steps, losses, iterates = [], [], []
    for k in range(n_steps + 1):
        thetas.requires_grad_(True)
        model_losses = _cross_entropies(logits(thetas), labels)
        if k in record:
            steps.append(k)
            losses.append(model_losses.detach().numpy().copy())
            iterates.append(thetas.detach().numpy().copy())
        if k < n_steps:
            (gradient,) = torch.autograd.grad(model_losses.sum(), thetas)
            thetas = thetas.detach() - rates * gradient
    return np.array(steps), np.stack(losses), np.stack(iterates)


def _cross_entropies(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of each model's logits (M, n, classes) against ``labels`` (n,); shape (M,)."""
    picked = logits.gather(2, labels.expand(len(logits), -1)[..., None])[..., 0]
    return (torch.logsumexp(logits, dim=2) - picked).mean(dim=1)


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


# --- sample complexity: linearized (NTK) model against the quadratic model -----------------------------------

def sphere_samples(n: int, dim: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` points uniform on the sphere of radius √dim in R^dim (so each coordinate has unit variance)."""
    if n < 1 or dim < 1:
        raise ValueError(f"n and dim must be >= 1, got {n}, {dim}")
    gaussian = torch.randn(n, dim, generator=generator, dtype=torch.float64)
    return math.sqrt(dim) * gaussian / gaussian.norm(dim=1, keepdim=True)


def linearized_features(w0: torch.Tensor, a: torch.Tensor, x: torch.Tensor, sigma_prime: Callable) -> torch.Tensor:
    """Gradient features of f⁽¹⁾ in W: row i is vec(m^{-1/2} a_r σ'(w₀,rᵀx_i) x_i); shape (n, m·d)."""
    scales = sigma_prime(x @ w0.T) * a / math.sqrt(w0.shape[0])  # (n, m)
    return (scales[:, :, None] * x[:, None, :]).reshape(x.shape[0], -1)


def fit_min_norm(features: torch.Tensor, targets: torch.Tensor, ridge: float = 1e-8) -> torch.Tensor:
    """Minimum-norm least-squares weights (what GD from zero converges to on a linear model), with a tiny
    relative ``ridge`` on the kernel for numerical stability; shape (p,)."""
    if ridge < 0:
        raise ValueError(f"ridge must be >= 0, got {ridge}")
    kernel = features @ features.T
    shift = ridge * torch.trace(kernel) / kernel.shape[0]
    return features.T @ torch.linalg.solve(kernel + shift * torch.eye(kernel.shape[0], dtype=kernel.dtype), targets)


def fit_quadratic_term(w0: torch.Tensor, a: torch.Tensor, x: torch.Tensor, targets: torch.Tensor,
                       sigma_second: Callable, start: torch.Tensor, weight_decay: float = 1e-4,
                       max_iterations: int = 500) -> torch.Tensor:
    """Train the quadratic model f⁽²⁾ alone (the sign-randomized network in expectation) on squared loss.

    Minimises mean (f⁽²⁾_{W₀,W}(x_i) − y_i)² + weight_decay·‖W‖_F² over the movement W (m, d) from ``start``
    with L-BFGS (the post's theorem uses a regularised loss R(W); the landscape is non-convex but benign).
    """
    from scipy.optimize import minimize

    coefficients = (sigma_second(x @ w0.T) / 2 * a / math.sqrt(w0.shape[0])).numpy()  # (n, m)
    inputs, y = x.numpy(), targets.numpy()

    def loss_and_gradient(flat):
        movement = flat.reshape(w0.shape)
        projections = inputs @ movement.T  # (n, m)
        residual = (coefficients * projections**2).sum(1) - y
        gradient = (4.0 / len(y)) * (coefficients * projections * residual[:, None]).T @ inputs
        loss = float(np.mean(residual**2) + weight_decay * np.sum(flat**2))
        return loss, (gradient + 2.0 * weight_decay * movement).ravel()

    result = minimize(loss_and_gradient, start.numpy().ravel(), jac=True, method="L-BFGS-B",
                      options={"maxiter": max_iterations})
    return torch.tensor(result.x.reshape(w0.shape))


class CrossEntropyOf(NamedTuple):
    """Training loss θ ↦ mean cross-entropy of ``apply(θ)`` (logits, (n, classes)) against ``labels``.

    Has the ``loss``/``gradient`` pair that :func:`offconvex.dynamics.homogeneous_networks.train_gd` expects, so a
    network and each of its Taylor models are trained by the very same GD loop.
    """

    apply: Callable  # θ (p,) -> logits (n, classes)
    labels: torch.Tensor  # (n,) int64

    def loss(self, theta: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.cross_entropy(self.apply(theta), self.labels)

    def gradient(self, theta: torch.Tensor) -> torch.Tensor:
        theta = theta.detach().requires_grad_(True)
        return torch.autograd.grad(self.loss(theta), theta)[0]
