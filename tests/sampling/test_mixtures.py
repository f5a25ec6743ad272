import numpy as np
import pytest
from offconvex.sampling import mixtures
from scipy import stats
from scipy.optimize import approx_fprime


def test_log_density_matches_scipy():
    mixture = mixtures.GaussianMixture(np.array([0.3, 0.7]), np.array([[-4.0, 0.0], [4.0, 1.0]]), scale=1.5)
    x = np.array([[0.0, 0.0], [-4.0, 0.5], [30.0, -2.0]])
    reference = np.log(sum(w * stats.multivariate_normal(m, 1.5**2 * np.eye(2)).pdf(x)
                           for w, m in zip(mixture.weights, mixture.means, strict=True)))
    np.testing.assert_allclose(mixtures.log_density(mixture, x), reference, rtol=1e-10)


def test_gradient_matches_finite_differences():
    mixture = mixtures.symmetric_pair(2.0, dim=2)
    value_and_grad = mixtures.potential_value_and_grad(mixture)
    point = np.array([0.3, -0.7])
    numeric = approx_fprime(point, lambda p: value_and_grad(p[None])[0][0], 1e-7)
    np.testing.assert_allclose(value_and_grad(point[None])[1][0], numeric, rtol=1e-5)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="0.4"):
        mixtures.GaussianMixture(np.array([0.4, 0.4]), np.zeros((2, 1)))
    with pytest.raises(ValueError, match=r"\(3, 2\)"):
        mixtures.log_density(mixtures.symmetric_pair(1.0), np.zeros((3, 2)))


def test_nearest_mode_splits_at_the_midpoint():
    mixture = mixtures.symmetric_pair(3.0)
    np.testing.assert_array_equal(mixtures.nearest_mode(mixture, np.array([[-0.1], [0.1]])), [0, 1])


def test_symmetric_pair_closed_form_matches_the_generic_potential():
    x = np.array([[-3.0, 0.2], [0.0, 1.0], [40.0, -1.0]])
    generic = mixtures.potential_value_and_grad(mixtures.symmetric_pair(2.5, dim=2))(x)
    closed = mixtures.symmetric_pair_value_and_grad(2.5, dim=2)(x)
    for a, b in zip(generic, closed, strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-12)


def test_modes_on_a_line_are_equal_weight_and_centred():
    mixture = mixtures.modes_on_a_line(4, 3.0)
    np.testing.assert_allclose(mixture.means[:, 0], [-9.0, -3.0, 3.0, 9.0])
    np.testing.assert_allclose(mixture.weights, 0.25)
    with pytest.raises(ValueError, match="n_modes"):
        mixtures.modes_on_a_line(0, 3.0)
