"""Plots for the factorization chapters (2020-11-27, 2021-07-08, 2022-07-15): data in, ``ax`` out."""

import matplotlib
import matplotlib.patches
import matplotlib.ticker
import numpy as np
from matplotlib.collections import LineCollection


def _label_iterations(ax, log_x: bool, title: str, ylabel: str):
    """Iterations on x (linear up to 100, logarithmic after with ``log_x``), then title and y label."""
    if log_x:
        ax.set_xscale("symlog", linthresh=100)
        ax.set_xlabel("iteration")
    else:
        _iteration_axis(ax)
    ax.set(title=title, ylabel=ylabel)
    return ax


def _iteration_axis(ax):
    """Iterations on x, in thousands ("12k") on runs of thousands: five-digit tick labels collide in a
    half-page panel."""
    def label(x, _):
        return f"{x / 1000:g}k" if x and ax.get_xlim()[1] >= 2000 else f"{x:g}"

    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(label))
    ax.set_xlabel("iteration")


def top_curves(ax, steps, curves, *, title: str, ylabel: str, half_rise=None, log_x: bool = False):
    """The columns of ``curves`` ``(T, K)`` (e.g. top-K component norms) against ``steps``.

    ``half_rise`` (one step per column) marks where each curve reaches half its final value: a dotted
    vertical line in the curve's colour and a ringed dot where the curve crosses it, so that each mark
    can be told from its neighbours and matched to its curve at the page's size.
    """
    steps, curves = np.asarray(steps), np.asarray(curves)
    colors = matplotlib.colormaps["viridis"](np.linspace(0, 0.9, curves.shape[1]))
    for k in range(curves.shape[1]):
        ax.plot(steps, curves[:, k], color=colors[k], lw=1.3, zorder=2)
    for k, step in enumerate(half_rise if half_rise is not None else []):
        # under the curves, wide enough dots (1.3 pt, gaps of 2 line widths) to read at 100 px per inch
        ax.axvline(step, color=colors[k], lw=1.3, ls=(0, (1, 2)), zorder=1)
        at = min(int(np.searchsorted(steps, step)), len(steps) - 1)
        ax.scatter(steps[at], curves[at, k], s=25, color=colors[k], edgecolors="white", linewidths=0.8, zorder=3)
    return _label_iterations(ax, log_x, title, ylabel)


def error_curves(ax, curves: dict, *, ylabel: str = "reconstruction error"):
    """``curves`` maps a label to ``(steps, values)``; log-scale y."""
    for label, (steps, values) in curves.items():
        ax.plot(steps, values, label=label, lw=1.4)
    ax.set(yscale="log", ylabel=ylabel)
    _iteration_axis(ax)
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


def error_by_rank(ax, ranks, errors: dict, *, variance: float | None = None, title: str = "",
                  legend: bool = True):
    """``errors`` maps a label to the error at each rank in ``ranks``; optional dashed variance line.

    ``legend=False`` leaves the legend to the caller (one figure legend for panels sharing series).
    """
    for label, values in errors.items():
        ax.plot(ranks, values, marker="o", label=label)
    if variance is not None:
        ax.axhline(variance, color="0.4", ls="--", lw=1.2, label="label variance")
    ax.set(xlabel="tensor rank R (explicit)", ylabel="mean error", title=title, xticks=list(ranks))
    if legend:
        ax.legend(frameon=False)
    return ax


def observed_tensor_slices(ax, tensor, *, axis_names=("pixel 1", "pixel 2", "pixel 3")):
    """A 3-way tensor shown as its slices along the last mode side by side; NaN (unobserved) left blank."""
    d1, d2, d3 = tensor.shape
    spacer = np.full((d1, 1), np.nan)
    strip = np.hstack([np.hstack([tensor[:, :, k], spacer]) for k in range(d3)])[:, :-1]
    image = ax.imshow(strip, cmap="coolwarm", vmin=0, vmax=1)
    ax.grid(False)  # grid lines would cut through the cells
    # outline each slice: its blank (unobserved) cells would otherwise merge with the spacers
    for k in range(d3):
        ax.add_patch(matplotlib.patches.Rectangle((k * (d2 + 1) - 0.5, -0.5), d2, d1, fill=False, ec="0.5", lw=0.8))
    ax.set_xticks([k * (d2 + 1) + (d2 - 1) / 2 for k in range(d3)], [f"{axis_names[2]} = {k}" for k in range(d3)])
    ax.tick_params(axis="x", length=0)
    ax.set(xlabel=f"{axis_names[1]} (columns of each block)", ylabel=axis_names[0])
    ax.figure.colorbar(image, ax=ax, shrink=0.6, label="fraction positive")
    return ax


def accuracy_by_distance(ax, distances, accuracies: dict, *, title: str, ylabel: str = "test accuracy (%)",
                         legend_outside: bool = False):
    """``accuracies`` maps a label to the accuracy at each dependency distance.

    ``legend_outside`` puts the legend right of the axes, off the data (long labels, narrow panels).
    """
    for label, values in accuracies.items():
        ax.plot(distances, values, marker="o", label=label)
    ax.axhline(50, color="0.5", ls=":", lw=1.3, label="chance")
    ax.set(xlabel="dependency distance", ylabel=ylabel, title=title, xticks=list(distances))
    if legend_outside:
        ax.legend(frameon=False, loc="center left", bbox_to_anchor=(1.02, 0.5))
    else:
        ax.legend(frameon=False)
    return ax


