"""One matplotlib style for every figure: sized for the book's page, deterministic bytes, opaque.

The page decides the figure, not the chapter: every figure is at most ``PAGE_WIDTH`` inches wide and is
saved at ``DPI`` pixels per inch, and the page shows it at ``DISPLAY_PX_PER_INCH`` CSS pixels per inch
(half its pixels: sharp on high-density screens). A text of ``s`` points is then ``s * 100 / 72`` CSS
pixels tall on the page, so ``MIN_TEXT_PT`` = 7 keeps every label at 9.7 px or more at 1280 px.
"""

import matplotlib as mpl
import matplotlib.pyplot as plt

PAGE_WIDTH = 6.7  # inches: the text column of a chapter page at 1280 px (672 CSS px) at 100 px per inch
DPI = 200
DISPLAY_PX_PER_INCH = 100
MIN_TEXT_PT = 7.0
MIN_TEXT_CSS_PX = 9.0  # what a reader can still read; MIN_TEXT_PT * DISPLAY_PX_PER_INCH / 72 stays above it

RC = {
    "font.family": "DejaVu Sans",  # ships with matplotlib: no system-font lottery
    "mathtext.fontset": "dejavusans",
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.title_fontsize": 8,
    "figure.titlesize": 10,
    "lines.linewidth": 1.3,
    "svg.hashsalt": "offconvex",
    "svg.fonttype": "path",
    "figure.dpi": DISPLAY_PX_PER_INCH,
    "savefig.dpi": DPI,
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


def figure(nrows: int = 1, ncols: int = 1, *, height: float, width: float = PAGE_WIDTH, **subplots):
    """``plt.subplots`` for a figure the page shows legibly: ``width`` ≤ the page, constrained layout.

    ``height`` is the whole figure's height in inches; ``subplots`` passes on (``sharex``,
    ``gridspec_kw``, ...). Panels narrower than about 2.2 in leave no room for tick labels at the
    book's font sizes: put more than three in two rows.
    """
    if width > PAGE_WIDTH + 1e-9:
        raise ValueError(f"a figure {width:g} in wide does not fit the page ({PAGE_WIDTH:g} in): "
                         f"use width ≤ {PAGE_WIDTH:g} and put panels in more rows")
    subplots.setdefault("layout", "constrained")
    return plt.subplots(nrows, ncols, figsize=(width, height), **subplots)


def text_sizes(fig) -> list[tuple[float, str]]:
    """(size in points, text) of every visible non-empty text of ``fig``, smallest first."""
    texts = fig.findobj(lambda artist: isinstance(artist, mpl.text.Text))
    return sorted((t.get_fontsize(), t.get_text()) for t in texts if t.get_visible() and t.get_text().strip())


def check_legible(fig, figure_id: str) -> float:
    """Raise a one-line error when ``fig`` would be shrunk on the page or holds text below MIN_TEXT_PT.

    Returns the smallest text size in points (the page records it; the browser test measures it).
    """
    width = fig.get_size_inches()[0]
    if width > PAGE_WIDTH + 1e-6:
        raise ValueError(f"figure {figure_id!r} is {width:.3g} in wide; the page holds {PAGE_WIDTH:g} in "
                         f"(make it with book.figure(..., height=...) and put panels in rows)")
    sizes = text_sizes(fig)
    if sizes and sizes[0][0] < MIN_TEXT_PT - 1e-9:
        size, text = sizes[0]
        raise ValueError(f"figure {figure_id!r}: text {text[:40]!r} is {size:.3g} pt, below the book's "
                         f"legible minimum {MIN_TEXT_PT:g} pt (offconvex.book.style)")
    return sizes[0][0] if sizes else float("nan")
