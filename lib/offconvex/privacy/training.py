"""Training a small classifier on InstaHide encryptions, re-encrypted with fresh one-time keys every epoch.

As in the official ``train_inside.py`` / ``train_cross.py``: the loss is the soft-target cross-entropy
``-sum_c y_c log softmax(f(x))_c`` against the mixed (not renormalised) labels, and the model is tested
on clean, standardised images. The networks here are a small MLP or a two-layer CNN on 8 x 8 digits, not a
ResNet-18.
"""

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from offconvex.privacy.instahide import Scheme, encrypt_dataset


@dataclass(frozen=True)
class TrainingConfig:
    epochs: int = 60
    batch_size: int = 128  # official batch size
    lr: float = 0.05  # SGD with momentum 0.9 as officially; half the official 0.1 (ResNet-18), a conservative pick
    momentum: float = 0.9
    weight_decay: float = 1e-4  # official
    hidden: int = 256
    model: str = "mlp"  # "mlp" or "cnn" (two 3 x 3 conv layers, max-pool, linear read-out)
    width: int = 8  # channels of the CNN's first layer (the second has twice as many)


def make_mlp(d_in: int, n_classes: int, hidden: int, generator: torch.Generator) -> torch.nn.Module:
    """A float32 ReLU MLP ``d_in -> hidden -> hidden -> n_classes`` initialised from ``generator``.

    float32, not float64: only test accuracy is reported (no dynamics), and it halves the CPU time.
    """
    model = torch.nn.Sequential(
        torch.nn.Linear(d_in, hidden), torch.nn.ReLU(),
        torch.nn.Linear(hidden, hidden), torch.nn.ReLU(),
        torch.nn.Linear(hidden, n_classes),
    ).float()
    return _uniform_init(model, generator)


def _uniform_init(model: torch.nn.Module, generator: torch.Generator) -> torch.nn.Module:
    """Every weight and bias uniform in +-1/sqrt(fan-in) (torch's default range), drawn from ``generator``."""
    with torch.no_grad():
        for layer in model:
            if isinstance(layer, torch.nn.Linear | torch.nn.Conv2d):
                bound = 1.0 / np.sqrt(layer.weight[0].numel())
                layer.weight.uniform_(-bound, bound, generator=generator)
                layer.bias.uniform_(-bound, bound, generator=generator)
    return model


def make_cnn(side: int, n_classes: int, width: int, generator: torch.Generator) -> torch.nn.Module:
    """A float32 CNN for flat ``(b, side*side)`` grey images: conv3x3(width) - ReLU - conv3x3(2 width) - ReLU -
    2 x 2 max-pool - linear, initialised from ``generator``. ``side`` must be even."""
    if side % 2 or side < 2 or width < 1:
        raise ValueError(f"need an even side >= 2 and width >= 1, got side={side}, width={width}")
    model = torch.nn.Sequential(
        torch.nn.Unflatten(1, (1, side, side)),
        torch.nn.Conv2d(1, width, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(width, 2 * width, 3, padding=1), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2), torch.nn.Flatten(),
        torch.nn.Linear(2 * width * (side // 2) ** 2, n_classes),
    ).float()
    return _uniform_init(model, generator)


def make_model(config: "TrainingConfig", d_in: int, n_classes: int, generator: torch.Generator) -> torch.nn.Module:
    """The network ``config.model`` names, for flat inputs of ``d_in`` pixels (square images for the CNN)."""
    if config.model == "mlp":
        return make_mlp(d_in, n_classes, config.hidden, generator)
    if config.model == "cnn":
        side = int(round(np.sqrt(d_in)))
        if side * side != d_in:
            raise ValueError(f"the CNN needs square images, got {d_in} pixels")
        return make_cnn(side, n_classes, config.width, generator)
    raise ValueError(f"model must be 'mlp' or 'cnn', got {config.model!r}")


def soft_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of ``-sum_c targets_c log softmax(logits)_c``; logits, targets: (b, classes)."""
    return -(targets * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()


def epoch_data(private, onehot, scheme: Scheme | None, public, rng):
    """The epoch's training inputs and targets: fresh encryptions, or the clean data when scheme is None."""
    if scheme is None:
        return private.reshape(len(private), -1), onehot
    encrypted, labels, _ = encrypt_dataset(private, onehot, scheme, public, rng)
    return encrypted.reshape(len(private), -1), labels


def training_epochs(private: np.ndarray, onehot: np.ndarray, scheme: Scheme | None, config: TrainingConfig,
                    rng: np.random.Generator, generator: torch.Generator,
                    public: np.ndarray | None = None) -> Iterator[torch.nn.Module]:
    """Train on encryptions of ``private`` (n, d) re-drawn every epoch (``scheme=None``: plain training),
    yielding the (same, updated) model after each of the ``config.epochs`` epochs.

    ``rng`` draws the InstaHide keys, ``generator`` the initialisation and the batch order.
    """
    if config.epochs < 1 or config.batch_size < 1:
        raise ValueError(f"need epochs >= 1 and batch_size >= 1, got {config.epochs}, {config.batch_size}")
    model = make_model(config, private[0].size, onehot.shape[1], generator)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                                weight_decay=config.weight_decay)
    for _ in range(config.epochs):
        inputs, targets = (torch.from_numpy(a).float() for a in epoch_data(private, onehot, scheme, public, rng))
        for batch in torch.randperm(len(inputs), generator=generator).split(config.batch_size):
            optimizer.zero_grad()
            soft_cross_entropy(model(inputs[batch]), targets[batch]).backward()
            optimizer.step()
        yield model


def train_classifier(private: np.ndarray, onehot: np.ndarray, scheme: Scheme | None, config: TrainingConfig,
                     rng: np.random.Generator, generator: torch.Generator,
                     public: np.ndarray | None = None) -> torch.nn.Module:
    """The model after all ``config.epochs`` epochs of ``training_epochs``."""
    return deque(training_epochs(private, onehot, scheme, config, rng, generator, public), maxlen=1)[0]


def learning_curve(private: np.ndarray, onehot: np.ndarray, scheme: Scheme | None, config: TrainingConfig,
                   rng: np.random.Generator, generator: torch.Generator, test_images: np.ndarray,
                   test_labels: np.ndarray, every: int, public: np.ndarray | None = None) -> np.ndarray:
    """Clean test accuracy after epochs ``every, 2 every, ...`` (up to ``config.epochs``) of one training run."""
    if every < 1:
        raise ValueError(f"every must be >= 1, got {every!r}")
    return np.array([accuracy(model, test_images, test_labels)
                     for epoch, model in enumerate(training_epochs(private, onehot, scheme, config, rng,
                                                                   generator, public), start=1)
                     if epoch % every == 0])


def accuracy(model: torch.nn.Module, images: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of ``images`` (n, d) whose arg-max logit equals ``labels`` (n,)."""
    with torch.no_grad():
        predicted = model(torch.from_numpy(images.reshape(len(images), -1)).float()).argmax(dim=1).numpy()
    return float(np.mean(predicted == labels))
