import numpy as np
import pytest
import torch
from offconvex.core.random import rng, torch_generator
from offconvex.dynamics import homogeneous_networks as hn
from offconvex.dynamics import layer_hessian as lh

WIDTHS = (3, 4, 2, 3)


def _network():
    generator = torch_generator(0, "tiny")
    x = torch.rand(25, WIDTHS[0], dtype=torch.float64, generator=generator)
    labels = torch.randint(0, WIDTHS[-1], (25,), generator=generator)
    return hn.xavier_uniform(WIDTHS, generator) * 2.0, x, labels


@pytest.mark.parametrize("layer", [0, 1, 2])
def test_kronecker_sum_is_the_exact_layer_hessian(layer):
    theta, x, labels = _network()
    inputs, jacobians, probabilities = lh.layer_inputs_and_jacobians(theta, x, WIDTHS)
    output_hess = lh.output_hessians(jacobians[layer], probabilities)
    ours = lh.layer_hessian(output_hess, inputs[layer])
    reference = lh.autograd_layer_hessian(theta, x, labels, WIDTHS, layer)
    assert torch.max(torch.abs(ours - reference)) < 1e-8 * torch.max(torch.abs(reference))
    assert torch.max(torch.abs(reference)) > 1e-3  # the check is not vacuous


def test_leading_rows_give_the_principal_block():
    theta, x, labels = _network()
    full = lh.autograd_layer_hessian(theta, x, labels, WIDTHS, 0)
    block = lh.autograd_layer_hessian(theta, x, labels, WIDTHS, 0, rows=2)
    torch.testing.assert_close(block, full[:6, :6])


def test_kronecker_order_on_a_two_by_three_layer():
    # one sample: H = M ⊗ x xᵀ exactly, with row-major vec(W)
    output_hess = torch.tensor([[[2.0, 1.0], [1.0, 3.0]]], dtype=torch.float64)
    x = torch.tensor([[1.0, 2.0, 5.0]], dtype=torch.float64)
    expected = np.kron(output_hess[0].numpy(), np.outer(x[0], x[0]))
    np.testing.assert_allclose(lh.layer_hessian(output_hess, x).numpy(), expected)


def test_kronecker_eigenvectors_match_eigh_of_the_product():
    generator = rng(0, "factors")
    left, right = (g @ g.T for g in (generator.standard_normal((4, 4)), generator.standard_normal((5, 5))))
    values, vectors = lh.kronecker_top_eigenvectors(left, right, 3)
    expected_values, expected_vectors = lh.top_eigenvectors(np.kron(left, right), 3)
    np.testing.assert_allclose(values, expected_values, rtol=1e-10)
    assert lh.subspace_overlap(vectors, expected_vectors) == pytest.approx(1.0, abs=1e-10)


def test_top_eigenvectors_lanczos_agrees_with_eigh():
    generator = rng(0, "big")
    half = generator.standard_normal((120, 120))
    matrix = half @ half.T
    values, vectors = lh.top_eigenvectors(matrix, 5)
    np.testing.assert_allclose(values, np.linalg.eigvalsh(matrix)[::-1][:5], rtol=1e-9)
    np.testing.assert_allclose(matrix @ vectors, vectors * values, atol=1e-7)


def test_overlap_of_a_subspace_with_itself_is_one_and_random_ones_near_chance():
    generator = rng(0, "overlap")
    first = np.linalg.qr(generator.standard_normal((400, 8)))[0]
    rotated = first @ np.linalg.qr(generator.standard_normal((8, 8)))[0]
    assert lh.subspace_overlap(first, rotated) == pytest.approx(1.0, abs=1e-12)
    chance = [lh.subspace_overlap(first, np.linalg.qr(generator.standard_normal((400, 8)))[0])
              for _ in range(50)]
    assert np.mean(chance) == pytest.approx(8 / 400, rel=0.2)


def test_rank_one_fraction_and_right_factor():
    left, right = np.array([1.0, -2.0]), np.array([3.0, 0.0, 4.0])
    vector = np.kron(left, right)
    assert lh.rank_one_fraction(vector, (2, 3)) == pytest.approx(1.0)
    assert lh.right_factor_cosine(vector, (2, 3), right) == pytest.approx(1.0)
    assert lh.rank_one_fraction(np.eye(2, 3).ravel(), (2, 3)) == pytest.approx(0.5)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="equal shapes"):
        lh.subspace_overlap(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="pixels"):
        hn.digits_problem(10, (64, 10), "relu", pixels="raw")
