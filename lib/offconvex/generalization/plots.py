"""Plots for the generalization chapters (Rip van Winkle's razor; predicting generalization with GANs).

Each function takes data already computed and an ``ax`` and returns the ``ax``.
"""

import numpy as np


def plot_curves(ax, x, curves: dict, *, xlabel: str, ylabel: str, logx=True, logy=False, styles=None,
                legend=True):
    """One line per entry of ``curves`` (label -> (n,) array over ``x`` (n,)); ``styles`` label -> kwargs.

    ``legend``: True for a legend where matplotlib finds room, a dict of ``ax.legend`` options (e.g. a
    ``loc`` in an empty corner), or False when the caller draws one legend for the whole figure.
    """
    styles = styles or {}
    for label, values in curves.items():
        ax.plot(x, values, label=label, **styles.get(label, {}))
    ax.set_xscale("log" if logx else "linear")
    ax.set_yscale("log" if logy else "linear")
    ax.set(xlabel=xlabel, ylabel=ylabel)
    if legend:
        ax.legend(**(legend if isinstance(legend, dict) else {}))
    return ax


def mark_points(ax, x, y, labels, *, offsets=None, marker="*", color="black"):
    """Reported values (e.g. the post's numbers) as labelled markers; ``offsets`` in points per label."""
    ax.scatter(x, y, marker=marker, color=color, s=90, zorder=5)
    offsets = offsets or [(6, -12)] * len(labels)
    for xi, yi, text, offset in zip(x, y, labels, offsets, strict=True):
        ax.annotate(text, (xi, yi), textcoords="offset points", xytext=offset, fontsize=8)
    return ax


def plot_predicted_vs_true(ax, predicted, true, groups, fit=None, *, xlabel: str, ylabel: str, legend=True,
                           band=None, hollow=None, true_on_x=False, top=None):
    """Scatter of ``predicted`` (n,) against ``true`` (n,) errors, coloured by ``groups`` (n,) of str.

    Draws y = x, and a shaded strip y = x +- ``band`` when given; ``fit = (slope, intercept)`` adds a line.
    ``hollow`` (n,) bool draws those points as open circles (e.g. members a baseline was fitted on).
    ``true_on_x`` puts the true error on the x axis (default: on the y axis); ``top`` fixes both limits.
    ``legend=False`` leaves the legend to the caller (one for several panels: ``fig.legend``).
    """
    predicted, true, groups = np.asarray(predicted), np.asarray(true), np.asarray(groups)
    hollow = np.zeros(len(true), bool) if hollow is None else np.asarray(hollow, bool)
    x, y = (true, predicted) if true_on_x else (predicted, true)
    top = 1.05 * max(predicted.max(), true.max()) if top is None else top
    if band is not None:
        ax.fill_between([0, top], [-band, top - band], [band, top + band], color="gray", alpha=0.18, lw=0,
                        label=f"y = x ± {band:g}")
    for index, group in enumerate(dict.fromkeys(groups)):
        color = f"C{index}"
        chosen = (groups == group) & ~hollow
        ax.scatter(x[chosen], y[chosen], label=group, s=24, alpha=0.85, color=color)
        chosen = (groups == group) & hollow
        if chosen.any():
            ax.scatter(x[chosen], y[chosen], s=24, facecolors="none", edgecolors=color, linewidths=1)
    ax.plot([0, top], [0, top], color="gray", linestyle="--", label="y = x")
    if fit is not None:
        ax.plot([0, top], [fit[1], fit[1] + fit[0] * top], color="black", linewidth=1, label="linear fit")
    ax.set(xlim=(0, top), ylim=(0, top), xlabel=xlabel, ylabel=ylabel, aspect="equal")
    if legend:
        ax.legend(loc="lower right")
    return ax


def plot_image_grid(ax, images, labels=None, *, columns: int, image_shape=(8, 8)):
    """Tile ``images`` (n, prod(image_shape)) in rows of ``columns``; ``labels`` (n,) become row titles."""
    images = np.asarray(images).reshape(-1, *image_shape)
    rows = int(np.ceil(len(images) / columns))
    canvas = np.ones((rows * (image_shape[0] + 1), columns * (image_shape[1] + 1)))
    for index, image in enumerate(images):
        row, col = divmod(index, columns)
        top, left = row * (image_shape[0] + 1), col * (image_shape[1] + 1)
        canvas[top:top + image_shape[0], left:left + image_shape[1]] = 1 - image
    ax.imshow(canvas, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.grid(False)
    if labels is not None:
        row_labels = np.asarray(labels)[::columns]
        ax.set_yticks((np.arange(rows) + 0.5) * (image_shape[0] + 1), [str(x) for x in row_labels])
    else:
        ax.set_yticks([])
    ax.set_xticks([])
    return ax


def plot_bars(ax, names, values, *, ylabel: str, colors=None, rotation=20):
    """Bar chart of ``values`` (n,) named by ``names`` (n,); ``rotation=0`` when the names fit level."""
    ax.bar(np.arange(len(values)), values, color=colors)
    ax.set_xticks(np.arange(len(values)), names, rotation=rotation, ha="right" if rotation else "center")
    ax.set(ylabel=ylabel)
    return ax
