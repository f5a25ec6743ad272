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


# --- a PGDL-style zoo: one dataset, varied architectures and hyperparameters, trained to a loss target ---

class TrainingSetup(NamedTuple):
    """One member's optimisation hyperparameters (its architecture is the stack it belongs to)."""

    lr: float  # Adam step size
    weight_decay: float  # decoupled (AdamW-style): each step shrinks weights by lr * weight_decay
    batch_size: int
    augment: bool  # random +-1-pixel translation of every training minibatch


class ConvergedStack(NamedTuple):
    layers: list  # [(weight (n_models, fan_in, fan_out), bias (n_models, 1, fan_out)), ...]
    steps: np.ndarray  # (n_models,) steps taken (== max_steps for members that never reached the target)
    converged: np.ndarray  # (n_models,) bool: reached the training-loss target
    train_loss: np.ndarray  # (n_models,) mean cross-entropy on the clean, unaugmented training set


def stacked_mlp_init(widths: tuple, n_models: int, generator: torch.Generator, n_in: int = 64,
                     n_classes: int = 10) -> list:
    """``n_models`` independent ReLU MLPs n_in -> widths... -> n_classes as stacked tensors, initialised like
    ``nn.Linear`` (weights and biases uniform in +-1/sqrt(fan_in)). Returns [(weight, bias), ...] with
    weight (n_models, fan_in, fan_out) and bias (n_models, 1, fan_out)."""
    sizes, layers = (n_in, *widths, n_classes), []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        bound = fan_in ** -0.5
        weight = (2 * torch.rand(n_models, fan_in, fan_out, generator=generator) - 1) * bound
        bias = (2 * torch.rand(n_models, 1, fan_out, generator=generator) - 1) * bound
        layers.append((weight, bias))
    return layers


def stacked_mlp_logits(layers: list, images: torch.Tensor) -> torch.Tensor:
    """Logits (n_models, b, n_classes): member m applied to ``images[m]`` (n_models, b, d), or every member
    to the same ``images`` (b, d). Batched matrix products, no per-member Python loop."""
    n_models = layers[0][0].shape[0]
    hidden = images if images.ndim == 3 else images.expand(n_models, *images.shape)
    for index, (weight, bias) in enumerate(layers):
        hidden = torch.baddbmm(bias, hidden, weight)
        if index < len(layers) - 1:
            hidden = torch.relu(hidden)
    return hidden


def _per_member(values, like: torch.Tensor) -> torch.Tensor:
    """(n_models,) values reshaped to broadcast against a stacked tensor ``like`` (n_models, ...)."""
    return values.reshape(-1, *([1] * (like.ndim - 1)))


def shifted_copies(images, side: int = 8) -> torch.Tensor:
    """The 9 translates (9, n, side**2) of flattened images (n, side**2) by -1, 0, +1 pixel per axis (zero
    fill); index 3 * (dy + 1) + (dx + 1) holds the shift by (dy, dx), so index 4 is the unshifted set."""
    x = torch.as_tensor(images, dtype=torch.float32)
    padded = nn.functional.pad(x.reshape(-1, side, side), (1, 1, 1, 1))
    return torch.stack([padded[:, 1 - dy:1 - dy + side, 1 - dx:1 - dx + side].reshape(len(x), -1)
                        for dy in (-1, 0, 1) for dx in (-1, 0, 1)])


