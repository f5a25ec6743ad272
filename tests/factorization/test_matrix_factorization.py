"""Deep matrix factorization: gradients against autograd, flow against a closed form, GD as Euler."""

import numpy as np
import pytest
import torch
from offconvex.core.random import rng
from offconvex.factorization import matrix_factorization as mf
from scipy.linalg import expm

TARGET = np.array([[0.0, 1.0], [1.0, 0.0]])
MASK = np.array([[0.0, 1.0], [1.0, 1.0]])


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_factor_gradients_match_autograd(depth):
    factors = [rng(depth, "test").standard_normal((2, 2)) for _ in range(depth)]
    tensors = [torch.tensor(f, requires_grad=True) for f in factors]
    product = tensors[0]
    for t in tensors[1:]:
        product = t @ product
    loss = 0.5 * torch.sum(torch.tensor(MASK) * (product - torch.tensor(TARGET)) ** 2)
    loss.backward()
    for ours, t in zip(mf.factor_gradients(factors, TARGET, MASK), tensors, strict=True):
        np.testing.assert_allclose(ours, t.grad.numpy(), rtol=1e-12, atol=1e-12)
    assert mf.completion_loss(mf.product(factors), TARGET, MASK) == pytest.approx(loss.item(), rel=1e-12)


def test_depth_one_flow_is_the_linear_ode_solution():
    """At depth 1, dW/dt = -mask*(W - M): observed entries decay to the target like e^{-t}."""
    start = rng(0, "flow").standard_normal((2, 2))
    trajectory = mf.gradient_flow([start], TARGET, MASK, t_max=3.0, metrics={"W": lambda W: W})
    generator = -np.diag(MASK.ravel())
    exact = (expm(generator * 3.0) @ (start - TARGET).ravel()).reshape(2, 2) + MASK * TARGET
    exact[0, 0] = start[0, 0]  # the unobserved entry never moves at depth 1
    np.testing.assert_allclose(trajectory["W"][-1], exact, rtol=1e-6, atol=1e-8)
    assert trajectory.steps[-1] == pytest.approx(3.0)


def test_gradient_descent_is_euler_on_the_flow():
    factors = mf.init_factors(3, 2, 0.5, rng(1, "init"))
    final, trajectory = mf.gradient_descent(factors, TARGET, MASK, lr=1e-3, n_steps=2)
    step_one = [f - 1e-3 * g for f, g in zip(factors, mf.factor_gradients(factors, TARGET, MASK), strict=True)]
    step_two = [f - 1e-3 * g for f, g in zip(step_one, mf.factor_gradients(step_one, TARGET, MASK), strict=True)]
    for ours, expected in zip(final, step_two, strict=True):
        np.testing.assert_allclose(ours, expected, rtol=1e-14)
    assert list(trajectory.steps) == [0, 1, 2]
    assert np.all(np.diff(trajectory["loss"]) < 0)


def test_positive_determinant_init_and_bad_arguments():
    for seed in range(5):
        assert np.linalg.det(mf.product(mf.init_factors(3, 2, 1e-3, rng(seed, "x"), positive_det=True))) > 0
    with pytest.raises(ValueError, match="std > 0"):
        mf.init_factors(3, 2, 0.0, rng(0, "x"))


def test_unobserved_entry_grows_along_the_bound_at_depth_three():
    """The post's statement at small scale: det stays positive and |w11| tracks 1/sqrt(2 loss)."""
    factors = mf.init_factors(3, 2, 1e-3, rng(0, "init-depth3"), positive_det=True)
    flow = mf.gradient_flow(factors, TARGET, MASK, t_max=1e6, loss_stop=1e-3,
                            metrics={"entry": lambda W: abs(W[0, 0]), "det": np.linalg.det})
    assert flow["loss"][-1] == pytest.approx(1e-3, rel=1e-3)
    assert flow["entry"][-1] >= 0.95 / np.sqrt(2e-3)
    assert flow["det"].min() > -1e-4
