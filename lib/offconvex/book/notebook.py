"""What a chapter notebook calls: start, save_figure, claim, claims_table.

The runner tells the kernel where to write through environment variables (OFFCONVEX_FIGURE_DIR,
OFFCONVEX_COMMIT); run by hand, a notebook writes to ``_build/scratch/<slug>/`` so that nothing
published is overwritten.
"""

import base64
import html
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from offconvex.book.claims import claims_tables
from offconvex.book.offline_math import CDN_FONT_AWESOME
from offconvex.book.project import Project, check_profile
from offconvex.book.provenance import git_commit
from offconvex.book.style import DISPLAY_PX_PER_INCH, DPI, PNG_METADATA, apply_style, check_legible
from offconvex.core.random import perturb_draws, use_deterministic_torch

FIGURE_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass
class _Session:
    slug: str
    profile: str
    seed: int
    out: Path
    commit: str
    claims: list = field(default_factory=list)
    figures: list = field(default_factory=list)


_session: _Session | None = None


def start(slug: str, profile: str, seed: int, threads: int | None = None, *, perturbation: int = 0) -> _Session:
    """Begin a chapter: check the profile, pin threads, make torch deterministic, apply the style.

    ``perturbation`` (the notebook's ``PERTURBATION`` parameter) makes the run an ensemble member of
    ``make baselines``: k > 0 nudges every floating-point draw at the rounding level (offconvex.core.random).
    """
    global _session
    check_profile(profile)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"SEED must be an int, got {seed!r}")
    perturb_draws(perturbation)
    threads = threads or int(os.environ.get("OFFCONVEX_THREADS", "1"))
    import torch

    torch.set_num_threads(threads)
    use_deterministic_torch(True)
    torch.set_flush_denormal(True)  # tiny products of small-init factors otherwise cost 5x in denormals
    apply_style()
    project = Project.default()
    out = Path(os.environ.get("OFFCONVEX_FIGURE_DIR") or project.build / "scratch" / slug)
    out.mkdir(parents=True, exist_ok=True)
    (out / "claims.json").unlink(missing_ok=True)
    commit = os.environ.get("OFFCONVEX_COMMIT") or git_commit(project.root)
    _session = _Session(slug, profile, seed, out, commit)
    return _session


def _current() -> _Session:
    if _session is None:
        raise RuntimeError("call offconvex.book.start(slug, PROFILE, SEED) first")
    return _session


def by_profile(profile: str, **choices):
    """The value for ``profile`` among ``smoke=..., book=..., paper=...`` (all three required)."""
    check_profile(profile)
    missing = {"smoke", "book", "paper"} - set(choices)
    if missing:
        raise ValueError(f"by_profile needs a value for every profile; missing {sorted(missing)}")
    return choices[profile]


def to_jsonable(value):
    """Arrays become nested lists of Python floats/ints; NaN stays NaN (Python's json reads it back)."""
    if isinstance(value, dict):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(item) for item in value]
    if hasattr(value, "detach"):  # torch tensor
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value)
    if isinstance(value, str) or value is None:
        return value
    raise TypeError(f"cannot store {type(value).__name__} in figure data; use arrays, numbers or strings")


def _hide_text(fig) -> None:
    for text in fig.findobj(lambda artist: isinstance(artist, plt.Text)):
        text.set_visible(False)


def _figure_html(png: Path, figure_id: str, caption: str, provenance: str, smallest_pt: float) -> str:
    # id = the figure id: a stable anchor (chapter.html#fig1-...) that the gallery links to. Shown at
    # DISPLAY_PX_PER_INCH (half its pixels) within the column; the button opens it at full size (site.py).
    data = base64.b64encode(png.read_bytes()).decode()
    alt = html.escape(caption, quote=True)
    width = _png_width(png) * DISPLAY_PX_PER_INCH // DPI
    return (
        f'<figure class="offconvex-figure" id="{figure_id}" data-dpi="{DPI}" '
        f'data-smallest-text-pt="{smallest_pt:g}">'
        f'<button type="button" class="offconvex-enlarge" title="Show the figure at full size">'
        f'<img src="data:image/png;base64,{data}" alt="{alt}" width="{width}"/></button>'
        f"<figcaption>{html.escape(caption)} <small><em>{html.escape(provenance)}</em></small>"
        f"</figcaption></figure>"
    )


def _png_width(png: Path) -> int:
    # The IHDR chunk: 8-byte signature, 4-byte length, "IHDR", then the width as a big-endian uint32.
    return int.from_bytes(png.read_bytes()[16:20], "big")


