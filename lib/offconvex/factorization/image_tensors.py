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

from offconvex.core.random import perturbation_member, rounding_factor


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


def fit_cp_predictor(factors: np.ndarray, pixels, targets, n_steps: int, lr: float = 1e-2,
                     dtype=torch.float64) -> np.ndarray:
    """Full-batch Adam on the mean squared error of :func:`cp_predict`; returns the fitted factors (float64).

    ``dtype`` is the training precision (float32 halves the cost; products of N factors near 1 are safe).
    """
    weights = torch.tensor(factors, dtype=dtype, requires_grad=True)
    x, y = torch.as_tensor(pixels, dtype=torch.int64), torch.as_tensor(targets, dtype=dtype)
    optimizer = torch.optim.Adam([weights], lr=lr)
    for _ in range(n_steps):
        optimizer.zero_grad()
        loss = ((cp_predict(weights, x) - y) ** 2).mean()
        loss.backward()
        optimizer.step()
    return weights.detach().double().numpy()


def level_indicators(pixels, levels: int) -> np.ndarray:
    """``(..., B, N)`` level indices → ``(..., B, N * (levels - 1))`` float indicators ``[x_n = k]`` for
    ``k = 1..levels-1`` (pixel-major). Level 0 is the reference: it is what is left when all are 0, so a
    binary image is its own indicator row."""
    pixels = np.asarray(pixels)
    if pixels.size and (pixels.min() < 0 or pixels.max() >= levels):
        raise ValueError(f"pixel levels must lie in 0..{levels - 1}")
    return (pixels[..., None] == np.arange(1, levels)).reshape(*pixels.shape[:-1], -1).astype(float)


_TINY = 1e-300  # |factor| floor inside the log: an exact zero would make log-space products NaN


def _relative_to_reference(values):
    """``(..., N, K, C)`` → ``(..., N * (K - 1), C)`` values of levels 1.. minus level 0, and ``(..., 1, C)``
    the sum over pixels of level 0's values: ``sum_n v[n, x_n, c] = indicators @ first + second``."""
    shape = values.shape
    relative = (values[..., :, 1:, :] - values[..., :, :1, :]).reshape(*shape[:-3], -1, shape[-1])
    return relative, values[..., :, 0, :].sum(axis=-2, keepdims=True)


def cp_components(factors, indicators) -> np.ndarray:
    """Each component's value ``prod_n W[..., n, x_n, c]`` at every image: ``(..., B, C)``, in float64.

    ``factors`` ``(..., N, K, C)``; ``indicators`` ``(..., B, N * (K - 1))`` from :func:`level_indicators`.
    The product of N factors is taken in log space, where picking ``W[n, x_n, c]`` for all n is one
    matmul: ``log|f| = sum_n log|W[n, x_n]|``, and the sign's parity counts the negative picked factors.
    """
    factors = np.asarray(factors)
    tiny = _TINY if factors.dtype == np.float64 else np.finfo(factors.dtype).tiny
    relative, reference = _relative_to_reference(np.log(np.maximum(np.abs(factors), tiny)))
    magnitude = np.exp(indicators @ relative + reference)
    negative = factors < 0
    if not negative.any():
        return magnitude
    relative, reference = _relative_to_reference(negative.astype(magnitude.dtype))
    count = indicators @ relative + reference  # integers, exact (< 2^24 even in float32)
    return np.where(np.fmod(np.abs(count), 2.0) > 0.5, -magnitude, magnitude)


