import numpy as np
import pytest
import torch
from offconvex.privacy import data
from offconvex.privacy import instahide as ih
from offconvex.privacy.training import (
    TrainingConfig,
    accuracy,
    learning_curve,
    make_cnn,
    make_model,
    soft_cross_entropy,
    train_classifier,
)


@pytest.mark.parametrize("scheme", [ih.inside(1), ih.inside(2), ih.inside(4), ih.inside(6),
                                    ih.cross(2), ih.cross(4), ih.cross(6, pair=True)])
def test_coefficients_on_simplex_and_within_bounds(scheme):
    weights = ih.sample_coefficients(np.random.default_rng(0), 5000, scheme)
    assert weights.shape == (5000, scheme.k)
    assert (weights >= 0).all()
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert (weights.max(axis=1) <= scheme.upper).all()
    if scheme.cross:
        assert (weights[:, : scheme.private_slots].sum(axis=1) >= scheme.private_min).all()


def test_coefficients_follow_normalised_abs_gaussian():
    # Without the bound binding (upper = 1), lambda = |g|/||g||_1: for k = 2, lambda_1 = |g1|/(|g1|+|g2|)
    # is the law of |cos| of a uniform angle in a quadrant mapped by t/(1+t), t = |tan|: uniform angle
    # theta in [0, pi/2] gives lambda_1 = cos/(cos+sin); its mean is 1/2 and P(lambda_1 < 1/2) = 1/2.
    weights = ih.sample_coefficients(np.random.default_rng(1), 200_000, ih.Scheme(k=2, private_slots=2, upper=1.0))
    theta = np.linspace(0, np.pi / 2, 200_001)
    expected_var = np.mean((np.cos(theta) / (np.cos(theta) + np.sin(theta)) - 0.5) ** 2)
    assert abs(weights[:, 0].mean() - 0.5) < 3e-3
    assert abs(weights[:, 0].var() - expected_var) < 2e-3


def test_official_acceptance_rate_for_challenge_setting():
    # research note C.2: about 0.58 of draws survive both constraints at k = 6 (2 private slots)
    rng = np.random.default_rng(2)
    g = np.abs(rng.standard_normal((100_000, 6)))
    w = g / g.sum(axis=1, keepdims=True)
    rate = np.mean((w.max(axis=1) <= 0.65) & (w[:, :2].sum(axis=1) >= 0.3))
    assert 0.55 < rate < 0.61


def test_mix_matches_explicit_sum():
    rng = np.random.default_rng(3)
    images, weights = rng.standard_normal((3, 4, 5)), np.array([0.2, 0.3, 0.5])
    np.testing.assert_allclose(ih.mix(images, weights), 0.2 * images[0] + 0.3 * images[1] + 0.5 * images[2])
    batch = rng.standard_normal((7, 3, 4, 5))
    batch_weights = rng.random((7, 3))
    np.testing.assert_allclose(ih.mix(batch, batch_weights)[4], ih.mix(batch[4], batch_weights[4]))
    with pytest.raises(ValueError, match="disagree"):
        ih.mix(images, np.ones(4) / 4)


def toy_sets(n=30, n_public=40, seed=4):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 6, 6)), data.one_hot(rng.integers(0, 10, n), 10), rng.standard_normal((n_public, 6, 6))


@pytest.mark.parametrize("scheme", [ih.inside(4), ih.cross(6, pair=True), ih.cross(3)])
def test_encryption_is_signed_mix_and_abs_independent_of_signs(scheme):
    private, onehot, public = toy_sets()
    key = ih.draw_key(np.random.default_rng(5), len(private), len(public), 36, scheme)
    assert set(np.unique(key.signs)) == {-1.0, 1.0}
    np.testing.assert_array_equal(key.partners[:, 0], np.arange(len(private)))  # slot 0 is the image itself
    encrypted = ih.encrypt(private, key, scheme, public)
    flipped = key._replace(signs=-key.signs * np.random.default_rng(6).choice([-1.0, 1.0], key.signs.shape))
    np.testing.assert_array_equal(np.abs(encrypted), np.abs(ih.encrypt(private, flipped, scheme, public)))
    i = 7
    slots = [private[key.partners[i, j]] for j in range(scheme.private_slots)]
    slots += [public[key.partners[i, j]] for j in range(scheme.private_slots, scheme.k)]
    expected = key.signs[i].reshape(6, 6) * sum(w * s for w, s in zip(key.coefficients[i], slots, strict=True))
    np.testing.assert_allclose(encrypted[i], expected, rtol=0, atol=1e-14)


def test_sign_flip_hides_nothing_on_nonnegative_pixels():
    rng = np.random.default_rng(7)
    private = rng.random((20, 8, 8))  # raw pixels in [0, 1]
    scheme = ih.inside(4)
    key = ih.draw_key(rng, 20, 0, 64, scheme)
    mixed = ih.mix(ih.slot_images(private, key, scheme), key.coefficients).reshape(private.shape)
    assert np.abs(np.abs(ih.encrypt(private, key, scheme)) - mixed).max() == 0.0
    centred = private - 0.5
    mixed_centred = ih.mix(ih.slot_images(centred, key, scheme), key.coefficients).reshape(private.shape)
    assert np.abs(ih.encrypt(centred, key, scheme) - mixed_centred).max() > 0.1


def test_labels_mix_private_slots_only_and_are_not_renormalised():
    private, onehot, public = toy_sets()
    scheme = ih.cross(6, pair=True)
    _, labels, key = ih.encrypt_dataset(private, onehot, scheme, public, np.random.default_rng(8))
    np.testing.assert_allclose(labels.sum(axis=1), key.coefficients[:, :2].sum(axis=1), atol=1e-14)
    assert (labels.sum(axis=1) >= 0.3 - 1e-12).all() and (labels.sum(axis=1) < 1).all()
    _, inside_labels, _ = ih.encrypt_dataset(private, onehot, ih.inside(3), None, np.random.default_rng(8))
    np.testing.assert_allclose(inside_labels.sum(axis=1), 1.0, atol=1e-14)


