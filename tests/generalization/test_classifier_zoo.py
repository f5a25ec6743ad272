import numpy as np
import pytest
import torch
from offconvex.generalization import classifier_zoo as zoo
from offconvex.generalization import gan


def test_error_rate():
    assert zoo.error_rate([1, 2, 3, 4], [1, 0, 3, 0]) == 0.5
    np.testing.assert_array_equal(zoo.error_rate(np.array([[0, 1], [1, 1]]), np.array([0, 1])), [0.0, 0.5])


def test_shifted_copies_match_translate():
    images = torch.rand(5, 16)
    copies = zoo.shifted_copies(images, side=4)
    assert copies.shape == (9, 5, 16)
    torch.testing.assert_close(copies[4], images)
    # shift by (dy, dx) = (+1, 0): row r of the result is row r - 1 of the image, row 0 zero
    moved = copies[7].reshape(5, 4, 4)
    torch.testing.assert_close(moved[:, 1:], images.reshape(5, 4, 4)[:, :-1])
    assert torch.all(moved[:, 0] == 0)
    # the same 9 translates as the GAN's DiffAugment-style jitter
    shifted = gan.translate(images, 4, torch.Generator().manual_seed(3))
    offsets = torch.randint(0, 3, (5, 2), generator=torch.Generator().manual_seed(3))
    for row, (oy, ox) in enumerate(offsets.tolist()):
        torch.testing.assert_close(shifted[row], copies[3 * (2 - oy) + (2 - ox), row])


def test_stacked_mlp_logits_equal_each_member():
    layers = zoo.stacked_mlp_init((8, 5), 3, torch.Generator().manual_seed(0), n_in=6, n_classes=4)
    x = torch.rand(7, 6)
    stacked = zoo.stacked_mlp_logits(layers, x)
    for member in range(3):
        hidden = x
        for index, (weight, bias) in enumerate(layers):
            hidden = hidden @ weight[member] + bias[member, 0]
            hidden = torch.relu(hidden) if index < len(layers) - 1 else hidden
        torch.testing.assert_close(stacked[member], hidden)


def test_train_to_target_stops_each_member_at_its_target():
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(3, 16)) * 3
    y = rng.integers(0, 3, 120)
    x = centers[y] + rng.normal(size=(120, 16))
    setups = [zoo.TrainingSetup(1e-2, 0.0, 32, False), zoo.TrainingSetup(1e-2, 0.0, 64, True),
              zoo.TrainingSetup(1e-5, 0.0, 16, False)]  # the last one is far too slow to converge
    stack = zoo.train_to_target((16,), setups, x, y, loss_target=0.05, max_steps=300, check_every=10,
                                generator=torch.Generator().manual_seed(0), side=4, n_classes=3)
    np.testing.assert_array_equal(stack.converged, [True, True, False])
    assert np.all(stack.train_loss[:2] <= 0.05) and stack.train_loss[2] > 0.05
    assert stack.steps[0] < 300 and stack.steps[2] == 300 and np.all(stack.steps % 10 == 0)
    errors = zoo.stack_errors(stack, x, y)
    assert errors.shape == (3,) and errors[0] == 0.0
    # a stopped member's parameters are those it stopped with: its loss is the reported one
    margins = zoo.output_margins(zoo.stack_logits(stack, x), y)
    assert margins.shape == (3, 120) and np.all(margins[0] > 0)


def test_output_margins_by_hand():
    logits = np.array([[[2.0, 1.0, 0.5], [0.0, 3.0, 1.0]]])
    np.testing.assert_allclose(zoo.output_margins(logits, np.array([0, 0])), [[1.0, -3.0]])


def test_train_to_target_bad_arguments():
    with pytest.raises(ValueError, match="loss_target"):
        zoo.train_to_target((4,), [zoo.TrainingSetup(1e-2, 0.0, 4, False)], np.zeros((4, 16)),
                            np.zeros(4, int), loss_target=0.0, max_steps=5, check_every=1,
                            generator=torch.Generator(), side=4)
