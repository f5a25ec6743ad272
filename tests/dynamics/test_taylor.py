import math

import numpy as np
import pytest
import torch
from offconvex.core.random import torch_generator
from offconvex.dynamics import taylor
from torch.func import grad


def _cubic(theta):  # f(θ) = θ₀³ + θ₀θ₁ + 2θ₁ : exact at order 3
    return theta[0] ** 3 + theta[0] * theta[1] + 2 * theta[1]


def test_taylor_terms_of_a_cubic_closed_form():
    theta0 = torch.tensor([1.0, -2.0], dtype=torch.float64)
    theta = torch.tensor([1.5, 0.5], dtype=torch.float64)
    dx, dy = 0.5, 2.5
    terms = taylor.taylor_terms(_cubic, theta0, theta, 3)
    expected = [_cubic(theta0), 3 * 1.0**2 * dx + (-2.0) * dx + 1.0 * dy + 2 * dy, 3 * 1.0 * dx**2 + dx * dy, dx**3]
    for term, value in zip(terms, expected, strict=True):
        assert float(term) == pytest.approx(float(value), abs=1e-12)
    assert float(taylor.taylor_model(_cubic, theta0, 3)(theta)) == pytest.approx(float(_cubic(theta)))


def test_linear_model_is_the_tangent_plane_and_has_a_constant_gradient():
    theta0 = torch.tensor([0.3, 0.7], dtype=torch.float64)
    linear = taylor.taylor_model(_cubic, theta0, 1)
    gradient_at_start = grad(_cubic)(theta0)
    elsewhere = torch.tensor([2.0, -1.0], dtype=torch.float64)
    torch.testing.assert_close(grad(linear)(elsewhere), gradient_at_start)
    assert float(linear(theta0)) == pytest.approx(float(_cubic(theta0)))


def _two_layer_setup():
    generator = torch_generator(0, "taylor-test")
    w0, a = taylor.symmetric_init(8, 5, generator)
    movement = 0.3 * torch.randn(16, 5, dtype=torch.float64, generator=generator)
    x = torch.randn(7, 5, dtype=torch.float64, generator=generator)
    return w0, a, movement, x


TANH_DERIVATIVES = [
    torch.tanh,
    lambda z: 1 - torch.tanh(z) ** 2,
    lambda z: -2 * torch.tanh(z) * (1 - torch.tanh(z) ** 2),
    lambda z: (1 - torch.tanh(z) ** 2) * (6 * torch.tanh(z) ** 2 - 2),
]


def test_jvp_terms_match_the_posts_closed_form_for_the_two_layer_net():
    w0, a, movement, x = _two_layer_setup()
    apply = lambda flat: taylor.two_layer(w0, a, flat.reshape(w0.shape) - w0, x, torch.tanh)  # noqa: E731
    terms = taylor.taylor_terms(apply, w0.reshape(-1), (w0 + movement).reshape(-1), 3)
    for order, term in enumerate(terms):
        closed = taylor.two_layer_term(w0, a, movement, x, TANH_DERIVATIVES[order], order)
        torch.testing.assert_close(term, closed, rtol=1e-10, atol=1e-13)
    assert float(terms[0].abs().max()) < 1e-14  # symmetric init: f⁽⁰⁾ ≡ 0


def test_taylor_series_converges_for_a_small_movement():
    w0, a, movement, x = _two_layer_setup()
    exact = taylor.two_layer(w0, a, 0.1 * movement, x, torch.tanh)
    apply = lambda flat: taylor.two_layer(w0, a, flat.reshape(w0.shape) - w0, x, torch.tanh)  # noqa: E731
    errors = [float((taylor.taylor_model(apply, w0.reshape(-1), k)((w0 + 0.1 * movement).reshape(-1)) - exact)
                    .abs().max()) for k in (1, 2, 3)]
    assert errors[0] > errors[1] > errors[2]


