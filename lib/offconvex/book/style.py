"""One matplotlib style for every figure: deterministic bytes, readable in dark mode."""

import matplotlib as mpl

RC = {
    "font.family": "DejaVu Sans",  # ships with matplotlib: no system-font lottery
    "mathtext.fontset": "dejavusans",
    "svg.hashsalt": "offconvex",
    "svg.fonttype": "path",
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.facecolor": "white",  # opaque: readable on the dark theme too
    "savefig.facecolor": "white",
    "axes.facecolor": "white",
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "text.usetex": False,
    "image.cmap": "viridis",
}

# No software version or date in the files: the same figure must give the same bytes.
PNG_METADATA = {"Software": None}


def apply_style() -> None:
    """Install the book's rcParams in the current process."""
    mpl.rcParams.update(RC)
