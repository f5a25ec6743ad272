import numpy as np
import pytest
from offconvex.core.random import rng
from offconvex.sampling import mixtures, tempering

BETAS = np.geomspace(0.1, 1.0, 5)


def grid_reference(mixture):
    axis = np.linspace(-25, 25, 801)
    grid = np.stack(np.meshgrid(axis, axis), -1).reshape(-1, 2)
    f = -mixtures.log_density(mixture, grid)
    return tempering.log_partition_on_grid(f, BETAS, (axis[1] - axis[0]) ** 2)


def test_log_partition_of_a_gaussian_is_closed_form():
    mixture = mixtures.GaussianMixture(np.array([1.0]), np.zeros((1, 2)))
    # exp(-β f) with f = |x|²/2 + log(2π): Z_β = (2π)^{1-β} / β
    expected = (1 - BETAS) * np.log(2 * np.pi) - np.log(BETAS)
    np.testing.assert_allclose(grid_reference(mixture), expected, rtol=1e-8)


def test_estimated_log_partition_is_close_to_the_grid():
    mixture = mixtures.GaussianMixture(np.array([0.3, 0.7]), np.array([[-3.0, 0.0], [3.0, 0.0]]))
    vg, gen = mixtures.potential_value_and_grad(mixture), rng(0, "noise")
    estimate = tempering.estimate_log_partition(vg, BETAS, rng(0, "init").standard_normal((1000, 2)),
                                                0.05, 300, gen)
    exact = grid_reference(mixture)
    np.testing.assert_allclose(estimate, exact - exact[0], atol=0.08)


def test_levels_are_occupied_uniformly_with_exact_partition_functions():
    mixture = mixtures.GaussianMixture(np.array([0.3, 0.7]), np.array([[-3.0, 0.0], [3.0, 0.0]]))
    vg, gen, log_z = mixtures.potential_value_and_grad(mixture), rng(1, "noise"), grid_reference(mixture)
    state = tempering.init(np.tile([-3.0, 0.0], (400, 1)), len(BETAS) - 1, vg)
    levels, right = [], []
    for sweep in range(600):
        state = tempering.sweep(state, vg, BETAS, log_z, 0.05, 5, gen)
        if sweep >= 100:
            levels.append(state.level)
            right.append(state.position[state.level == len(BETAS) - 1, 0] > 0)
    occupation = tempering.level_occupation(np.array(levels), len(BETAS))
    np.testing.assert_allclose(occupation, 1 / len(BETAS), atol=0.02)
    assert np.mean(np.concatenate(right)) == pytest.approx(0.7, abs=0.04)
    assert np.all(state.n_swaps_accepted > 0)


def test_ladder_must_end_at_one():
    with pytest.raises(ValueError, match="0.5"):
        tempering.check_ladder(np.array([0.1, 0.5]))


def test_target_hitting_sweeps_counts_arrivals_on_the_target_level():
    mixture = mixtures.GaussianMixture(np.array([0.5, 0.5]), np.array([[-3.0], [3.0]]))
    vg, betas = mixtures.potential_value_and_grad(mixture), np.array([0.1, 1.0])
    log_z = tempering.log_partition_on_grid(-mixtures.log_density(mixture, np.linspace(-30, 30, 6001)[:, None]),
                                            betas, 0.01)
    # Chains 0-1 start on the target level inside the target, chains 2-3 hot in the wrong mode.
    state = tempering.init(np.array([[3.5], [4.0], [-3.0], [-3.0]]), np.array([1, 1, 0, 0]), vg)

    def run(seed):
        gen = rng(seed, "noise")
        return tempering.target_hitting_sweeps(
            state, lambda s: tempering.sweep(s, vg, betas, log_z, 0.05, 5, gen), lambda x: x[:, 0] >= 3.0, 1, 10**4)

    sweeps = run(0)
    np.testing.assert_array_equal(sweeps[:2], 0)
    assert np.all(np.isfinite(sweeps[2:])) and np.all(sweeps[2:] > 0)
    np.testing.assert_array_equal(sweeps, run(0))


def test_target_hitting_sweeps_gives_inf_when_never_there():
    vg = mixtures.potential_value_and_grad(mixtures.GaussianMixture(np.array([1.0]), np.zeros((1, 1))))
    state = tempering.init(np.zeros((3, 1)), 0, vg)
    sweeps = tempering.target_hitting_sweeps(state, lambda s: s, lambda x: x[:, 0] > 1.0, 1, 5)
    assert np.all(np.isinf(sweeps))
    with pytest.raises(ValueError, match="max_sweeps"):
        tempering.target_hitting_sweeps(state, lambda s: s, lambda x: x[:, 0] > 1.0, 1, 0)