def test_sign_randomization_kills_odd_terms_in_expectation_and_keeps_even_terms():
    w0, a, movement, x = _two_layer_setup()
    generator = torch_generator(0, "signs")
    first, second = [], []
    for _ in range(4000):
        signs = taylor.random_signs(16, generator)
        first.append(taylor.two_layer_term(w0, a, signs[:, None] * movement, x, TANH_DERIVATIVES[1], 1))
        second.append(taylor.two_layer_term(w0, a, signs[:, None] * movement, x, TANH_DERIVATIVES[2], 2))
    first, second = torch.stack(first), torch.stack(second)
    standard_error = first.std(0) / math.sqrt(len(first))
    assert float((first.mean(0) / standard_error).abs().max()) < 4.5
    unsigned = taylor.two_layer_term(w0, a, movement, x, TANH_DERIVATIVES[2], 2)
    torch.testing.assert_close(second, unsigned.expand_as(second), rtol=0, atol=1e-14)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="order"):
        taylor.taylor_model(_cubic, torch.zeros(2), -1)
    with pytest.raises(ValueError, match="n_neurons"):
        taylor.random_signs(0, torch_generator(0, "x"))
    with pytest.raises(ValueError, match="shapes"):
        taylor.two_layer(torch.zeros(3, 2), torch.zeros(3), torch.zeros(3, 2), torch.zeros(4, 5), torch.tanh)


def test_sphere_samples_have_radius_sqrt_dim():
    points = taylor.sphere_samples(50, 7, torch_generator(0, "sphere"))
    torch.testing.assert_close(points.norm(dim=1), torch.full((50,), math.sqrt(7), dtype=torch.float64))


def test_min_norm_fit_matches_the_pseudoinverse():
    generator = torch_generator(0, "minnorm")
    features = torch.randn(10, 30, dtype=torch.float64, generator=generator)
    targets = torch.randn(10, dtype=torch.float64, generator=generator)
    expected = torch.linalg.pinv(features) @ targets
    torch.testing.assert_close(taylor.fit_min_norm(features, targets, ridge=0.0), expected)


def test_linearized_features_are_the_gradient_of_the_linear_term():
    w0, a, movement, x = _two_layer_setup()
    features = taylor.linearized_features(w0, a, x, TANH_DERIVATIVES[1])
    torch.testing.assert_close(features @ movement.reshape(-1),
                               taylor.two_layer_term(w0, a, movement, x, TANH_DERIVATIVES[1], 1))


def test_quadratic_fit_drives_the_training_loss_down_on_a_realisable_target():
    w0, a, movement, x = _two_layer_setup()
    x = taylor.sphere_samples(60, 5, torch_generator(0, "quad-x"))
    targets = taylor.two_layer_term(w0, a, movement, x, TANH_DERIVATIVES[2], 2)
    start = 1e-2 * torch.randn(w0.shape, dtype=torch.float64, generator=torch_generator(0, "quad-start"))
    fitted = taylor.fit_quadratic_term(w0, a, x, targets, TANH_DERIVATIVES[2], start, weight_decay=0.0)
    residual = taylor.two_layer_term(w0, a, fitted, x, TANH_DERIVATIVES[2], 2) - targets
    assert float((residual**2).mean() / (targets**2).mean()) < 1e-3


def test_cross_entropy_gradient_matches_torch_func():
    logits_of = lambda theta: torch.outer(torch.arange(4.0, dtype=torch.float64), theta)  # noqa: E731
    loss = taylor.CrossEntropyOf(logits_of, torch.tensor([0, 1, 2, 1]))
    theta = torch.tensor([0.1, -0.2, 0.3], dtype=torch.float64)
    torch.testing.assert_close(loss.gradient(theta), grad(loss.loss)(theta))


def _swish_mlp():
    from offconvex.dynamics import homogeneous_networks as hn

    widths = (5, 7, 3)
    generator = torch_generator(0, "swish-mlp")
    theta0 = hn.xavier_uniform(widths, generator)
    x = torch.randn(6, 5, dtype=torch.float64, generator=generator)
    direction = torch.randn(theta0.shape, dtype=torch.float64, generator=generator)
    return (lambda theta: hn.forward(theta, x, widths, "swish")), theta0, direction


