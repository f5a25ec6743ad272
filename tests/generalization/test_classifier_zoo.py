import copy

import numpy as np
import pytest
import torch
from offconvex.generalization import classifier_zoo as zoo
from sklearn.neighbors import KNeighborsClassifier
from torch.func import functional_call


def test_corrupt_labels_statistics():
    labels = np.zeros(20_000, dtype=int)
    np.testing.assert_array_equal(zoo.corrupt_labels(labels, 0.0, 10, np.random.default_rng(0)), labels)
    changed = (zoo.corrupt_labels(labels, 0.5, 10, np.random.default_rng(0)) != 0).mean()
    assert changed == pytest.approx(0.45, abs=0.015)  # 1/2 relabelled, 9/10 of those to another class


def test_training_set_and_error_rate():
    index, noisy = zoo.training_set(np.arange(10) % 3, zoo.Recipe(4, 0.0), 3, np.random.default_rng(0))
    assert len(set(index)) == 4
    np.testing.assert_array_equal(noisy, index % 3)
    assert zoo.error_rate([1, 2, 3, 4], [1, 0, 3, 0]) == 0.5


def test_evaluate_estimators_one_nn_interpolates():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(60, 3)), rng.integers(0, 3, 60)
    result = zoo.evaluate_estimators({"1nn": KNeighborsClassifier(1)}, {"1nn": zoo.Recipe(40, 0.2)}, x, y,
                                     {"all": (x, y)}, 3, rng)
    assert result["1nn"]["train"] == 0.0 and 0 <= result["1nn"]["all"] <= 1


@pytest.mark.parametrize("make", [lambda: zoo.mlp((8, 8), n_in=16), lambda: zoo.small_cnn(2, side=4)])
def test_stacked_logits_equal_each_member(make):
    template, state = zoo.stacked_init(make, 3, 1e-2, torch.Generator().manual_seed(0))
    x = torch.rand(5, 16)
    stacked = zoo.stacked_logits(template, state.params, x)
    for member in range(3):
        own = {name: value[member] for name, value in state.params.items()}
        single = functional_call(make(), own, (x,))
        torch.testing.assert_close(stacked[member], single, rtol=1e-6, atol=1e-6)


def test_stacked_adam_equals_independent_adam():
    make = lambda: zoo.mlp((8,), n_in=6, n_classes=3)  # noqa: E731
    template, state = zoo.stacked_init(make, 2, 1e-2, torch.Generator().manual_seed(0))
    initial = {name: value.detach().clone() for name, value in state.params.items()}
    x, targets = torch.rand(10, 6), torch.randint(0, 3, (2, 10))
    weights = torch.tensor([[0.1] * 10, [0.2] * 5 + [0.0] * 5])
    for _ in range(5):
        state = zoo.stacked_step(template, state, x, targets, weights)
    for member in range(2):
        module = make()
        module.load_state_dict({name: value[member] for name, value in initial.items()})
        optimizer = torch.optim.Adam(module.parameters(), lr=1e-2)
        for _ in range(5):
            losses = torch.nn.functional.cross_entropy(module(x), targets[member], reduction="none")
            optimizer.zero_grad()
            (losses * weights[member]).sum().backward()
            optimizer.step()
        for name, value in module.named_parameters():
            torch.testing.assert_close(state.params[name][member], value, rtol=1e-5, atol=1e-6)


def test_train_stacked_reports_every_checkpoint():
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(3, 6)) * 3
    y = rng.integers(0, 3, 90)
    x = centers[y] + rng.normal(size=(90, 6))
    recipes = [zoo.Recipe(90, 0.0), zoo.Recipe(30, 0.5)]
    errors = zoo.train_stacked(lambda: zoo.mlp((16,), n_in=6, n_classes=3), recipes, x, y, {"same": (x, y)},
                               [1, 100], 1e-2, 3, rng, torch.Generator().manual_seed(0))
    assert errors["train"].shape == errors["same"].shape == (2, 2)
    assert errors["same"][1, 0] < 0.1  # separable clusters, full clean data, 100 steps
    assert errors["same"][1, 0] < errors["same"][0, 0]


def test_bad_arguments():
    with pytest.raises(ValueError, match="label-noise"):
        zoo.corrupt_labels(np.zeros(3, int), 1.5, 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="n_train"):
        zoo.training_set(np.zeros(3, int), zoo.Recipe(5, 0.0), 2, np.random.default_rng(0))


def test_copy_of_estimator_is_fitted_not_original():
    estimator = KNeighborsClassifier(1)
    x, y = np.eye(4), np.arange(4)
    zoo.evaluate_estimators({"k": estimator}, {"k": zoo.Recipe(4, 0.0)}, x, y, {}, 4, np.random.default_rng(0))
    assert not hasattr(estimator, "classes_") and copy.deepcopy(estimator) is not estimator


def test_shifted_copies_match_translate():
    images = torch.rand(5, 16)
    copies = zoo.shifted_copies(images, side=4)
    assert copies.shape == (9, 5, 16)
    torch.testing.assert_close(copies[4], images)
    # shift by (dy, dx) = (+1, 0): row r of the result is row r - 1 of the image, row 0 zero
    moved = copies[7].reshape(5, 4, 4)
    torch.testing.assert_close(moved[:, 1:], images.reshape(5, 4, 4)[:, :-1])
    assert torch.all(moved[:, 0] == 0)


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