def pathfinder_image(ax, image, markers=None, *, title: str = ""):
    """A grey Pathfinder image ``(H, W)``; ``markers`` ``(2, 2)`` (x, y) are ringed so they stand out."""
    ax.imshow(image, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    for x, y in markers if markers is not None else []:
        ax.add_patch(matplotlib.patches.Circle((x - 0.5, y - 0.5), 6, fill=False, color="tab:orange", lw=1))
    ax.set(title=title, xticks=[], yticks=[])
    return ax

def entry_vs_loss(ax, loss, entry, time, *, cmap="viridis", norm=None, linewidth=2.0, label=None):
    """Curve of ``entry`` against ``loss`` coloured by ``time``; loss on a log axis decreasing to the right.

    Returns the LineCollection (for a colour bar); ``ax`` keeps the limits of everything drawn.
    """
    points = np.column_stack([loss, entry])
    segments = np.stack([points[:-1], points[1:]], axis=1)
    lines = LineCollection(segments, cmap=cmap, norm=norm, linewidths=linewidth, label=label)
    lines.set_array(np.asarray(time)[1:])
    ax.add_collection(lines)
    ax.set_xscale("log")
    if not ax.xaxis_inverted():
        ax.invert_xaxis()
    ax.autoscale_view()
    return lines


def median_with_quartiles(ax, x, runs, *, label, marker="o", color=None):
    """Median over runs (rows of ``runs``) with a 25–75 % error bar, as in the paper's plots."""
    runs = np.asarray(runs, dtype=float)
    median, low, high = np.percentile(runs, [50, 25, 75], axis=0)
    ax.errorbar(x, median, yerr=[median - low, high - median], label=label, marker=marker, color=color,
                capsize=3, linewidth=1.5, markersize=4)
    return ax


def error_vs_scale(ax, scales, errors: dict, *, fitted_slope=None, xlabel: str = "initialization scale α"):
    """Final error against the initialization scale on log-log axes; ``errors`` maps a label to
    one value per scale. ``fitted_slope`` ``(slope, intercept, mask)`` draws the fitted line (dashed)
    over the scales in ``mask``."""
    scales = np.asarray(scales)
    for label, values in errors.items():
        ax.plot(scales, values, "o-", ms=4, lw=1.3, label=label)
    if fitted_slope is not None:
        slope, intercept, mask = fitted_slope
        ax.plot(scales[mask], np.exp(intercept) * scales[mask] ** slope, "k--", lw=0.9,
                label=f"fit: slope {slope:.2f}")
    ax.set(xscale="log", yscale="log", xlabel=xlabel, ylabel="final relative error")
    ax.legend(frameon=False)
    return ax


def phase_curves(ax, steps, curves: dict, *, title: str = "", ylabel: str = "", log_y: bool = False,
                 log_x: bool = False, styles: dict | None = None):
    """Several quantities recorded along one run (``curves``: label -> values) against the iteration,
    with optional per-label line styles (``styles``: label -> matplotlib keyword arguments);
    ``log_x``: linear up to 100 iterations, logarithmic after (long runs whose action is early)."""
    for label, values in curves.items():
        ax.plot(steps, values, label=label, lw=1.4, **(styles or {}).get(label, {}))
    if log_y:
        ax.set_yscale("log")
    return _label_iterations(ax, log_x, title, ylabel)


def error_by_width(ax, widths, errors, *, exact_floor: float | None = None):
    """Final error against the width ``k`` of the factor (log y); ``exact_floor`` marks rounding level."""
    ax.plot(widths, errors, "o-", ms=5, lw=1.3, color="tab:purple")
    if exact_floor is not None:
        ax.axhline(exact_floor, color="0.5", lw=0.8, ls=":", label="float64 rounding level")
        ax.legend(frameon=False)
    ax.set(xscale="log", yscale="log", xlabel="width k of the factor U", ylabel="final relative error")
    ax.set_xticks(widths, [str(k) for k in widths])
    ax.minorticks_off()
    return ax


def accuracy_with_seed_spread(ax, by_seed: dict, *, title: str, legend_outside: bool = False):
    """Per label ``(distances, accuracies (seeds, distances))``: each seed (faint dots), their mean (line)."""
    for i, (label, (distances, values)) in enumerate(by_seed.items()):
        x, values, colour = np.asarray(distances) + 0.4 * i, np.asarray(values), f"C{i}"  # side by side
        for row in values:
            ax.plot(x, row, "o", color=colour, alpha=0.35, ms=4)
        ax.plot(x, values.mean(0), marker="s", color=colour, label=f"{label} (mean of {len(values)} seeds)")
    ax.axhline(50, color="0.5", ls=":", lw=1.3, label="chance")
    ticks = sorted({int(d) for distances, _ in by_seed.values() for d in distances})
    ax.set(xlabel="dependency distance", ylabel="test accuracy (%)", title=title, xticks=ticks)
    legend_kw = {"loc": "center left", "bbox_to_anchor": (1.02, 0.5)} if legend_outside else {}
    ax.legend(frameon=False, **legend_kw)
    return ax


def gap_by_budget(ax, steps, gaps, *, title: str, legend_outside: bool = False):
    """Locality gap ``(steps, seeds)`` (accuracy at the shortest minus the longest distance) per seed and mean."""
    gaps = np.asarray(gaps)
    ax.plot(steps, gaps, color="0.6", lw=1, alpha=0.7)
    ax.plot(steps, gaps.mean(1), color="C3", lw=2.2, marker="o", label=f"mean of {gaps.shape[1]} seeds")
    ax.plot([], [], color="0.6", lw=1, label="each seed")
    ax.axhline(0, color="0.5", ls=":", lw=1.3)
    ax.set(xlabel="Adam steps (training budget)", ylabel="gap (points)", title=title)
    legend_kw = {"loc": "center left", "bbox_to_anchor": (1.02, 0.5)} if legend_outside else {}
    ax.legend(frameon=False, **legend_kw)
    return ax
