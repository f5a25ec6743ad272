"""Learned step size on a quadratic: closed forms against direct sums, finite differences and unrolling."""

import numpy as np
import pytest
from offconvex.core.random import rng
from offconvex.dynamics import meta_step_size as msz


@pytest.fixture
def quadratic():
    return msz.quadratic_spectrum(6, 12, rng(0, "quadratic"))


def test_spectrum_is_decreasing_and_start_has_unit_norm(quadratic):
    lam, c = quadratic
    assert np.all(np.diff(lam) < 0) and lam[-1] > 0
    assert np.linalg.norm(c) == pytest.approx(1.0, rel=1e-12)


def test_scaled_log_loss_equals_the_direct_sum_where_that_is_finite(quadratic):
    lam, c = quadratic
    etas = np.array([0.2, 1.0, 2.5]) / lam[0]
    direct = 0.5 * np.sum(c**2 * lam * (1 - etas[:, None] * lam) ** 20, -1)
    np.testing.assert_allclose(msz.log_unrolled_loss(etas, lam, c, 10), np.log(direct), rtol=1e-12)


def test_scaled_evaluation_stays_finite_where_the_direct_sum_overflows(quadratic):
    lam, c = quadratic
    eta = 3.0 / lam[0]
    with np.errstate(over="ignore"):
        assert not np.isfinite(np.sum(c**2 * lam * (1 - eta * lam) ** 4000))
    assert np.isfinite(msz.log_unrolled_loss(eta, lam, c, 2000))
    assert np.isfinite(msz.log_meta_gradient(eta, lam, c, 2000))
    assert msz.log10_abs_raw_meta_gradient(eta, lam, c, 2000) > 300  # beyond float64's range


@pytest.mark.parametrize("t", [1, 7, 80])
def test_log_meta_gradient_matches_finite_differences(quadratic, t):
    lam, c = quadratic
    h = 1e-7 / lam[0]
    for eta in np.array([0.3, 1.2, 2.4]) / lam[0]:
        numeric = (msz.log_unrolled_loss(eta + h, lam, c, t) - msz.log_unrolled_loss(eta - h, lam, c, t)) / (2 * h)
        assert msz.log_meta_gradient(eta, lam, c, t) == pytest.approx(numeric / t, rel=1e-5)


def test_raw_meta_gradient_size_matches_finite_differences(quadratic):
    lam, c = quadratic
    eta, h, t = 0.8 / lam[0], 1e-7 / lam[0], 5
    loss = lambda e: np.exp(msz.log_unrolled_loss(e, lam, c, t))  # noqa: E731
    numeric = (loss(eta + h) - loss(eta - h)) / (2 * h)
    assert 10 ** msz.log10_abs_raw_meta_gradient(eta, lam, c, t) == pytest.approx(abs(numeric), rel=1e-5)


def test_unrolled_reverse_mode_agrees_in_float64_and_overflows_in_float32(quadratic):
    lam, c = quadratic
    H = np.diag(lam)
    eta = 2.5 / lam[0]
    loss, gradient = msz.unrolled_meta_gradient(eta, H, c, 30)
    assert np.log(loss) == pytest.approx(msz.log_unrolled_loss(eta, lam, c, 30), rel=1e-10)
    assert abs(gradient) == pytest.approx(10 ** msz.log10_abs_raw_meta_gradient(eta, lam, c, 30), rel=1e-8)
    loss32, gradient32 = msz.unrolled_meta_gradient(eta, H, c, 300, np.float32)
    assert not (np.isfinite(loss32) and np.isfinite(gradient32))


def test_optimal_step_is_the_minimizer_on_a_grid_and_tends_to_the_rate_optimal_step(quadratic):
    lam, c = quadratic
    star = msz.optimal_step(lam, c, [1, 40, 5000])
    grid = np.linspace(1e-4, 2.0, 20001) / lam[0]
    assert star[1] == pytest.approx(grid[np.argmin(msz.log_unrolled_loss(grid, lam, c, 40))], abs=2 * grid[1])
    assert star[0] == pytest.approx(np.sum(c**2 * lam**2) / np.sum(c**2 * lam**3), rel=1e-9)  # t = 1
    assert star[2] == pytest.approx(2 / (lam[0] + lam[-1]), rel=2e-3)


def test_meta_gradient_descent_converges_and_clips_at_zero(quadratic):
    lam, c = quadratic
    etas = msz.meta_gradient_descent(0.1, lam, c, 20, 500, 1 / lam[0] ** 2)
    assert etas.min() >= 0 and etas[0] == 0.1
    assert etas[-1] == pytest.approx(msz.optimal_step(lam, c, [20])[0], rel=1e-3)


def test_bad_input_is_refused(quadratic):
    lam, c = quadratic
    with pytest.raises(ValueError, match="horizon"):
        msz.log_unrolled_loss(0.01, lam, c, 0)
    with pytest.raises(ValueError, match="d >= 1"):
        msz.quadratic_spectrum(0, 3, rng(0, "x"))
