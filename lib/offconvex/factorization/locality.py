"""An explicit regularizer against locality: the input-gradient-change penalty (Razin, Maman & Cohen, ICML 2022).

The 2022-07-15 post argues that gradient descent implicitly lowers hierarchical tensor rank, which in a
convolutional network means weak interactions between distant image regions (locality). The paper's
counter-measure rewards such interactions: pick a patch ``P1`` and a distant patch ``P2``; if the network
models an interaction between them, its input gradient on ``P1`` must change when the content of ``P2``
changes. The penalty is

    mean over the batch of | cos( grad_x f(x)[P1], grad_x f(x')[P1] ) |,

where ``x'`` is ``x`` with ``P2`` replaced by ``P2`` of the next image in the batch. It is 1 when the
gradient on ``P1`` ignores ``P2`` (no interaction), and small when it depends on it. Training minimises
``loss + lam * penalty`` by double backpropagation.
"""

from typing import NamedTuple

import torch


class Patches(NamedTuple):
    first: tuple  # corner of P1 in the spatial dims
    second: tuple  # corner of P2
    size: tuple  # patch extent per spatial dim


def _separated(first, second, size, distance) -> bool:
    gaps = [max(b - a - s, a - b - s) for a, b, s in zip(first, second, size, strict=True)]
    return max(gaps) >= distance  # apart by at least ``distance`` pixels along some axis (no overlap)


def sample_patches(spatial_shape, size, distance: int, generator: torch.Generator,
                   max_tries: int = 1000) -> Patches:
    """Two non-overlapping patches of extent ``size`` at least ``distance`` pixels apart (uniform corners)."""
    size = tuple(size) if isinstance(size, (tuple, list)) else (size,) * len(spatial_shape)
    if any(s < 1 or s > n for s, n in zip(size, spatial_shape, strict=True)) or distance < 0:
        raise ValueError(f"patch size {size} / distance {distance} do not fit spatial shape {spatial_shape}")
    for _ in range(max_tries):
        corners = [tuple(int(torch.randint(0, n - s + 1, (1,), generator=generator)) for n, s in
                         zip(spatial_shape, size, strict=True)) for _ in range(2)]
        if _separated(*corners, size, distance):
            return Patches(corners[0], corners[1], size)
    raise ValueError(f"no two patches of size {size} at distance >= {distance} fit in {spatial_shape}")


def _region(corner, size) -> tuple:
    return (Ellipsis, *[slice(c, c + s) for c, s in zip(corner, size, strict=True)])


def input_gradient(model, inputs: torch.Tensor) -> torch.Tensor:
    """``d model(x) / d x`` per sample (``model`` returns one logit per sample), kept differentiable."""
    inputs = inputs.detach().requires_grad_(True)
    (gradient,) = torch.autograd.grad(model(inputs).sum(), inputs, create_graph=True)
    return gradient


def swap_patch(inputs: torch.Tensor, corner, size) -> torch.Tensor:
    """``inputs`` with the patch at ``corner`` taken from the next sample of the batch (cyclically)."""
    swapped = inputs.clone()
    region = _region(corner, size)
    swapped[region] = torch.roll(inputs, 1, dims=0)[region]
    return swapped


def gradient_change_penalty(model, inputs: torch.Tensor, patches: Patches) -> torch.Tensor:
    """The input-gradient-change penalty (a scalar in [0, 1]) for ``inputs`` ``(B, C, *spatial)``.

    Differentiable with respect to the model's parameters (the gradients are built with create_graph).
    """
    if inputs.shape[0] < 2:
        raise ValueError(f"need a batch of at least 2 samples to swap patches, got {inputs.shape[0]}")
    region = _region(patches.first, patches.size)
    before = input_gradient(model, inputs)[region].flatten(1)
    after = input_gradient(model, swap_patch(inputs, patches.second, patches.size))[region].flatten(1)
    return torch.nn.functional.cosine_similarity(before, after, dim=1, eps=1e-12).abs().mean()


def marker_pair_task(n: int, length: int, distance: int, generator: torch.Generator):
    """A toy long-range task: ``(n, 2, 1, length)`` inputs and ``(n,)`` 0/1 labels.

    Channel 0 holds random ±1 bits, channel 1 marks two positions ``distance`` apart (at a random
    offset); the label says whether the two marked bits agree. It depends on an interaction between
    two regions ``distance`` pixels apart, and on nothing else: the dependency distance is exact.
    """
    if not 0 < distance < length:
        raise ValueError(f"distance must be in (0, {length}), got {distance}")
    bits = 2.0 * torch.randint(0, 2, (n, length), generator=generator) - 1.0
    start = torch.randint(0, length - distance, (n,), generator=generator)
    rows, markers = torch.arange(n), torch.zeros(n, length)
    markers[rows, start] = markers[rows, start + distance] = 1.0
    labels = (bits[rows, start] == bits[rows, start + distance]).float()
    return torch.stack([bits, markers], dim=1)[:, :, None, :], labels


def small_cnn(length: int, channels: int, generator: torch.Generator) -> torch.nn.Module:
    """Conv(1×3)–ReLU–MaxPool(1×2) blocks until the length is 1, then a linear logit (full receptive field)."""
    if length < 2 or length & (length - 1):
        raise ValueError(f"length must be a power of 2 >= 2, got {length}")
    layers, width = [], 2
    for _ in range(length.bit_length() - 1):
        layers += [torch.nn.Conv2d(width, channels, (1, 3), padding=(0, 1)), torch.nn.ReLU(), torch.nn.MaxPool2d((1, 2))]
        width = channels
    net = torch.nn.Sequential(*layers, torch.nn.Flatten(), torch.nn.Linear(channels, 1))
    with torch.no_grad():  # initialize from the given generator (torch's default init draws globally)
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=generator) * (2.0 / max(p[0].numel(), 1)) ** 0.5 * (p.dim() > 1))
    return net


def train_with_penalty(net, inputs, labels, lam: float, n_steps: int, generator: torch.Generator,
                       batch_size: int = 64, lr: float = 3e-3, patch_size=(1, 2), distance: int = 0) -> list:
    """Adam on ``BCE + lam * gradient_change_penalty`` over random mini-batches; returns the penalties seen."""
    optimizer, penalties = torch.optim.Adam(net.parameters(), lr=lr), []
    logit = lambda x: net(x)[:, 0]  # noqa: E731
    for _ in range(n_steps):
        batch = torch.randint(0, inputs.shape[0], (batch_size,), generator=generator)
        x, y = inputs[batch], labels[batch]
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logit(x), y)
        if lam > 0:
            penalty = gradient_change_penalty(logit, x, sample_patches(x.shape[2:], patch_size, distance, generator))
            loss = loss + lam * penalty
            penalties.append(float(penalty.detach()))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return penalties


def accuracy(net, inputs, labels) -> float:
    """Percentage of samples whose logit has the sign of the label (0/1)."""
    with torch.no_grad():
        return float(((net(inputs)[:, 0] > 0).float() == labels).float().mean() * 100)
