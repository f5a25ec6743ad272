"""Plots for the tensor-factorization chapters (2021-07-08, 2022-07-15): data in, ``ax`` out."""

import matplotlib
import matplotlib.patches
import numpy as np


def top_curves(ax, steps, curves, *, title: str, ylabel: str, half_rise=None, log_x: bool = False):
    """The columns of ``curves`` ``(T, K)`` (e.g. top-K component norms) against ``steps``.

    ``half_rise`` (one step per column) marks where each curve reaches half its final value.
    """
    colors = matplotlib.colormaps["viridis"](np.linspace(0, 0.9, curves.shape[1]))
    for k in range(curves.shape[1]):
        ax.plot(steps, curves[:, k], color=colors[k], lw=1.4)
    for k, step in enumerate(half_rise if half_rise is not None else []):
        ax.axvline(step, color=colors[k], lw=0.6, ls=":")
    if log_x:
        ax.set_xscale("symlog", linthresh=100)
    ax.set(title=title, xlabel="iteration", ylabel=ylabel)
    return ax


def error_curves(ax, curves: dict, *, ylabel: str = "reconstruction error"):
    """``curves`` maps a label to ``(steps, values)``; log-scale y."""
    for label, (steps, values) in curves.items():
        ax.plot(steps, values, label=label, lw=1.4)
    ax.set(yscale="log", xlabel="iteration", ylabel=ylabel)
    ax.legend(frameon=False)
    return ax


def mode_tree_diagram(ax, levels, dims=None):
    """Draw a mode tree (``levels[l]`` = tuple of nodes, each a tuple of modes) bottom-up, modes 1-based."""
    positions = {}
    for level, nodes in enumerate(levels):
        for node in nodes:
            x = float(np.mean(node))
            positions[node] = (x, level)
            label = "{" + ",".join(str(m + 1) for m in node) + "}"
            ax.text(x, level, label, ha="center", va="center",
                    bbox={"boxstyle": "round", "fc": "white", "ec": "0.3"})
        if level:
            for node in nodes:
                for child in levels[level - 1]:
                    if set(child) <= set(node):
                        ax.plot(*zip(positions[child], positions[node], strict=True), color="0.5", lw=1, zorder=0)
    ax.set(xlim=(-0.6, len(levels[0]) - 0.4), ylim=(-0.5, len(levels) - 0.5), xticks=[],
           yticks=range(len(levels)), ylabel="level")
    return ax


def error_by_rank(ax, ranks, errors: dict, *, variance: float | None = None, title: str = ""):
    """``errors`` maps a label to the error at each rank in ``ranks``; optional dashed variance line."""
    for label, values in errors.items():
        ax.plot(ranks, values, marker="o", label=label)
    if variance is not None:
        ax.axhline(variance, color="0.4", ls="--", lw=1, label="label variance")
    ax.set(xlabel="tensor rank R (explicit)", ylabel="mean error", title=title, xticks=list(ranks))
    ax.legend(frameon=False, fontsize="small")
    return ax


def observed_tensor_slices(ax, tensor, *, axis_names=("pixel 1", "pixel 2", "pixel 3")):
    """A 3-way tensor shown as its slices along the last mode side by side; NaN (unobserved) left blank."""
    d1, d2, d3 = tensor.shape
    spacer = np.full((d1, 1), np.nan)
    strip = np.hstack([np.hstack([tensor[:, :, k], spacer]) for k in range(d3)])[:, :-1]
    image = ax.imshow(strip, cmap="coolwarm", vmin=0, vmax=1)
    ax.set_xticks([k * (d2 + 1) + (d2 - 1) / 2 for k in range(d3)], [f"{axis_names[2]} = {k}" for k in range(d3)])
    ax.set_ylabel(axis_names[0])
    ax.figure.colorbar(image, ax=ax, shrink=0.6, label="fraction positive")
    return ax


def accuracy_by_distance(ax, distances, accuracies: dict, *, title: str, ylabel: str = "test accuracy (%)"):
    """``accuracies`` maps a label to the accuracy at each dependency distance."""
    for label, values in accuracies.items():
        ax.plot(distances, values, marker="o", label=label)
    ax.axhline(50, color="0.5", ls=":", lw=1, label="chance")
    ax.set(xlabel="dependency distance", ylabel=ylabel, title=title, xticks=list(distances))
    ax.legend(frameon=False, fontsize="small")
    return ax


def pathfinder_image(ax, image, markers=None, *, title: str = ""):
    """A grey Pathfinder image ``(H, W)``; ``markers`` ``(2, 2)`` (x, y) are ringed so they stand out."""
    ax.imshow(image, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    for x, y in markers if markers is not None else []:
        ax.add_patch(matplotlib.patches.Circle((x - 0.5, y - 0.5), 6, fill=False, color="tab:orange", lw=1))
    ax.set(title=title, xticks=[], yticks=[])
    return ax
