"""Offline images for the InstaHide chapter: scikit-learn's bundled digits (private) and crops of its two
bundled photographs (public, standing in for the ImageNet patches of the official cross-dataset mode)."""

import numpy as np
from sklearn.datasets import load_digits, load_sample_images


def digits() -> tuple[np.ndarray, np.ndarray]:
    """All 1797 digits as ``(n, 8, 8)`` pixels in [0, 1] and their labels ``(n,)``."""
    data = load_digits()
    return data.images / 16.0, data.target


def photographs() -> np.ndarray:
    """The two bundled photographs (china, flower) as ``(2, 427, 640, 3)`` pixels in [0, 1]."""
    return np.stack(load_sample_images().images).astype(float) / 255.0


def grayscale(images: np.ndarray) -> np.ndarray:
    """ITU-R 601 luma of ``(..., 3)`` colour pixels."""
    return images @ np.array([0.299, 0.587, 0.114])


def block_average(images: np.ndarray, factor: int) -> np.ndarray:
    """Downsample ``(n, h, w)`` by averaging ``factor x factor`` blocks (h, w divisible by factor)."""
    n, h, w = images.shape
    if h % factor or w % factor:
        raise ValueError(f"image size {h}x{w} is not divisible by factor={factor}")
    return images.reshape(n, h // factor, factor, w // factor, factor).mean(axis=(2, 4))


def photo_patches(rng: np.random.Generator, n: int, crop: int = 32, size: int = 8) -> np.ndarray:
    """``(n, size, size)`` grayscale patches: random ``crop``-pixel squares of the photographs, averaged."""
    if crop % size:
        raise ValueError(f"crop={crop} must be a multiple of size={size}")
    gray = grayscale(photographs())
    which = rng.integers(0, len(gray), n)
    rows = rng.integers(0, gray.shape[1] - crop + 1, n)
    cols = rng.integers(0, gray.shape[2] - crop + 1, n)
    crops = np.stack([gray[i, r:r + crop, c:c + crop] for i, r, c in zip(which, rows, cols, strict=True)])
    return block_average(crops, crop // size)


def one_hot(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """``(n, n_classes)`` float rows with a 1 at each label."""
    if labels.min() < 0 or labels.max() >= n_classes:
        raise ValueError(f"labels must lie in 0..{n_classes - 1}, got range {labels.min()}..{labels.max()}")
    return np.eye(n_classes)[labels]
