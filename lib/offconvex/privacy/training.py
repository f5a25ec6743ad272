"""Training a small classifier on InstaHide encryptions, re-encrypted with fresh one-time keys every epoch.

As in the official ``train_inside.py`` / ``train_cross.py``: the loss is the soft-target cross-entropy
``-sum_c y_c log softmax(f(x))_c`` against the mixed (not renormalised) labels, and the model is tested
on clean, standardised images. The network here is a small MLP on 8 x 8 digits, not a ResNet-18.
"""

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


def make_mlp(d_in: int, n_classes: int, hidden: int, generator: torch.Generator) -> torch.nn.Module:
    """A float32 ReLU MLP ``d_in -> hidden -> hidden -> n_classes`` initialised from ``generator``.

    float32, not float64: only test accuracy is reported (no dynamics), and it halves the CPU time.
    """
    model = torch.nn.Sequential(
        torch.nn.Linear(d_in, hidden), torch.nn.ReLU(),
        torch.nn.Linear(hidden, hidden), torch.nn.ReLU(),
        torch.nn.Linear(hidden, n_classes),
    ).float()
    with torch.no_grad():
        for layer in model[::2]:
            bound = 1.0 / np.sqrt(layer.in_features)  # torch's default uniform range, drawn from our stream
            layer.weight.uniform_(-bound, bound, generator=generator)
            layer.bias.uniform_(-bound, bound, generator=generator)
    return model


def soft_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of ``-sum_c targets_c log softmax(logits)_c``; logits, targets: (b, classes)."""
    return -(targets * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()


def epoch_data(private, onehot, scheme: Scheme | None, public, rng):
    """The epoch's training inputs and targets: fresh encryptions, or the clean data when scheme is None."""
    if scheme is None:
        return private.reshape(len(private), -1), onehot
    encrypted, labels, _ = encrypt_dataset(private, onehot, scheme, public, rng)
    return encrypted.reshape(len(private), -1), labels


def train_classifier(private: np.ndarray, onehot: np.ndarray, scheme: Scheme | None, config: TrainingConfig,
                     rng: np.random.Generator, generator: torch.Generator,
                     public: np.ndarray | None = None) -> torch.nn.Module:
    """Train on encryptions of ``private`` (n, d) re-drawn every epoch (``scheme=None``: plain training).

    ``rng`` draws the InstaHide keys, ``generator`` the initialisation and the batch order.
    """
    if config.epochs < 1 or config.batch_size < 1:
        raise ValueError(f"need epochs >= 1 and batch_size >= 1, got {config.epochs}, {config.batch_size}")
    model = make_mlp(private[0].size, onehot.shape[1], config.hidden, generator)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                                weight_decay=config.weight_decay)
    for _ in range(config.epochs):
        inputs, targets = (torch.from_numpy(a).float() for a in epoch_data(private, onehot, scheme, public, rng))
        for batch in torch.randperm(len(inputs), generator=generator).split(config.batch_size):
            optimizer.zero_grad()
            soft_cross_entropy(model(inputs[batch]), targets[batch]).backward()
            optimizer.step()
    return model


def accuracy(model: torch.nn.Module, images: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of ``images`` (n, d) whose arg-max logit equals ``labels`` (n,)."""
    with torch.no_grad():
        predicted = model(torch.from_numpy(images.reshape(len(images), -1)).float()).argmax(dim=1).numpy()
    return float(np.mean(predicted == labels))
