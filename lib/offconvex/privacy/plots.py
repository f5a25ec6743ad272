"""Figures of the InstaHide chapter: image galleries, label bars, accuracy and attack curves, seed scores."""

import numpy as np
from matplotlib.lines import Line2D


def show_image(ax, image: np.ndarray, title: str = "", symmetric: bool = False):
    """Show an (h, w) or (h, w, 3) image scaled to the display range; ``symmetric`` centres 0 on grey."""
    image = np.asarray(image, float)
    if symmetric:
        scale = np.abs(image).max() or 1.0
        shown = 0.5 + 0.5 * image / scale
    else:
        low, high = image.min(), image.max()
        shown = (image - low) / ((high - low) or 1.0)
    ax.imshow(shown, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    return ax


def label_bars(ax, label: np.ndarray, class_names: list[str], title: str = ""):
    """A (possibly mixed) label vector as bars over its classes."""
    ax.bar(np.arange(len(label)), label, color="C0")
    ax.set_xticks(np.arange(len(label)), class_names)
    ax.set_ylim(0, 1)
    ax.set_title(title)
    return ax


def accuracy_vs_k(ax, accuracies: dict, plain: np.ndarray):
    """Test accuracy against k: ``accuracies[mode] = (ks, per_seed (seeds, len(ks)))``; mean and range,
    with plain training (per seed) as a horizontal band."""
    for index, (mode, (ks, per_seed)) in enumerate(accuracies.items()):
        per_seed = np.atleast_2d(per_seed)
        ax.plot(ks, per_seed.mean(axis=0), "o-", color=f"C{index}", label=mode)
        ax.fill_between(ks, per_seed.min(axis=0), per_seed.max(axis=0), color=f"C{index}", alpha=0.2)
    ax.axhline(np.mean(plain), color="k", linestyle="--", label="plain training")
    ax.axhspan(np.min(plain), np.max(plain), color="k", alpha=0.1)
    ax.set_xlabel("k (images mixed)")
    ax.set_ylabel("clean test accuracy")
    ax.set_ylim(0, 1.02)
    ax.legend()
    return ax


def accuracy_vs_epochs(ax, epochs: np.ndarray, curves: dict, plain: np.ndarray):
    """Clean test accuracy during training: ``curves[name]`` over ``epochs``, plain training dashed black."""
    for index, (name, values) in enumerate(curves.items()):
        ax.plot(epochs, values, "o-", color=f"C{index}", markersize=3, label=name)
    ax.plot(epochs, plain, "k--", label="plain training")
    ax.set_xlabel("training epochs")
    ax.set_ylabel("clean test accuracy")
    ax.set_ylim(0, 1.02)
    ax.legend()
    return ax


def curves(ax, x: np.ndarray, series: dict, xlabel: str, ylabel: str, reference: float | None = None,
           reference_label: str = ""):
    """Several named curves over a common ``x`` with an optional horizontal reference line."""
    for index, (name, values) in enumerate(series.items()):
        ax.plot(x, values, "o-", color=f"C{index}", label=name)
    if reference is not None:
        ax.axhline(reference, color="k", linestyle=":", label=reference_label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    return ax


def seed_scores(ax, candidates: np.ndarray, scores: np.ndarray, secret: int):
    """The attacker's score of every candidate seed, with the secret seed marked."""
    ax.plot(candidates, scores, ".", markersize=2, color="C0", label="candidate seeds")
    ax.plot([secret], [scores[list(candidates).index(secret)]], "o", color="C3", label=f"secret seed {secret}")
    ax.set_xlabel("candidate seed")
    ax.set_ylabel("total variation after un-masking")
    ax.legend()
    return ax


def recovery_vs_epochs(ax, epochs, recovery: dict, no_attack: float, legend: bool = True):
    """Median recovery quality against T: one colour per scheme, dashed = true grouping, solid = estimated.

    ``legend=False`` leaves the key to ``recovery_legend`` (one compact legend for both recovery panels).
    """
    for index, (name, entry) in enumerate(recovery.items()):
        ax.plot(epochs, entry["true"], "s--", color=f"C{index}", alpha=0.7, label=f"{name}, true grouping")
        ax.plot(epochs, entry["grouped"], "o-", color=f"C{index}", label=f"{name}, correlation grouping")
    ax.axhline(no_attack, color="k", linestyle=":", label="average |digit| (no attack)")
    ax.set_xticks(epochs)
    ax.set_xlabel("T (encryptions of each image)")
    ax.set_ylabel("median corr(|recovered|, |P|)")
    if legend:
        ax.legend(ncol=2)
    return ax


def recovery_vs_grouping(ax, recovery: dict, no_attack: float, learned: tuple | None = None,
                         learned_scheme: str = "", legend: bool = True):
    """Recovery quality against grouping accuracy (true grouping at 1), colours as in recovery_vs_epochs."""
    names = list(recovery)
    for index, (name, entry) in enumerate(recovery.items()):
        ax.plot(entry["grouping_accuracy"], entry["grouped"], "o", color=f"C{index}", label=name)
        ax.plot(np.ones_like(entry["true"]), entry["true"], "s", color=f"C{index}", alpha=0.5)
    if learned is not None:
        color = f"C{names.index(learned_scheme)}" if learned_scheme in names else "k"
        ax.plot([learned[0]], [learned[1]], "*", color=color, markersize=14, markeredgecolor="k",
                label=f"{learned_scheme}, learned similarity")
    ax.axhline(no_attack, color="k", linestyle=":")
    ax.set_xlabel("grouping accuracy (squares: true grouping)")
    ax.set_ylabel("median corr(|recovered|, |P|)")
    if legend:
        ax.legend()
    return ax


def recovery_legend(fig, names: list[str], learned_scheme: str | None = None, ncols: int = 4):
    """One legend under both recovery panels: a colour per scheme, then what each marker and line means.

    Colours follow the order of ``names`` as in ``recovery_vs_epochs``; ``learned_scheme`` adds the star.
    """
    handles = [Line2D([], [], color=f"C{index}", linewidth=4, label=name) for index, name in enumerate(names)]
    handles += [Line2D([], [], color="gray", marker="s", linestyle="--", alpha=0.7, label="true grouping"),
                Line2D([], [], color="gray", marker="o", label="correlation grouping")]
    if learned_scheme is not None:
        color = f"C{names.index(learned_scheme)}" if learned_scheme in names else "k"
        handles.append(Line2D([], [], color=color, marker="*", markersize=12, markeredgecolor="k",
                              linestyle="none", label=f"learned similarity ({learned_scheme})"))
    handles.append(Line2D([], [], color="k", linestyle=":", label="average |digit| (no attack)"))
    return fig.legend(handles=handles, loc="outside lower center", ncols=ncols)
