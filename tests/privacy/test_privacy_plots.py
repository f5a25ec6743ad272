import matplotlib.pyplot as plt
import numpy as np
from offconvex.privacy import plots as privacy


def test_plot_functions_return_their_axes():
    fig, axes = plt.subplots(1, 5)
    assert privacy.show_image(axes[0], np.random.default_rng(0).standard_normal((8, 8)), "x", symmetric=True) is axes[0]
    assert privacy.label_bars(axes[1], np.array([0.6, 0.4]), ["a", "b"]) is axes[1]
    ks = [1, 2, 3]
    assert privacy.accuracy_vs_k(axes[2], {"inside": (ks, np.array([[0.9, 0.8, 0.7]]))}, np.array([0.95])) is axes[2]
    assert privacy.curves(axes[3], ks, {"a": np.array([0.8, 0.7, 0.6])}, "k", "auc", 0.5, "chance") is axes[3]
    assert privacy.seed_scores(axes[4], np.arange(4), np.array([3.0, 1.0, 2.0, 4.0]), 1) is axes[4]
    assert len(axes[2].lines) == 2  # one curve and the plain-training line
    plt.close(fig)


def test_recovery_plots_return_their_axes():
    fig, axes = plt.subplots(1, 2)
    recovery = {"k=2": {"true": np.array([0.9, 0.95]), "grouped": np.array([0.6, 0.7]),
                        "grouping_accuracy": np.array([0.4, 0.5])}}
    assert privacy.recovery_vs_epochs(axes[0], [5, 10], recovery, 0.4) is axes[0]
    assert privacy.recovery_vs_grouping(axes[1], recovery, 0.4, (0.45, 0.65), "k=2") is axes[1]
    plt.close(fig)


def test_accuracy_vs_epochs_draws_each_curve_and_plain():
    fig, ax = plt.subplots()
    epochs = np.array([10, 20, 30])
    curves = {"k=1": np.array([0.5, 0.7, 0.8]), "k=2": np.array([0.4, 0.6, 0.7])}
    assert privacy.accuracy_vs_epochs(ax, epochs, curves, np.array([0.9, 0.95, 0.96])) is ax
    assert len(ax.lines) == 3  # two curves and plain training
    np.testing.assert_array_equal(ax.lines[-1].get_ydata(), [0.9, 0.95, 0.96])
    plt.close(fig)
