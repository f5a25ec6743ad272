import numpy as np
import pytest
from offconvex.generalization import birthday
from scipy.spatial.distance import cdist


def test_nearest_neighbour_distances_brute_force():
    points = np.random.default_rng(0).normal(size=(30, 4))
    full = cdist(points, points) + np.diag(np.full(30, np.inf))
    np.testing.assert_allclose(birthday.nearest_neighbour_distances(points), full.min(axis=1), rtol=1e-12)


def test_collision_probability_closed_form():
    # the classic birthday problem: 23 people, 365 days
    assert birthday.collision_probability(23, 365) == pytest.approx(0.507297, abs=1e-6)
    assert birthday.collision_probability(1, 10) == 0.0
    assert birthday.collision_probability(11, 10) == 1.0


def test_duplicate_rate_matches_birthday_formula_statistically():
    rng = np.random.default_rng(1)
    atoms = rng.normal(size=(50, 3)) * 10  # 50 well-separated equally likely points
    batches = atoms[rng.integers(0, 50, size=(2000, 8))]
    rate = birthday.has_near_duplicate(batches, threshold=1e-9 + 1e-6).mean()
    expected = birthday.collision_probability(8, 50)
    assert rate == pytest.approx(expected, abs=4 * np.sqrt(expected * (1 - expected) / 2000))


def test_has_near_duplicate_and_threshold():
    batch = np.array([[[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]], [[0.0, 0.0], [0.05, 0.0], [3.0, 3.0]]])
    np.testing.assert_array_equal(birthday.has_near_duplicate(batch, 0.1), [False, True])
    grid = [np.arange(5.0)[:, None], 10 + 2 * np.arange(5.0)[:, None]]  # NN distances 1 (x5) and 2 (x5)
    assert birthday.duplicate_threshold(grid, 0.4) == pytest.approx(1.0)


def test_batches_from_pool_draw_without_replacement():
    pool = np.arange(20.0)[:, None]
    batches = birthday.batches_from_pool(pool, 20, 3, np.random.default_rng(2))
    for batch in batches:
        assert sorted(batch[:, 0]) == list(range(20))


def test_support_size_estimate():
    assert birthday.support_size_estimate([5, 10, 20], [0.1, 0.6, 0.9]) == 100.0
    assert birthday.support_size_estimate([5, 10], [0.1, 0.2]) == float("inf")


def test_bad_arguments():
    with pytest.raises(ValueError, match="quantile"):
        birthday.duplicate_threshold([np.zeros((3, 2))], 1.5)
    with pytest.raises(ValueError, match="batch_size"):
        birthday.batches_from_pool(np.zeros((3, 2)), 5, 1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="shape"):
        birthday.has_near_duplicate(np.zeros((3, 2)), 1.0)
    with pytest.raises(ValueError, match="at least 2"):
        birthday.nearest_neighbour_distances(np.zeros((1, 2)))
