import numpy as np
import pytest
from offconvex.generalization import adaptive_overfitting as ao


def test_accuracies_against_loop():
    rng = np.random.default_rng(0)
    labels, predictions = ao.random_signs(50, rng), ao.random_signs((7, 50), rng)
    expected = [(row == labels).mean() for row in predictions]
    np.testing.assert_allclose(ao.accuracies(predictions, labels), expected, rtol=0, atol=1e-15)


def test_majority_votes_against_explicit_sums():
    rng = np.random.default_rng(1)
    queries, keep = ao.random_signs((30, 11), rng), rng.random(30) < 0.5
    votes = ao.majority_votes(queries, keep, [3, 10, 30])
    for row, t in zip(votes, [3, 10, 30], strict=True):
        np.testing.assert_array_equal(row, np.sign(queries[:t][keep[:t]].sum(axis=0)))


def test_ladder_posts_only_clear_improvements_rounded():
    state, posted = ao.ladder_init(), []
    for accuracy in [0.50, 0.505, 0.52, 0.525, 0.54]:
        state, new = ao.ladder_step(state, accuracy, 0.01)
        posted.append(new)
    assert posted == [True, False, True, False, True]
    assert state.best == pytest.approx(0.54)


def test_attack_reaches_predicted_gain_and_hygiene_does_not():
    # statistical test, fixed seed: gain sd at N = 4000 is about 0.008
    gains = ao.analyst_gains(4000, 2000, [2000], 0.01, np.random.default_rng(0))
    assert gains["adaptive"][0] == pytest.approx(ao.attack_gain_prediction(2000, 4000), abs=0.03)
    assert abs(gains["hygienic"][0]) < 0.03
    assert gains["ladder"][0] < 0.5 * gains["adaptive"][0]


def test_bad_arguments():
    with pytest.raises(ValueError, match="step_size"):
        ao.ladder_step(ao.ladder_init(), 0.5, 0.0)
    with pytest.raises(ValueError, match="checkpoints"):
        ao.majority_votes(np.ones((3, 2), dtype=np.int8), np.ones(3, bool), [0, 2])
    with pytest.raises(ValueError, match="labels"):
        ao.accuracies(np.ones((3, 2), dtype=np.int8), np.ones(5, dtype=np.int8))
