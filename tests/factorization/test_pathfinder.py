
import numpy as np
import pytest
import torch
from offconvex.factorization import pathfinder as pf
from scipy import ndimage, stats


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_shapes_dtypes_range_and_exact_balance():
    images, labels = pf.pathfinder_images(101, 3, _gen(), image_size=32)
    assert images.shape == (101, 1, 32, 32) and images.dtype == torch.float32
    assert labels.shape == (101,) and labels.dtype == torch.float32
    assert set(labels.tolist()) == {0.0, 1.0} and labels.sum().item() == 51
    assert images.min() >= 0 and images.max() == 1.0


def test_deterministic_from_the_generator():
    first = pf.pathfinder_images(40, 5, _gen(3), image_size=48)
    second = pf.pathfinder_images(40, 5, _gen(3), image_size=48)
    other = pf.pathfinder_images(40, 5, _gen(4), image_size=48)
    assert all(torch.equal(a, b) for a, b in zip(first, second, strict=True))
    assert not torch.equal(first[0], other[0])


def _joined(image, markers, threshold=0.0):
    """Whether the two marker centres lie in one 8-connected component of the inked pixels."""
    components, _ = ndimage.label(image > threshold, structure=np.ones((3, 3)))
    (x0, y0), (x1, y1) = np.floor(markers).astype(int)
    return components[y0, x0] != 0 and components[y0, x0] == components[y1, x1]


@pytest.mark.parametrize("path_length", [3, 9])
def test_positive_markers_are_joined_and_negative_ones_are_not(path_length):
    geometry = pf.default_geometry(150)._replace(dash_fraction=1.0)  # solid lines: joined means connected
    scenes = pf.sample_scenes(60, path_length, _gen(path_length), 150, geometry)
    images = pf.render(scenes, 150, geometry)
    joined = [_joined(images[i, 0].numpy(), scenes.markers[i].numpy()) for i in range(60)]
    assert joined == [bool(label) for label in scenes.labels]


def test_scene_geometry_matches_the_label():
    scenes = pf.sample_scenes(200, 5, _gen(1), 100)
    paths = scenes.targets
    assert torch.equal(scenes.markers[:, 0], paths[:, 0, 0])
    positive = scenes.labels.bool()
    assert torch.equal(scenes.markers[positive, 1], paths[positive, 0, -1])
    assert torch.equal(scenes.markers[~positive, 1], paths[~positive, 1, -1])
    points = pf.dense_points(paths, 0.1)
    gaps = torch.cdist(points[:, 0], points[:, 1]).flatten(1).amin(1)
    geometry = pf.default_geometry(100)
    assert gaps.min() >= geometry.clearance
    steps = torch.linalg.vector_norm(paths.diff(dim=2), dim=-1)
    assert torch.allclose(steps, torch.full_like(steps, geometry.segment_length))
    start_gap = torch.linalg.vector_norm(paths[:, 0, 0] - paths[:, 1, 0], dim=-1)
    assert torch.allclose(start_gap, torch.full_like(start_gap, geometry.seed_distance))


def test_distractors_keep_clear_of_the_targets():
    geometry = pf.default_geometry(150)
    scenes = pf.sample_scenes(30, 9, _gen(2), 150)
    assert scenes.distractors.shape[1:] == (10, 4, 2) and scenes.distractor_drawn.float().mean() > 0.8
    target_points = pf.dense_points(scenes.targets, 0.1).flatten(1, 2)
    for i in range(30):
        placed = scenes.distractors[i][scenes.distractor_drawn[i]]
        gaps = torch.cdist(pf.dense_points(placed, 0.1).flatten(0, 1), target_points[i])
        assert gaps.min() >= geometry.clearance


def test_longer_paths_put_positive_markers_farther_apart():
    geometry = pf.default_geometry(150)
    separation = {}
    for length in (3, 5, 7, 9):
        path_a = pf.sample_targets(200, length, 150, geometry, _gen(length))[:, 0]  # a positive's marked path
        separation[length] = torch.linalg.vector_norm(path_a[:, -1] - path_a[:, 0], dim=-1)
        assert separation[length].max() <= length * geometry.segment_length + 1e-9  # a path is never shorter
    means = [separation[length].mean().item() for length in (3, 5, 7, 9)]
    assert np.all(np.diff(means) > 0.4 * 2 * geometry.segment_length)  # grows by most of the added length
    assert means[0] > 0.8 * 3 * geometry.segment_length  # bounded turns keep short paths nearly straight


def test_distractor_rule_follows_the_authors():
    assert pf.distractor_counts(3) == (30, 1) and pf.distractor_counts(9) == (10, 3)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="image_size"):
        pf.pathfinder_images(4, 3, _gen(), image_size=8)
    with pytest.raises(ValueError, match="image_size"):
        pf.default_geometry(32.5)
    with pytest.raises(ValueError, match="path_length"):
        pf.pathfinder_images(4, 0, _gen(), image_size=32)
    with pytest.raises(ValueError, match="n must"):
        pf.sample_scenes(0, 3, _gen(), 32)
    with pytest.raises(ValueError, match="path_length=40"):
        pf.pathfinder_images(4, 40, _gen(), image_size=32)


@pytest.mark.parametrize("path_length", [3, 5, 7, 9])
def test_both_target_paths_end_equally_far_from_the_first_marker(path_length):
    """Whichever end a negative marks, the markers are as far apart as a positive's would be."""
    geometry = pf.default_geometry(150)
    targets = pf.sample_targets(2000, path_length, 150, geometry, _gen(path_length))
    reach_a = torch.linalg.vector_norm(targets[:, 0, -1] - targets[:, 0, 0], dim=-1)
    reach_b = torch.linalg.vector_norm(targets[:, 1, -1] - targets[:, 0, 0], dim=-1)
    torch.testing.assert_close(reach_b, reach_a, rtol=0, atol=1e-9)


def test_marker_distance_distributions_of_the_two_classes_match():
    """A shortcut guard: the distance between the markers must not predict the label.

    1000 scenes per class at path length 3 (where the old construction differed most: mean 22.0 px for
    negatives against 16.0 for positives, KS statistic 0.76). Thresholds fixed in advance: two-sample KS
    p-value > 0.01 and class means within 1 %.
    """
    scenes = pf.sample_scenes(2000, 3, _gen(5), 150)
    distance = torch.linalg.vector_norm(scenes.markers[:, 1] - scenes.markers[:, 0], dim=-1).numpy()
    positive = scenes.labels.bool().numpy()
    assert stats.ks_2samp(distance[positive], distance[~positive]).pvalue > 0.01
    assert abs(distance[positive].mean() / distance[~positive].mean() - 1) < 0.01


def test_too_short_paths_raise():
    with pytest.raises(ValueError, match="path_length=1 is too short"):
        pf.sample_scenes(4, 1, _gen(), 150)