def save_figure(fig, figure_id: str, *, data: dict, caption: str, rtol: float = 1e-9, atol: float = 1e-12,
                tolerances: dict | None = None, image_rms: float = 1.0, curves: dict | None = None) -> None:
    """Write ``<id>.png``, a text-free ``<id>.notext.png`` and ``<id>.json`` (the data plotted), then show it.

    ``rtol``/``atol`` are the floor of the regression tolerance: how far a value that the rounding
    ensemble of ``make baselines`` does not move may still differ (closed forms, exact quadrature); the
    ensemble's measured spread is added on top (README, "Figure regression"). ``tolerances`` overrides
    them per array (``{"loss": (rtol, atol)}``); ``image_rms`` bounds the RMS pixel difference of the
    text-free image when rounding never changes it (else the ensemble's pixel envelope decides).
    ``curves`` maps arrays recorded along a run to the array of their steps (``{"loss": "steps"}``) when a
    stopping rule makes their length run-dependent: they are then compared on a common grid of steps,
    and the last step as a feature of its own.
    """
    session = _current()
    if not FIGURE_ID.match(figure_id):
        raise ValueError(f"figure id {figure_id!r} must be lowercase letters, digits and dashes")
    if figure_id in session.figures:
        raise ValueError(f"figure id {figure_id!r} saved twice in {session.slug}")
    if not data:
        raise ValueError(f"figure {figure_id!r} needs the data it plots (data={{...}}) for regression")
    for name, steps in (curves or {}).items():
        if name not in data or steps not in data:
            raise ValueError(f"figure {figure_id!r}: curve {name!r} over {steps!r} names an array not in data")
    record = {
        "id": figure_id,
        "caption": caption,
        "profile": session.profile,
        "seed": session.seed,
        "tolerance": {
            "rtol": rtol,
            "atol": atol,
            "arrays": {name: list(pair) for name, pair in (tolerances or {}).items()},
            "image_rms": image_rms,
        },
        "data": to_jsonable(data),
    }
    if curves:
        record["curves"] = dict(curves)
    png = session.out / f"{figure_id}.png"
    fig.savefig(png, metadata=PNG_METADATA)
    smallest_pt = check_legible(fig, figure_id)  # after savefig: tick labels exist once drawn
    _hide_text(fig)
    fig.savefig(session.out / f"{figure_id}.notext.png", metadata=PNG_METADATA)
    (session.out / f"{figure_id}.json").write_text(json.dumps(record, indent=1, allow_nan=True))
    plt.close(fig)
    session.figures.append(figure_id)
    provenance = f"Profile {session.profile}, seed {session.seed}, commit {session.commit}."
    # Nothing returned: as a cell's last line, a path would print the kernel's staging folder on the page.
    _display({"text/html": _figure_html(png, figure_id, caption, provenance, smallest_pt), "text/plain": caption})


def show_animation(animation, caption: str) -> None:
    """Show a matplotlib animation as a captioned player whose frames carry ``caption`` as alt text.

    The player works offline: matplotlib links Font Awesome from a CDN; the link is dropped here (the
    book's theme has the icons), as the site build does for any page (``offline_math``).
    """
    player = animation.to_jshtml()
    player = CDN_FONT_AWESOME.sub("", player)
    player = player.replace("<img id=", f'<img alt="{html.escape(caption, quote=True)}" id=', 1)
    # matplotlib's slider has no label: screen readers would announce an unnamed control.
    player = player.replace('<input id="_anim_slider', '<input aria-label="animation frame" id="_anim_slider', 1)
    _display({"text/html": f'<figure class="offconvex-animation">{player}'
                           f"<figcaption>{html.escape(caption)}</figcaption></figure>",
              "text/plain": caption})


def _display(bundle: dict) -> None:
    try:
        from IPython.display import display
    except ImportError:  # plain Python: nothing to show
        return
    display(bundle, raw=True)


def claim(text: str, passed, *, not_reproduced: str | None = None, figure: str | None = None,
          **measured) -> None:
    """Record one claim of the post, judged on ``measured`` numbers computed by the notebook.

    ``not_reproduced`` (a reason) marks a claim the reproduction honestly does not support at this
    scale: it is shown as not reproduced with its numbers, and CI checks that it still fails the same way.
    ``figure`` names the figure the claim is about (the gallery shows it there); by default the figure
    saved most recently, or none when no figure has been saved yet. Returns nothing: as a cell's last
    line it prints nothing on the page.
    """
    _record(text, passed, "claim", not_reproduced, figure, measured)


def sanity_check(text: str, passed, *, figure: str | None = None, **measured) -> None:
    """Record a check that is not a claim of the post: an identity, a setting, a conservation law.

    It is judged and regressed like a claim, but listed apart, so that "claims reproduced" counts only
    what the post asserts.
    """
    _record(text, passed, "sanity", None, figure, measured)


def _record(text: str, passed, kind: str, not_reproduced: str | None, figure: str | None,
            measured: dict) -> None:
    session = _current()
    if not isinstance(passed, (bool, np.bool_)):
        raise TypeError(f"claim {text!r}: passed must be a bool, got {type(passed).__name__}")
    if any(existing["text"] == text for existing in session.claims):
        raise ValueError(f"claim recorded twice: {text!r}")
    if figure is not None and figure not in session.figures:
        raise ValueError(f"claim {text!r}: figure {figure!r} has not been saved yet "
                         f"(saved so far: {', '.join(session.figures) or 'none'})")
    passed = bool(passed)
    status = "pass" if passed else ("not-reproduced" if not_reproduced else "fail")
    entry = {"text": text, "passed": passed, "status": status, "measured": to_jsonable(measured),
             "figure": figure or (session.figures[-1] if session.figures else None)}
    if kind == "sanity":
        entry["sanity"] = True
    if not_reproduced:
        entry["reason"] = not_reproduced
    session.claims.append(entry)
    (session.out / "claims.json").write_text(json.dumps(session.claims, indent=1, allow_nan=True))


def claims_table() -> None:
    """Show the post's claims and, apart, the sanity checks, each with a status badge and the numbers it
    was judged on (the chapter's last cell; `make book` adds each claim's verdicts at other seeds)."""
    session = _current()
    _display(claims_tables(session.claims, session.profile, session.seed))
