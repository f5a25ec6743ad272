"""Images as entries of a high-order tensor, and CP predictors of explicit rank over them.

Razin, Yamada & Cohen (ICML 2021), Section 5 and the 2021-07-08 post (Figures 2 and 5): an image whose
``N`` pixels each take one of ``K`` values is an index ``(x_1, ..., x_N)`` into an order-``N`` tensor with
modes of size ``K``; its label is the tensor's entry there. A labelled data set is a set of observed
entries, and a predictor is a completion of the tensor. A CP predictor of rank ``R`` is

    f(x) = sum_{r=1}^R prod_{n=1}^N W[n, x_n, r]          (the tensor sum_r w_r^1 ⊗ ... ⊗ w_r^N),

so its tensor rank is at most ``R`` — an *explicit* constraint, used to ask how well low tensor rank
fits natural versus randomized data.
"""

import numpy as np
import torch
from sklearn.datasets import load_digits


def quantize(images, levels: int, max_value: float) -> np.ndarray:
    """Pixel values in ``[0, max_value]`` → integer levels ``0..levels-1`` (rounding; ``levels=2`` binarizes).

    Binarization at ``max_value / 2`` is the paper's ``round(pixel)`` on ``[0, 1]`` images.
    """
    if levels < 2 or max_value <= 0:
        raise ValueError(f"need levels >= 2 and max_value > 0, got {levels}, {max_value}")
    return np.rint(np.asarray(images, dtype=float) / max_value * (levels - 1)).astype(np.int64)


def binary_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8×8 digits (1797 images, no download) as ``(n, 64)`` binary pixels and labels."""
    digits = load_digits()
    return quantize(digits.data, 2, 16.0), digits.target


def one_vs_all(labels, positive: int, value: float = 2.0) -> np.ndarray:
    """Targets ``value`` for class ``positive`` and 0 otherwise (the paper uses 2, so error/4 is 0/1-scaled)."""
    labels = np.asarray(labels)
    if positive not in labels:
        raise ValueError(f"positive class {positive!r} does not occur in the labels")
    return np.where(labels == positive, value, 0.0)


def random_labels(targets, rng: np.random.Generator) -> np.ndarray:
    """The "rand label" variant: the same targets in a random order."""
    return rng.permutation(np.asarray(targets))


def random_images(pixels, levels: int, rng: np.random.Generator) -> np.ndarray:
    """The "rand image" variant: every pixel replaced by an i.i.d. uniform level (labels kept)."""
    return rng.integers(0, levels, size=np.shape(pixels))


def init_cp_predictor(n_pixels: int, levels: int, rank: int, rng: np.random.Generator,
                      mean: float = 1.0, std: float = 1e-3) -> np.ndarray:
    """``(n_pixels, levels, rank)`` factors ``N(mean, std^2)``: mean 1 keeps a product of N factors O(1)."""
    if rank < 1:
        raise ValueError(f"rank must be >= 1, got {rank}")
    return mean + std * rng.standard_normal((n_pixels, levels, rank))


def cp_predict(factors, pixels):
    """``f(x) = sum_r prod_n W[n, x_n, r]`` for a batch ``pixels`` ``(B, N)`` of level indices → ``(B,)``.

    Works on torch tensors (factors ``(N, K, R)``, pixels int64); the gather picks ``W[n, x_n, :]``.
    """
    n_pixels = factors.shape[0]
    if pixels.shape[1] != n_pixels:
        raise ValueError(f"images have {pixels.shape[1]} pixels but the factors {n_pixels}")
    picked = factors[torch.arange(n_pixels)[None, :], pixels]  # (B, N, R)
    return picked.prod(dim=1).sum(dim=1)


def fit_cp_predictor(factors: np.ndarray, pixels, targets, n_steps: int, lr: float = 1e-2) -> np.ndarray:
    """Full-batch Adam on the mean squared error of :func:`cp_predict`; returns the fitted factors (float64)."""
    weights = torch.tensor(factors, dtype=torch.float64, requires_grad=True)
    x, y = torch.as_tensor(pixels, dtype=torch.int64), torch.as_tensor(targets, dtype=torch.float64)
    optimizer = torch.optim.Adam([weights], lr=lr)
    for _ in range(n_steps):
        optimizer.zero_grad()
        loss = ((cp_predict(weights, x) - y) ** 2).mean()
        loss.backward()
        optimizer.step()
    return weights.detach().numpy()


def prediction_error(factors, pixels, targets, scale: float = 4.0, clamp: float | None = None) -> float:
    """Mean squared error divided by ``scale`` (4 makes targets {0,2} read as 0/1 labels).

    ``clamp`` caps each sample's squared error first (the paper's test metric, clamp 4: a wild
    prediction counts as a wrong label, not as an unbounded error).
    """
    with torch.no_grad():
        predictions = cp_predict(torch.as_tensor(factors), torch.as_tensor(pixels, dtype=torch.int64)).numpy()
    errors = (predictions - np.asarray(targets)) ** 2
    if clamp is not None:
        errors = np.minimum(errors, clamp)
    return float(errors.mean() / scale)


def entries_tensor(indices, values, shape) -> np.ndarray:
    """Tensor of ``shape`` holding the mean of ``values`` observed at each index, NaN where none was observed.

    The post's Figure 2: a data set of images with few pixels is a partially observed tensor.
    """
    indices = np.asarray(indices)
    if indices.ndim != 2 or indices.shape[1] != len(shape):
        raise ValueError(f"indices must be (n, {len(shape)}), got {indices.shape}")
    flat = np.ravel_multi_index(indices.T, shape)
    size = int(np.prod(shape))
    counts = np.bincount(flat, minlength=size)
    sums = np.bincount(flat, weights=values, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / counts, np.nan).reshape(shape)
