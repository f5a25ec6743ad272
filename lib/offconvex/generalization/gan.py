"""A small class-conditional GAN for 8x8 digits (offconvex post of 2022-06-06; Zhang, Gupta, Saunshi,
Arora, ICLR 2022, arXiv 2111.14212, where pretrained BigGANs play this role).

Generator: [z, onehot(y)] -> hidden -> hidden -> pixels in [0, 1] (sigmoid), with batch normalisation
after each hidden layer (DCGAN's recipe; without it this small generator collapsed to one image within a
few hundred steps in our trials). Discriminator:
[x, onehot(y)] -> hidden -> hidden -> logit, LeakyReLU(0.2). Non-saturating loss (Goodfellow et al. 2014),
Adam(2e-4, betas (0.5, 0.999)), and optionally a differentiable +-1-pixel translation applied to real and
fake images alike before the discriminator (DiffAugment, Zhao et al. 2020; the paper's best predictor
used it). Training runs in float32: it is a sampler, not a dynamics whose trajectory we compare.
"""

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F


@dataclass(frozen=True)
class GANConfig:
    n_pixels: int = 64  # 8x8 digits
    n_classes: int = 10
    latent_dim: int = 16  # small images need little noise
    hidden: int = 128
    lr: float = 2e-4  # DCGAN's Adam settings, stable for small MLP GANs
    beta1: float = 0.5
    batch_size: int = 64
    augment: bool = True  # DiffAugment-style translation for D's inputs
    image_side: int = 8


class GANState(NamedTuple):
    generator: nn.Module
    discriminator: nn.Module
    generator_optimizer: torch.optim.Optimizer
    discriminator_optimizer: torch.optim.Optimizer
    step: int


def _mlp(n_in: int, hidden: int, n_out: int, activation: nn.Module) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, hidden), activation, nn.Linear(hidden, hidden), activation,
                         nn.Linear(hidden, n_out))


