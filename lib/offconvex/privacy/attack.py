"""The Carlini et al. attack on InstaHide, at small scale, and the seed-search attack on a seeded key.

Carlini, Deng, Garg, Jha, Mahloujifar, Mahmoody, Song, Thakurta, Tramèr, "An Attack on InstaHide: Is
Private Learning Possible with Instance Encoding?" (arXiv 2011.05315). The attacker sees ``n * T``
encryptions (T epochs of n private images), groups the encryptions that share a private image, then
recovers the private images by fitting ``|encryption| ~ |sum of private slots|`` (their step 5). Their
grouping used a similarity network trained for 10 GPU-hours; here the similarity is the correlation of
absolute values (optionally a small learned scorer), and the grouping is a greedy clique growth in the
spirit of their step 2, followed by a top-``private_slots`` assignment (their step 4).
"""

import warnings
from typing import NamedTuple

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.neural_network import MLPClassifier

from offconvex.privacy.instahide import Key, Scheme, draw_key


def membership(keys: list[Key], scheme: Scheme, n_private: int) -> np.ndarray:
    """``(n * T, n_private)`` boolean: which private images enter each encryption (epochs stacked)."""
    rows = np.concatenate([key.partners[:, : scheme.private_slots] for key in keys])
    out = np.zeros((len(rows), n_private), dtype=bool)
    out[np.arange(len(rows))[:, None], rows] = True
    return out


def private_weights(keys: list[Key], scheme: Scheme, n_private: int) -> np.ndarray:
    """``(n * T, n_private)`` total weight of each private image in each encryption (repeats add up)."""
    rows = np.concatenate([key.partners[:, : scheme.private_slots] for key in keys])
    weights = np.concatenate([key.coefficients[:, : scheme.private_slots] for key in keys])
    out = np.zeros((len(rows), n_private))
    np.add.at(out, (np.arange(len(rows))[:, None], rows), weights)
    return out


def centred_abs(encryptions: np.ndarray) -> np.ndarray:
    """``(E, d)`` rows ``|e|`` centred and scaled to unit norm: the sign key cannot touch them."""
    rows = np.abs(encryptions.reshape(len(encryptions), -1))
    rows = rows - rows.mean(axis=1, keepdims=True)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def abs_similarity(encryptions: np.ndarray) -> np.ndarray:
    """``(E, E)`` Pearson correlation of ``|encryption|`` (E, *shape)."""
    rows = centred_abs(encryptions)
    return rows @ rows.T


def pair_features(rows_a: np.ndarray, rows_b: np.ndarray) -> np.ndarray:
    """Symmetric features of pairs of :func:`centred_abs` rows (..., d) -> (..., 2d), scaled to O(1)."""
    scale = np.sqrt(rows_a.shape[-1])
    return np.concatenate([rows_a * rows_b * scale, (rows_a - rows_b) ** 2 * scale], axis=-1)