def train_to_target(widths: tuple, setups: list, images, labels, *, loss_target: float, max_steps: int,
                    check_every: int, generator: torch.Generator, side: int = 8, n_classes: int = 10,
                    betas=(0.9, 0.999), eps: float = 1e-8) -> ConvergedStack:
    """Train one ReLU MLP with hidden ``widths`` per ``TrainingSetup``, all on the same data, until its mean
    cross-entropy on the whole (clean, unaugmented) training set is at most ``loss_target``.

    All members take their minibatch steps together (batched matrix products); member m draws
    ``batch_size`` examples with replacement per step (the stack draws the largest batch size and member m
    weighs only its first ``batch_size`` draws) and, when ``augment``, shifts each draw by +-1 pixel with
    probability 1/2. Adam runs elementwise with the member's own step size and decoupled weight decay.
    Every ``check_every`` steps the training loss is measured; a member at or below the target stops there
    (it leaves the stack, so later steps cost only the members still training), so each member stops at its
    own convergence step, as the PGDL models were trained to a loss target.
    """
    if loss_target <= 0 or max_steps < 1 or check_every < 1:
        raise ValueError(f"need loss_target > 0, max_steps >= 1, check_every >= 1, got "
                         f"{loss_target!r}, {max_steps!r}, {check_every!r}")
    n_models = len(setups)
    x = torch.as_tensor(images, dtype=torch.float32)
    y = torch.as_tensor(labels, dtype=torch.long)
    translates = shifted_copies(x, side)  # the jitter becomes one gather: (9, n, d)
    params = [tensor for layer in stacked_mlp_init(widths, n_models, generator, x.shape[1], n_classes)
              for tensor in layer]
    lr = torch.tensor([s.lr for s in setups], dtype=torch.float32)
    decay = torch.tensor([s.lr * s.weight_decay for s in setups], dtype=torch.float32)
    batch = torch.tensor([s.batch_size for s in setups])
    augment = torch.tensor([bool(s.augment) for s in setups])
    b_max = int(batch.max())
    weights = (torch.arange(b_max) < batch[:, None]).float() / batch[:, None]  # (M, b_max), rows sum to 1
    first = [torch.zeros_like(p) for p in params]
    second = [torch.zeros_like(p) for p in params]
    steps = np.full(n_models, max_steps)
    final = [tensor.clone() for tensor in params]  # each member's parameters, written when it stops
    alive = torch.arange(n_models)  # members still training; the tensors above hold only these rows

    def full_loss(tensors):
        with torch.no_grad():
            logits = stacked_mlp_logits(list(zip(tensors[::2], tensors[1::2], strict=True)), x)
            return nn.functional.cross_entropy(logits.transpose(1, 2), y.expand(len(logits), -1),
                                               reduction="none").mean(1)

    for step in range(1, max_steps + 1):
        n_alive = len(alive)
        pick = torch.randint(0, len(y), (n_alive, b_max), generator=generator)
        shift = torch.full((n_alive, b_max), 4)
        if augment.any():
            jitter = augment[:, None] & (torch.rand(n_alive, b_max, generator=generator) < 0.5)
            shift = torch.where(jitter, torch.randint(0, 9, (n_alive, b_max), generator=generator), shift)
        inputs = translates[shift, pick]
        for p in params:
            p.requires_grad_(True)
        logits = stacked_mlp_logits(list(zip(params[::2], params[1::2], strict=True)), inputs)
        losses = nn.functional.cross_entropy(logits.transpose(1, 2), y[pick], reduction="none")
        grads = torch.autograd.grad((losses * weights).sum(), params)  # members share nothing: sum separates
        with torch.no_grad():
            correction1, correction2 = 1 - betas[0] ** step, 1 - betas[1] ** step
            for index, (value, grad) in enumerate(zip(params, grads, strict=True)):
                first[index].mul_(betas[0]).add_(grad, alpha=1 - betas[0])
                second[index].mul_(betas[1]).addcmul_(grad, grad, value=1 - betas[1])
                update = (first[index] / correction1) / ((second[index] / correction2).sqrt() + eps)
                params[index] = (value * (1 - _per_member(decay, value))
                                 - _per_member(lr, value) * update).detach()
        if step % check_every == 0 or step == max_steps:
            done = full_loss(params) <= loss_target
            if step == max_steps:
                done[:] = True
            if done.any():  # write the finished members out and train only the others from here on
                steps[alive[done].numpy()] = step
                for index, value in enumerate(params):
                    final[index][alive[done]] = value[done]
                keep = ~done
                alive, lr, decay, augment, weights = (alive[keep], lr[keep], decay[keep], augment[keep],
                                                      weights[keep])
                params = [value[keep] for value in params]
                first = [value[keep] for value in first]
                second = [value[keep] for value in second]
            if not len(alive):
                break
    loss = full_loss(final).numpy()
    return ConvergedStack(list(zip(final[::2], final[1::2], strict=True)), steps, loss <= loss_target, loss)


def stack_logits(stack: ConvergedStack, images) -> np.ndarray:
    """Logits (n_models, n, n_classes) of every member of ``stack`` on ``images`` (n, d), float64."""
    with torch.no_grad():
        return stacked_mlp_logits(stack.layers, torch.as_tensor(images, dtype=torch.float32)).numpy().astype(float)


def stack_errors(stack: ConvergedStack, images, labels) -> np.ndarray:
    """Error rate (n_models,) of every member of ``stack`` on (``images`` (n, d), ``labels`` (n,))."""
    return error_rate(stack_logits(stack, images).argmax(-1), np.asarray(labels))


def output_margins(logits, labels) -> np.ndarray:
    """Output margins (..., n) from ``logits`` (..., n, n_classes): the true class's logit minus the
    largest other logit (negative where the example is misclassified)."""
    logits = np.asarray(logits, float)
    index = np.broadcast_to(np.asarray(labels), logits.shape[:-1])[..., None]
    true = np.take_along_axis(logits, index, -1)[..., 0]
    others = logits.copy()
    np.put_along_axis(others, index, -np.inf, -1)
    return true - others.max(-1)
