"""Hierarchical tensor factorization (HTF) over a mode tree, as in Razin, Maman & Cohen (ICML 2022).

A *mode tree* groups the tensor's modes level by level: level 0 holds the single modes, every node of
level ``l + 1`` is the union of consecutive nodes of level ``l`` (its children), and the last level is the
root holding all modes. The factorization attaches one weight matrix to every node:

* a leaf ``n`` has ``W0[n]`` of shape ``(d_n, R_0)``;
* an inner node ``k`` of level ``l >= 1`` has ``W_l[k]`` of shape ``(R_{l-1}, R_l)``, and the root's is
  ``(R_{L-1}, 1)`` (the output layer).

A node's tensor is the Hadamard product ("product pooling") of its children's tensors, each a
``(entries of the child's modes, R)`` matrix, followed by its weight matrix. With a tree of height 1 (the
root pools all leaves) this is CP with weights ``a_r``: ``sum_r a_r w_r^1 ⊗ ... ⊗ w_r^N``. This is the
post's Figure 3 and the network equivalent to a convolutional network with product pooling.

The *local components* of a node are indexed by the hidden units ``r`` of its children's output: the
``r``-th is the outer product of the children's ``r``-th columns weighted by the node's ``r``-th row. Its
norm is ``prod_children ||W_{l-1}[c][:, r]|| * ||W_l[k][r, :]||`` (the paper's local component norm); the
number of non-zero ones bounds the node's contribution to the hierarchical tensor rank.
"""

from typing import NamedTuple

import numpy as np

from offconvex.factorization import tensor_completion
from offconvex.factorization.tensor_completion import khatri_rao


class ModeTree(NamedTuple):
    levels: tuple  # levels[l] = tuple of nodes, each a tuple of consecutive mode indices

    @property
    def order(self) -> int:
        return len(self.levels[0])

    def children(self, level: int, node: int) -> list:
        """Indices (in ``levels[level - 1]``) of the children of ``levels[level][node]``."""
        modes = set(self.levels[level][node])
        return [i for i, child in enumerate(self.levels[level - 1]) if set(child) <= modes]


def mode_tree(order: int, pool: int | None = None) -> ModeTree:
    """Balanced tree pooling ``pool`` consecutive nodes per level (``pool=None``: height 1, i.e. CP).

    ``mode_tree(4, 2)`` is the paper's ``{1},{2},{3},{4} → {1,2},{3,4} → {1,2,3,4}`` (0-based here).
    """
    if order < 2:
        raise ValueError(f"order must be >= 2, got {order}")
    pool = pool or order
    levels = [tuple((n,) for n in range(order))]
    while len(levels[-1]) > 1:
        nodes = levels[-1]
        if pool < 2 or len(nodes) % pool:
            raise ValueError(f"pool={pool} does not divide the {len(nodes)} nodes of level {len(levels) - 1}")
        levels.append(tuple(sum(nodes[i:i + pool], ()) for i in range(0, len(nodes), pool)))
    return ModeTree(tuple(levels))


def weight_shapes(tree: ModeTree, dims, widths) -> list:
    """Shapes of ``weights[l][k]``: leaves ``(d_n, R_0)``, inner ``(R_{l-1}, R_l)``, root ``(R_{L-1}, 1)``."""
    height = len(tree.levels) - 1
    if len(dims) != tree.order or len(widths) != height:
        raise ValueError(f"need {tree.order} dims and {height} widths, got {len(dims)} and {len(widths)}")
    widths = list(widths) + [1]
    shapes = [[(d, widths[0]) for d in dims]]
    for level in range(1, height + 1):
        shapes.append([(widths[level - 1], widths[level])] * len(tree.levels[level]))
    return shapes


def init_weights(tree: ModeTree, dims, widths, std: float, rng: np.random.Generator) -> list:
    """i.i.d. ``N(0, std^2)`` weights for every node (list of levels, each a list of matrices)."""
    if std <= 0:
        raise ValueError(f"std must be positive, got {std}")
    return [[std * rng.standard_normal(shape) for shape in level] for level in weight_shapes(tree, dims, widths)]


def flatten(weights) -> list:
    """The weights as one flat list (level by level), the form optimizers take."""
    return [w for level in weights for w in level]


def unflatten(flat, tree: ModeTree) -> list:
    """Inverse of :func:`flatten` for ``tree``."""
    sizes, out, start = [len(level) for level in tree.levels], [], 0
    for size in sizes:
        out.append(list(flat[start:start + size]))
        start += size
    return out


def htf_to_tensor(weights, tree: ModeTree):
    """Full tensor of the hierarchical factorization (torch or NumPy arrays), shape ``(d_1, ..., d_N)``.

    Each node's tensor is kept as a matrix ``(entries of its modes in C order, R)``: pooling is a
    Khatri–Rao product of the children's matrices, then a matmul with the node's weights.
    """
    node_values = list(weights[0])
    for level in range(1, len(tree.levels)):
        pooled = []
        for node in range(len(tree.levels[level])):
            children = [node_values[child] for child in tree.children(level, node)]
            pooled.append(_pool(children, weights[level][node]))
        node_values = pooled
    return node_values[0].reshape(tuple(w.shape[0] for w in weights[0]))