def fit_similarity(encryptions: np.ndarray, members: np.ndarray, rng: np.random.Generator,
                   n_candidates: int = 400_000, hidden: int = 64, max_iter: int = 60) -> MLPClassifier:
    """A small learned "shares a private image" scorer, in the spirit of Carlini et al.'s step 1.

    Trained on encryptions the attacker made himself from his own images (so he knows ``members``),
    on all sharing pairs among ``n_candidates`` random pairs and as many non-sharing ones.
    """
    rows = centred_abs(encryptions)
    first, second = rng.integers(0, len(rows), (2, n_candidates))
    share = (members[first] & members[second]).any(axis=1) & (first != second)
    positive = np.flatnonzero(share)
    chosen = np.concatenate([positive, np.flatnonzero(~share)[: len(positive)]])
    scorer = MLPClassifier(hidden_layer_sizes=(hidden,), max_iter=max_iter,
                           random_state=int(rng.integers(2**31)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # iterations are capped for the CPU budget
        return scorer.fit(pair_features(rows[first[chosen]], rows[second[chosen]]), share[chosen])


def learned_similarity(scorer: MLPClassifier, encryptions: np.ndarray) -> np.ndarray:
    """``(E, E)`` symmetrised probability that two encryptions share a private image."""
    rows = centred_abs(encryptions)
    scores = np.stack([scorer.predict_proba(pair_features(row, rows))[:, 1] for row in rows])
    return (scores + scores.T) / 2


def pair_auc(similarity: np.ndarray, members: np.ndarray) -> float:
    """ROC AUC of ``similarity`` for "the two encryptions share a private image", over all pairs i < j."""
    shares = (members.astype(float) @ members.T.astype(float)) > 0
    upper = np.triu_indices(len(members), k=1)
    return float(roc_auc_score(shares[upper], similarity[upper]))


def grow_cliques(similarity: np.ndarray, n_clusters: int, size: int) -> np.ndarray:
    """``(n_clusters, size)`` encryption indices, each cluster grown greedily from one seed.

    Each step adds the encryption with the largest summed similarity to the members so far; the next
    seed is the encryption least similar to everything already clustered (so seeds spread out).
    """
    if not 1 <= size <= len(similarity) or n_clusters < 1:
        raise ValueError(f"need 1 <= size <= {len(similarity)} and n_clusters >= 1, got {size}, {n_clusters}")
    clusters, claimed = [], np.zeros(len(similarity))
    seed = int(np.argmin(similarity.sum(axis=1)))
    for _ in range(n_clusters):
        members, score = [seed], similarity[seed].copy()
        for _ in range(size - 1):
            score[members] = -np.inf
            members.append(int(np.argmax(score)))
            score = score + similarity[members[-1]]
        clusters.append(members)
        claimed = np.maximum(claimed, similarity[members].mean(axis=0))
        claimed[np.concatenate(clusters)] = np.inf
        seed = int(np.argmin(claimed))
    return np.array(clusters)


def assign(similarity: np.ndarray, clusters: np.ndarray, per_encryption: int) -> np.ndarray:
    """``(E, per_encryption)`` clusters with the highest mean similarity to each encryption."""
    affinity = np.stack([similarity[:, members].mean(axis=1) for members in clusters], axis=1)
    return np.argsort(-affinity, axis=1, kind="stable")[:, :per_encryption]


def match_clusters(assignment: np.ndarray, members: np.ndarray, n_clusters: int) -> tuple[np.ndarray, float]:
    """Match clusters to private images (Hungarian on co-occurrence) and score the grouping.

    Returns ``image_of_cluster`` (n_clusters,) and the fraction of the true (encryption, private image)
    memberships that the assignment recovers under that matching (1 for the true grouping).
    """
    assigned = np.zeros((len(assignment), n_clusters))
    np.put_along_axis(assigned, assignment, 1.0, axis=1)
    overlap = assigned.T @ members.astype(float)  # (clusters, private images)
    rows, cols = linear_sum_assignment(-overlap)
    image_of_cluster = np.full(n_clusters, -1)
    image_of_cluster[rows] = cols
    return image_of_cluster, float(overlap[rows, cols].sum() / members.sum())


def cluster_labels(assignment: np.ndarray, mixed_labels: np.ndarray, n_clusters: int) -> np.ndarray:
    """``(n_clusters,)`` class of each cluster: the class with the most label mass among its encryptions."""
    mass = np.zeros((n_clusters, mixed_labels.shape[1]))
    for column in assignment.T:
        np.add.at(mass, column, mixed_labels)
    return mass.argmax(axis=1)


def label_weights(assignment: np.ndarray, labels_of_clusters: np.ndarray, mixed_labels: np.ndarray) -> np.ndarray:
    """``(E, s)`` weight of each assigned cluster read off the released mixed label (Carlini et al. step 4).

    An encryption's label holds ``lambda_j`` at the class of private slot j; clusters of the same class in
    one row share that class's mass equally.
    """
    classes = labels_of_clusters[assignment]  # (E, s)
    same = (classes[:, :, None] == classes[:, None, :]).sum(axis=2)
    return np.take_along_axis(mixed_labels, classes, axis=1) / same


def mixing_matrix(assignment: np.ndarray, weights: np.ndarray, n_images: int) -> np.ndarray:
    """``(E, n_images)`` matrix ``A`` with ``A[e, c] = `` total weight of cluster c in encryption e."""
    if assignment.shape != weights.shape:
        raise ValueError(f"assignment {assignment.shape} and weights {weights.shape} must have one shape")
    matrix = np.zeros((len(assignment), n_images))
    np.add.at(matrix, (np.arange(len(assignment))[:, None], assignment), weights)
    return matrix


def step5_loss(images: np.ndarray, abs_encryptions: np.ndarray, mixing: np.ndarray) -> tuple[float, np.ndarray]:
    """Carlini et al.'s step-5 loss ``mean (|e| - |A P|)^2`` (no regulariser) and its gradient in P.

    images P: (n, d); abs_encryptions |e|: (E, d); mixing A: (E, n). The public part of each mix is
    unknown to the attacker and acts as noise. ``min((|e| - m)^2, (|e| + m)^2) = (|e| - |m|)^2``.
    """
    model = mixing @ images
    residual = np.abs(model) - abs_encryptions
    gradient = mixing.T @ (2.0 * residual * np.sign(model)) / residual.size
    return float(np.mean(residual**2)), gradient


class AdamState(NamedTuple):
    images: np.ndarray  # (n, d) current estimate
    first: np.ndarray  # (n, d) running mean of gradients
    second: np.ndarray  # (n, d) running mean of squared gradients
    count: int


def adam_init(n_images: int, d: int, start: float = 0.1) -> AdamState:
    """A fixed constant start: at zero every |m| has zero gradient and Adam would never move."""
    zeros = np.zeros((n_images, d))
    return AdamState(np.full((n_images, d), start), zeros, zeros, 0)


def adam_step(state: AdamState, abs_encryptions: np.ndarray, mixing: np.ndarray, lr: float,
              betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> AdamState:
    """One Adam step (Kingma & Ba, bias-corrected) on :func:`step5_loss`."""
    _, gradient = step5_loss(state.images, abs_encryptions, mixing)
    count = state.count + 1
    first = betas[0] * state.first + (1 - betas[0]) * gradient
    second = betas[1] * state.second + (1 - betas[1]) * gradient**2
    step = lr * (first / (1 - betas[0] ** count)) / (np.sqrt(second / (1 - betas[1] ** count)) + eps)
    return AdamState(state.images - step, first, second, count)


def reconstruct(encryptions: np.ndarray, assignment: np.ndarray, weights: np.ndarray, n_images: int,
                steps: int = 1000, lr: float = 0.01) -> np.ndarray:
    """Recover ``(n_images, d)`` private images from encryptions (E, *shape) grouped by ``assignment``
    (E, s) with ``weights`` (E, s), by Adam on :func:`step5_loss`.

    The answer is determined only up to one sign per pixel shared by all images (the loss cannot see it).
    """
    abs_encryptions = np.abs(encryptions.reshape(len(encryptions), -1))
    mixing = mixing_matrix(assignment, weights, n_images)
    state = adam_init(n_images, abs_encryptions.shape[1])
    for _ in range(steps):
        state = adam_step(state, abs_encryptions, mixing, lr)
    return state.images


def abs_correlations(recovered: np.ndarray, originals: np.ndarray) -> np.ndarray:
    """Per-image Pearson correlation of ``|recovered|`` and ``|original|`` (n, d) each."""
    a, b = np.abs(recovered), np.abs(originals)
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    return (a * b).sum(axis=1) / np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))


def total_variation(images: np.ndarray) -> np.ndarray:
    """Sum of absolute differences between horizontal and vertical neighbours, per image (n, h, w)."""
    return np.abs(np.diff(images, axis=1)).sum(axis=(1, 2)) + np.abs(np.diff(images, axis=2)).sum(axis=(1, 2))


def seed_scores(encryptions: np.ndarray, candidates, scheme: Scheme, n_public: int, probe: int = 4) -> np.ndarray:
    """Score each candidate seed by the total variation of the first ``probe`` encryptions un-masked with
    the sign key that seed would have produced; the true seed gives smooth mixes, hence the lowest score.

    encryptions: (n, h, w) the first epoch, made by ``draw_key(np.random.default_rng(seed), ...)``.
    """
    n, shape = len(encryptions), encryptions.shape[1:]
    scores = np.empty(len(candidates))
    for i, seed in enumerate(candidates):
        signs = draw_key(np.random.default_rng(seed), n, n_public, encryptions[0].size, scheme).signs
        scores[i] = total_variation(signs[:probe].reshape(probe, *shape) * encryptions[:probe]).sum()
    return scores


def solve_private(encryptions: np.ndarray, keys: list[Key], scheme: Scheme, n_private: int,
                  public: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """With every key known, the private images solve a linear least-squares problem exactly.

    Returns the ``(n_private, d)`` solution and the largest absolute residual of the system.
    """
    unmasked = np.concatenate([key.signs for key in keys]) * encryptions.reshape(-1, keys[0].signs.shape[1])
    if scheme.cross:
        flat = public.reshape(len(public), -1)
        public_part = np.concatenate([np.einsum("nj,njd->nd", key.coefficients[:, scheme.private_slots:],
                                                flat[key.partners[:, scheme.private_slots:]]) for key in keys])
        unmasked = unmasked - public_part
    system = private_weights(keys, scheme, n_private)
    solution, *_ = np.linalg.lstsq(system, unmasked, rcond=None)
    return solution, float(np.abs(system @ solution - unmasked).max())


class AttackResult(NamedTuple):
    recovered: np.ndarray  # (n, d) one image per private image (clusters matched to images)
    grouping_accuracy: float  # fraction of true (encryption, private image) memberships recovered
    quality: np.ndarray  # (n,) corr(|recovered|, |original|) per private image


def attack(encryptions: np.ndarray, mixed_labels: np.ndarray, originals: np.ndarray, keys: list[Key],
           scheme: Scheme, similarity: np.ndarray | None = None, steps: int = 300, lr: float = 0.05) -> AttackResult:
    """Group the encryptions (``similarity=None``: the true grouping and weights), then reconstruct.

    ``originals`` (n, *shape) and ``keys`` only score the result; with a ``similarity`` the attacker
    uses nothing but the encryptions, the released mixed labels and the number n of private images.
    """
    n, flat = len(originals), originals.reshape(len(originals), -1)
    members = membership(keys, scheme, n)
    if similarity is None:
        assignment = np.concatenate([key.partners[:, : scheme.private_slots] for key in keys])
        weights = np.concatenate([key.coefficients[:, : scheme.private_slots] for key in keys])
        image_of_cluster, accuracy = np.arange(n), 1.0
    else:
        size = scheme.private_slots * len(keys)  # each private image enters about private_slots * T mixes
        assignment = assign(similarity, grow_cliques(similarity, n, size), scheme.private_slots)
        weights = label_weights(assignment, cluster_labels(assignment, mixed_labels, n), mixed_labels)
        image_of_cluster, accuracy = match_clusters(assignment, members, n)
    recovered = np.empty_like(flat)
    recovered[image_of_cluster] = reconstruct(encryptions, assignment, weights, n, steps, lr)
    return AttackResult(recovered, accuracy, abs_correlations(recovered, flat))
