"""Plots for the sampling chapters (Langevin, simulated tempering, manifolds, coupling).

Each function draws given data on ``ax`` and returns it; the ``*_animation`` functions build a small
matplotlib ``FuncAnimation`` over precomputed frames (shown in the book with ``to_jshtml``).
"""

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation


def paths(ax, times, positions, bands=(), label="position x"):
    """Sample paths ``positions`` (T, chains) against ``times`` (T,), with dashed lines at ``bands``."""
    ax.plot(times, positions, lw=0.8)
    for level in bands:
        ax.axhline(level, color="k", ls="--", lw=0.8)
    ax.set(xlabel="time t", ylabel=label)
    return ax


def hitting_times(ax, half_separations, measured, sem, exact):
    """Mean mode-switching time against r² (log scale): simulation with ±2 SEM and the quadrature."""
    ax.errorbar(np.square(half_separations), measured, yerr=2 * np.asarray(sem), fmt="o", label="Langevin (ULA)")
    ax.plot(np.square(half_separations), exact, "-", label="exact (quadrature)")
    ax.set(yscale="log", xlabel="r²  (modes at ±r)", ylabel="mean time to switch mode")
    ax.legend()
    return ax


def densities(ax, grid, curves, labels):
    """Several densities ``curves`` (K, G) on one 1-D ``grid`` (G,)."""
    for curve, label in zip(curves, labels, strict=True):
        ax.plot(grid, curve, label=label)
    ax.set(xlabel="x", ylabel="density")
    ax.legend()
    return ax


def level_trace(ax, times, level, n_levels):
    """One tempering chain's level index over time (level L-1 is the target β = 1)."""
    ax.step(times, level, where="post", lw=0.8, color="tab:purple")
    ax.set(xlabel="time t", ylabel="level i", yticks=range(n_levels))
    return ax


def histogram_vs_density(ax, samples, grid, density, label="samples"):
    """Normalized histogram of ``samples`` with the true density drawn over it."""
    ax.hist(samples, bins=60, range=(grid[0], grid[-1]), density=True, alpha=0.5, label=label)
    ax.plot(grid, density, "k-", lw=1.2, label="true density")
    ax.set(xlabel="x₁", ylabel="density")
    ax.legend()
    return ax


def tempering_diagram(ax, grid, level_densities, betas, swap_probabilities):
    """The tempering chain as a picture: stacked p_{β_i}, Langevin moves along, swaps between levels.

    ``swap_probabilities`` (L-1,) are the mean acceptance probabilities of moves between levels i, i+1.
    """
    height = 0.8 / np.max(level_densities)
    for i, curve in enumerate(level_densities):
        ax.fill_between(grid, i, i + height * curve, alpha=0.35, color=plt.cm.coolwarm(i / (len(betas) - 1)))
        ax.text(grid[0], i + 0.1, f"β={betas[i]:.2f}", fontsize=8)
        ax.annotate("", xy=(grid[-1] * 0.85, i + 0.05), xytext=(grid[-1] * 0.55, i + 0.05),
                    arrowprops={"arrowstyle": "<->", "color": "0.3"})
    for i, probability in enumerate(swap_probabilities):
        ax.annotate("", xy=(0.0, i + 1), xytext=(0.0, i + 0.05), arrowprops={"arrowstyle": "<->", "color": "k"})
        ax.text(0.3, i + 0.5, f"swap {probability:.2f}", fontsize=8)
    ax.set(xlabel="x₁", ylabel="level i (hot → cold)", yticks=range(len(betas)))
    ax.grid(False)
    return ax


def rate_curves(ax, times, curves, labels, styles=None):
    """Curves (K, T) against ``times``, e.g. coupled fractions or distances."""
    styles = styles or ["-"] * len(curves)
    for curve, label, style in zip(curves, labels, styles, strict=True):
        ax.plot(times, curve, style, label=label)
    ax.legend()
    return ax


def scaling_fit(ax, x, measured, interval, fit_x, fit, fit_band, label, color="tab:blue", marker="o"):
    """Measured times or rates ``measured`` (n,) at ``x`` (n,) with their intervals (2, n), and a fitted
    law ``fit`` on ``fit_x`` with its band (2, len(fit_x)). The caller sets the axis scales."""
    interval = np.asarray(interval, float)
    errors = np.abs(interval - np.asarray(measured, float)[None])
    ax.errorbar(x, measured, yerr=errors, fmt=marker, color=color, label=label, capsize=2)
    ax.plot(fit_x, fit, "-", color=color, lw=1.0)
    ax.fill_between(fit_x, *fit_band, color=color, alpha=0.2, lw=0)
    return ax


# The player shows each frame at its own pixel size. 100 px per inch is the page's scale for figures:
# the style's 8-9 pt text is 11-12.5 px, and 3.4 in (340 px) fits a phone's column.
ANIMATION_SIZE = (3.4, 2.8)
ANIMATION_DPI = 100


class _PageSizedAnimation(FuncAnimation):
    """Frames rendered at the figure's dpi: ``Animation.save`` would use the style's savefig.dpi (200)."""

    def to_jshtml(self, *args, **kwargs):
        with mpl.rc_context({"savefig.dpi": "figure"}):
            return super().to_jshtml(*args, **kwargs)


def cloud_animation(frames, times, background=None, limits=(-1, 1, -1, 1), title="", size=ANIMATION_SIZE):
    """Animate point clouds ``frames`` (F, n, 2) over ``background(ax)``; returns the FuncAnimation."""
    fig, ax = plt.subplots(figsize=size, dpi=ANIMATION_DPI, layout="constrained")
    if background is not None:
        background(ax)
    scatter = ax.scatter(frames[0][:, 0], frames[0][:, 1], s=6, color="tab:red", zorder=3)
    ax.set(xlim=limits[:2], ylim=limits[2:])
    label = ax.set_title(f"{title} t = {times[0]:.2f}")

    def update(k):
        scatter.set_offsets(frames[k])
        label.set_text(f"{title} t = {times[k]:.2f}")
        return scatter, label

    animation = _PageSizedAnimation(fig, update, frames=len(frames), interval=120, blit=True)
    plt.close(fig)
    return animation


def level_sets(ax, x, y, density, circle_radii=(), points=None):
    """Contours of a density on the grid (x, y), with circles of the given radii and optional samples (n, 2)."""
    ax.contourf(x, y, density, levels=12, cmap="Blues")
    angle = np.linspace(0, 2 * np.pi, 200)
    for radius in circle_radii:
        ax.plot(radius * np.cos(angle), radius * np.sin(angle), color="tab:orange", lw=0.8)
    if points is not None:
        ax.scatter(points[:, 0], points[:, 1], s=3, color="tab:red", zorder=3)
    ax.set(aspect="equal", xlabel="x₁", ylabel="x₂")
    ax.grid(False)
    return ax


def orbit_circles(ax, radii):
    """Dashed circles of the given radii: where each row of X₀R lies as R runs over rotations."""
    angle = np.linspace(0, 2 * np.pi, 200)
    for radius in radii:
        ax.plot(radius * np.cos(angle), radius * np.sin(angle), "k--", lw=0.8)
    ax.set(aspect="equal")
    return ax
