import math

import numpy as np
import pytest
import torch
from offconvex.core.random import torch_generator
from offconvex.dynamics import homogeneous_networks as hn
from torch.func import jvp

WIDTHS = (6, 5, 4, 3)


def test_shapes_and_parameter_count():
    assert hn.layer_shapes(WIDTHS) == [(5, 6), (4, 5), (3, 4)]
    assert hn.n_parameters(WIDTHS) == 30 + 20 + 12


def test_forward_matches_torch_sequential_without_bias():
    theta = hn.xavier_uniform(WIDTHS, torch_generator(0, "init"))
    layers = [torch.nn.Linear(i, o, bias=False, dtype=torch.float64) for i, o in zip(WIDTHS[:-1], WIDTHS[1:], strict=True)]
    with torch.no_grad():
        for layer, weight in zip(layers, hn.unflatten(theta, WIDTHS), strict=True):
            layer.weight.copy_(weight)
    net = torch.nn.Sequential(layers[0], torch.nn.ReLU(), layers[1], torch.nn.ReLU(), layers[2])
    x = torch.randn(7, 6, dtype=torch.float64, generator=torch_generator(0, "data"))
    torch.testing.assert_close(hn.forward(theta, x, WIDTHS, "relu"), net(x))


def test_homogeneity_in_each_layer():
    theta = hn.xavier_uniform(WIDTHS, torch_generator(1, "init"))
    x = torch.randn(4, 6, dtype=torch.float64, generator=torch_generator(1, "data"))
    scaled = torch.cat([2.0 * piece.reshape(-1) for piece in hn.unflatten(theta, WIDTHS)])
    torch.testing.assert_close(hn.forward(scaled, x, WIDTHS, "relu"), 8.0 * hn.forward(theta, x, WIDTHS, "relu"))


def test_xavier_bounds_and_variance():
    theta = hn.xavier_uniform((300, 200, 10), torch_generator(0, "init"))
    first = hn.unflatten(theta, (300, 200, 10))[0]
    bound = math.sqrt(6 / 500)
    assert first.abs().max() <= bound
    assert first.var().item() == pytest.approx(bound**2 / 3, rel=0.02)


def test_gradient_matches_finite_differences_and_gd_step():
    problem = hn.digits_problem(20, (64, 5, 10), "linear")
    theta = hn.xavier_uniform(problem.widths, torch_generator(0, "init"))
    direction = torch.randn(theta.shape, dtype=torch.float64, generator=torch_generator(0, "dir"))
    step = 1e-6
    numeric = (problem.loss(theta + step * direction) - problem.loss(theta - step * direction)) / (2 * step)
    assert float(problem.gradient(theta) @ direction) == pytest.approx(float(numeric), rel=1e-6)
    steps, losses, thetas = hn.train_gd(problem, theta, 0.1, 3, 2)
    np.testing.assert_array_equal(steps, [0, 2, 3])
    manual = theta.clone()
    for _ in range(3):
        manual = manual - 0.1 * problem.gradient(manual)
    np.testing.assert_allclose(thetas[-1], manual.numpy(), rtol=1e-14)
    assert losses[-1] < losses[0]


def test_digits_are_standardised_and_constant_pixels_are_zero():
    problem = hn.digits_problem(200, (64, 10), "linear")
    means = problem.x.mean(0)
    assert means.abs().max() < 1e-12
    stds = problem.x.std(0, unbiased=False)
    assert torch.all(((stds - 1).abs() < 1e-9) | (stds == 0))


def test_bad_arguments_name_the_value():
    with pytest.raises(ValueError, match="widths"):
        hn.layer_shapes([5])
    with pytest.raises(ValueError, match="activation"):
        hn.forward(torch.zeros(12, dtype=torch.float64), torch.zeros(1, 3, dtype=torch.float64), (3, 4), "gelu")
    with pytest.raises(ValueError, match="theta"):
        hn.unflatten(torch.zeros(5), (3, 4))


def test_swish_is_torchs_silu_and_has_nested_forward_derivatives():
    z = torch.linspace(-4.0, 4.0, 33, dtype=torch.float64)
    torch.testing.assert_close(hn.swish(z), torch.nn.functional.silu(z))
    # σ''(0) = 1/2 for swish; tanh''(0) = 0 (odd): forward-over-forward through the written-out form
    second = lambda f: jvp(lambda u: jvp(f, (u,), (torch.ones_like(u),))[1], (z,), (torch.ones_like(z),))[1]  # noqa: E731
    assert float(second(hn.swish)[16]) == pytest.approx(0.5)
    assert float(second(torch.tanh)[16]) == pytest.approx(0.0, abs=1e-15)


def test_gd_records_at_listed_steps_the_same_iterates_as_every_step():
    problem = hn.digits_problem(20, (64, 5, 10), "tanh")
    theta = hn.xavier_uniform(problem.widths, torch_generator(0, "init"))
    every = hn.train_gd(problem, theta, 0.1, 9, 1)
    listed = hn.train_gd(problem, theta, 0.1, 9, None, record_at=[9, 0, 2, 5, 2])
    np.testing.assert_array_equal(listed[0], [0, 2, 5, 9])
    for full, chosen in zip(every, listed, strict=True):
        np.testing.assert_array_equal(full[[0, 2, 5, 9]], chosen)
    for record_every, record_at, match in ((None, None, "exactly one"), (2, [1], "exactly one"),
                                           (None, [10], "record_at"), (0, None, "record_every")):
        with pytest.raises(ValueError, match=match):
            hn.train_gd(problem, theta, 0.1, 9, record_every, record_at=record_at)


@pytest.mark.parametrize("activation", ["linear", "relu"])
def test_hand_written_gradient_equals_autograd(activation):
    problem = hn.digits_problem(40, (64, 7, 5, 10), activation)
    theta = hn.xavier_uniform(problem.widths, torch_generator(2, "init"))
    leaf = theta.clone().requires_grad_(True)
    expected = torch.autograd.grad(problem.loss(leaf), leaf)[0]
    got = hn.cross_entropy_gradient(theta, problem.x, problem.labels, problem.widths, activation)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12 * float(expected.abs().max()))
    torch.testing.assert_close(problem.gradient(theta), got, rtol=0, atol=0)