def _pool(children, weight):
    """``KR(children) @ weight``; for two children and one output, ``(A * w) @ B^T`` avoids the big KR."""
    if len(children) == 2 and weight.shape[1] == 1:
        return ((children[0] * weight[:, 0]) @ children[1].T).reshape(-1, 1)
    product = children[0]
    for child in children[1:]:
        product = khatri_rao(product, child)
    return product @ weight


def flat_htf_to_tensor(flat, tree: ModeTree):
    """:func:`htf_to_tensor` of the weights in the flat form of :func:`flatten` (what optimizers hold).

    Pass it as ``functools.partial(flat_htf_to_tensor, tree=tree)`` to ``tensor_completion.fit_completion``:
    its gradient is then the closed form :func:`htf_residual_gradients`.
    """
    return htf_to_tensor(unflatten(flat, tree), tree)


def htf_residual_gradients(flat, residual, tree: ModeTree) -> list:
    """Gradients (flat, as :func:`flatten`) of a loss with ``dL/dT = residual`` through :func:`flat_htf_to_tensor`.

    Back-propagation written out over the tree, node by node, with the operations of :func:`_pool`:
    a small model (~10^6 flops a step at the book's width) where autograd's per-step overhead was 3/4
    of the step. Torch tensors or NumPy arrays.
    """
    weights = unflatten(flat, tree)
    values, tapes = [list(weights[0])], []  # values[l][k]: node tensors; tapes[l - 1][k]: what _pool used
    for level in range(1, len(tree.levels)):
        tapes.append([_pool_tape([values[-1][c] for c in tree.children(level, node)], weights[level][node])
                      for node in range(len(tree.levels[level]))])
        values.append([tape[-1] for tape in tapes[-1]])
    grads = [[None] * len(level) for level in weights]
    upstream = [residual.reshape(-1, 1)]
    for level in range(len(tree.levels) - 1, 0, -1):
        below = [None] * len(tree.levels[level - 1])
        for node, tape in enumerate(tapes[level - 1]):
            grads[level][node], child_grads = _pool_backward(tape, weights[level][node], upstream[node])
            for child, grad in zip(tree.children(level, node), child_grads, strict=True):
                below[child] = grad
        upstream = below
    grads[0] = upstream
    return flatten(grads)


def _pool_tape(children, weight) -> tuple:
    """:func:`_pool` keeping what its backward needs: ``(children, Khatri–Rao prefixes or None, value)``."""
    if len(children) == 2 and weight.shape[1] == 1:
        return children, None, _pool(children, weight)
    prefixes = [children[0]]
    for child in children[1:]:
        prefixes.append(khatri_rao(prefixes[-1], child))
    return children, prefixes, prefixes[-1] @ weight


def _pool_backward(tape, weight, grad) -> tuple:
    """``(d weight, [d child])`` of :func:`_pool` given ``grad`` of its value."""
    children, prefixes, _ = tape
    if prefixes is None:  # value = ((A * w) @ B^T) as a column: G = grad as the (rows of A, rows of B) matrix
        (a, b), column = children, weight[:, 0]
        matrix = grad.reshape(a.shape[0], b.shape[0])
        through_b = matrix @ b
        return (through_b * a).sum(0)[:, None], [through_b * column, matrix.T @ (a * column)]
    weight_grad = prefixes[-1].T @ grad
    return weight_grad, tensor_completion.khatri_rao_chain_backward(children, prefixes, grad @ weight.T)


tensor_completion.register_closed_form(flat_htf_to_tensor, htf_residual_gradients)


def _norms(matrix, axis: int) -> np.ndarray:
    return np.linalg.norm(np.asarray(matrix, dtype=float), axis=axis)


def local_component_norms(weights, tree: ModeTree, level: int, node: int) -> np.ndarray:
    """``(R_{level-1},)`` local component norms of node ``node`` of ``level`` (``level >= 1``).

    ``prod over children c of ||W_{level-1}[c][:, r]|| * ||W_level[node][r, :]||``; at the root the last
    factor is ``|a_r|``. Invariant under rescaling a child's column and the node's row inversely.
    """
    if not 1 <= level < len(tree.levels) or not 0 <= node < len(tree.levels[level]):
        raise ValueError(f"no inner node {node} at level {level} in a tree with levels {tree.levels}")
    norms = _norms(weights[level][node], axis=1)
    for child in tree.children(level, node):
        norms = norms * _norms(weights[level - 1][child], axis=0)
    return norms


def random_ht_tensor(tree: ModeTree, dims, ranks, rng: np.random.Generator, fro_norm: float = 1.0) -> np.ndarray:
    """Ground truth of hierarchical ranks ``ranks`` (widths) from Gaussian weights, scaled to ``fro_norm``."""
    tensor = htf_to_tensor(init_weights(tree, dims, ranks, 1.0, rng), tree)
    return tensor * (fro_norm / np.linalg.norm(tensor))
