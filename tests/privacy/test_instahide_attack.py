import numpy as np
import pytest
from offconvex.privacy import attack, data
from offconvex.privacy import instahide as ih


def digit_setup(n=20, epochs=10, scheme=None, seed=0):
    images, labels = data.digits()
    private = ih.standardize(images[:n], images.mean(), images.std())
    onehot = data.one_hot(labels[:n], 10)
    public = ih.standardize(data.photo_patches(np.random.default_rng(seed), 100))
    scheme = scheme or ih.cross(6, pair=True)
    encryptions, mixed, keys = ih.encrypt_epochs(private, onehot, scheme, epochs, public,
                                                 np.random.default_rng(seed))
    return private, public, scheme, encryptions, mixed, keys


def test_membership_and_weights_agree_with_keys():
    private, _, scheme, _, mixed, keys = digit_setup()
    members = attack.membership(keys, scheme, len(private))
    weights = attack.private_weights(keys, scheme, len(private))
    assert members.shape == (len(private) * len(keys), len(private))
    np.testing.assert_array_equal(members, weights > 0)
    np.testing.assert_allclose(weights.sum(axis=1), mixed.sum(axis=1), atol=1e-14)


def test_step5_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    images, targets, mixing = rng.standard_normal((4, 5)), np.abs(rng.standard_normal((9, 5))), rng.random((9, 4))
    _, gradient = attack.step5_loss(images, targets, mixing)
    step, numeric = 1e-6, np.zeros_like(images)
    for index in np.ndindex(images.shape):
        bump = np.zeros_like(images)
        bump[index] = step
        numeric[index] = (attack.step5_loss(images + bump, targets, mixing)[0]
                          - attack.step5_loss(images - bump, targets, mixing)[0]) / (2 * step)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-9)


def test_step5_loss_blind_to_a_pixel_sign_shared_by_all_images():
    rng = np.random.default_rng(2)
    images, targets, mixing = rng.standard_normal((4, 5)), np.abs(rng.standard_normal((9, 5))), rng.random((9, 4))
    flipped = images.copy()
    flipped[:, 2] *= -1
    assert abs(attack.step5_loss(images, targets, mixing)[0] - attack.step5_loss(flipped, targets, mixing)[0]) < 1e-12


def test_true_grouping_recovers_digits_and_score_is_one():
    private, _, scheme, encryptions, mixed, keys = digit_setup(epochs=20)
    result = attack.attack(encryptions, mixed, private, keys, scheme, None, steps=300)
    assert result.grouping_accuracy == 1.0
    assert np.median(result.quality) > 0.8


def test_adam_matches_torch_adam():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    targets, mixing = np.abs(rng.standard_normal((9, 5))), rng.random((9, 4))
    state = attack.adam_init(4, 5)
    reference = torch.full((4, 5), 0.1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.Adam([reference], lr=0.05)
    for _ in range(20):
        state = attack.adam_step(state, targets, mixing, 0.05)
        optimizer.zero_grad()
        model = torch.from_numpy(mixing) @ reference
        ((model.abs() - torch.from_numpy(targets)) ** 2).mean().backward()
        optimizer.step()
    np.testing.assert_allclose(state.images, reference.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_match_clusters_recovers_a_relabelled_grouping():
    private, _, scheme, _, _, keys = digit_setup()
    true = np.concatenate([key.partners[:, :2] for key in keys])
    permutation = np.random.default_rng(4).permutation(len(private))
    image_of_cluster, score = attack.match_clusters(permutation[true], attack.membership(keys, scheme, len(private)),
                                                    len(private))
    assert score == 1.0
    np.testing.assert_array_equal(image_of_cluster[permutation], np.arange(len(private)))


def test_label_weights_read_slot_weights_when_classes_differ():
    mixed = np.array([[0.0, 0.7, 0.3], [0.5, 0.0, 0.0]])
    weights = attack.label_weights(np.array([[0, 1], [2, 2]]), np.array([1, 2, 0]), mixed)
    np.testing.assert_allclose(weights, [[0.7, 0.3], [0.25, 0.25]])


def test_abs_similarity_separates_sharing_pairs_at_small_k():
    _, _, scheme, encryptions, _, keys = digit_setup(scheme=ih.inside(2))
    members = attack.membership(keys, scheme, 20)
    assert attack.pair_auc(attack.abs_similarity(encryptions), members) > 0.7


def test_grow_cliques_shapes_and_distinct_members():
    rng = np.random.default_rng(5)
    points = rng.standard_normal((30, 3))
    clusters = attack.grow_cliques(np.corrcoef(points), 4, 6)
    assert clusters.shape == (4, 6)
    assert all(len(set(row)) == 6 for row in clusters)
    with pytest.raises(ValueError, match="size"):
        attack.grow_cliques(np.eye(5), 2, 9)


def test_seed_search_finds_seed_and_solves_exactly():
    images, labels = data.digits()
    private = ih.standardize(images[:10], images.mean(), images.std())
    public = ih.standardize(data.photo_patches(np.random.default_rng(0), 20))
    scheme = ih.cross(4, pair=True)
    secret = 37
    encryptions, _, keys = ih.encrypt_epochs(private, data.one_hot(labels[:10], 10), scheme, 2, public,
                                             np.random.default_rng(secret))
    scores = attack.seed_scores(encryptions[:10], range(64), scheme, len(public))
    assert int(np.argmin(scores)) == secret
    solution, residual = attack.solve_private(encryptions, keys, scheme, 10, public)
    assert residual < 1e-10
    np.testing.assert_allclose(solution, private.reshape(10, -1), atol=1e-10)


def test_total_variation_closed_form():
    image = np.array([[[0.0, 1.0], [3.0, 1.0]]])
    assert attack.total_variation(image)[0] == 1 + 2 + 3 + 0


def test_mixing_matrix_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="assignment"):
        attack.mixing_matrix(np.zeros((3, 2), int), np.zeros((3, 1)), 4)


def test_abs_similarity_is_pearson_correlation_of_abs():
    encryptions = np.random.default_rng(6).standard_normal((7, 4, 4))
    np.testing.assert_allclose(attack.abs_similarity(encryptions),
                               np.corrcoef(np.abs(encryptions.reshape(7, -1))), atol=1e-12)


def test_learned_similarity_is_symmetric_probability_and_beats_chance():
    _, _, scheme, encryptions, _, keys = digit_setup(n=30, epochs=10, scheme=ih.inside(2))
    members = attack.membership(keys, scheme, 30)
    scorer = attack.fit_similarity(encryptions, members, np.random.default_rng(7), n_candidates=40_000,
                                   max_iter=20)
    _, _, _, fresh, _, fresh_keys = digit_setup(n=20, epochs=5, scheme=ih.inside(2), seed=1)
    similarity = attack.learned_similarity(scorer, fresh)
    np.testing.assert_allclose(similarity, similarity.T)
    assert (0 <= similarity).all() and (similarity <= 1).all()
    assert attack.pair_auc(similarity, attack.membership(fresh_keys, scheme, 20)) > 0.6
