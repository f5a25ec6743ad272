"""A zoo of trained classifiers built like a PGDL task, for predicting generalization (post 2022-06-06).

As in the PGDL competition's tasks, every member is trained on the same data; members differ in
architecture (ReLU MLPs of several depths and widths) and in training hyperparameters (Adam step size,
decoupled weight decay, minibatch size, +-1-pixel translation augmentation), and each is trained to a
training-loss target, so that all of them fit their training data and differ in how they generalize.

Members of one architecture are trained *together*: their weights are stacked along a leading member axis
and one batched matrix product runs every member's forward pass; each member draws its own minibatches and
steps with its own Adam settings, and leaves the stack when it reaches the target. Float32 throughout:
these are classifiers to be ranked, not dynamics.
"""

from typing import NamedTuple

import numpy as np
import torch
from torch import nn


def error_rate(predicted: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Fraction of mistakes along the last axis: predicted (..., n) against labels (..., n) or (n,)."""
    return np.mean(np.asarray(predicted) != np.asarray(labels), axis=-1)


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
