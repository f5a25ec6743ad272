"""A zoo of classifiers whose test errors spread widely, for predicting generalization (post 2022-06-06).

Members differ in family (linear, k-NN, trees, forests, MLPs of several widths and depths, small CNNs),
capacity, training-set size, label noise and training length. Each member is judged on named evaluation
sets (real test data, GAN samples, ...) and on its own training data (the training-error baseline).

The neural members of one architecture are trained *together*: their parameters are stacked and
``torch.func.vmap`` runs all of them in one batched forward pass; each member sees its own subset and
labels through a per-member weight mask. Snapshots at several step counts add members of different
training lengths for free. Float32 throughout: these are classifiers to be ranked, not dynamics.
"""

import copy
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap


class Recipe(NamedTuple):
    """How one member's training data is made: ``n_train`` examples, a fraction ``label_noise`` relabelled."""

    n_train: int
    label_noise: float


def corrupt_labels(labels: np.ndarray, fraction: float, n_classes: int, rng: np.random.Generator) -> np.ndarray:
    """Replace a ``fraction`` of ``labels`` (n,) by uniformly random classes (possibly the same one)."""
    if not 0 <= fraction <= 1:
        raise ValueError(f"label-noise fraction must lie in [0, 1], got {fraction!r}")
    noisy = labels.copy()
    chosen = rng.random(len(labels)) < fraction
    noisy[chosen] = rng.integers(0, n_classes, size=int(chosen.sum()))
    return noisy


def training_set(labels: np.ndarray, recipe: Recipe, n_classes: int, rng: np.random.Generator):
    """Indices (n_train,) of a random subset and its (noisy) labels (n_train,), following ``recipe``."""
    if not 1 <= recipe.n_train <= len(labels):
        raise ValueError(f"n_train must lie in [1, {len(labels)}], got {recipe.n_train!r}")
    index = rng.permutation(len(labels))[: recipe.n_train]
    return index, corrupt_labels(labels[index], recipe.label_noise, n_classes, rng)


def error_rate(predicted: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Fraction of mistakes along the last axis: predicted (..., n) against labels (..., n) or (n,)."""
    return np.mean(np.asarray(predicted) != np.asarray(labels), axis=-1)


def evaluate_estimators(estimators: dict, recipes: dict, images, labels, eval_sets: dict, n_classes: int,
                        rng: np.random.Generator) -> dict:
    """Fit scikit-learn estimators and report errors.

    Parameters
    ----------
    estimators : name -> unfitted estimator
    recipes : name -> Recipe, the same keys
    images, labels : (n, d), (n,) the training pool
    eval_sets : set name -> (images (m, d), labels (m,))

    Returns
    -------
    name -> {"train": error on its own (noisy) training data, <set name>: error, ...}
    """
    results = {}
    for name, estimator in estimators.items():
        index, noisy = training_set(labels, recipes[name], n_classes, rng)
        fitted = copy.deepcopy(estimator).fit(images[index], noisy)
        errors = {"train": float(error_rate(fitted.predict(images[index]), noisy))}
        errors |= {set_name: float(error_rate(fitted.predict(x), y)) for set_name, (x, y) in eval_sets.items()}
        results[name] = errors
    return results


def mlp(widths: tuple, n_in: int = 64, n_classes: int = 10) -> nn.Sequential:
    """ReLU network n_in -> widths... -> n_classes."""
    sizes, layers = (n_in, *widths), []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(sizes[-1], n_classes))


def small_cnn(channels: int, side: int = 8, n_classes: int = 10) -> nn.Sequential:
    """Two 3x3 convolutions (the second with stride 2) and a linear read-out, for side x side images."""
    return nn.Sequential(nn.Unflatten(1, (1, side, side)), nn.Conv2d(1, channels, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(channels, 2 * channels, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(),
                         nn.Linear(2 * channels * (side // 2) ** 2, n_classes))


class StackedState(NamedTuple):
    params: dict  # name -> (n_models, ...) stacked parameters
    optimizer: torch.optim.Optimizer
    step: int


def stacked_init(make_module: Callable[[], nn.Module], n_models: int, lr: float,
                 generator: torch.Generator) -> tuple[nn.Module, StackedState]:
    """``n_models`` independent initialisations of ``make_module()``, stacked, with one Adam over them.

    Adam is elementwise, so one optimizer over the stacked tensors is ``n_models`` independent Adams.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(torch.randint(0, 2**62, (1,), generator=generator)))
        modules = [make_module() for _ in range(n_models)]
    params, _ = stack_module_state(modules)
    template = copy.deepcopy(modules[0]).to("meta")
    return template, StackedState(params, torch.optim.Adam(list(params.values()), lr=lr), 0)


def stacked_logits(template: nn.Module, params: dict, images: torch.Tensor) -> torch.Tensor:
    """Logits (n_models, n, n_classes) of every stacked member on the same ``images`` (n, d)."""
    return vmap(lambda p, x: functional_call(template, p, (x,)), in_dims=(0, None))(params, images)


def stacked_step(template, state: StackedState, images, targets, weights) -> StackedState:
    """One full-batch Adam step; member m minimises its weighted mean cross-entropy.

    images (n, d); targets (n_models, n) class indices; weights (n_models, n), rows summing to 1.
    """
    logits = stacked_logits(template, state.params, images)
    losses = nn.functional.cross_entropy(logits.transpose(1, 2), targets, reduction="none")
    state.optimizer.zero_grad()
    (losses * weights).sum().backward()  # members do not share parameters: the sum separates
    state.optimizer.step()
    return state._replace(step=state.step + 1)


def train_stacked(make_module, recipes: list, images, labels, eval_sets: dict, checkpoints, lr: float,
                  n_classes: int, rng: np.random.Generator, generator: torch.Generator) -> dict:
    """Train one stacked member per recipe and report errors at every step count in ``checkpoints``.

    Returns {"train": (C, M), <set name>: (C, M)} arrays of errors, C checkpoints by M recipes, where
    "train" is each member's error on its own (noisy) training subset.
    """
    n = len(labels)
    targets, weights = np.zeros((len(recipes), n), dtype=np.int64), np.zeros((len(recipes), n))
    for member, recipe in enumerate(recipes):
        index, noisy = training_set(labels, recipe, n_classes, rng)
        targets[member], weights[member, index] = labels, 1.0 / len(index)
        targets[member, index] = noisy
    template, state = stacked_init(make_module, len(recipes), lr, generator)
    x = torch.as_tensor(images, dtype=torch.float32)
    targets_t, weights_t = torch.as_tensor(targets), torch.as_tensor(weights, dtype=torch.float32)
    sets = {name: torch.as_tensor(xs, dtype=torch.float32) for name, (xs, _) in eval_sets.items()}
    errors = {name: [] for name in ("train", *eval_sets)}
    for checkpoint in checkpoints:
        while state.step < checkpoint:
            state = stacked_step(template, state, x, targets_t, weights_t)
        with torch.no_grad():
            train_mistakes = stacked_logits(template, state.params, x).argmax(-1).numpy() != targets
            errors["train"].append(((weights > 0) * train_mistakes).sum(1) / (weights > 0).sum(1))
            for name, xs in sets.items():
                predicted = stacked_logits(template, state.params, xs).argmax(-1).numpy()
                errors[name].append(error_rate(predicted, eval_sets[name][1]))
    return {name: np.array(values) for name, values in errors.items()}
