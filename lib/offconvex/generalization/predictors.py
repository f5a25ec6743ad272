"""Scoring predictors of test error over a zoo of classifiers (post 2022-06-06), and a margin baseline.

* ``closeness``: how near the points (true error, predicted error) lie to y = x (mean absolute error,
  share within a band), the question the post's scatter plot asks.
* ``granulated_kendall``: the granulated Kendall coefficient Psi of Jiang et al. 2019 ("Fantastic
  generalization measures"): for each hyperparameter, the mean of Kendall's tau over the groups of members
  that differ only in that hyperparameter; Psi is the mean of those over hyperparameters.
* ``normalized_margin_feature`` and ``fit_line``: a margin-based baseline in the spirit of the PGDL
  competition's baselines: a quantile of each member's output margins on its training data, divided by the
  member's logit scale, mapped to an error by a 1-D least-squares line fitted on other members.
"""

import itertools

import numpy as np
from scipy import stats


def closeness(predicted, true, band: float) -> dict:
    """Distance of points (true, predicted) (n,) from y = x: mean and max |predicted - true|, and the
    fraction with |predicted - true| <= ``band``."""
    gap = np.abs(np.asarray(predicted, float) - np.asarray(true, float))
    if gap.size == 0 or band < 0:
        raise ValueError(f"need at least one point and band >= 0, got {gap.size} points, band {band!r}")
    return {"mae": float(gap.mean()), "max_gap": float(gap.max()), "within_band": float(np.mean(gap <= band))}


def granulated_kendall(score, true, hyperparameters: dict) -> dict:
    """Psi and the per-hyperparameter mean tau of ``score`` (n,) against ``true`` (n,).

    ``hyperparameters``: name -> (n,) values of each member. For hyperparameter h, members are grouped by
    the values of all *other* hyperparameters; groups with at least two members and some variation in
    both ``score`` and ``true`` contribute their Kendall tau. Returns {"psi": mean over h, h: mean tau}.
    """
    score, true = np.asarray(score, float), np.asarray(true, float)
    names = list(hyperparameters)
    columns = {name: np.asarray(values) for name, values in hyperparameters.items()}
    if any(len(column) != len(score) for column in columns.values()) or len(true) != len(score):
        raise ValueError("score, true and every hyperparameter column need one entry per member")
    result = {}
    for name in names:
        others = [columns[other] for other in names if other != name]
        keys = list(zip(*others, strict=True)) if others else [()] * len(score)
        taus = []
        for key in dict.fromkeys(keys):
            members = np.array([k == key for k in keys])
            if members.sum() >= 2 and np.ptp(score[members]) > 0 and np.ptp(true[members]) > 0:
                taus.append(stats.kendalltau(score[members], true[members]).statistic)
        result[name] = float(np.mean(taus)) if taus else float("nan")
    result["psi"] = float(np.nanmean([result[name] for name in names]))
    return result


def normalized_margin_feature(margins, logits_scale, quantile: float = 0.25) -> np.ndarray:
    """Per member, the ``quantile`` of its training margins (n_models, n) divided by its logit scale
    (n_models,), e.g. the root-mean-square logit: invariant to rescaling a member's output layer."""
    margins, scale = np.asarray(margins, float), np.asarray(logits_scale, float)
    if np.any(scale <= 0):
        raise ValueError("logit scales must be positive")
    return np.quantile(margins, quantile, axis=1) / scale


def fit_line(feature, target) -> tuple[float, float]:
    """Least-squares (slope, intercept) of ``target`` (n,) on ``feature`` (n,)."""
    fit = stats.linregress(np.asarray(feature, float), np.asarray(target, float))
    return float(fit.slope), float(fit.intercept)


def split_halves(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A random partition of range(n) into a fitting half and an evaluation half (sorted indices)."""
    order = rng.permutation(n)
    return np.sort(order[: n // 2]), np.sort(order[n // 2:])


def grid(**levels) -> list[dict]:
    """Full factorial design: every combination of the given hyperparameter levels, as dicts."""
    names = list(levels)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*levels.values())]
