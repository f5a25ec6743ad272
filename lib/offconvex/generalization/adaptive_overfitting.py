"""Adaptive overfitting to a test set, and the Ladder that stops it (offconvex post of 2021-04-07).

The setting of Dwork et al. (Science 2015) and Blum & Hardt (ICML 2015): labels are fair coin flips that
no feature predicts, so every classifier has population accuracy exactly 1/2. An analyst submits ``t``
classifiers (random labellings), sees their test accuracies, keeps those that look better than chance and
reports the majority vote of the kept ones. Its test accuracy climbs like 1/2 + sqrt(t / (2 N)) / pi
although it is no better than a coin on fresh data. A data-hygienic analyst selects on its own training
data instead, and a Ladder leaderboard only reveals a score when it beats the best by a margin.
"""

from typing import NamedTuple

import numpy as np


def random_signs(shape, rng: np.random.Generator) -> np.ndarray:
    """Independent fair +-1 entries of the given ``shape`` (int8): random labels or random classifiers."""
    if any(int(size) < 1 for size in np.atleast_1d(shape)):
        raise ValueError(f"shape must have positive sizes, got {shape!r}")
    return (2 * rng.integers(0, 2, size=shape, dtype=np.int8) - 1).astype(np.int8)


def accuracies(predictions: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Fraction of +-1 ``labels`` (n,) matched by each row of ``predictions`` (t, n); ties (0) count 1/2."""
    if predictions.shape[-1] != labels.shape[0]:
        raise ValueError(f"predictions have {predictions.shape[-1]} points but labels {labels.shape[0]}")
    return 0.5 + 0.5 * (predictions.astype(np.int64) @ labels.astype(np.int64)) / labels.shape[0]


def majority_votes(queries: np.ndarray, keep: np.ndarray, checkpoints) -> np.ndarray:
    """Sign of the sum of the kept queries among the first ``t`` ones, for every ``t`` in ``checkpoints``.

    Parameters
    ----------
    queries : int array (T, n) of +-1
    keep : bool array (T,)
    checkpoints : increasing ints in [1, T] (C,)

    Returns
    -------
    int array (C, n) of -1, 0 (tie) or +1.
    """
    checkpoints = np.asarray(checkpoints)
    if checkpoints.min() < 1 or checkpoints.max() > len(queries) or np.any(np.diff(checkpoints) <= 0):
        raise ValueError(f"checkpoints must increase within [1, {len(queries)}], got {checkpoints}")
    weighted = queries.astype(np.int32) * keep[:, None]
    starts = np.concatenate([[0], checkpoints[:-1]])
    return np.sign(np.cumsum(np.add.reduceat(weighted, starts, axis=0), axis=0))


def attack_gain_prediction(n_queries, n_test) -> np.ndarray:
    """Expected test-accuracy gain of the keep-if-above-1/2 majority attack: sqrt(t / (2 N)) / pi.

    About t/2 queries are kept, each correlated with the labels by E|Z| = sqrt(2/pi) standard errors; the
    majority vote's margin is then Gaussian and its accuracy 1/2 + phi(0) * margin (valid for t << N).
    """
    return np.sqrt(np.asarray(n_queries, dtype=float) / (2 * n_test)) / np.pi


class LadderState(NamedTuple):
    best: float  # best accuracy posted so far on the leaderboard


def ladder_init() -> LadderState:
    """An empty leaderboard (Blum & Hardt 2015, Algorithm 1, written for accuracies)."""
    return LadderState(best=-np.inf)


def ladder_step(state: LadderState, accuracy: float, step_size: float) -> tuple[LadderState, bool]:
    """Post ``accuracy`` rounded to ``step_size`` only if it beats the best by more than ``step_size``.

    Returns the new state and whether a new best was posted (all the analyst learns).
    """
    if step_size <= 0:
        raise ValueError(f"step_size must be positive, got {step_size!r}")
    if accuracy > state.best + step_size:
        return LadderState(best=float(np.round(accuracy / step_size) * step_size)), True
    return state, False


def ladder_posts(test_accuracies: np.ndarray, step_size: float) -> np.ndarray:
    """Which of the submitted accuracies (T,) made the Ladder post a new best (bool array (T,))."""
    state, posted = ladder_init(), np.zeros(len(test_accuracies), dtype=bool)
    for index, accuracy in enumerate(test_accuracies):
        state, posted[index] = ladder_step(state, float(accuracy), step_size)
    return posted


def analyst_gains(n_test: int, n_queries: int, checkpoints, step_size: float, rng: np.random.Generator) -> dict:
    """Test accuracy minus the true 1/2 of three analysts after t queries, for t in ``checkpoints``.

    ``adaptive`` keeps queries whose exact test accuracy exceeds 1/2; ``hygienic`` keeps those that beat
    1/2 on its own training set of ``n_test`` points; ``ladder`` keeps those that the Ladder posts.
    Also returns ``max_single_deviation``: max over the first t queries of |test acc - 1/2|, the
    non-adaptive quantity. Every array has shape (C,).
    """
    test_labels, train_labels = random_signs(n_test, rng), random_signs(n_test, rng)
    test_queries = random_signs((n_queries, n_test), rng)
    train_queries = random_signs((n_queries, n_test), rng)  # the same classifiers on other points
    test_acc = accuracies(test_queries, test_labels)
    keeps = {"adaptive": test_acc > 0.5,
             "hygienic": accuracies(train_queries, train_labels) > 0.5,
             "ladder": ladder_posts(test_acc, step_size)}
    gains = {name: accuracies(majority_votes(test_queries, keep, checkpoints), test_labels) - 0.5
             for name, keep in keeps.items()}
    gains["max_single_deviation"] = np.maximum.accumulate(np.abs(test_acc - 0.5))[np.asarray(checkpoints) - 1]
    return gains
