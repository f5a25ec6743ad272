"""Many small 1-D CNNs trained at once: each is one group of a grouped convolution.

The locality experiment of the 2022-07-15 post (Razin, Maman & Cohen, ICML 2022, Figure 6) compares
test accuracies across dependency distances and seeds; on a CPU, one Python loop per network would
cost as many times the work. Here ``G`` networks of the architecture of
:func:`offconvex.factorization.locality.small_cnn` share one ``torch.nn.Sequential`` whose convolutions
have ``groups=G``: network ``g`` sees only channel block ``g`` of the input and owns its weight slice,
so the networks never mix. Summing their losses gives each its own gradient, and Adam's update is
elementwise, so training them together equals training them apart (up to the kernels' rounding).

Each network keeps its own data, initialization, mini-batch order and penalty patches: only the
arithmetic is shared.
"""

import torch

from offconvex.factorization import locality


class GroupedNetworks(torch.nn.Module):
    """``G`` networks in one module: inputs ``(B, G, C, 1, L)``, logits ``(B, G)``."""

    def __init__(self, body: torch.nn.Module, n_networks: int):
        super().__init__()
        self.body, self.n_networks = body, n_networks

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.body(inputs.flatten(1, 2))


def grouped_small_cnns(length: int, channels: int, generators) -> GroupedNetworks:
    """One :func:`locality.small_cnn` (2 input channels) per generator, as groups of one network.

    Parameters
    ----------
    length : int
        Sequence length, a power of 2 (pooling halves it down to 1: full receptive field).
    channels : int
        Channels per network.
    generators : sequence of torch.Generator
        One per network; network ``g``'s weights are drawn from ``generators[g]`` (He scale, zero biases).
    """
    if length < 2 or length & (length - 1):
        raise ValueError(f"length must be a power of 2 >= 2, got {length}")
    n = len(generators)
    layers, width = [], 2
    for _ in range(length.bit_length() - 1):
        layers += [torch.nn.Conv2d(n * width, n * channels, (1, 3), padding=(0, 1), groups=n),
                   torch.nn.ReLU(), torch.nn.MaxPool2d((1, 2))]
        width = channels
    body = torch.nn.Sequential(*layers, torch.nn.Conv2d(n * channels, n, 1, groups=n), torch.nn.Flatten())
    with torch.no_grad():
        for weight in body.parameters():
            _init_slices(weight, generators)
    return GroupedNetworks(body, n)


def _init_slices(weight: torch.Tensor, generators) -> None:
    """He-normal weights (zero biases), network ``g``'s slice of output channels from ``generators[g]``."""
    per = weight.shape[0] // len(generators)
    scale = (2.0 / weight[0].numel()) ** 0.5 * (weight.dim() > 1)
    for g, generator in enumerate(generators):
        weight[g * per:(g + 1) * per] = torch.randn(per, *weight.shape[1:], generator=generator) * scale


def patch_masks(patches, spatial_shape) -> tuple[torch.Tensor, torch.Tensor]:
    """Masks ``(G, 1, *spatial_shape)`` of each network's patches ``P1`` and ``P2``."""
    first, second = torch.zeros(2, len(patches), 1, *spatial_shape, dtype=torch.bool)
    for g, pair in enumerate(patches):
        first[(g, 0, *[slice(c, c + s) for c, s in zip(pair.first, pair.size, strict=True)])] = True
        second[(g, 0, *[slice(c, c + s) for c, s in zip(pair.second, pair.size, strict=True)])] = True
    return first, second


def grouped_penalty(model, inputs, first, second) -> torch.Tensor:
    """The gradient-change penalty of :func:`locality.gradient_change_penalty` per network: ``(G,)``.

    ``inputs`` ``(B, G, C, *spatial)``; ``first``/``second`` are the masks of :func:`patch_masks`, so
    each network has its own patches (post's Figure 6 regularizer; paper, Section 5).
    """
    swapped = torch.where(second, torch.roll(inputs, 1, 0), inputs)
    before = (locality.input_gradient(model, inputs) * first).flatten(2)
    after = (locality.input_gradient(model, swapped) * first).flatten(2)
    return torch.nn.functional.cosine_similarity(before, after, dim=2, eps=1e-12).abs().mean(0)


def grouped_accuracy(model, inputs, labels) -> torch.Tensor:
    """Test accuracy (%) per network: ``(G,)`` from inputs ``(N, G, ...)`` and 0/1 labels ``(N, G)``."""
    with torch.no_grad():
        return ((model(inputs) > 0).float() == labels).float().mean(0) * 100


def _batch(inputs, labels, batch_generators, batch_size):
    """Each network's own random mini-batch: ``(B, G, ...)`` inputs and ``(B, G)`` labels."""
    rows = torch.stack([torch.randint(0, inputs.shape[0], (batch_size,), generator=g)
                        for g in batch_generators], 1)
    columns = torch.arange(inputs.shape[1])
    return inputs[rows, columns], labels[rows, columns]


def train_grouped(model, train, test, coefficients, n_steps: int, batch_generators, patch_generators=None,
                  *, every: int = 100, batch_size: int = 64, lr: float = 3e-3, patch_size=(1, 2)):
    """Adam on the sum over networks of ``BCE + coefficient * penalty``; test accuracy every ``every`` steps.

    Parameters
    ----------
    model : GroupedNetworks
    train, test : tuple of tensors
        ``(inputs (N, G, C, 1, L), labels (N, G))``: network ``g`` trains and is tested on column ``g``.
    coefficients : torch.Tensor
        ``(G,)`` penalty coefficients (0: plain training; the penalty is skipped when all are 0).
    batch_generators, patch_generators : sequence of torch.Generator
        One per network, for its mini-batches and (when penalised) its patches.

    Returns
    -------
    steps : torch.Tensor
        ``(K,)`` the steps at which the accuracy was measured (0, every, ..., n_steps).
    accuracy : torch.Tensor
        ``(K, G)`` test accuracy (%).
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    steps, accuracy = [], []
    for step in range(n_steps + 1):
        if step % every == 0 or step == n_steps:
            steps.append(step)
            accuracy.append(grouped_accuracy(model, *test))
        if step < n_steps:
            loss = _step_loss(model, *_batch(*train, batch_generators, batch_size), coefficients,
                              patch_generators, patch_size)
            optimizer.zero_grad()
            loss.sum().backward()
            optimizer.step()
    return torch.tensor(steps), torch.stack(accuracy)


def _step_loss(model, inputs, labels, coefficients, patch_generators, patch_size) -> torch.Tensor:
    """Per-network loss ``(G,)`` of one mini-batch."""
    loss = torch.nn.functional.binary_cross_entropy_with_logits(model(inputs), labels, reduction="none").mean(0)
    if bool((coefficients > 0).any()):
        spatial = inputs.shape[3:]
        patches = [locality.sample_patches(spatial, patch_size, 0, g) for g in patch_generators]
        loss = loss + coefficients * grouped_penalty(model, inputs, *patch_masks(patches, spatial))
    return loss
