"""InstaHide: mix k images with random convex weights, then flip the sign of every pixel at random.

Huang, Song, Li, Arora, "InstaHide: Instance-hiding Schemes for Private Distributed Learning", ICML 2020
(arXiv 2010.02772); blog post http://www.offconvex.org/2020/11/11/instahide/ . The sampling follows the
authors' released code (``Hazelsuko07/InstaHide``): weights are ``|g| / ||g||_1`` with ``g ~ N(0, I_k)``,
redrawn until the largest weight is at most ``upper`` (and, across datasets, until the private slots
carry at least ``private_min``); slot 0 is the image itself, every other slot draws a fresh permutation;
labels mix over the private slots only and are not renormalised; the sign mask is applied after the
pixels were standardised (on raw non-negative pixels ``|encryption|`` would be the plain mixup).

Images are arrays ``(n, *shape)``; a key holds every random choice of one encryption pass (one epoch).
"""

import secrets
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

KEY_ENTROPY_BITS = 128  # default keys: a SeedSequence with 128 bits from the OS, beyond exhaustive search


@dataclass(frozen=True)
class Scheme:
    """How many images are mixed (``k``) and how many of the slots come from the private set."""

    k: int = 4  # official default (README, inside-dataset)
    private_slots: int = 4  # == k: inside-dataset; < k: the rest are public images (cross-dataset)
    upper: float = 0.65  # official --upper: no single image may dominate the mix
    private_min: float = 0.3  # official --dom: cross-dataset only, total weight of the private slots

    def __post_init__(self):
        if not isinstance(self.k, int) or self.k < 1:
            raise ValueError(f"k must be a positive int, got {self.k!r}")
        if not 1 <= self.private_slots <= self.k:
            raise ValueError(f"private_slots must be in 1..k={self.k}, got {self.private_slots!r}")
        if not 1.0 / self.k <= self.upper <= 1.0:
            raise ValueError(f"upper must be in [1/k, 1] = [{1 / self.k:.3g}, 1], got {self.upper!r}")
        if not 0.0 <= self.private_min <= 1.0:
            raise ValueError(f"private_min must be in [0, 1], got {self.private_min!r}")

    @property
    def cross(self) -> bool:
        return self.private_slots < self.k


def inside(k: int, upper: float = 0.65) -> Scheme:
    """Inside-dataset InstaHide: all ``k`` images are private (k = 1 is the sign flip alone)."""
    return Scheme(k=k, private_slots=k, upper=1.0 if k == 1 else upper)


def cross(k: int, pair: bool = False, upper: float = 0.65, private_min: float = 0.3) -> Scheme:
    """Cross-dataset InstaHide: 2 private slots with ``pair`` (the challenge), else ceil(k/2) as officially."""
    private = min(2, k) if pair else -(-k // 2)
    upper = 1.0 if k == 1 else upper
    return Scheme(k=k, private_slots=private, upper=upper, private_min=private_min)


class Key(NamedTuple):
    """Every random choice of one encryption pass over ``n`` private images of ``d`` pixels."""

    coefficients: np.ndarray  # (n, k) mixing weights, rows on the simplex
    partners: np.ndarray  # (n, k) int: private index for the first private_slots columns, public after
    signs: np.ndarray  # (n, d) in {-1, +1}


def secure_generator() -> np.random.Generator:
    """A generator keyed by ``KEY_ENTROPY_BITS`` bits from the operating system's secure source."""
    return np.random.default_rng(np.random.SeedSequence(secrets.randbits(KEY_ENTROPY_BITS)))


def sample_coefficients(rng: np.random.Generator, n: int, scheme: Scheme) -> np.ndarray:
    """``(n, k)`` weights ``|g|/||g||_1`` redrawn until they respect ``upper`` (and ``private_min``).

    Rejection sampling as in the official ``mixup_data``; this is not a Dirichlet law.
    """
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n!r}")
    out = np.empty((n, scheme.k))
    missing = np.arange(n)
    while missing.size:
        g = np.abs(rng.standard_normal((missing.size, scheme.k)))
        weights = g / g.sum(axis=1, keepdims=True)
        ok = weights.max(axis=1) <= scheme.upper
        if scheme.cross:
            ok &= weights[:, : scheme.private_slots].sum(axis=1) >= scheme.private_min
        out[missing[ok]] = weights[ok]
        missing = missing[~ok]
    return out


