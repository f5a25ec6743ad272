import numpy as np
import pytest
from offconvex.core.random import rng
from offconvex.sampling import scaling


def test_power_law_fit_recovers_exponent_and_prefactor():
    x = np.array([2.0, 3.0, 5.0, 8.0])
    alpha, log_c = scaling.power_law_fit(x, 3.0 * x**2.5)
    assert alpha == pytest.approx(2.5, abs=1e-12)
    assert log_c == pytest.approx(np.log(3.0), abs=1e-12)


def test_power_law_fit_refuses_non_positive_values():
    with pytest.raises(ValueError, match="positive"):
        scaling.power_law_fit(np.array([1.0, 2.0]), np.array([1.0, -1.0]))


def test_exponential_rate_of_an_exact_exponential():
    t = np.linspace(0, 3, 20)
    assert scaling.exponential_rate(t, 0.7 * np.exp(-1.3 * t)) == pytest.approx(1.3, abs=1e-12)


def test_bootstrap_standard_error_of_a_mean_is_sigma_over_root_n():
    samples = [rng(0, "data").standard_normal(400)]
    draws = scaling.bootstrap(samples, lambda s: s[0].mean(), 2000, rng(0, "boot"))
    assert draws.shape == (2000,)
    assert draws.std() == pytest.approx(samples[0].std() / np.sqrt(400), rel=0.1)


def test_bootstrap_is_deterministic_and_keeps_vector_statistics():
    samples = [np.arange(10.0), np.arange(5.0) ** 2]
    first = scaling.bootstrap(samples, lambda s: [x.mean() for x in s], 50, rng(3, "boot"))
    again = scaling.bootstrap(samples, lambda s: [x.mean() for x in s], 50, rng(3, "boot"))
    assert first.shape == (50, 2)
    np.testing.assert_array_equal(first, again)


def test_power_law_band_brackets_the_central_fit():
    fits = np.array([[2.0, 0.0], [2.2, -0.1], [1.8, 0.1], [2.0, 0.05]])
    x = np.array([1.0, 2.0, 4.0])
    low, high = scaling.power_law_band(x, fits)
    assert low.shape == high.shape == x.shape
    assert np.all(low <= x**2) and np.all(x**2 <= high)
