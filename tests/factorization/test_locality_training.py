import copy
import math

import numpy as np
import pytest
import torch
from offconvex.core import resnet
from offconvex.factorization import locality_training as lt
from offconvex.factorization import pathfinder


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the book's kernels run; also deterministic run to run
    yield
    torch.set_num_threads(threads)


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _tiny_data(n=32, size=16, seed=0):
    gen = _gen(seed)
    return torch.rand(n, 1, size, size, generator=gen), (torch.arange(n) % 2).float()


def _small_net(seed=0):
    return resnet.resnet18(_gen(seed), width=4)


def _params(model):
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def test_without_penalty_one_step_is_plain_sgd_on_cross_entropy():
    train, model = _tiny_data(), _small_net()
    reference = copy.deepcopy(model)
    result = lt.train_classifier(model, train, _tiny_data(seed=1), _gen(7), epochs=1, batch_size=8,
                                 max_steps_per_epoch=1, device="cpu")
    assert result.train_loss.shape == (1,) and math.isnan(result.penalty[0])
    x = (train[0] - train[0].mean()) / train[0].std()
    batch = torch.randperm(32, generator=_gen(7))[:8]  # the first batch the trainer draws
    loss = torch.nn.functional.binary_cross_entropy_with_logits(reference(x[batch])[:, 0], train[1][batch])
    grads = torch.autograd.grad(loss, list(reference.parameters()))
    expected = torch.cat([(p - 1e-2 * g).detach().flatten() for p, g in zip(reference.parameters(), grads,
                                                                              strict=True)])
    assert torch.allclose(_params(model), expected, atol=1e-6)  # momentum has no effect on the first step
    assert result.train_loss[0] == pytest.approx(loss.item(), rel=1e-6)


def test_penalty_enters_the_loss_only_with_a_positive_coefficient():
    runs = {}
    for coeff in (0.0, 3.0):
        model = _small_net()
        result = lt.train_classifier(model, _tiny_data(), _tiny_data(seed=1), _gen(7), reg_coeff=coeff, epochs=1,
                                     batch_size=8, max_steps_per_epoch=1, device="cpu")
        runs[coeff] = (_params(model), result)
    assert math.isnan(runs[0.0][1].penalty[0]) and 0 <= runs[3.0][1].penalty[0] <= 1
    assert runs[0.0][1].train_loss[0] == runs[3.0][1].train_loss[0]  # same batch, same starting weights
    assert not torch.allclose(runs[0.0][0], runs[3.0][0])


def test_same_seeds_give_identical_runs():
    results = []
    for _ in range(2):
        model = _small_net(3)
        result = lt.train_classifier(model, _tiny_data(), _tiny_data(seed=1), _gen(5), reg_coeff=1.0, epochs=2,
                                     batch_size=8, max_steps_per_epoch=2, device="cpu")
        results.append((_params(model), result))
    assert torch.equal(results[0][0], results[1][0])
    for a, b in zip(results[0][1], results[1][1], strict=True):
        np.testing.assert_array_equal(a, b)
    assert results[0][1].test_accuracy.shape == (2,)


def test_stops_after_perfect_training_accuracy_and_patience():
    x = torch.zeros(16, 1, 16, 16)
    y = (torch.arange(16) % 2).float()
    x[y == 1, :, :8] = 1.0  # trivially separable: bright top half means positive
    result = lt.train_classifier(_small_net(), (x, y), (x, y), _gen(), epochs=60, batch_size=8, lr=0.05,
                                 patience=2, device="cpu")
    first_perfect = int(np.argmax(result.train_accuracy == 100.0))
    assert result.train_accuracy[first_perfect] == 100.0 and len(result.train_accuracy) == first_perfect + 3


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="reg_coeff"):
        lt.train_classifier(_small_net(), _tiny_data(), _tiny_data(), _gen(), reg_coeff=-1.0, device="cpu")
    with pytest.raises(ValueError, match="standard deviation"):
        lt.standardize(torch.ones(4, 1, 2, 2), torch.ones(2, 1, 2, 2))


def test_paper_code_path_end_to_end_on_tiny_pathfinder():
    """What the notebook's paper profile runs, at toy size: Pathfinder → ResNet18 (full width) + regularizer."""
    data = _gen(11)
    train = pathfinder.pathfinder_images(64, 3, data, image_size=32)
    test = pathfinder.pathfinder_images(32, 3, data, image_size=32)
    model = resnet.resnet18(_gen(12))
    result = lt.train_classifier(model, train, test, _gen(13), reg_coeff=9.0, epochs=1, batch_size=32,
                                 max_steps_per_epoch=2, device=lt.default_device())
    assert np.isfinite(result.train_loss).all() and 0 <= result.penalty[0] <= 1
    assert 0 <= result.final_test_accuracy <= 100


@pytest.fixture
def deterministic_cuda():
    """The notebook's settings on a GPU: deterministic algorithms on (book.start), cuBLAS workspace pinned."""
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU: this checks the paper profile's GPU path before a long run")
    was_on = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    yield
    torch.use_deterministic_algorithms(was_on)


def _paper_steps(device):
    """Three regularized SGD steps of the full-width ResNet18 on small Pathfinder images: the paper path."""
    data = _gen(21)
    train = pathfinder.pathfinder_images(96, 9, data, image_size=48)
    test = pathfinder.pathfinder_images(32, 9, data, image_size=48)
    model = resnet.resnet18(_gen(22))
    result = lt.train_classifier(model, train, test, _gen(23), reg_coeff=9.0, epochs=1, batch_size=32,
                                 max_steps_per_epoch=3, device=device)
    return _params(model).cpu(), result


@pytest.mark.cuda
def test_paper_path_is_deterministic_on_cuda_and_agrees_with_cpu(deterministic_cuda):
    """Every op of the paper profile (max-pool, batch norm, double backward of the penalty) has a
    deterministic CUDA kernel, two GPU runs agree bit for bit, and the GPU follows the CPU closely."""
    first, first_result = _paper_steps("cuda")
    second, second_result = _paper_steps("cuda")
    assert torch.equal(first, second)
    np.testing.assert_array_equal(first_result.train_loss, second_result.train_loss)
    on_cpu, cpu_result = _paper_steps("cpu")
    # float32 with different reduction orders (cuDNN vs oneDNN): close, not equal, after three steps
    assert torch.allclose(first, on_cpu, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(first_result.train_loss, cpu_result.train_loss, rtol=1e-3)
