"""Training a binary image classifier with and without the locality regularizer (2022-07-15, Figure 6).

The paper's Pathfinder protocol (Razin, Maman & Cohen, ICML 2022, and their public code's defaults): SGD
with momentum 0.9, learning rate 1e-2, batch 64, no weight decay, binary cross-entropy on one logit, up to
150 epochs and stopping 20 epochs after the training accuracy first reaches 100 %; inputs standardised
with the training set's mean and standard deviation. With ``reg_coeff > 0`` the loss of every batch gets
``reg_coeff * gradient_change_penalty`` (:mod:`offconvex.factorization.locality`) on a fresh pair of patches of
``patch_size`` pixels at least ``patch_distance`` apart (the code's defaults: 2 and 0). Runs on any
device; batches and patches are drawn from a CPU generator, so a seed fixes the run.
"""

import os
from typing import NamedTuple

import numpy as np
import torch

from offconvex.factorization import locality


class TrainingResult(NamedTuple):
    """Per-epoch metrics (arrays of length ``epochs_run``) and the final test accuracy (%)."""

    train_loss: np.ndarray  # mean binary cross-entropy over the epoch's batches
    penalty: np.ndarray  # mean regularizer value over the epoch (nan when reg_coeff == 0)
    train_accuracy: np.ndarray  # % of the epoch's training samples classified right as they were seen
    test_accuracy: np.ndarray  # % after the epoch
    final_test_accuracy: float


def default_device() -> str:
    """``"cuda"`` when a GPU is visible, else ``"cpu"``."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def standardize(train: torch.Tensor, test: torch.Tensor):
    """Both sets shifted and scaled by the training set's mean and standard deviation."""
    mean, std = train.mean(), train.std()
    if not std > 0:
        raise ValueError(f"training images have standard deviation {float(std)}; cannot standardize")
    return (train - mean) / std, (test - mean) / std


def accuracy(model, images, labels, batch_size: int = 500) -> float:
    """% of ``images`` whose logit sign matches the 0/1 ``labels`` (model in eval mode, no gradients)."""
    model.eval()
    with torch.no_grad():
        right = sum(int(((model(images[i:i + batch_size])[:, 0] > 0).float() == labels[i:i + batch_size]).sum())
                    for i in range(0, len(images), batch_size))
    model.train()
    return 100.0 * right / len(images)


def batch_loss(model, x, y, reg_coeff: float, patch_size, patch_distance: int, generator):
    """``(loss to minimise, cross-entropy, penalty or None, number right)`` on one batch."""
    logits = model(x)[:, 0]
    cross_entropy = torch.nn.functional.binary_cross_entropy_with_logits(logits, y)
    right = int(((logits.detach() > 0).float() == y).sum())
    if reg_coeff <= 0:
        return cross_entropy, cross_entropy, None, right
    patches = locality.sample_patches(x.shape[2:], patch_size, patch_distance, generator)
    penalty = locality.gradient_change_penalty(lambda inputs: model(inputs)[:, 0], x, patches)
    return cross_entropy + reg_coeff * penalty, cross_entropy, penalty, right


def train_epoch(model, optimizer, images, labels, settings: dict, generator, max_steps=None):
    """One pass over a random permutation of the data: ``(mean loss, mean penalty, train accuracy %)``."""
    order = torch.randperm(len(images), generator=generator)
    batches = order.split(settings["batch_size"])[:max_steps]
    losses, penalties, right, seen = [], [], 0, 0
    for batch in batches:
        batch = batch.to(images.device)
        loss, cross_entropy, penalty, correct = batch_loss(
            model, images[batch], labels[batch], settings["reg_coeff"], settings["patch_size"],
            settings["patch_distance"], generator)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(cross_entropy.detach()))
        penalties.append(float("nan") if penalty is None else float(penalty.detach()))
        right, seen = right + correct, seen + len(batch)
    return np.mean(losses), np.mean(penalties), 100.0 * right / seen


def train_classifier(model, train, test, generator: torch.Generator, *, reg_coeff: float = 0.0,
                     epochs: int = 150, batch_size: int = 64, lr: float = 1e-2, momentum: float = 0.9,
                     weight_decay: float = 0.0, patch_size=2, patch_distance: int = 0, patience: int = 20,
                     max_steps_per_epoch: int | None = None, device: str | None = None) -> TrainingResult:
    """Train ``model`` (one logit) on ``train = (images, labels)``; evaluate on ``test`` after every epoch.

    Images ``(N, C, H, W)`` are standardised with the training statistics. Stops ``patience`` epochs after
    the training accuracy first reaches 100 %. ``max_steps_per_epoch`` caps the batches per epoch (tests).
    """
    if reg_coeff < 0 or epochs < 1 or batch_size < 2:
        raise ValueError(f"need reg_coeff >= 0, epochs >= 1, batch_size >= 2; got {reg_coeff}, {epochs}, {batch_size}")
    device = device or default_device()
    if str(device).startswith("cuda"):  # deterministic cuBLAS (the book runs with deterministic algorithms)
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    (x_train, x_test), y_train, y_test = standardize(train[0], test[0]), train[1], test[1]
    x_train, y_train, x_test, y_test = (t.float().to(device) for t in (x_train, y_train, x_test, y_test))
    model.to(device).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    settings = {"reg_coeff": reg_coeff, "batch_size": batch_size, "patch_size": patch_size,
                "patch_distance": patch_distance}
    history, perfect_at = [], None
    for epoch in range(epochs):
        loss, penalty, train_acc = train_epoch(model, optimizer, x_train, y_train, settings, generator,
                                               max_steps_per_epoch)
        history.append((loss, penalty, train_acc, accuracy(model, x_test, y_test)))
        perfect_at = epoch if perfect_at is None and train_acc == 100.0 else perfect_at
        if perfect_at is not None and epoch - perfect_at >= patience:
            break
    columns = [np.array(column) for column in zip(*history, strict=True)]
    return TrainingResult(*columns, final_test_accuracy=float(columns[3][-1]))
