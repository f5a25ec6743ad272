"""Layer-wise Hessian of a ReLU network's cross-entropy, its Kronecker approximation and its eigenspaces.

Paper: Wu, Zhu, Wu, Wang, Ge, *Dissecting Hessian: Understanding Common Structure of Hessian in Neural
Networks* (arXiv 2010.04261). For a layer z = W x with W of shape (out, in), vec(W) row-major (index (o, i)),
the Gauss–Newton part of the Hessian of the mean loss with respect to W is

    H = (1/n) Σ_x M_x ⊗ x xᵀ,   M_x = B_xᵀ A_x B_x,

with B_x = ∂logits/∂z (c × out) and A_x = diag(p) − p pᵀ the softmax cross-entropy's Hessian in the
logits. A bias-free ReLU network's logits are piecewise linear in one layer's W, so H is the *exact* layer
Hessian wherever no pre-activation is 0. The paper's decoupling conjecture is H ≈ E[M] ⊗ E[x xᵀ].
Networks are those of :mod:`offconvex.dynamics.homogeneous_networks` (flat θ, bias-free, row-major W).
"""

import numpy as np
import torch
from scipy.sparse.linalg import eigsh

from offconvex.dynamics.homogeneous_networks import cross_entropy, layer_shapes, unflatten


def layer_inputs_and_jacobians(theta: torch.Tensor, x: torch.Tensor, widths):
    """Per-layer inputs and output Jacobians of a bias-free ReLU network.

    Returns ``(inputs, jacobians, probabilities)``: for each layer l, its inputs (n, in_l) and
    B_x = ∂logits/∂z_l of shape (n, c, out_l); and the softmax probabilities (n, c).
    """
    weights = unflatten(theta, widths)
    inputs, masks = [x], []
    for weight in weights[:-1]:
        z = inputs[-1] @ weight.T
        masks.append((z > 0).to(z.dtype))
        inputs.append(torch.relu(z))
    probabilities = torch.softmax(inputs[-1] @ weights[-1].T, dim=1)
    n, c = probabilities.shape
    jacobian = torch.eye(c, dtype=x.dtype).expand(n, c, c)
    jacobians = [jacobian]
    for layer in range(len(weights) - 1, 0, -1):  # back-propagate through W_l, then the ReLU mask
        jacobian = (jacobian @ weights[layer]) * masks[layer - 1][:, None, :]
        jacobians.append(jacobian)
    return inputs, jacobians[::-1], probabilities


def softmax_hessians(probabilities: torch.Tensor) -> torch.Tensor:
    """A_x = diag(p) − p pᵀ, the Hessian of cross-entropy in the logits, shape (n, c, c)."""
    return torch.diag_embed(probabilities) - probabilities[:, :, None] * probabilities[:, None, :]


def output_hessians(jacobians: torch.Tensor, probabilities: torch.Tensor) -> torch.Tensor:
    """M_x = B_xᵀ A_x B_x, the loss's Hessian in the layer's outputs z, shape (n, out, out)."""
    return jacobians.transpose(1, 2) @ softmax_hessians(probabilities) @ jacobians


