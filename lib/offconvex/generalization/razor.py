"""Rip van Winkle's razor: meta-overfitting bounds from description length, and the adaptive baselines.

The meta-overfitting error (MOE) of a model is its population error minus its error on a test set of
``n_test`` i.i.d. points. If every model the analyst could ever have produced has a prefix-free description
of at most ``bits`` bits, then at most ``2**bits`` such models exist, the Kraft inequality gives each a
prior weight ``2**-bits``, and a union bound over them turns a single-model concentration inequality into
one that holds for all of them at once, *however adaptively they were chosen* (Arora & Zhang 2021,
arXiv 2102.13189; offconvex post of 2021-04-07). With ``L = bits * ln 2 + ln(1/delta)``:

* ``"hoeffding"``: MOE <= sqrt(L / (2 N))                      (error-independent, the folklore theorem)
* ``"kl"``:         population error <= kl^-1(err, L / N)       (Chernoff-KL inversion; tightest)
* ``"relative"``:  MOE <= sqrt(2 err L / N) + L / N            (relative-deviation form, small errors)

The adaptive-data-analysis baselines of the post scale with the number ``t`` of models tried instead.
"""

import numpy as np
from scipy.optimize import brentq

FORMS = ("hoeffding", "kl", "relative")


def _check_positive(name: str, value) -> np.ndarray:
    array = np.asarray(value, dtype=float)
    if np.any(~np.isfinite(array)) or np.any(array <= 0):
        raise ValueError(f"{name} must be positive and finite, got {value!r}")
    return array


def _check_delta(delta: float) -> float:
    if not 0 < delta < 1:
        raise ValueError(f"delta must lie in (0, 1), got {delta!r}")
    return float(delta)


def log_model_count(bits, delta: float = 0.01) -> np.ndarray:
    """``L = bits ln 2 + ln(1/delta)``: log of (number of describable models / failure probability).

    Parameters
    ----------
    bits : float or array (...,)
        Description length k in bits (prefix-free code).
    delta : float
        Failure probability over the draw of the test set.
    """
    return _check_positive("bits", bits) * np.log(2.0) + np.log(1.0 / _check_delta(delta))


def binary_kl(p, q) -> np.ndarray:
    """kl(p || q) between Bernoulli(p) and Bernoulli(q), in nats; arrays broadcast, 0 log 0 = 0."""
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        first = np.where(p > 0, p * np.log(p / q), 0.0)
        second = np.where(p < 1, (1 - p) * np.log((1 - p) / (1 - q)), 0.0)
    return first + second


def kl_upper_inverse(error: float, budget: float) -> float:
    """Largest q >= error with kl(error || q) <= budget (the Chernoff-KL upper confidence limit)."""
    if not 0 <= error <= 1:
        raise ValueError(f"error must lie in [0, 1], got {error!r}")
    if budget < 0:
        raise ValueError(f"budget must be non-negative, got {budget!r}")
    if error == 1 or binary_kl(error, 1 - 1e-15) <= budget:
        return 1.0
    return brentq(lambda q: binary_kl(error, q) - budget, error, 1 - 1e-15, xtol=1e-14)


def meta_overfitting_bound(bits, n_test, delta: float = 0.01, error=None, form: str = "hoeffding"):
    """Upper bound on population error minus test error for every model of <= ``bits`` bits.

    Parameters
    ----------
    bits : float or array (...,)
        Description length k (bits). Broadcasts with ``n_test`` and ``error``.
    n_test : int or array (...,)
        Test-set size N.
    delta : float
        The bound holds for all such models simultaneously with probability >= 1 - delta.
    error : float or array (...,), optional
        Measured test error; required by the error-dependent forms ``"kl"`` and ``"relative"``.
    form : {"hoeffding", "kl", "relative"}
        Which concentration inequality (see the module docstring).

    Returns
    -------
    ndarray (...,) — the bound on the meta-overfitting error, as a fraction.
    """
    if form not in FORMS:
        raise ValueError(f"form must be one of {FORMS}, got {form!r}")
    budget = log_model_count(bits, delta) / _check_positive("n_test", n_test)
    if form == "hoeffding":
        return np.sqrt(budget / 2)
    if error is None:
        raise ValueError(f"form {form!r} needs the measured test error, got error=None")
    error = np.asarray(error, dtype=float)
    if form == "relative":
        return np.sqrt(2 * error * budget) + budget
    pairs = np.broadcast_arrays(error, budget)
    upper = np.vectorize(kl_upper_inverse, otypes=[float])(*pairs)
    return upper - pairs[0]


def nonadaptive_max_deviation(n_models, n_test, delta: float = 0.05) -> np.ndarray:
    """Hoeffding + union bound on max_i |test acc_i - population acc_i| over ``n_models`` fixed models.

    sqrt(ln(2 t / delta) / (2 N)): the O(sqrt(log t / N)) of data-hygienic practice.
    """
    count = _check_positive("n_models", n_models)
    return np.sqrt(np.log(2 * count / _check_delta(delta)) / (2 * _check_positive("n_test", n_test)))


def adaptive_worst_case(n_queries, n_test) -> np.ndarray:
    """The sqrt(t / N) scale that an adaptive analyst can reach (Dwork et al. 2015), without constants."""
    return np.sqrt(_check_positive("n_queries", n_queries) / _check_positive("n_test", n_test))


def description_length_bits(tokens, vocabulary) -> int:
    """Bits of a description written with a fixed-length code over ``vocabulary`` plus an end marker.

    Every token costs ceil(log2(|vocabulary| + 1)) bits and one extra codeword ends the description, so
    the code is prefix-free and the Kraft inequality (hence the razor's union bound) applies.

    Parameters
    ----------
    tokens : sequence of str (n,)
        The description, one vocabulary word (or digit) per token.
    vocabulary : sequence of str (V,)
        Words the referee knows; duplicates are not allowed.
    """
    vocabulary = list(vocabulary)
    if len(set(vocabulary)) != len(vocabulary) or not vocabulary:
        raise ValueError(f"vocabulary must be non-empty without duplicates, got {len(vocabulary)} entries")
    unknown = sorted(set(tokens) - set(vocabulary))
    if unknown:
        raise ValueError(f"tokens not in the vocabulary: {unknown}")
    bits_per_token = int(np.ceil(np.log2(len(vocabulary) + 1)))
    return bits_per_token * (len(tokens) + 1)
