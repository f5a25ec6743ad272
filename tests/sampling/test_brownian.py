import numpy as np
import pytest
from offconvex.core.random import rng
from offconvex.sampling import brownian


def couple(step, x, y, n_steps, eta=2e-3):
    pair, gen = brownian.init(x, y), rng(0, "noise")
    for _ in range(n_steps):
        pair = step(pair, eta, 0.02, gen)
    return pair


def test_reflection_is_an_isometry_swapping_the_points():
    x, y = np.array([[1.0, 2.0, 0.5]]), np.array([[0.0, -1.0, 2.0]])
    increment = np.array([[0.3, -0.2, 0.7]])
    np.testing.assert_allclose(np.linalg.norm(brownian.reflect(increment, x, y)), np.linalg.norm(increment))
    np.testing.assert_allclose(brownian.reflect(x - y, x, y), y - x)


def test_plane_coupling_follows_the_reflection_principle():
    n = 3000
    pair = couple(brownian.plane_coupled_step, np.zeros((n, 2)), np.tile([1.0, 0.0], (n, 1)), 500)
    times = np.array([0.25, 0.5, 1.0])
    np.testing.assert_allclose(brownian.coupled_fraction(pair.coupling_time, times),
                               brownian.plane_coupling_probability(1.0, times), atol=0.025)


def test_sphere_walkers_stay_on_the_sphere_and_couple_faster_than_the_plane():
    n = 2000
    x, y = brownian.sphere_pair(n, 1.0, rng(0, "init"))
    np.testing.assert_allclose(brownian.geodesic_distance(x, y), 1.0)
    pair = couple(brownian.sphere_coupled_step, x, y, 750)
    np.testing.assert_allclose(np.linalg.norm(pair.y, axis=1), 1.0)
    sphere = brownian.coupled_fraction(pair.coupling_time, [1.5])[0]
    assert sphere > brownian.plane_coupling_probability(1.0, 1.5) + 0.08


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="4.0"):
        brownian.sphere_pair(3, 4.0, rng(0, "init"))
    with pytest.raises(ValueError, match="-1"):
        brownian.plane_coupled_step(brownian.init(np.zeros((1, 2)), np.ones((1, 2))), -1, 0.1, rng(0, "noise"))
