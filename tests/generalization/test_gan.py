import numpy as np
import pytest
import torch
from offconvex.generalization import gan


def test_translate_against_numpy_shift():
    images = torch.rand(12, 16)
    shifted = gan.translate(images, 4, torch.Generator().manual_seed(3))
    offsets = torch.randint(0, 3, (12, 2), generator=torch.Generator().manual_seed(3)).numpy()
    for image, out, (dy, dx) in zip(images.numpy(), shifted.numpy(), offsets, strict=True):
        padded = np.pad(image.reshape(4, 4), 1)
        np.testing.assert_array_equal(out.reshape(4, 4), padded[dy:dy + 4, dx:dx + 4])


def test_init_is_determined_by_the_generator():
    config = gan.GANConfig()
    first = gan.gan_init(config, torch.Generator().manual_seed(0))
    second = gan.gan_init(config, torch.Generator().manual_seed(0))
    for a, b in zip(first.generator.parameters(), second.generator.parameters(), strict=True):
        assert torch.equal(a, b)


def test_samples_are_images_and_labels_are_balanced():
    config = gan.GANConfig()
    state = gan.gan_init(config, torch.Generator().manual_seed(0))
    images, labels = gan.labelled_samples(state, 3, config, torch.Generator().manual_seed(1))
    assert images.shape == (30, 64) and images.min() >= 0 and images.max() <= 1
    np.testing.assert_array_equal(np.bincount(labels), np.full(10, 3))
    assert state.generator.training  # sampling leaves the generator in training mode


def test_short_training_learns_the_conditioning():
    # two classes: dark and bright images; after training, requested class 1 must be much brighter
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 100)
    images = np.clip(np.where(labels[:, None] == 1, 0.8, 0.1) + 0.05 * rng.normal(size=(200, 16)), 0, 1)
    config = gan.GANConfig(n_pixels=16, n_classes=2, hidden=32, lr=2e-3, image_side=4)
    torch.manual_seed(0)
    state, losses = gan.train_gan(images, labels, 300, config, torch.Generator().manual_seed(0))
    samples, sample_labels = gan.labelled_samples(state, 50, config, torch.Generator().manual_seed(1))
    assert losses.shape == (300, 2) and np.all(np.isfinite(losses))
    assert samples[sample_labels == 1].mean() - samples[sample_labels == 0].mean() > 0.4


def test_collapsed_latents_use_few_codes():
    config = gan.GANConfig()
    latents = gan.collapsed_latents(200, 5, 0.0, config, torch.Generator().manual_seed(0))
    assert len(torch.unique(latents, dim=0)) <= 5


def test_bad_arguments():
    config = gan.GANConfig()
    state = gan.gan_init(config, torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="labels"):
        gan.sample(state, torch.tensor([0, 10]), config, torch.Generator())
    with pytest.raises(ValueError, match="n_steps"):
        gan.train_gan(np.zeros((2, 64)), np.zeros(2), 0, config, torch.Generator())
    with pytest.raises(ValueError, match="per_class"):
        gan.labelled_samples(state, 0, config, torch.Generator())
    with pytest.raises(ValueError, match="n_codes"):
        gan.collapsed_latents(3, 0, 0.1, config, torch.Generator())