def layer_hessian(output_hess: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    """H = (1/n) Σ_x M_x ⊗ x xᵀ for row-major vec(W), shape (out·in, out·in).

    One (out², n) × (n, in²) matmul, then a transpose of the indices (o, o', i, i') → (o, i, o', i').
    """
    n, out, _ = output_hess.shape
    features = inputs.shape[1]
    outer = (inputs[:, :, None] * inputs[:, None, :]).reshape(n, -1)
    blocks = (output_hess.reshape(n, -1).T @ outer) / n
    blocks = blocks.reshape(out, out, features, features).permute(0, 2, 1, 3)
    return blocks.reshape(out * features, out * features)


def autograd_layer_hessian(theta: torch.Tensor, x: torch.Tensor, labels: torch.Tensor, widths,
                           layer: int, rows: int | None = None) -> torch.Tensor:
    """The reference: ``torch.func.hessian`` of the mean cross-entropy in layer ``layer``'s weights alone.

    Row-major, shape (r·in, r·in) for the first ``rows`` = r output units (all by default): the leading
    principal block of :func:`layer_hessian`, which must equal it for a ReLU network. Limiting the rows
    keeps the check cheap (forward-over-reverse costs one pass per parameter).
    """
    shapes = layer_shapes(widths)
    if not 0 <= layer < len(shapes):
        raise ValueError(f"layer must be in [0, {len(shapes) - 1}], got {layer}")
    out, features = shapes[layer]
    rows = out if rows is None else rows
    if not 1 <= rows <= out:
        raise ValueError(f"rows must be in [1, {out}], got {rows}")
    start = sum(r * c for r, c in shapes[:layer])
    size = rows * features

    def loss(block):
        full = torch.cat([theta[:start], block, theta[start + size:]])
        return cross_entropy(full, x, labels, widths, "relu")

    return torch.func.hessian(loss)(theta[start:start + size].detach())


def kronecker_factors(output_hess: torch.Tensor, inputs: torch.Tensor):
    """(E[M], E[x xᵀ]) of shapes (out, out) and (in, in): the factors of K = E[M] ⊗ E[x xᵀ]."""
    return output_hess.mean(dim=0), inputs.T @ inputs / inputs.shape[0]


def top_eigenvectors(matrix: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k largest eigenvalues (k,), decreasing, and orthonormal eigenvectors (N, k) of a symmetric matrix.

    Lanczos (``eigsh``) with a fixed start vector, so the result is deterministic; ``eigh`` when N is small.
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    if not 1 <= k < matrix.shape[0]:
        raise ValueError(f"need 1 <= k < {matrix.shape[0]}, got k={k}")
    if matrix.shape[0] <= 4 * k + 20:
        values, vectors = np.linalg.eigh(matrix)
        return values[::-1][:k], vectors[:, ::-1][:, :k]
    values, vectors = eigsh(matrix, k=k, which="LA", v0=np.ones(matrix.shape[0]), tol=1e-12)
    order = np.argsort(values)[::-1]
    return values[order], vectors[:, order]


def kronecker_top_eigenvectors(left: np.ndarray, right: np.ndarray, k: int):
    """Top-k eigenpairs of left ⊗ right (both positive semi-definite) from those of the factors.

    The eigenvalues of a Kronecker product are the products λ_a(left)·μ_b(right), with eigenvectors
    u_a ⊗ v_b. Returns values (k,), decreasing, and vectors (out·in, k).
    """
    left_values, left_vectors = np.linalg.eigh(np.asarray(left))
    right_values, right_vectors = np.linalg.eigh(np.asarray(right))
    products = np.outer(left_values, right_values).ravel()
    best = np.argsort(products)[::-1][:k]
    a, b = np.unravel_index(best, (len(left_values), len(right_values)))
    vectors = np.stack([np.kron(left_vectors[:, i], right_vectors[:, j]) for i, j in zip(a, b, strict=True)])
    return products[best], vectors.T


def subspace_overlap(first: np.ndarray, second: np.ndarray) -> float:
    """‖Uᵀ V‖_F² / k for orthonormal U, V of shape (N, k): 1 for equal subspaces, k/N expected by chance."""
    if first.shape != second.shape:
        raise ValueError(f"bases must have equal shapes, got {first.shape} and {second.shape}")
    return float(np.sum((first.T @ second) ** 2) / first.shape[1])


def rank_one_fraction(vector: np.ndarray, shape: tuple[int, int]) -> float:
    """σ₁² / Σσ² of the vector reshaped (row-major) to the weight's shape (out, in): 1 for a rank-one matrix."""
    singular = np.linalg.svd(np.reshape(vector, shape), compute_uv=False)
    return float(singular[0] ** 2 / np.sum(singular**2))


def right_factor_cosine(vector: np.ndarray, shape: tuple[int, int], direction: np.ndarray) -> float:
    """|cos| between the top right singular vector of the reshaped vector (in,) and ``direction`` (in,)."""
    right = np.linalg.svd(np.reshape(vector, shape))[2][0]
    return float(abs(right @ direction) / np.linalg.norm(direction))


def layer_structure(theta: torch.Tensor, x: torch.Tensor, widths, k: int) -> list[dict]:
    """For every layer: H's and K's top-k eigenpairs, their overlap, and the reshaped top eigenvectors' shape.

    Returns one dict per layer with ``values`` and ``vectors`` of H, ``kron_values``, ``overlap`` (with K),
    ``rank_one`` (k,) and ``mean_cosine`` (k,), the |cos| of each right factor with E[x].
    """
    inputs, jacobians, probabilities = layer_inputs_and_jacobians(theta, x, widths)
    results = []
    for shape, layer_input, jacobian in zip(layer_shapes(widths), inputs, jacobians, strict=True):
        output_hess = output_hessians(jacobian, probabilities)
        values, vectors = top_eigenvectors(layer_hessian(output_hess, layer_input).numpy(), k)
        left, right = (factor.numpy() for factor in kronecker_factors(output_hess, layer_input))
        kron_values, kron_vectors = kronecker_top_eigenvectors(left, right, k)
        mean_input = layer_input.mean(dim=0).numpy()
        results.append(dict(
            values=values, vectors=vectors, kron_values=kron_values,
            overlap=subspace_overlap(vectors, kron_vectors),
            rank_one=np.array([rank_one_fraction(v, shape) for v in vectors.T]),
            mean_cosine=np.array([right_factor_cosine(v, shape, mean_input) for v in vectors.T]),
        ))
    return results
