"""Bias-free fully connected networks with homogeneous activations, as functions of one flat parameter vector.

Post: *Does Gradient Flow Over Neural Networks Really Represent Gradient Descent?* (offconvex, 2022-01-06).
The paper's Theorem 2 concerns networks x ↦ W_L σ(W_{L−1} … σ(W_1 x)) with σ(cz) = c σ(z) for c > 0
(linear, ReLU, leaky ReLU) and no biases; its code initialises them Xavier-uniform and trains all runs from
one saved initial network. Here the parameters are one float64 vector θ (layers concatenated, each weight
matrix row-major of shape (fan_out, fan_in)), so that GD, distances and Hessians act on plain vectors.
"""

import math
from typing import NamedTuple

import numpy as np
import torch


def swish(z: torch.Tensor) -> torch.Tensor:
    """σ(z) = z·sigmoid(z), written out: torch's own ``silu`` has no forward-mode derivative of its backward,
    which the nested-jvp Taylor models of :mod:`offconvex.dynamics.taylor` need when they are trained by autograd."""
    return z * torch.sigmoid(z)


# linear and ReLU are the homogeneous ones of Theorem 2. tanh and swish are smooth, non-homogeneous ones whose
# Taylor series in the parameters does not terminate (used by the 2021-03-25 chapter): tanh is odd, so at
# centred pre-activations its second derivative nearly vanishes; swish, a smooth ReLU, has σ''(0) = 1/2.
ACTIVATIONS = {"linear": lambda z: z, "relu": torch.relu, "tanh": torch.tanh, "swish": swish}


def layer_shapes(widths) -> list[tuple[int, int]]:
    """Weight shapes (fan_out, fan_in) for layer widths [d_in, h_1, …, d_out]."""
    widths = [int(w) for w in widths]
    if len(widths) < 2 or min(widths) < 1:
        raise ValueError(f"widths must list >= 2 positive sizes, got {widths!r}")
    return [(fan_out, fan_in) for fan_in, fan_out in zip(widths[:-1], widths[1:], strict=False)]


def n_parameters(widths) -> int:
    """Number of weights of the bias-free network with these widths."""
    return sum(rows * cols for rows, cols in layer_shapes(widths))


def unflatten(theta: torch.Tensor, widths) -> list[torch.Tensor]:
    """Split flat ``theta`` of shape (n_parameters,) into the weight matrices (views, no copy)."""
    if theta.ndim != 1 or theta.numel() != n_parameters(widths):
        raise ValueError(f"theta must have shape ({n_parameters(widths)},), got {tuple(theta.shape)}")
    weights, start = [], 0
    for rows, cols in layer_shapes(widths):
        weights.append(theta[start:start + rows * cols].reshape(rows, cols))
        start += rows * cols
    return weights


def xavier_uniform(widths, generator: torch.Generator) -> torch.Tensor:
    """Xavier/Glorot-uniform init (gain 1): each W_l ~ U(±√(6/(fan_in+fan_out))), flattened, float64."""
    pieces = []
    for rows, cols in layer_shapes(widths):
        bound = math.sqrt(6.0 / (rows + cols))
        uniform = torch.rand(rows * cols, generator=generator, dtype=torch.float64)
        pieces.append((2.0 * uniform - 1.0) * bound)
    return torch.cat(pieces)


