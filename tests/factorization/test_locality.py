import numpy as np
import pytest
import torch
from offconvex.factorization import locality

P = locality.Patches(first=(0, 0), second=(0, 4), size=(2, 2))  # P1 = x[:2, :2], P2 = x[:2, 4:6]


def _inputs(seed=0, batch=6):
    return torch.randn(batch, 1, 4, 8, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_linear_and_separable_models_have_penalty_one():
    w = torch.randn(1, 4, 8, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    linear = lambda x: (x * w).flatten(1).sum(1)  # noqa: E731
    separable = lambda x: (torch.sin(x) * w).flatten(1).sum(1)  # noqa: E731 -- no pixel interactions
    for model in (linear, separable):
        assert locality.gradient_change_penalty(model, _inputs(), P).item() == pytest.approx(1.0, abs=1e-12)


def test_bilinear_interaction_gives_the_cosine_of_the_swapped_patches():
    def bilinear(x):  # f = <x[P1], x[P2]>: gradient on P1 is x[P2]
        return (x[..., :2, :2] * x[..., :2, 4:6]).flatten(1).sum(1)

    x = _inputs()
    p2 = x[..., :2, 4:6].flatten(1)
    expected = torch.nn.functional.cosine_similarity(p2, torch.roll(p2, 1, dims=0), dim=1).abs().mean()
    assert locality.gradient_change_penalty(bilinear, x, P).item() == pytest.approx(expected.item(), rel=1e-12)
    assert expected.item() < 0.9


def test_penalty_is_differentiable_in_parameters_and_bounded():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.Tanh(), torch.nn.Flatten(),
                              torch.nn.Linear(4 * 4 * 8, 1)).double()
    value = locality.gradient_change_penalty(lambda x: net(x)[:, 0], _inputs(), P)
    assert 0.0 <= value.item() <= 1.0
    grads = torch.autograd.grad(value, list(net.parameters()), allow_unused=True)  # the bias has no effect
    assert sum(float(g.abs().sum()) for g in grads if g is not None) > 0


def test_swap_patch_takes_previous_sample_region_only():
    x = _inputs(batch=3)
    swapped = locality.swap_patch(x, (0, 4), (2, 2))
    assert torch.equal(swapped[1, ..., :2, 4:6], x[0, ..., :2, 4:6])
    assert torch.equal(swapped[0, ..., :2, 4:6], x[2, ..., :2, 4:6])
    mask = torch.ones_like(x, dtype=torch.bool)
    mask[..., :2, 4:6] = False
    assert torch.equal(swapped[mask], x[mask])


def test_sample_patches_respects_distance_and_errors():
    gen = torch.Generator().manual_seed(0)
    for _ in range(50):
        p = locality.sample_patches((8, 8), 2, 3, gen)
        gaps = [max(b - a - 2, a - b - 2) for a, b in zip(p.first, p.second, strict=True)]
        assert max(gaps) >= 3
    with pytest.raises(ValueError, match="patch size"):
        locality.sample_patches((4, 4), 5, 0, gen)
    with pytest.raises(ValueError, match="no two patches"):
        locality.sample_patches((4, 4), 2, 3, gen, max_tries=20)
    with pytest.raises(ValueError, match="batch"):
        locality.gradient_change_penalty(lambda x: x.sum((1, 2, 3)), _inputs(batch=1), P)


def test_sampled_corners_are_uniform_enough():
    gen = torch.Generator().manual_seed(1)
    firsts = np.array([locality.sample_patches((1, 10), (1, 1), 0, gen).first[1] for _ in range(400)])
    assert set(firsts) == set(range(10))


def test_marker_pair_task_labels_and_shapes():
    x, y = locality.marker_pair_task(50, 16, 5, torch.Generator().manual_seed(0))
    assert x.shape == (50, 2, 1, 16) and set(y.tolist()) <= {0.0, 1.0}
    for i in range(50):
        first, second = torch.nonzero(x[i, 1, 0]).flatten().tolist()
        assert second - first == 5 and y[i] == float(x[i, 0, 0, first] == x[i, 0, 0, second])
    with pytest.raises(ValueError, match="distance"):
        locality.marker_pair_task(5, 16, 16, torch.Generator())


@pytest.fixture
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny convolutions are slower with more threads
    yield
    torch.set_num_threads(threads)


def test_small_cnn_learns_a_short_range_task(one_thread):
    gen = torch.Generator().manual_seed(0)
    x, y = locality.marker_pair_task(512, 8, 1, gen)
    net = locality.small_cnn(8, 8, gen)
    assert net(x).shape == (512, 1)
    assert locality.train_with_penalty(net, x, y, 0.0, 100, gen, lr=1e-2) == []
    assert locality.accuracy(net, x, y) > 90
    assert len(locality.train_with_penalty(net, x, y, 0.1, 3, gen)) == 3
