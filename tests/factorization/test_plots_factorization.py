import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from offconvex.factorization import plots as fplots
from offconvex.factorization.hierarchical_tensor_factorization import mode_tree


def test_plot_functions_return_their_axes():
    fig, axes = plt.subplots(2, 3)
    steps = np.arange(5) * 10
    curves = np.cumsum(np.ones((5, 3)), axis=0)
    assert fplots.top_curves(axes[0, 0], steps, curves, title="t", ylabel="y", half_rise=[10, 20, 30]) is axes[0, 0]
    assert len(axes[0, 0].lines) == 6
    assert fplots.error_curves(axes[0, 1], {"a": (steps, curves[:, 0])}) is axes[0, 1]
    assert fplots.mode_tree_diagram(axes[0, 2], mode_tree(4, 2).levels) is axes[0, 2]
    assert len(axes[0, 2].texts) == 7  # 4 leaves, 2 inner nodes, 1 root
    assert fplots.error_by_rank(axes[1, 0], [1, 2], {"x": [0.1, 0.2]}, variance=0.09) is axes[1, 0]
    tensor = np.full((2, 2, 3), np.nan)
    tensor[0, 0, 0] = 1.0
    assert fplots.observed_tensor_slices(axes[1, 1], tensor) is axes[1, 1]
    assert fplots.accuracy_by_distance(axes[1, 2], [1, 2], {"a": [90, 60]}, title="t") is axes[1, 2]
    plt.close(fig)


def test_pathfinder_image_rings_the_markers():
    fig, ax = plt.subplots()
    image = np.zeros((20, 20))
    assert fplots.pathfinder_image(ax, image, np.array([[3.5, 4.5], [10.5, 12.5]]), title="t") is ax
    assert [tuple(p.center) for p in ax.patches] == [(3.0, 4.0), (10.0, 12.0)]  # pixel centres of imshow
    assert ax.get_title() == "t" and ax.images[0].get_array().shape == (20, 20)
    plt.close(fig)


def test_matrix_sensing_plots_return_their_axes():
    fig, axes = plt.subplots(1, 3)
    scales = np.array([1.0, 1e-2, 1e-4])
    fit = (1.0, 0.0, np.array([False, True, True]))
    assert fplots.error_vs_scale(axes[0], scales, {"a": scales * 0.1}, fitted_slope=fit) is axes[0]
    assert len(axes[0].lines) == 2
    steps = np.arange(4) * 100
    curves = {"error": np.linspace(1, 0.1, 4), "sine": np.linspace(0.9, 0.0, 4)}
    assert fplots.phase_curves(axes[1], steps, curves, log_x=True, styles={"error": {"color": "k"}}) is axes[1]
    assert axes[1].get_xscale() == "symlog"
    assert fplots.error_by_width(axes[2], [2, 5, 30], [1e-15, 1e-4, 2e-4], exact_floor=1e-15) is axes[2]
    plt.close(fig)


def test_seed_spread_and_budget_plots_draw_every_seed_and_the_mean():
    fig, axes = plt.subplots(1, 2)
    by_seed = {"plain": ([4, 28], np.array([[90, 50], [70, 52], [60, 49]])), "reg": ([28], np.array([[55], [50], [51]]))}
    assert fplots.accuracy_with_seed_spread(axes[0], by_seed, title="t") is axes[0]
    assert len(axes[0].lines) == 3 + 1 + 3 + 1 + 1  # seeds and mean per label, chance
    np.testing.assert_allclose(axes[0].lines[3].get_ydata(), [220 / 3, 151 / 3])
    gaps = np.array([[0, 0], [10, 30], [20, 40]])
    assert fplots.gap_by_budget(axes[1], [0, 100, 200], gaps, title="t") is axes[1]
    np.testing.assert_allclose(axes[1].lines[2].get_ydata(), [0, 20, 30])
    plt.close(fig)