def cp_mse_gradient(factors, indicators, targets, sizes, transposed=None):
    """Mean squared errors and their closed-form gradient for a batch of CP predictors.

    ``factors`` ``(M, N, K, C)`` holds, for each of M data sets (``indicators`` ``(M, B, N * (K - 1))``,
    ``targets`` ``(M, B)``), several predictors side by side: the C components split into consecutive
    groups of ``sizes`` (the ranks; ``sum(sizes) == C``), group j predicting the sum of its components.
    Returns ``(mse, grad)``: ``mse`` ``(M, len(sizes))`` and ``grad`` the gradient of ``mse.sum()``, which
    for each predictor is the gradient of its own error (the predictors share no parameters).

    Closed form: ``d f_c(x) / d W[n, k, c] = [x_n = k] f_c(x) / W[n, k, c]``, so with
    ``g = 2 (prediction - target) / B`` the gradient is ``sum_x [x_n = k] g(x) f_c(x) / W[n, k, c]``:
    one matmul for the levels 1.., and level 0 takes what is left of ``sum_x g(x) f_c(x)``.
    ``transposed``: ``indicators`` transposed in contiguous memory (twice as fast in that matmul than
    a transposed view), when the caller reuses it over many steps.
    """
    factors = np.asarray(factors)
    sizes = np.asarray(sizes)
    if sizes.sum() != factors.shape[-1]:
        raise ValueError(f"ranks {sizes.tolist()} do not add up to the {factors.shape[-1]} components")
    group = np.repeat(np.arange(len(sizes)), sizes)
    components = cp_components(factors, indicators)  # (M, B, C)
    predictions = components @ (group[:, None] == np.arange(len(sizes))).astype(components.dtype)
    residual = predictions - np.asarray(targets, dtype=components.dtype)[..., None]  # (M, B, J)
    weighted = (2.0 / residual.shape[-2]) * residual[..., group] * components  # (M, B, C)
    n_pixels, levels, n_components = factors.shape[-3:]
    if transposed is None:
        transposed = np.swapaxes(indicators, -1, -2)
    upper = (transposed @ weighted).reshape(*factors.shape[:-3], n_pixels, levels - 1,
                                                                   n_components)
    lowest = weighted.sum(axis=-2)[..., None, None, :] - upper.sum(axis=-2, keepdims=True)
    tiny = _TINY if factors.dtype == np.float64 else np.finfo(factors.dtype).tiny
    safe = np.where(np.abs(factors) < tiny, np.where(factors < 0, -tiny, tiny), factors)
    mse = (residual.astype(float) ** 2).mean(axis=-2)
    return mse, np.concatenate([lowest, upper], axis=-2) / safe


def fit_cp_predictors(factors, pixels, targets, sizes, levels: int, max_steps: int, lr: float = 1e-2,
                      final_lr: float | None = None, target_mse: float | None = None,
                      rel_tol: float | None = None, window: int = 1000, check_every: int = 50,
                      dtype=np.float64, betas=(0.9, 0.999), eps: float = 1e-8):
    """Full-batch Adam with closed-form gradients for a batch of CP predictors (see :func:`cp_mse_gradient`).

    ``factors`` ``(M, N, K, C)``, ``pixels`` ``(M, B, N)`` and ``targets`` ``(M, B)``: M data sets, each with
    one predictor per rank in ``sizes``. Each predictor is an independent fit (Adam acts elementwise) and
    stops on its own, frozen from then on, at the first check (every ``check_every`` steps) where its train
    MSE is ``<= target_mse`` or has fallen by less than the fraction ``rel_tol`` over the last ``window``
    steps (a plateau); otherwise at ``max_steps``. A rank whose predictors have all stopped is dropped from
    the computation. The learning rate decays geometrically from ``lr`` to ``final_lr`` over ``max_steps``
    (constant if ``final_lr`` is None). Parameters and Adam's moments are float64; ``dtype`` is the
    precision of each step's forward and backward pass.

    Returns ``(factors, stopped, history)``: the fitted factors (float64), the step at which each predictor
    stopped ``(M, J)``, and ``history`` ``(checks, M, J)``, the train MSE at steps ``0, check_every, ...``
    (a stopped predictor's last value repeated).
    """
    weights = np.array(factors, dtype=float)
    member = perturbation_member()
    if member and np.dtype(dtype) != weights.dtype:
        # An ensemble member's nudge of the float64 draws (1e-12) vanishes in the cast to ``dtype``, and
        # the members would repeat the published run bit for bit: nudge at ``dtype``'s own level instead.
        weights = weights * rounding_factor(weights.astype(dtype), member)
    indicators = level_indicators(pixels, levels).astype(dtype)
    transposed = np.ascontiguousarray(np.swapaxes(indicators, -1, -2))
    targets = np.asarray(targets, dtype=dtype)
    sizes = np.asarray(sizes)
    group = np.repeat(np.arange(len(sizes)), sizes)
    first, second = np.zeros_like(weights), np.zeros_like(weights)
    active = np.ones((weights.shape[0], len(sizes)), dtype=bool)
    stopped = np.full(active.shape, max_steps)
    mse = np.full(active.shape, np.inf)
    history = []
    lag = max(1, window // check_every)
    decay = 1.0 if final_lr is None else (final_lr / lr) ** (1.0 / max(max_steps, 1))
    for step in range(max_steps + 1):
        ranks = np.flatnonzero(active.any(axis=0))  # rank groups still being fitted for some data set
        columns = np.flatnonzero(np.isin(group, ranks))
        mse[:, ranks], grad = cp_mse_gradient(weights[..., columns].astype(dtype), indicators, targets, sizes[ranks],
                                               transposed)
        if step % check_every == 0:
            history.append(mse.copy())
            past = history[-1 - lag] if len(history) > lag else np.full_like(mse, np.inf)
            done = np.zeros_like(active)
            if target_mse is not None:
                done |= mse <= target_mse
            if rel_tol is not None:
                done |= mse > (1.0 - rel_tol) * past
            done &= active
            stopped[done] = step
            active &= ~done
        if step == max_steps or not active.any():
            break
        moving = active[:, None, None, group[columns]]  # (M, 1, 1, columns)
        grad = np.where(moving, grad, 0.0)
        first[..., columns] = np.where(moving, betas[0] * first[..., columns] + (1 - betas[0]) * grad,
                                       first[..., columns])
        second[..., columns] = np.where(moving, betas[1] * second[..., columns] + (1 - betas[1]) * grad**2,
                                        second[..., columns])
        count = step + 1
        rate = lr * decay**step
        update = rate * (first[..., columns] / (1 - betas[0] ** count)) / (
            np.sqrt(second[..., columns] / (1 - betas[1] ** count)) + eps)
        weights[..., columns] -= np.where(moving, update, 0.0)
    return weights, stopped, np.array(history)


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


# Official files and MD5 sums (the ones torchvision checks). Only used when a notebook is explicitly
# asked for these data sets; the default everywhere is the bundled digits.
IDX_SOURCES = {
    "mnist": ("https://ossci-datasets.s3.amazonaws.com/mnist/", {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c"}),
    "fashion-mnist": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/", {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310"}),
}


def _md5(path) -> str:
    import hashlib

    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def _fetch_checked(name: str, file: str, folder, download: bool):
    import urllib.error
    import urllib.request

    base, sums = IDX_SOURCES[name]
    path = folder / file
    if not path.exists():
        if not download:
            raise FileNotFoundError(f"{path.resolve()} is missing: place the official {name} file there, "
                                    f"or allow the download with `-p DOWNLOAD True` (needs network access to "
                                    f"{base}); a relative DATA_FOLDER is read from the notebooks/ folder")
        folder.mkdir(parents=True, exist_ok=True)
        try:
            urllib.request.urlretrieve(base + file, path)
        except (urllib.error.URLError, OSError) as error:
            raise RuntimeError(f"cannot download {base + file} (offline?): {error}. Use the bundled digits "
                               f"instead, or copy the file to {path}") from error
    if _md5(path) != sums[file]:
        raise ValueError(f"{path} has MD5 {_md5(path)}, expected {sums[file]}: delete it and fetch it again")
    return path


def _read_idx(path) -> np.ndarray:
    import gzip

    raw = gzip.decompress(path.read_bytes())
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def binary_idx_dataset(name: str, folder, download: bool = False):
    """MNIST or Fashion-MNIST as binary pixels ``(n, 784)`` plus labels: ``(x_train, y_train, x_test, y_test)``.

    Files are read from ``folder`` and checked against the official MD5 sums; they are downloaded only
    with ``download=True``. Pixels are binarized at half intensity, as in the paper.
    """
    from pathlib import Path

    if name not in IDX_SOURCES:
        raise ValueError(f"unknown data set {name!r}; choose one of {sorted(IDX_SOURCES)}")
    folder = Path(folder)
    arrays = [_read_idx(_fetch_checked(name, file, folder, download)) for file in IDX_SOURCES[name][1]]
    train_images, train_labels, test_images, test_labels = arrays
    return (quantize(train_images.reshape(len(train_images), -1), 2, 255.0), train_labels.astype(np.int64),
            quantize(test_images.reshape(len(test_images), -1), 2, 255.0), test_labels.astype(np.int64))