def forward(theta: torch.Tensor, x: torch.Tensor, widths, activation: str = "relu") -> torch.Tensor:
    """Logits of the network, shape (n, d_out), for inputs ``x`` of shape (n, d_in)."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    sigma = ACTIVATIONS[activation]
    weights = unflatten(theta, widths)
    hidden = x
    for weight in weights[:-1]:
        hidden = sigma(hidden @ weight.T)
    return hidden @ weights[-1].T


def cross_entropy(theta: torch.Tensor, x: torch.Tensor, labels: torch.Tensor, widths,
                  activation: str = "relu") -> torch.Tensor:
    """Mean softmax cross-entropy of the network on (x, labels): the training loss f(θ)."""
    return torch.nn.functional.cross_entropy(forward(theta, x, widths, activation), labels)


class FullBatchProblem(NamedTuple):
    """The data and architecture that define a training loss f(θ)."""

    x: torch.Tensor  # (n, d_in) float64 inputs
    labels: torch.Tensor  # (n,) int64 class labels
    widths: tuple  # (d_in, h_1, ..., d_out)
    activation: str  # "linear" or "relu"

    def loss(self, theta: torch.Tensor) -> torch.Tensor:
        return cross_entropy(theta, self.x, self.labels, self.widths, self.activation)

    def gradient(self, theta: torch.Tensor) -> torch.Tensor:
        if self.activation in _DERIVATIVE_MASKS:
            return cross_entropy_gradient(theta.detach(), self.x, self.labels, self.widths, self.activation)
        # plain reverse mode: ~1.6x faster per step than torch.func.grad here, and GD takes ~10^4 steps
        theta = theta.detach().requires_grad_(True)
        return torch.autograd.grad(self.loss(theta), theta)[0]


# σ'(z) as a mask for the homogeneous activations (ReLU's at 0 is 0, as in torch's backward).
_DERIVATIVE_MASKS = {"linear": None, "relu": lambda z: z > 0}


def cross_entropy_gradient(theta: torch.Tensor, x: torch.Tensor, labels: torch.Tensor, widths,
                           activation: str = "relu") -> torch.Tensor:
    """∇f(θ) of :func:`cross_entropy` by hand-written back-propagation (linear or ReLU networks), shape (d,).

    The same matmuls as autograd (GD runs ~10^4 steps of a ~10^6-flop network, where autograd's graph
    costs ~40 % more): ``d logits = (softmax − onehot) / n``, ``d W_l = d z_l^T h_{l−1}``, ``d h_{l−1} = d z_l W_l``.
    """
    weights, mask_of = unflatten(theta, widths), _DERIVATIVE_MASKS[activation]
    hidden, masks = [x], []
    for weight in weights[:-1]:
        z = hidden[-1] @ weight.T
        masks.append(None if mask_of is None else mask_of(z))
        hidden.append(z if mask_of is None else torch.relu(z))
    upstream = torch.softmax(hidden[-1] @ weights[-1].T, dim=1)
    upstream[torch.arange(len(labels)), labels] -= 1.0
    upstream /= len(labels)
    grads = []
    for layer in range(len(weights) - 1, -1, -1):
        grads.append((upstream.T @ hidden[layer]).reshape(-1))
        if layer > 0:
            upstream = upstream @ weights[layer]
            upstream = upstream if masks[layer - 1] is None else upstream * masks[layer - 1]
    return torch.cat(grads[::-1])


def train_gd(problem: FullBatchProblem, theta0: torch.Tensor, eta: float, n_steps: int,
             record_every: int | None, record_at=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Full-batch GD θ ← θ − η∇f(θ) from a copy of ``theta0``; every run of a comparison starts from it.

    Returns ``(steps, losses, thetas)``: the iteration indices 0, record_every, 2·record_every, … and the
    last one, n_steps (R,), the loss at those iterates (R,), and the iterates themselves (R, n_parameters),
    loss and weights recorded *at the same iterate*. Alternatively ``record_at`` (with ``record_every=None``)
    lists the iterations to record, e.g. log-spaced ones: recording costs a loss evaluation each time.
    """
    if eta <= 0 or n_steps < 0:
        raise ValueError(f"need eta > 0 and n_steps >= 0; got eta={eta}, n_steps={n_steps}")
    if (record_every is None) == (record_at is None):
        raise ValueError("give exactly one of record_every and record_at")
    if record_at is not None:
        record = {int(k) for k in record_at}
        if not record or min(record) < 0 or max(record) > n_steps:
            raise ValueError(f"record_at must be non-empty steps in [0, {n_steps}], got {sorted(record)}")
    elif record_every < 1:
        raise ValueError(f"need record_every >= 1, got {record_every}")
    else:
        record = {k for k in range(n_steps + 1) if k % record_every == 0 or k == n_steps}
    theta = theta0.detach().clone()
    steps, losses, thetas = [], [], []
    for k in range(n_steps + 1):
        if k in record:
            steps.append(k)
            losses.append(float(problem.loss(theta)))
            thetas.append(theta.numpy().copy())
        if k < n_steps:
            theta = theta - eta * problem.gradient(theta)
    return np.array(steps), np.array(losses), np.stack(thetas)


def digits_problem(n_examples: int, widths, activation: str, pixels: str = "standardized") -> FullBatchProblem:
    """The first ``n_examples`` of scikit-learn's bundled digits as a full batch.

    ``pixels``: "standardized" per pixel (pixels with zero variance are set to 0, standardising them
    would divide by zero), "unit" (raw intensities / 16, in [0, 1], not centred) or "centered" (the unit
    intensities minus their per-pixel mean, not rescaled).
    """
    from sklearn.datasets import load_digits

    if pixels not in ("standardized", "unit", "centered"):
        raise ValueError(f"pixels must be 'standardized', 'unit' or 'centered', got {pixels!r}")
    images, labels = load_digits(return_X_y=True)
    if not 1 <= n_examples <= len(labels):
        raise ValueError(f"n_examples must be in [1, {len(labels)}], got {n_examples}")
    images, labels = images[:n_examples], labels[:n_examples]
    std = images.std(axis=0)
    if pixels == "standardized":
        scaled = np.where(std > 0, (images - images.mean(axis=0)) / np.where(std > 0, std, 1.0), 0.0)
    else:
        scaled = images / 16.0 - (images.mean(axis=0) / 16.0 if pixels == "centered" else 0.0)
    return FullBatchProblem(torch.tensor(scaled, dtype=torch.float64), torch.tensor(labels), tuple(widths),
                            activation)
