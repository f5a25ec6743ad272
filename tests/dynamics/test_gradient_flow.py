import numpy as np
import pytest
from offconvex.dynamics import gradient_flow as gf
from scipy.linalg import expm


def test_flow_of_a_quadratic_matches_the_matrix_exponential():
    matrix = np.array([[2.0, 0.5], [0.5, -0.3]])  # indefinite on purpose
    start, times = np.array([1.0, -0.7]), np.linspace(0.0, 3.0, 7)
    flow = gf.gradient_flow(lambda theta: matrix @ theta, start, times)
    expected = np.stack([expm(-t * matrix) @ start for t in times])
    np.testing.assert_allclose(flow, expected, rtol=1e-9, atol=1e-12)


def test_gd_is_euler_on_a_quadratic_closed_form():
    curvature, eta, steps = 3.0, 0.1, 12
    iterates = gf.gradient_descent(lambda theta: curvature * theta, [2.0], eta, steps)
    np.testing.assert_allclose(iterates[:, 0], 2.0 * (1 - eta * curvature) ** np.arange(steps + 1), rtol=1e-14)


def test_gd_error_is_first_order_in_eta():
    errors = [gf.gd_vs_gf_error(gf.double_well_grad, (1.5, 1.2), eta, 4.0)[3].max() for eta in (0.02, 0.01)]
    assert 1.8 < errors[0] / errors[1] < 2.2


def test_gd_state_step_matches_batch_run():
    state = gf.gd_init([1.0, 0.5])
    for _ in range(3):
        state = gf.gd_step(state, gf.double_well_grad, 0.1)
    np.testing.assert_allclose(state.theta, gf.gradient_descent(gf.double_well_grad, [1.0, 0.5], 0.1, 3)[-1])
    assert state.k == 3


def test_bound_shape_without_negative_curvature_is_t_eta_and_grows_with_it():
    times = np.linspace(0, 2, 5)
    np.testing.assert_allclose(gf.euler_error_bound_shape(times, np.ones(5), 0.1), 0.1 * times)
    shaped = gf.euler_error_bound_shape(times, -np.ones(5), 0.1)
    np.testing.assert_allclose(shaped, np.exp(times) * 0.1 * times, rtol=1e-12)


def test_double_well_gradient_and_hessian_against_finite_differences():
    point, step = np.array([0.3, 0.2]), 1e-6
    numeric = [(gf.double_well(point + step * e) - gf.double_well(point - step * e)) / (2 * step) for e in np.eye(2)]
    np.testing.assert_allclose(gf.double_well_grad(point), numeric, rtol=1e-7)
    assert gf.double_well_hessian_min(point) == pytest.approx(3 * 0.2**2 - 1)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan")])
def test_bad_step_size_is_refused(bad):
    with pytest.raises(ValueError, match="eta"):
        gf.gradient_descent(gf.double_well_grad, [1.0, 1.0], bad, 3)


def test_bad_times_are_refused():
    with pytest.raises(ValueError, match="times"):
        gf.gradient_flow(gf.double_well_grad, [1.0, 1.0], [1.0, 0.5])
