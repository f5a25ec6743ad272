import numpy as np
import pytest
import tensorly as tl
import torch
from offconvex.factorization import hierarchical_tensor_factorization as htf
from tensorly.cp_tensor import cp_to_tensor as tl_cp_to_tensor


def test_mode_tree_balanced_and_flat():
    tree = htf.mode_tree(4, 2)
    assert tree.levels == (((0,), (1,), (2,), (3,)), ((0, 1), (2, 3)), ((0, 1, 2, 3),))
    assert tree.children(2, 0) == [0, 1] and tree.children(1, 1) == [2, 3]
    assert htf.mode_tree(3).levels == (((0,), (1,), (2,)), ((0, 1, 2),))
    with pytest.raises(ValueError, match="pool=2"):
        htf.mode_tree(6, 2)


def test_height_one_tree_is_weighted_cp_against_tensorly():
    rng = np.random.default_rng(0)
    tree = htf.mode_tree(3)
    weights = htf.init_weights(tree, (4, 5, 6), (7,), 1.0, rng)
    expected = tl.to_numpy(tl_cp_to_tensor((weights[1][0][:, 0], weights[0])))
    np.testing.assert_allclose(htf.htf_to_tensor(weights, tree), expected, rtol=1e-12, atol=1e-12)
    cp_norms = np.prod([np.linalg.norm(f, axis=0) for f in weights[0]], axis=0) * np.abs(weights[1][0][:, 0])
    np.testing.assert_allclose(htf.local_component_norms(weights, tree, 1, 0), cp_norms, rtol=1e-12)


def _explicit_halves(w):
    """The two children of the root of an order-4 binary tree, written out: shapes (d1, d2, R) and (d3, d4, R)."""
    left = np.einsum("ar,br,rs->abs", w[0][0], w[0][1], w[1][0])
    right = np.einsum("cr,dr,rs->cds", w[0][2], w[0][3], w[1][1])
    return left, right


def test_order_four_tree_matches_explicit_einsum_and_torch():
    rng = np.random.default_rng(1)
    tree = htf.mode_tree(4, 2)
    w = htf.init_weights(tree, (2, 3, 4, 5), (6, 7), 1.0, rng)
    left, right = _explicit_halves(w)
    expected = np.einsum("abs,cds,s->abcd", left, right, w[2][0][:, 0])
    np.testing.assert_allclose(htf.htf_to_tensor(w, tree), expected, rtol=1e-12, atol=1e-12)
    as_torch = [[torch.from_numpy(m) for m in level] for level in w]
    np.testing.assert_allclose(htf.htf_to_tensor(as_torch, tree).numpy(), expected, rtol=1e-12, atol=1e-12)


def _rescaled(w, level, child, factors):
    """Multiply the child's columns by ``factors`` and divide the parent's rows by them."""
    out = [[m.copy() for m in lv] for lv in w]
    out[level - 1][child] *= factors
    out[level][child // 2] /= factors[:, None]
    return out


def test_local_norms_invariant_under_the_rescalings_of_their_node():
    rng = np.random.default_rng(2)
    tree = htf.mode_tree(4, 2)
    w = htf.init_weights(tree, (3, 3, 3, 3), (4, 5), 1.0, rng)
    before = htf.htf_to_tensor(w, tree)
    for level, child, size in ((1, 0, 4), (1, 3, 4), (2, 1, 5)):
        factors = np.exp(rng.standard_normal(size))
        scaled = _rescaled(w, level, child, factors)
        np.testing.assert_allclose(htf.htf_to_tensor(scaled, tree), before, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(htf.local_component_norms(scaled, tree, level, child // 2),
                                   htf.local_component_norms(w, tree, level, child // 2), rtol=1e-12)


def test_zeroing_a_root_local_component_removes_exactly_its_term():
    rng = np.random.default_rng(3)
    tree = htf.mode_tree(4, 2)
    w = htf.init_weights(tree, (2, 3, 2, 3), (3, 4), 1.0, rng)
    left, right = _explicit_halves(w)
    a = w[2][0][:, 0]
    term = a[1] * np.multiply.outer(left[..., 1], right[..., 1])
    pruned = [[m.copy() for m in level] for level in w]
    pruned[2][0][1] = 0.0
    np.testing.assert_allclose(htf.htf_to_tensor(pruned, tree), htf.htf_to_tensor(w, tree) - term, atol=1e-12)
    assert htf.local_component_norms(pruned, tree, 2, 0)[1] == 0.0


def test_flatten_roundtrip_and_bad_arguments():
    tree = htf.mode_tree(4, 2)
    w = htf.init_weights(tree, (2, 2, 2, 2), (3, 3), 0.1, np.random.default_rng(0))
    back = htf.unflatten(htf.flatten(w), tree)
    assert all(a is b for la, lb in zip(w, back, strict=True) for a, b in zip(la, lb, strict=True))
    with pytest.raises(ValueError, match="std"):
        htf.init_weights(tree, (2, 2, 2, 2), (3, 3), 0.0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="widths"):
        htf.weight_shapes(tree, (2, 2, 2, 2), (3,))
    with pytest.raises(ValueError, match="level 3"):
        htf.local_component_norms(w, tree, 3, 0)


def test_random_ht_tensor_norm():
    tree = htf.mode_tree(4, 2)
    t = htf.random_ht_tensor(tree, (3, 3, 3, 3), (2, 2), np.random.default_rng(0), fro_norm=64.0)
    assert t.shape == (3, 3, 3, 3) and np.isclose(np.linalg.norm(t), 64.0)
    # matricization {0,1} x {2,3} has rank <= 2 (the root's hierarchical rank)
    assert np.linalg.matrix_rank(t.reshape(9, 9), tol=1e-8) <= 2


@pytest.mark.parametrize("order, pool, widths", [(4, 2, (5, 6)), (4, None, (5,)), (8, 2, (3, 4, 5)), (9, 3, (3, 2))])
def test_closed_form_gradients_equal_autograd(order, pool, widths):
    import functools

    import torch
    from offconvex.factorization import tensor_completion as tc

    tree, dims = htf.mode_tree(order, pool), (3, 2, 4, 3, 2, 3, 2, 2, 2)[:order]
    rng = np.random.default_rng(7)
    flat = htf.flatten(htf.init_weights(tree, dims, widths, 0.5, rng))
    target = rng.standard_normal(dims)
    mask = tc.observation_mask(dims, target.size // 3, rng).astype(float)
    model = functools.partial(htf.flat_htf_to_tensor, tree=tree)
    np.testing.assert_allclose(model(flat), htf.htf_to_tensor(htf.unflatten(flat, tree), tree), rtol=0, atol=0)
    closed = tc.loss_gradients(flat, model, target, mask)
    expected = tc.autograd_loss_gradients(flat, model, torch.from_numpy(target), torch.from_numpy(mask))
    assert len(closed) == len(expected)
    for got, want in zip(closed, expected, strict=True):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * np.abs(want).max())