def test_same_generator_seed_gives_same_encryption():
    private, onehot, public = toy_sets()
    first = ih.encrypt_epochs(private, onehot, ih.cross(4), 2, public, np.random.default_rng(9))
    second = ih.encrypt_epochs(private, onehot, ih.cross(4), 2, public, np.random.default_rng(9))
    np.testing.assert_array_equal(first[0], second[0])


def test_default_keys_come_from_128_bits_of_os_entropy(monkeypatch):
    requested = []
    real = ih.secrets.randbits

    def spy(bits):
        requested.append(bits)
        return real(bits)

    monkeypatch.setattr(ih.secrets, "randbits", spy)
    private, onehot, public = toy_sets()
    first, _, _ = ih.encrypt_dataset(private, onehot, ih.inside(2))
    second, _, _ = ih.encrypt_dataset(private, onehot, ih.inside(2))
    assert requested == [128, 128]
    assert not np.array_equal(first, second)  # fresh one-time keys every call
    generator = ih.secure_generator()
    assert 0 <= generator.bit_generator.seed_seq.entropy < 2**128


def test_bad_arguments_name_the_value():
    with pytest.raises(ValueError, match="k must be"):
        ih.Scheme(k=0)
    with pytest.raises(ValueError, match="private_slots"):
        ih.Scheme(k=2, private_slots=3)
    with pytest.raises(ValueError, match="upper"):
        ih.Scheme(k=4, private_slots=4, upper=0.2)
    private, onehot, public = toy_sets()
    with pytest.raises(ValueError, match="public images"):
        ih.encrypt_dataset(private, onehot, ih.cross(4), None, np.random.default_rng(0))
    with pytest.raises(ValueError, match="labels"):
        ih.encrypt_dataset(private, onehot[:3], ih.inside(2), None, np.random.default_rng(0))
    with pytest.raises(ValueError, match="std"):
        ih.standardize(np.ones(4))


def test_data_helpers():
    images, labels = data.digits()
    assert images.shape == (1797, 8, 8) and 0 <= images.min() and images.max() <= 1
    patches = data.photo_patches(np.random.default_rng(0), 5)
    assert patches.shape == (5, 8, 8)
    np.testing.assert_allclose(data.block_average(np.arange(16.0).reshape(1, 4, 4), 2),
                               [[[2.5, 4.5], [10.5, 12.5]]])
    with pytest.raises(ValueError, match="labels"):
        data.one_hot(np.array([0, 10]), 10)


def test_soft_cross_entropy_matches_torch_for_one_hot_targets():
    logits = torch.randn(6, 10, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    labels = torch.tensor([0, 3, 9, 2, 2, 5])
    targets = torch.nn.functional.one_hot(labels, 10).double()
    torch.testing.assert_close(soft_cross_entropy(logits, targets), torch.nn.functional.cross_entropy(logits, labels))


def test_plain_training_learns_digits_quickly():
    images, labels = data.digits()
    x = ih.standardize(images)
    model = train_classifier(x[:600], data.one_hot(labels[:600], 10), None, TrainingConfig(epochs=10),
                             np.random.default_rng(0), torch.Generator().manual_seed(0))
    assert accuracy(model, x[600:900], labels[600:900]) > 0.85


def test_cnn_maps_flat_images_to_logits_and_is_seeded():
    first = make_cnn(8, 10, 4, torch.Generator().manual_seed(3))
    second = make_cnn(8, 10, 4, torch.Generator().manual_seed(3))
    x = torch.randn(5, 64)
    assert first(x).shape == (5, 10)
    torch.testing.assert_close(first(x), second(x))
    conv = first[1]
    assert conv.weight.abs().max() <= 1 / 3  # +-1/sqrt(fan-in), fan-in = 1 * 3 * 3
    with pytest.raises(ValueError, match="even side"):
        make_cnn(7, 10, 4, torch.Generator())


def test_make_model_dispatches_and_rejects_unknown_names():
    generator = torch.Generator().manual_seed(0)
    assert isinstance(make_model(TrainingConfig(model="cnn"), 64, 10, generator)[1], torch.nn.Conv2d)
    assert isinstance(make_model(TrainingConfig(), 64, 10, generator)[0], torch.nn.Linear)
    with pytest.raises(ValueError, match="square"):
        make_model(TrainingConfig(model="cnn"), 60, 10, generator)
    with pytest.raises(ValueError, match="'mlp' or 'cnn'"):
        make_model(TrainingConfig(model="resnet"), 64, 10, generator)


def test_learning_curve_ends_at_the_trained_model():
    images, labels = data.digits()
    x = ih.standardize(images)
    onehot = data.one_hot(labels[:300], 10)
    config = TrainingConfig(epochs=4, model="cnn")
    curve = learning_curve(x[:300], onehot, ih.inside(2), config, np.random.default_rng(1),
                           torch.Generator().manual_seed(1), x[300:400], labels[300:400], every=2)
    model = train_classifier(x[:300], onehot, ih.inside(2), config, np.random.default_rng(1),
                             torch.Generator().manual_seed(1))
    assert curve.shape == (2,)
    assert curve[-1] == accuracy(model, x[300:400], labels[300:400])
    with pytest.raises(ValueError, match="every"):
        learning_curve(x[:10], onehot[:10], None, config, np.random.default_rng(1), torch.Generator(),
                       x[:10], labels[:10], every=0)
