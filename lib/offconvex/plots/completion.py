"""Plots for matrix and tensor completion: an entry against the loss, error and rank against data size."""

import numpy as np
from matplotlib.collections import LineCollection


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
