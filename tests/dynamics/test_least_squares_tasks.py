"""Least-squares tasks: the closed-form gradient descent against a loop, truncation, the meta-losses."""

import numpy as np
import pytest
from offconvex.core.random import rng
from offconvex.dynamics import least_squares_tasks as lst


def loop_gd(X, y, eta, t):
    w = np.zeros(X.shape[1])
    for _ in range(t):
        w -= eta * X.T @ (X @ w - y) / len(y)
    return w


@pytest.mark.parametrize("d, n", [(12, 6), (4, 30)])
def test_closed_form_gradient_descent_equals_the_loop(d, n):
    tasks = lst.draw_tasks(3, d, n, rng(0, "tasks"))
    y = lst.labels(tasks, 0.5)
    etas = np.array([1e-3, 0.05, 0.3])
    W = lst.gd_iterates(tasks["X"], y, etas, 15, 0.5, tasks["escape"])
    for i in range(3):
        for e, eta in enumerate(etas):
            np.testing.assert_allclose(W[i, e], loop_gd(tasks["X"][i], y[i], eta, 15), rtol=1e-9, atol=1e-12)


def test_runs_that_leave_the_ball_are_replaced_by_the_escape_direction():
    tasks = lst.draw_tasks(2, 10, 5, rng(1, "tasks"))
    W = lst.gd_iterates(tasks["X"], lst.labels(tasks, 1.0), np.array([1e-3, 50.0]), 40, 1.0, tasks["escape"])
    np.testing.assert_allclose(W[:, 1], lst.TRUNCATION * tasks["escape"])
    assert np.all(np.linalg.norm(W[:, 0], axis=-1) < lst.TRUNCATION)


def test_tasks_have_unit_targets_and_labels_follow_the_model():
    tasks = lst.draw_tasks(4, 7, 9, rng(2, "tasks"))
    np.testing.assert_allclose(np.linalg.norm(tasks["w_star"], axis=-1), 1.0)
    noiseless = lst.labels(tasks, 0.0)
    np.testing.assert_allclose(lst.labels(tasks, 2.0) - noiseless, 2.0 * tasks["xi"])


def test_meta_losses_score_on_the_right_samples():
    tasks = lst.draw_tasks(2, 8, 10, rng(3, "tasks"))
    eta = np.array([0.1])
    W = lst.gd_iterates(tasks["X"][:, :6], lst.labels(tasks, 1.0, slice(0, 6)), eta, 5, 1.0, tasks["escape"])
    held = lst.mean_squared_loss(tasks["X"][:, 6:], lst.labels(tasks, 1.0, slice(6, 10)), W).mean()
    assert lst.meta_losses(tasks, eta, 5, 1.0, n_train=6)[0] == pytest.approx(held, rel=1e-12)
    with pytest.raises(ValueError, match="n_train"):
        lst.meta_losses(tasks, eta, 5, 1.0, n_train=10)


def test_evaluate_reports_distance_and_rmse_at_zero_step():
    tasks = lst.draw_tasks(3, 5, 20, rng(4, "tasks"))
    test_X, test_xi = rng(4, "t").standard_normal((3, 50, 5)), rng(4, "x").standard_normal((3, 50))
    result = lst.evaluate(tasks, test_X, test_xi, [0.0], 10, 1.0)  # w stays 0
    assert result["distance"][0] == pytest.approx(1.0, rel=1e-12)
    expected = np.mean(np.sqrt(np.mean(lst.labels(tasks, 1.0) ** 2, axis=-1)))
    assert result["train_rmse"][0] == pytest.approx(expected, rel=1e-12)
