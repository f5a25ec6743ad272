import numpy as np
import pytest
from offconvex.core.random import rng
from offconvex.sampling import langevin, mixtures
from scipy import stats


def gaussian(variance):
    return lambda x: (np.sum(x**2, axis=1) / (2 * variance), x / variance)


def run(step, state, n):
    for _ in range(n):
        state = step(state)
    return state


def test_ula_matches_its_known_step_size_bias():
    variance, eta = 2.0, 0.4
    vg, gen = gaussian(variance), rng(0, "noise")
    state = run(lambda s: langevin.ula_step(s, vg, eta, gen), langevin.init(np.zeros((20000, 1)), vg), 60)
    expected = langevin.ula_gaussian_variance(variance, eta)
    assert expected == pytest.approx(variance / 0.9)
    assert np.var(state.position) == pytest.approx(expected, rel=0.03)
    assert abs(np.mean(state.position)) < 4 * np.sqrt(expected / 20000)


def test_mala_is_exact_on_a_gaussian_and_accepts_in_range():
    vg, gen = gaussian(1.0), rng(1, "noise")
    start = langevin.init(rng(1, "init").standard_normal((4000, 2)) + 3.0, vg)
    state = run(lambda s: langevin.mala_step(s, vg, 0.5, gen), start, 200)
    assert stats.kstest(state.position[:, 0], "norm").pvalue > 0.01
    assert 0.6 < np.mean(state.n_accepted) / 200 < 0.99


def test_mala_works_on_matrix_valued_chains():
    vg = lambda X: (np.sum(X**2, axis=(1, 2)) / 2, X)  # noqa: E731
    state = langevin.init(np.zeros((3000, 3, 2)), vg)
    state = run(lambda s: langevin.mala_step(s, vg, 0.8, rng(2, "noise")), state, 1)
    assert state.position.shape == (3000, 3, 2)


def test_bad_step_size_is_named():
    vg = gaussian(1.0)
    with pytest.raises(ValueError, match="-0.1"):
        langevin.ula_step(langevin.init(np.zeros((2, 1)), vg), vg, -0.1, rng(0, "noise"))


def test_mean_hitting_time_of_reflected_brownian_motion():
    # f = 0 with a wall at 0: dX = sqrt(2) dW reaches b from a in (b² - a²)/2 on average.
    flat = lambda y: np.zeros_like(y)  # noqa: E731
    assert langevin.mean_hitting_time_1d(flat, 0.5, 2.0, lower=0.0) == pytest.approx((4 - 0.25) / 2, rel=1e-6)
    with pytest.raises(ValueError, match="start=3"):
        langevin.mean_hitting_time_1d(flat, 3.0, 2.0, lower=0.0)


def test_hitting_steps_agree_with_quadrature_on_a_double_well():
    mixture = mixtures.symmetric_pair(1.5)
    vg, gen, eta = mixtures.potential_value_and_grad(mixture), rng(0, "noise"), 0.01
    state = langevin.init(np.full((1500, 1), -1.5), vg)
    steps = langevin.hitting_steps(state, lambda s: langevin.ula_step(s, vg, eta, gen),
                                   lambda x: x[:, 0] >= 1.5, max_steps=20000)
    exact = langevin.mean_hitting_time_1d(mixtures.potential_1d(mixture), -1.5, 1.5, lower=-15.0)
    assert np.all(np.isfinite(steps))
    assert np.mean(steps) * eta == pytest.approx(exact, rel=0.1)


def test_mean_time_across_a_line_of_modes_is_the_random_walk_law():
    # Well separated equal modes: hops between neighbours at one rate, so the mean time from the
    # first mode to the last is k(k-1)/2 two-mode hops (birth-death chain reflected at the start).
    def end_to_end(k):
        line = mixtures.modes_on_a_line(k, 4.0)
        first, last = line.means[0, 0], line.means[-1, 0]
        return langevin.mean_hitting_time_1d(mixtures.potential_1d(line), first, last, lower=first - 15)

    two = end_to_end(2)
    for k in (3, 4, 5):
        assert end_to_end(k) / two == pytest.approx(k * (k - 1) / 2, rel=0.01)
