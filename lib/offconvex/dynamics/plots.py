"""Plots for optimization dynamics: paths on a 2-D landscape and labelled curves over time.

Each function takes data and an ``ax`` and returns the ``ax``; nothing here computes. ``legend=False``
leaves the legend to the caller (e.g. one legend for a whole figure, outside the data).
"""

import matplotlib.ticker
import numpy as np


def plot_landscape_paths(ax, grid_x, grid_y, values, flows: dict, iterates: dict, levels: int = 25,
                         legend: bool = True):
    """Contours of a 2-D objective with continuous flows (lines) and discrete iterates (dots).

    grid_x (nx,), grid_y (ny,), values (ny, nx); flows / iterates map a label to a (T, 2) path.
    """
    ax.contour(grid_x, grid_y, values, levels=levels, colors="0.8", linewidths=0.7)
    for label, path in flows.items():
        ax.plot(path[:, 0], path[:, 1], lw=2, label=label)
    for label, path in iterates.items():
        ax.plot(path[:, 0], path[:, 1], "o", ms=3.5, alpha=0.8, label=label)
    ax.set_xlabel(r"$\theta_1$")
    ax.set_ylabel(r"$\theta_2$")
    if legend:
        ax.legend(loc="best")
    return ax


def plot_curves(ax, x, curves: dict, xlabel: str, ylabel: str, log_y: bool = False, styles: dict | None = None,
                legend: bool = True):
    """One line per ``curves`` entry (label -> (T,) values over ``x`` (T,)), optionally on a log y-axis.

    ``styles`` optionally maps a label to matplotlib keyword arguments (e.g. dashed for a bound).
    """
    styles = styles or {}
    for label, values in curves.items():
        ax.plot(x if np.ndim(x) == 1 else x[label], values, label=label, **styles.get(label, {}))
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if legend:
        ax.legend(loc="best")
    return ax


def plot_points_by_group(ax, x_by_group: dict, y_by_group: dict, xlabel: str, ylabel: str, log_x: bool = False,
                         range_by_group: dict | None = None, legend: bool = True):
    """Markers joined by lines, one group per key (e.g. test error against sample size per model).

    ``range_by_group[key] = (low, high)`` shades the spread around each line (e.g. over seeds).
    """
    for label, xs in x_by_group.items():
        line, = ax.plot(xs, y_by_group[label], "o-", label=label)
        if range_by_group and label in range_by_group:
            ax.fill_between(xs, *range_by_group[label], color=line.get_color(), alpha=0.2, lw=0)
    if log_x:
        ax.set_xscale("log")
        # label exactly the x values plotted: the default minor labels overlap on short log ranges
        ticks = sorted({float(x) for xs in x_by_group.values() for x in xs})
        ax.set_xticks(ticks, [f"{x:g}" for x in ticks])
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if legend:
        ax.legend(loc="best")
    return ax


def label_log_axis(axis, subs=(1.0, 2.0, 5.0)):
    """Plain labels at 1, 2, 5 × 10^k on a log axis spanning a decade or two.

    matplotlib's default labels such a short axis with crowded minor labels (2×10⁻¹, 3×10⁻¹, ...).
    ``axis`` is ``ax.xaxis`` or ``ax.yaxis``.
    """
    axis.set_major_locator(matplotlib.ticker.LogLocator(base=10, subs=subs))
    axis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:g}"))
    axis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    return axis


def plot_eigenvalue_pairs(ax, exact: dict, approximate: dict, xlabel: str, ylabel: str):
    """Scatter of paired eigenvalues (approximate against exact), one marker set per key, with y = x.

    exact / approximate map a label (e.g. a layer) to (k,) eigenvalues, both sorted decreasingly.
    """
    for label, values in exact.items():
        ax.plot(values, approximate[label], "o", ms=4, label=label)
    everything = np.concatenate([np.ravel(v) for v in (*exact.values(), *approximate.values())])
    span = [everything.min() * 0.8, everything.max() * 1.25]
    ax.plot(span, span, color="0.6", lw=1, ls="--", label="y = x")
    ax.set_xscale("log")
    ax.set_yscale("log")
    for axis in (ax.xaxis, ax.yaxis):  # one or two decades: default minor labels would overlap
        label_log_axis(axis)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(loc="upper left", frameon=False)
    return ax


def plot_grouped_bars(ax, groups, series: dict, ylabel: str, log_y: bool = False, markers: dict | None = None,
                      legend_columns: int = 1):
    """Bars of several series side by side over ``groups`` (e.g. layers); series maps a label to (G,) values.

    ``markers`` optionally maps a label to (G,) reference values drawn as short black ticks (e.g. chance).
    The legend goes above the bars, in ``legend_columns`` columns; leave headroom with ``set_ylim``.
    """
    width = 0.8 / len(series)
    positions = np.arange(len(groups))
    for j, (label, values) in enumerate(series.items()):
        ax.bar(positions + (j - (len(series) - 1) / 2) * width, values, width, label=label)
    for label, values in (markers or {}).items():
        ax.plot(positions, values, "_", color="k", ms=18, mew=2, label=label)
    ax.set_xticks(positions, groups)
    if log_y:
        ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    ax.legend(loc="upper center", frameon=False, fontsize=7, ncols=legend_columns)
    return ax


def plot_pixel_image(ax, image: np.ndarray, title: str):
    """A small image (e.g. an 8 × 8 input-side factor) on a symmetric diverging colour scale, no ticks."""
    limit = float(np.max(np.abs(image)))
    ax.imshow(image, cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.set_title(title, fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax
