"""Learning a step size over noisy least-squares tasks: train-by-train against train-by-validation.

Wang, Yuan, Wu, Ge (ICML 2021, arXiv 2006.16495), Section 4. A task draws ``w*`` uniform on the unit
sphere, inputs ``x ~ N(0, I_d)`` and labels ``y = <w*, x> + sigma xi``; gradient descent from 0 on
``(1/2n) ||X w - y||^2`` runs ``t`` steps with step ``eta``. Train-by-train scores ``eta`` by the
training loss on the same samples, train-by-validation by the loss on fresh ones (Theorem 5).

Gradient descent from 0 is solved in closed form on the SVD ``X = U S V^T``: along the right singular
vector ``v_j`` (curvature ``lam_j = s_j^2 / n``) the iterate after ``k`` steps is
``(1 - (1 - eta lam_j)^k) (U^T y)_j / s_j``, so every step size, noise level and step count of a batch
of tasks is one array expression. As in the official experiments, a run whose norm reaches
``40 sigma`` stops and its iterate is replaced by ``40 sigma`` times a random unit vector.
"""

import numpy as np

TRUNCATION = 40.0  # in units of sigma


def draw_tasks(n_tasks: int, d: int, n: int, rng: np.random.Generator) -> dict:
    """Tasks without their noise level: ``X`` (tasks, n, d), ``w_star`` (tasks, d) on the unit sphere,
    standard noise ``xi`` (tasks, n) and a random unit ``escape`` direction (tasks, d) for truncation."""
    if min(n_tasks, d, n) < 1:
        raise ValueError(f"need positive sizes, got n_tasks={n_tasks}, d={d}, n={n}")
    unit = rng.standard_normal((2, n_tasks, d))
    unit /= np.linalg.norm(unit, axis=-1, keepdims=True)
    X = rng.standard_normal((n_tasks, n, d))
    return {"X": X, "w_star": unit[0], "xi": rng.standard_normal((n_tasks, n)), "escape": unit[1]}


def labels(tasks: dict, sigma: float, rows=slice(None)) -> np.ndarray:
    """``y = X w* + sigma xi`` on the chosen sample rows: (tasks, rows)."""
    X, xi = tasks["X"][:, rows], tasks["xi"][:, rows]
    return np.einsum("tnd,td->tn", X, tasks["w_star"]) + sigma * xi


def gd_iterates(X: np.ndarray, y: np.ndarray, etas: np.ndarray, t: int, sigma: float,
                escape: np.ndarray) -> np.ndarray:
    """Gradient descent from 0 for ``t`` steps with every step size: (tasks, etas, d), truncated runs
    replaced by ``40 sigma * escape``. X (tasks, n, d), y (tasks, n), etas (E,), escape (tasks, d)."""
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    lam = s**2 / X.shape[1]
    target = np.einsum("tnj,tn->tj", U, y) / s  # the least-norm solution's coordinates
    steps = np.arange(1, t + 1)
    with np.errstate(over="ignore", invalid="ignore"):
        base = 1 - etas[:, None, None] * lam[:, None, None, :]  # (tasks, E, 1, j)
        contraction = base ** steps[:, None]  # (tasks, E, t, j)
        norms = np.sqrt(np.sum(((1 - contraction) * target[:, None, None, :]) ** 2, -1))
    escaped = ~np.all(norms < TRUNCATION * sigma, axis=-1)  # non-finite norms count as escaped
    final = np.einsum("tej,tjd->ted", (1 - contraction[:, :, -1]) * target[:, None, :], Vt)
    return np.where(escaped[..., None], TRUNCATION * sigma * escape[:, None, :], final)


def mean_squared_loss(X: np.ndarray, y: np.ndarray, W: np.ndarray) -> np.ndarray:
    """``(1/2n) ||X w - y||^2`` per task and step size: X (tasks, n, d), y (tasks, n), W (tasks, E, d)."""
    residual = np.einsum("tnd,ted->ten", X, W) - y[:, None, :]
    return 0.5 * np.mean(residual**2, axis=-1)


def meta_losses(tasks: dict, etas, t: int, sigma: float, n_train: int | None = None) -> np.ndarray:
    """Average meta-loss over the tasks for each step size (E,): train-by-train when ``n_train`` is None
    (train and score on all samples), else train-by-validation (train on the first ``n_train`` samples,
    score on the rest)."""
    n = tasks["X"].shape[1]
    train = slice(None) if n_train is None else slice(0, n_train)
    held = train if n_train is None else slice(n_train, n)
    if n_train is not None and not 0 < n_train < n:
        raise ValueError(f"n_train must lie strictly between 0 and n = {n}, got {n_train}")
    W = gd_iterates(tasks["X"][:, train], labels(tasks, sigma, train), np.asarray(etas, float), t, sigma,
                    tasks["escape"])
    return mean_squared_loss(tasks["X"][:, held], labels(tasks, sigma, held), W).mean(axis=0)


def evaluate(tasks: dict, test_X: np.ndarray, test_xi: np.ndarray, etas, t: int, sigma: float) -> dict:
    """Train on all samples of each task with each step size (E,) and report, averaged over tasks:
    ``distance`` E||w - w*||^2, ``train_rmse`` and ``test_rmse`` (on test_X (tasks, m, d) with noise
    ``sigma * test_xi`` (tasks, m)), each (E,)."""
    W = gd_iterates(tasks["X"], labels(tasks, sigma), np.asarray(etas, float), t, sigma, tasks["escape"])
    test = {"X": test_X, "w_star": tasks["w_star"], "xi": test_xi}
    rmse = {name: np.sqrt(2 * mean_squared_loss(data["X"], labels(data, sigma), W)).mean(axis=0)
            for name, data in (("train_rmse", tasks), ("test_rmse", test))}
    return {"distance": np.sum((W - tasks["w_star"][:, None]) ** 2, -1).mean(axis=0), **rmse}