def test_swish_taylor_models_converge_and_train_by_autograd():
    apply, theta0, direction = _swish_mlp()
    theta = theta0 + 0.05 * direction
    errors = [float((taylor.taylor_model(apply, theta0, k)(theta) - apply(theta)).abs().max()) for k in (1, 2, 3)]
    assert errors[0] > errors[1] > errors[2]
    # the order-3 model's training gradient (reverse mode over nested jvp) against central differences
    loss = taylor.CrossEntropyOf(taylor.taylor_model(apply, theta0, 3), torch.tensor([0, 2, 1, 1, 0, 2]))
    gradient = loss.gradient(theta)
    h = 1e-6
    numeric = (loss.loss(theta + h * direction) - loss.loss(theta - h * direction)) / (2 * h)
    assert float(gradient @ direction) == pytest.approx(float(numeric), rel=1e-6)


def test_truncation_errors_vanish_once_the_expansion_is_exact():
    theta0 = torch.tensor([1.0, -2.0], dtype=torch.float64)
    theta = torch.tensor([1.5, 0.5], dtype=torch.float64)
    errors = taylor.truncation_errors(_cubic, theta0, theta, 4)
    exact = float(_cubic(theta))
    # the remainders of the cubic: f_1 misses the quadratic and cubic terms (3·0.25 + 1.25 + 0.125),
    # f_2 misses dx³ = 0.125, f_3 and f_4 are exact
    expected = [(0.75 + 1.25 + 0.125) / abs(exact), 0.125 / abs(exact), 0.0, 0.0]
    assert errors.shape == (4,)
    assert errors == pytest.approx(expected, abs=1e-12)
    with pytest.raises(ValueError, match="max_order"):
        taylor.truncation_errors(_cubic, theta0, theta, 0)


def _digits_like_setup(hidden=6):
    from offconvex.dynamics import homogeneous_networks as hn

    generator = torch_generator(0, "two-layer-taylor-test")
    widths = (5, hidden, 3)
    theta0 = hn.xavier_uniform(widths, generator)
    x = torch.randn(9, 5, dtype=torch.float64, generator=generator)
    return hn, widths, theta0, x, generator


@pytest.mark.parametrize("activation", ["tanh", "swish"])
def test_closed_form_two_layer_taylor_models_match_nested_jvp(activation):
    hn, widths, theta0, x, generator = _digits_like_setup()
    thetas = theta0 + 0.3 * torch.randn(4, theta0.numel(), dtype=torch.float64, generator=generator)
    family = taylor.two_layer_taylor(theta0, x, widths, hn.ACTIVATIONS[activation], 3)
    orders = [None, 1, 2, 3]
    logits = family.logits(thetas, orders)
    network = lambda theta: hn.forward(theta, x, widths, activation)  # noqa: E731
    torch.testing.assert_close(logits[0], network(thetas[0]), rtol=1e-12, atol=1e-12)
    for i, order in enumerate(orders[1:], start=1):
        expected = taylor.taylor_model(network, theta0, order)(thetas[i])
        torch.testing.assert_close(logits[i], expected, rtol=1e-10, atol=1e-12)


def test_train_alike_matches_separate_gd_runs():
    hn, widths, theta0, x, _ = _digits_like_setup()
    labels = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2])
    family = taylor.two_layer_taylor(theta0, x, widths, torch.tanh, 2)
    orders, rates = [None, 2], [0.5, 0.2]
    steps, losses, thetas = taylor.train_alike(lambda t: family.logits(t, orders), labels, theta0, rates, 5, [0, 5])
    assert list(steps) == [0, 5] and losses.shape == (2, 2) and thetas.shape == (2, 2, theta0.numel())
    for i, (order, rate) in enumerate(zip(orders, rates, strict=True)):
        apply = (lambda t: hn.forward(t, x, widths, "tanh")) if order is None else \
            taylor.taylor_model(lambda t: hn.forward(t, x, widths, "tanh"), theta0, order)
        _, _, separate = hn.train_gd(taylor.CrossEntropyOf(apply, labels), theta0, rate, 5, 5)
        np.testing.assert_allclose(thetas[-1, i], separate[-1], rtol=1e-10, atol=1e-12)


def test_two_layer_taylor_rejects_bad_input():
    hn, widths, theta0, x, _ = _digits_like_setup()
    family = taylor.two_layer_taylor(theta0, x, widths, torch.tanh, 2)
    with pytest.raises(ValueError, match="order"):
        family.logits(theta0[None], [3])
    with pytest.raises(ValueError, match="widths"):
        taylor.two_layer_taylor(theta0, x, (5, 6), torch.tanh, 2)
