import matplotlib.pyplot as plt
import numpy as np
from offconvex.sampling import plots as sampling


def test_plot_functions_draw_on_the_given_axes():
    grid = np.linspace(-3, 3, 50)
    density = np.exp(-grid**2 / 2)
    fig, axes = plt.subplots(2, 4)
    drawn = [
        sampling.paths(axes[0, 0], grid, np.stack([grid, -grid], 1), bands=(1,)),
        sampling.hitting_times(axes[0, 1], [1, 2], [3.0, 9.0], [0.1, 0.2], [3.1, 8.8]),
        sampling.densities(axes[0, 2], grid, [density], ["a"]),
        sampling.level_trace(axes[0, 3], grid, (grid > 0).astype(int), 2),
        sampling.histogram_vs_density(axes[1, 0], grid, grid, density),
        sampling.tempering_diagram(axes[1, 1], grid, np.stack([density, density]), np.array([0.5, 1.0]), [0.8]),
        sampling.rate_curves(axes[1, 2], grid, [density], ["c"]),
        sampling.level_sets(axes[1, 3], *np.meshgrid(grid, grid), np.ones((50, 50)) * np.arange(50),
                            circle_radii=[1.0], points=np.zeros((3, 2))),
    ]
    assert all(ax is expected for ax, expected in zip(drawn, axes.flat, strict=True))
    assert len(axes[0, 0].lines) == 3
    plt.close(fig)


def test_cloud_animation_has_one_frame_per_cloud():
    frames = np.zeros((4, 5, 2))
    animation = sampling.cloud_animation(frames, np.arange(4.0), lambda ax: sampling.orbit_circles(ax, [1.0]))
    html = animation.to_jshtml()
    assert html.count("data:image/png") == 4


def test_scaling_fit_draws_points_line_and_band():
    fig, ax = plt.subplots()
    x = np.array([2.0, 3.0, 4.0])
    drawn = sampling.scaling_fit(ax, x, x**2, np.stack([0.9 * x**2, 1.1 * x**2]), x, x**2,
                                 (0.95 * x**2, 1.05 * x**2), "measured")
    assert drawn is ax
    assert len(ax.collections) >= 2  # error bars and the band
    assert ax.get_legend_handles_labels()[1] == ["measured"]
    plt.close(fig)