def _generator(config: GANConfig) -> nn.Sequential:
    hidden = config.hidden
    return nn.Sequential(nn.Linear(config.latent_dim + config.n_classes, hidden), nn.BatchNorm1d(hidden),
                         nn.ReLU(), nn.Linear(hidden, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
                         nn.Linear(hidden, config.n_pixels), nn.Sigmoid())


def _conditioned(inputs: torch.Tensor, labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    return torch.cat([inputs, F.one_hot(labels, n_classes).to(inputs.dtype)], dim=1)


def gan_init(config: GANConfig, generator: torch.Generator) -> GANState:
    """Fresh generator, discriminator and their Adam optimizers, initialised from ``generator``."""
    with torch.random.fork_rng(devices=[]):  # module init uses the global RNG: seed it from our stream
        torch.manual_seed(int(torch.randint(0, 2**62, (1,), generator=generator)))
        gen = _generator(config)
        disc = _mlp(config.n_pixels + config.n_classes, config.hidden, 1, nn.LeakyReLU(0.2))
    betas = (config.beta1, 0.999)
    return GANState(gen, disc, torch.optim.Adam(gen.parameters(), config.lr, betas=betas),
                    torch.optim.Adam(disc.parameters(), config.lr, betas=betas), 0)


def translate(images: torch.Tensor, side: int, generator: torch.Generator) -> torch.Tensor:
    """Shift each flattened ``side x side`` image (B, side**2) by -1, 0 or +1 pixel per axis, zero fill."""
    batch = images.shape[0]
    padded = F.pad(images.reshape(batch, side, side), (1, 1, 1, 1))
    offsets = torch.randint(0, 3, (batch, 2), generator=generator)
    rows = offsets[:, :1] + torch.arange(side)  # (B, side)
    cols = offsets[:, 1:] + torch.arange(side)
    batch_index = torch.arange(batch)[:, None, None]
    return padded[batch_index, rows[:, :, None], cols[:, None, :]].reshape(batch, side * side)


def sample(state: GANState, labels: torch.Tensor, config: GANConfig, generator: torch.Generator,
           latents: torch.Tensor | None = None) -> torch.Tensor:
    """Images (n, n_pixels) for the class ``labels`` (n,); ``latents`` (n, latent_dim) default to N(0, I).

    In training mode the generator's batch norm uses this batch's statistics; see ``labelled_samples``.
    """
    if labels.ndim != 1 or (labels.numel() and (labels.min() < 0 or labels.max() >= config.n_classes)):
        raise ValueError(f"labels must be a 1-d tensor of classes in [0, {config.n_classes}), got {labels}")
    if latents is None:
        latents = torch.randn(len(labels), config.latent_dim, generator=generator)
    return state.generator(_conditioned(latents, labels, config.n_classes))


def _discriminate(state, images, labels, config, generator):
    if config.augment:
        images = translate(images, config.image_side, generator)
    return state.discriminator(_conditioned(images, labels, config.n_classes)).squeeze(1)


def gan_step(state: GANState, images: torch.Tensor, labels: torch.Tensor, config: GANConfig,
             generator: torch.Generator) -> tuple[GANState, dict]:
    """One discriminator and one generator update on a minibatch drawn from (``images``, ``labels``).

    Returns the next state and the two losses (non-saturating GAN loss).
    """
    pick = torch.randint(0, len(images), (config.batch_size,), generator=generator)
    real, real_labels = images[pick], labels[pick]
    fake_labels = torch.randint(0, config.n_classes, (config.batch_size,), generator=generator)
    fake = sample(state, fake_labels, config, generator)
    real_logits = _discriminate(state, real, real_labels, config, generator)
    fake_logits = _discriminate(state, fake.detach(), fake_labels, config, generator)
    d_loss = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
    state.discriminator_optimizer.zero_grad()
    d_loss.backward()
    state.discriminator_optimizer.step()
    g_loss = F.softplus(-_discriminate(state, fake, fake_labels, config, generator)).mean()
    state.generator_optimizer.zero_grad()
    g_loss.backward()
    state.generator_optimizer.step()
    return state._replace(step=state.step + 1), {"d_loss": d_loss.item(), "g_loss": g_loss.item()}


def train_gan(images, labels, n_steps: int, config: GANConfig, generator: torch.Generator) -> tuple:
    """Train from scratch for ``n_steps``; returns the final state and the loss history (n_steps, 2)."""
    if n_steps < 1:
        raise ValueError(f"n_steps must be positive, got {n_steps!r}")
    images = torch.as_tensor(images, dtype=torch.float32)
    labels = torch.as_tensor(labels, dtype=torch.long)
    state, history = gan_init(config, generator), []
    for _ in range(n_steps):
        state, losses = gan_step(state, images, labels, config, generator)
        history.append([losses["d_loss"], losses["g_loss"]])
    return state, torch.tensor(history).numpy()


def labelled_samples(state: GANState, per_class: int, config: GANConfig, generator: torch.Generator,
                     latents: torch.Tensor | None = None):
    """A balanced synthetic set: ``per_class`` images per class, labelled by the class they were asked for.

    The conditioning label is the ground truth (never relabel with a classifier: that would leak the model
    under evaluation). Returns images (n_classes * per_class, n_pixels) and labels as NumPy arrays.
    """
    if per_class < 1:
        raise ValueError(f"per_class must be positive, got {per_class!r}")
    labels = torch.arange(config.n_classes).repeat_interleave(per_class)
    state.generator.eval()  # batch norm with its running statistics: samples do not depend on each other
    with torch.no_grad():
        images = sample(state, labels, config, generator, latents)
    state.generator.train()
    return images.numpy().astype(float), labels.numpy()


def collapsed_latents(n: int, n_codes: int, spread: float, config: GANConfig,
                      generator: torch.Generator) -> torch.Tensor:
    """Latents (n, latent_dim) confined near ``n_codes`` fixed codes: a deliberately mode-collapsed sampler.

    Each latent is a uniformly chosen code plus N(0, spread^2) noise, so the generator can produce only
    about ``n_codes`` distinct images per class (a positive control for the birthday-paradox test).
    """
    if n_codes < 1 or spread < 0:
        raise ValueError(f"need n_codes >= 1 and spread >= 0, got {n_codes!r}, {spread!r}")
    codes = torch.randn(n_codes, config.latent_dim, generator=generator)
    picks = torch.randint(0, n_codes, (n,), generator=generator)
    return codes[picks] + spread * torch.randn(n, config.latent_dim, generator=generator)
