import pytest
import torch
from offconvex.factorization import cnn_ensemble, locality

LENGTH, CHANNELS = 8, 4


def _generators(*seeds):
    return [torch.Generator().manual_seed(seed) for seed in seeds]


def _single_network(grouped, g):
    """Network ``g`` of a grouped model, copied into a plain ``locality.small_cnn``."""
    single = locality.small_cnn(LENGTH, CHANNELS, torch.Generator().manual_seed(0))
    n = grouped.n_networks
    with torch.no_grad():
        for mine, theirs in zip(single.parameters(), grouped.parameters(), strict=True):
            per = theirs.shape[0] // n
            mine.copy_(theirs[g * per:(g + 1) * per].reshape(mine.shape))
    return single


def _task(seed, n=64, distance=3):
    return locality.marker_pair_task(n, LENGTH, distance, torch.Generator().manual_seed(seed))


def test_each_group_is_an_independent_small_cnn():
    grouped = cnn_ensemble.grouped_small_cnns(LENGTH, CHANNELS, _generators(1, 2, 3))
    inputs = torch.stack([_task(seed)[0] for seed in (4, 5, 6)], 1)  # (N, G, 2, 1, L)
    logits = grouped(inputs)
    for g in range(3):
        expected = _single_network(grouped, g)(inputs[:, g])[:, 0]
        torch.testing.assert_close(logits[:, g], expected, rtol=1e-5, atol=1e-6)


def test_grouped_penalty_matches_the_single_network_penalty_with_each_networks_patches():
    grouped = cnn_ensemble.grouped_small_cnns(LENGTH, CHANNELS, _generators(1, 2))
    inputs = torch.stack([_task(seed)[0] for seed in (4, 5)], 1)
    patches = [locality.Patches((0, 0), (0, 5), (1, 2)), locality.Patches((0, 6), (0, 1), (1, 2))]
    penalties = cnn_ensemble.grouped_penalty(grouped, inputs, *cnn_ensemble.patch_masks(patches, (1, LENGTH)))
    for g in range(2):
        single = _single_network(grouped, g)
        expected = locality.gradient_change_penalty(lambda x, net=single: net(x)[:, 0], inputs[:, g], patches[g])
        assert penalties[g].item() == pytest.approx(expected.item(), rel=1e-4, abs=1e-6)


@pytest.mark.parametrize("coefficient", [0.0, 1.0])
def test_training_together_equals_training_apart(coefficient):
    seeds, distances = (1, 2), (2, 5)

    def run(groups):
        tasks = [[_task(10 + g, 64, distances[g]), _task(20 + g, 32, distances[g])] for g in groups]
        model = cnn_ensemble.grouped_small_cnns(LENGTH, CHANNELS, _generators(*[seeds[g] for g in groups]))
        stack = lambda pairs: tuple(torch.stack(t, 1) for t in zip(*pairs, strict=True))  # noqa: E731
        steps, accuracy = cnn_ensemble.train_grouped(
            model, stack([t for t, _ in tasks]), stack([t for _, t in tasks]),
            torch.full((len(groups),), coefficient), 6, _generators(*[30 + g for g in groups]),
            _generators(*[40 + g for g in groups]), every=3, batch_size=16)
        return steps, accuracy

    steps, together = run((0, 1))
    assert steps.tolist() == [0, 3, 6]
    for g in (0, 1):
        torch.testing.assert_close(run((g,))[1][:, 0], together[:, g], rtol=0, atol=1e-3)


def test_bad_length_is_rejected():
    with pytest.raises(ValueError, match="power of 2"):
        cnn_ensemble.grouped_small_cnns(12, CHANNELS, _generators(1))