def draw_key(rng: np.random.Generator, n_private: int, n_public: int, d: int, scheme: Scheme) -> Key:
    """One pass of one-time keys: weights, partners (slot 0 is the image itself) and a sign mask."""
    if scheme.cross and n_public < n_private:
        raise ValueError(f"cross-dataset needs at least n_private={n_private} public images, got {n_public}")
    coefficients = sample_coefficients(rng, n_private, scheme)
    columns = [np.arange(n_private)]
    columns += [rng.permutation(n_private) for _ in range(1, scheme.private_slots)]
    columns += [rng.permutation(n_public)[:n_private] for _ in range(scheme.private_slots, scheme.k)]
    signs = rng.integers(0, 2, size=(n_private, d)) * 2 - 1
    return Key(coefficients, np.stack(columns, axis=1), signs.astype(float))


def mix(images: np.ndarray, coefficients: np.ndarray) -> np.ndarray:
    """Mixup: ``sum_j coefficients[..., j] * images[..., j, :]``.

    images: (..., k, *shape); coefficients: (..., k). Returns (..., *shape). Labels (one-hot rows) mix
    the same way (post, Figure 1).
    """
    images, coefficients = np.asarray(images, float), np.asarray(coefficients, float)
    batch = coefficients.ndim - 1
    if images.shape[: batch + 1] != coefficients.shape:
        raise ValueError(f"images {images.shape} and coefficients {coefficients.shape} disagree on k")
    flat = images.reshape(*coefficients.shape, -1)
    return np.einsum("...k,...kd->...d", coefficients, flat).reshape(images.shape[:batch] + images.shape[batch + 1:])


def slot_images(private: np.ndarray, key: Key, scheme: Scheme, public: np.ndarray | None = None) -> np.ndarray:
    """The ``(n, k, d)`` images behind each encryption: private slots, then public slots."""
    flat = private.reshape(len(private), -1)
    slots = [flat[key.partners[:, j]] for j in range(scheme.private_slots)]
    if scheme.cross:
        if public is None:
            raise ValueError("a cross-dataset scheme needs the public images (public=None)")
        public_flat = public.reshape(len(public), -1)
        slots += [public_flat[key.partners[:, j]] for j in range(scheme.private_slots, scheme.k)]
    return np.stack(slots, axis=1)


def encrypt(private: np.ndarray, key: Key, scheme: Scheme, public: np.ndarray | None = None) -> np.ndarray:
    """InstaHide encryptions ``signs * mix(slot images, coefficients)``, shape of ``private``."""
    if key.signs.shape != (len(private), private[0].size):
        raise ValueError(f"key is for {key.signs.shape} images, got private of shape {private.shape}")
    mixed = mix(slot_images(private, key, scheme, public), key.coefficients)
    return (key.signs * mixed).reshape(private.shape)


def mix_labels(onehot: np.ndarray, key: Key, scheme: Scheme) -> np.ndarray:
    """``(n, classes)`` labels: private slots only, not renormalised (cross-dataset rows sum to < 1)."""
    private = slice(0, scheme.private_slots)
    return mix(onehot[key.partners[:, private]], key.coefficients[:, private])


def encrypt_dataset(private: np.ndarray, onehot: np.ndarray, scheme: Scheme, public: np.ndarray | None = None,
                    rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray, Key]:
    """One epoch of encryptions, mixed labels and the key; ``rng=None`` draws a secure 128-bit key."""
    if len(onehot) != len(private):
        raise ValueError(f"{len(private)} images but {len(onehot)} labels")
    rng = secure_generator() if rng is None else rng
    n_public = 0 if public is None else len(public)
    key = draw_key(rng, len(private), n_public, private[0].size, scheme)
    return encrypt(private, key, scheme, public), mix_labels(onehot, key, scheme), key


def standardize(images: np.ndarray, mean: float | None = None, std: float | None = None) -> np.ndarray:
    """Centre and scale pixels (the official code normalises before the sign flip)."""
    mean = images.mean() if mean is None else mean
    std = images.std() if std is None else std
    if not std > 0:
        raise ValueError(f"std must be positive, got {std!r}")
    return (images - mean) / std


def encrypt_epochs(private: np.ndarray, onehot: np.ndarray, scheme: Scheme, epochs: int,
                   public: np.ndarray | None = None, rng: np.random.Generator | None = None):
    """``epochs`` passes with fresh keys: encryptions (epochs * n, *shape), labels and the list of keys."""
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs!r}")
    rng = secure_generator() if rng is None else rng
    encryptions, labels, keys = zip(*[encrypt_dataset(private, onehot, scheme, public, rng)
                                      for _ in range(epochs)], strict=True)
    return np.concatenate(encryptions), np.concatenate(labels), list(keys)
