"""The matrix-factorization posterior p(X) ∝ exp(-β ‖XXᵀ - M‖_F²), X ∈ R^{d×k} (Moitra, Risteski 2020).

It is invariant under X → XO for orthogonal O, so with M = X₀X₀ᵀ (rank k) its maximizers form the orbit
X₀·O(k), which splits into E₁ = {X₀R : det R = 1} and E₂ = {X₀R : det R = -1} (Part 3, Theorem 2).
Functions are vectorized over chains: ``X`` has shape (chains, d, k).
"""

import numpy as np


def _check_stack(X: np.ndarray, X0: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 3 or X.shape[1:] != np.shape(X0):
        raise ValueError(f"X must have shape (chains, {np.shape(X0)[0]}, {np.shape(X0)[1]}), got {X.shape}")
    return X


def loss(X: np.ndarray, target: np.ndarray) -> np.ndarray:
    """f(X) = ‖XXᵀ - M‖_F² per chain, shape (chains,)."""
    residual = X @ np.swapaxes(X, 1, 2) - target
    return np.sum(residual**2, axis=(1, 2))


def value_and_grad(target: np.ndarray, beta: float):
    """Callable X -> (β f(X), β ∇f(X)) with ∇f(X) = 4 (XXᵀ - M) X, for the Langevin samplers."""
    if not beta > 0:
        raise ValueError(f"beta must be positive, got {beta!r}")

    def potential(X):
        residual = X @ np.swapaxes(X, 1, 2) - target
        return beta * np.sum(residual**2, axis=(1, 2)), 4 * beta * residual @ X

    return potential


def hessian_at(X0: np.ndarray) -> np.ndarray:
    """Hessian of f at a minimizer X₀ as a (dk, dk) matrix (row-major flattening of X).

    f(X₀ + Δ) = ‖X₀Δᵀ + ΔX₀ᵀ + ΔΔᵀ‖², so the quadratic part is ‖X₀Δᵀ + ΔX₀ᵀ‖² = ½ vec(Δ)ᵀ H vec(Δ).
    """
    d, k = X0.shape
    basis = np.eye(d * k).reshape(d * k, d, k)
    images = X0[None] @ np.swapaxes(basis, 1, 2) + basis @ X0.T[None]  # (dk, d, d), linear in Δ
    flat = images.reshape(d * k, -1)
    return 2 * flat @ flat.T


def equipartition_energy(d: int, k: int) -> float:
    """Small-noise limit of E[β f]: half the number of directions normal to the orbit, (dk - k(k-1)/2)/2."""
    if not 1 <= k <= d:
        raise ValueError(f"need 1 <= k <= d, got d={d}, k={k}")
    return (d * k - k * (k - 1) / 2) / 2


def normal_variance(X0: np.ndarray, beta: float) -> float:
    """Small-noise prediction of E[dist(X, orbit)²]: trace of (β H)^+ over the normal directions."""
    eigenvalues = np.linalg.eigvalsh(hessian_at(X0))
    normal = eigenvalues > 1e-9 * eigenvalues.max()  # the k(k-1)/2 zero modes are the orbit's tangent
    return float(np.sum(1.0 / eigenvalues[normal]) / beta)


def procrustes_rotation(X: np.ndarray, X0: np.ndarray, special: bool = False) -> np.ndarray:
    """The orthogonal R (chains, k, k) minimizing ‖X - X₀R‖_F; ``special`` restricts to det R = +1.

    From the SVD X₀ᵀX = U S Vᵀ: R = U Vᵀ (with the last singular direction flipped when special).
    """
    X = _check_stack(X, X0)
    U, _, Vt = np.linalg.svd(np.swapaxes(X0, -1, -2)[None] @ X)
    if special:
        U = U.copy()
        U[:, :, -1] *= np.sign(np.linalg.det(U @ Vt))[:, None]
    return U @ Vt


def distance_to_orbit(X: np.ndarray, X0: np.ndarray, special: bool = False) -> np.ndarray:
    """min_R ‖X - X₀R‖_F over R ∈ O(k) (or SO(k) when ``special``: distance to E₁), shape (chains,)."""
    R = procrustes_rotation(X, X0, special)
    return np.linalg.norm((_check_stack(X, X0) - X0[None] @ R).reshape(len(R), -1), axis=1)


def orientation(X: np.ndarray, X0: np.ndarray) -> np.ndarray:
    """sign det(X₀ᵀX): +1 near E₁, -1 near E₂, shape (chains,)."""
    return np.sign(np.linalg.det(np.swapaxes(X0, -1, -2)[None] @ _check_stack(X, X0)))


def rotation_angle(R: np.ndarray) -> np.ndarray:
    """Angle θ of 2×2 rotations R = [[cos θ, -sin θ], [sin θ, cos θ]], shape (chains,)."""
    if R.shape[-2:] != (2, 2):
        raise ValueError(f"rotation_angle needs 2x2 matrices, got shape {R.shape}")
    return np.arctan2(R[..., 1, 0], R[..., 0, 0])


def unwrap_angles(angles: np.ndarray) -> np.ndarray:
    """Unwrap a (times, chains) record of angles along time (steps wrapped to (-π, π])."""
    return np.unwrap(np.asarray(angles, dtype=float), axis=0)


def pooled_diffusion(angles: np.ndarray, lag: int, time_step: float) -> float:
    """Diffusion rate E[(θ_{t+τ} - θ_t)²] / τ from increments at lag τ = lag·time_step over all t and chains."""
    if not 1 <= lag < len(angles):
        raise ValueError(f"lag must be in [1, {len(angles) - 1}], got {lag}")
    increments = angles[lag:] - angles[:-lag]
    return float(np.mean(increments**2) / (lag * time_step))


def diffusion_on_orbit(X0: np.ndarray) -> float:
    """Predicted rate E[Δθ²]/t = 2 / ‖X₀‖_F² for k = 2: the orbit is a circle of radius ‖X₀‖_F in R^{dk}."""
    return 2.0 / float(np.sum(np.asarray(X0) ** 2))


def planted_factor(singular_values, d: int, generator: np.random.Generator) -> np.ndarray:
    """X₀ = U diag(s) Vᵀ with U (d×k), V (k×k) from the SVD of a Gaussian matrix (research note E5)."""
    singular_values = np.asarray(singular_values, dtype=float)
    k = len(singular_values)
    if k > d or np.any(singular_values <= 0):
        raise ValueError(f"need k <= d and positive singular values, got d={d}, s={singular_values}")
    U, _, Vt = np.linalg.svd(generator.standard_normal((d, k)), full_matrices=False)
    return U @ np.diag(singular_values) @ Vt


def normalized_trace(R: np.ndarray) -> np.ndarray:
    """tr(R) / k for rotations R (chains, k, k), shape (chains,): 1 at R = I, mean 0 for a uniform R."""
    R = np.asarray(R, dtype=float)
    if R.ndim != 3 or R.shape[1] != R.shape[2]:
        raise ValueError(f"R must have shape (chains, k, k), got {R.shape}")
    return np.trace(R, axis1=1, axis2=2) / R.shape[1]


def orbit_relaxation_rate(X0: np.ndarray) -> float:
    """Rate λ of E[R_t] = e^{-λt} I for Langevin (generator Δ) along E₁ when X₀ has equal singular values s.

    Then X₀R ↦ R is an isometry from E₁ onto SO(k) with the metric s²·tr(AᵀB); on the entries of R
    (the standard representation) its Laplacian is -(k-1)/(2s²), the spectral gap of SO(k) (k ≥ 2).
    The rate grows with k although the orbit's dimension k(k-1)/2 grows: SO(k) is positively curved.
    """
    singular_values = np.linalg.svd(np.asarray(X0, dtype=float), compute_uv=False)
    k = len(singular_values)
    if k < 2 or not np.allclose(singular_values, singular_values[0], rtol=1e-9):
        raise ValueError(f"need k >= 2 equal singular values, got {singular_values}")
    return (k - 1) / (2 * singular_values[0] ** 2)


def pooled_rotation_correlation(rotations: np.ndarray, max_lag: int) -> np.ndarray:
    """mean tr(R_sᵀ R_{s+τ}) / k over all record times s, at lags τ = 0..max_lag, shape (max_lag + 1, chains).

    ``rotations`` (times, chains, k, k) are the Procrustes rotations along a run. Brownian motion on
    SO(k) with a bi-invariant metric has increments R_sᵀR_{s+τ} distributed like R_τ from I, so every
    start s estimates E[tr R_τ]/k = e^{-λτ} (research note E5: pooled increments, as for the angle).
    """
    rotations = np.asarray(rotations, dtype=float)
    if rotations.ndim != 4 or not 0 <= max_lag < len(rotations):
        raise ValueError(f"need rotations (times, chains, k, k) and 0 <= max_lag < times, got "
                         f"{rotations.shape} and max_lag={max_lag}")
    k = rotations.shape[-1]
    return np.array([np.einsum("tcij,tcij->c", rotations[:len(rotations) - lag], rotations[lag:])
                     / (k * (len(rotations) - lag)) for lag in range(max_lag + 1)])
