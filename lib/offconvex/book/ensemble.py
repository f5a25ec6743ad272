"""Ensemble consistency: what a figure says, and how far rounding alone moves it (README, "Figure regression").

The idea is the climate modellers' ensemble consistency test (CESM-ECT): instead of asking for bitwise
identical output, run the accepted code several times with its floating-point draws nudged at the
rounding level (``PERTURBATION = 1, 2, ...``, see ``offconvex.core.random``), record how far each feature of
each figure moves, and accept a new run whose features stay within a margin of that spread.

Pure functions over the JSON records that ``book.save_figure`` and ``book.claim`` write:
``features`` turns a figure into named arrays on fixed grids (curves whose length depends on a
stopping rule are interpolated on a common grid of steps, their last step kept as a feature of its
own); ``spread`` measures the ensemble; ``excess`` says, per feature, how far a new value lies outside
the accepted band, in units of the ensemble's spread.
"""

import math

import numpy as np

MARGIN = 6.0  # accepted band: MARGIN x the ensemble's spread, plus the figure's floor (README: how it was chosen)
# A few members estimate each element's spread poorly (the elements of a curve near a jump that one member
# happens to make 100 steps later; the last step of a stopping rule). The spread an element is judged by is
# therefore pooled from its neighbours (WINDOW: a fraction of the array's length along its first axis), from
# its array (at least POOL x the array's largest spread), and, for the last steps of stopped runs, from the
# other runs of the figure (the same relative spread). Measured by holding members out (README).
WINDOW = 0.02
POOL = 0.1
SPREAD_DIGITS = 3  # spreads are measurements; stored rounded up to this many significant digits


def flatten(data: dict, prefix: str = "") -> dict:
    """Nested dicts of arrays as one level: ``{"a": {"b": x}}`` -> ``{"a/b": x}``."""
    flat = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, name + "/"))
        else:
            flat[name] = value
    return flat


def numeric(value) -> np.ndarray | None:
    """The value as a float array, or None when it is not numbers (strings, ragged lists)."""
    if isinstance(value, str) or value is None:
        return None
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None
    return array


def on_grid(steps, values, grid) -> np.ndarray:
    """``values`` (T,) or (T, k) recorded at ``steps``, linearly interpolated on ``grid``; held constant
    beyond the last step (the run has stopped: its curve ends at the value it stopped with)."""
    steps, values, grid = np.asarray(steps, float), np.asarray(values, float), np.asarray(grid, float)
    if values.ndim == 1:
        return np.interp(grid, steps, values)
    columns = values.reshape(len(steps), -1)
    return np.stack([np.interp(grid, steps, column) for column in columns.T], axis=1).reshape(
        (len(grid),) + values.shape[1:])


def last_step_name(steps_name: str) -> str:
    return f"{steps_name}[last]"


def features(record: dict, grids: dict | None = None) -> dict:
    """What a figure says, by name: its arrays, its curves on ``grids``, its curves' last steps.

    ``grids`` maps each steps array named in ``record["curves"]`` to the grid its curves are compared on;
    without it, a curve's own steps are its grid.
    """
    data, curves = flatten(record["data"]), record.get("curves", {})
    steps_names = set(curves.values())
    found = {}
    for name, value in data.items():
        if name in curves:
            steps = data[curves[name]]
            grid = (grids or {}).get(curves[name], steps)
            found[name] = on_grid(steps, value, grid)
        elif name in steps_names:
            found[last_step_name(name)] = np.asarray(value, float)[-1:]
        else:
            array = numeric(value)
            found[name] = value if array is None else array
    return found


def common_grids(records: list[dict]) -> dict:
    """For each steps array of the records' curves, the union of the steps every record reached."""
    names = set(records[0].get("curves", {}).values())
    return {name: np.unique(np.concatenate([np.asarray(flatten(r["data"])[name], float) for r in records]))
            for name in sorted(names)}


def distance(reference: np.ndarray, member: np.ndarray) -> np.ndarray:
    """|member - reference| elementwise; 0 where both are NaN, inf where only one is."""
    reference, member = np.asarray(reference, float), np.asarray(member, float)
    same = (reference == member) | (np.isnan(reference) & np.isnan(member))  # equal infinities too
    with np.errstate(invalid="ignore"):
        difference = np.array(np.abs(member - reference), ndmin=1).reshape(reference.shape)
    difference[np.isnan(difference)] = np.inf  # NaN in one run only, or opposite infinities
    difference[same] = 0.0
    return difference


def round_up(values: np.ndarray, digits: int = SPREAD_DIGITS) -> np.ndarray:
    """Positive values rounded up to ``digits`` significant digits (a stored spread never shrinks beyond
    float noise); zero, inf and NaN stay as they are."""
    values = np.asarray(values, float)
    out = values.copy()
    for index in np.ndindex(values.shape):
        if not (np.isfinite(values[index]) and values[index] > 0):
            continue
        exponent = int(np.floor(np.log10(values[index]))) - (digits - 1)
        mantissa = int(np.ceil(values[index] / 10.0**exponent * (1 - 1e-12)))
        out[index] = float(f"{mantissa}e{exponent}")
    return out


class ShapeMismatch(ValueError):
    """A member's feature has another shape than the reference's: declare it as a curve."""


def spread(reference: dict, members: list[dict]) -> dict:
    """Per feature, the largest distance of any member from the reference (elementwise).

    Non-numeric features must agree across members; a feature that is NaN in some runs and not in
    others gets an infinite spread there (the ensemble accepts either).
    """
    result = {}
    for name, value in reference.items():
        if not isinstance(value, np.ndarray):
            continue
        largest = np.zeros(value.shape)
        for index, member in enumerate(members, 1):
            other = member.get(name)
            if not isinstance(other, np.ndarray):
                raise ShapeMismatch(f"{name}: not produced by ensemble member {index}")
            if other.shape != value.shape:
                raise ShapeMismatch(f"{name}: shape {other.shape} in ensemble member {index}, {value.shape} "
                                    f"in the published run")
            largest = np.maximum(largest, distance(value, other))
        result[name] = largest
    return result


def effective_spread(spreads: dict, references: dict, window: float = WINDOW, pool: float = POOL) -> dict:
    """The spread each element is judged by: its own, pooled as described at WINDOW and POOL."""
    from scipy.ndimage import maximum_filter1d

    pooled = {}
    for name, spread in spreads.items():
        spread = np.asarray(spread, float)
        if spread.ndim >= 1 and spread.shape[0] > 1 and window > 0:
            reach = max(1, int(round(window * spread.shape[0])))
            spread = maximum_filter1d(spread, size=2 * reach + 1, axis=0, mode="nearest")
        if spread.size and pool > 0:
            spread = np.maximum(spread, pool * np.nanmax(spread))
        pooled[name] = spread
    last_steps = [name for name in spreads if name.endswith("[last]")]
    relative = [float(np.nanmax(np.asarray(spreads[name], float) / np.maximum(np.abs(references[name]), 1e-300)))
                for name in last_steps]
    for name in last_steps:  # stopped runs of one figure share their rounding sensitivity
        pooled[name] = np.maximum(pooled[name], max(relative) * np.abs(references[name]))
    return pooled


def band(reference: np.ndarray, spread_values: np.ndarray, margin: float, rtol: float, atol: float) -> np.ndarray:
    """Accepted distance from the reference: ``margin`` x spread plus the floor ``atol + rtol |reference|``."""
    with np.errstate(invalid="ignore"):
        return margin * spread_values + atol + rtol * np.nan_to_num(np.abs(reference))


def excess(reference: np.ndarray, value: np.ndarray, spread_values: np.ndarray, margin: float, rtol: float,
           atol: float) -> tuple[np.ndarray, np.ndarray]:
    """``(ratio, outside)``: distance in units of the spread (inf where the spread is 0), and which
    elements lie outside the accepted band."""
    moved = distance(reference, value)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(moved == 0, 0.0, moved / spread_values)
        outside = moved > band(reference, spread_values, margin, rtol, atol)
    return ratio, outside


def describe_ratio(ratio: float) -> str:
    if math.isinf(ratio):
        return "the ensemble never moved it"
    return f"{ratio:.3g}x the ensemble's spread"


# --- images: a pixel envelope ---------------------------------------------------------------------
# Where rounding moves a curve, an RMS against one image says little (a jump that comes 50 steps later
# repaints a whole band). The ensemble's images instead give, per pixel, the darkest and lightest value any
# member drew there, widened by 1/100 inch each way, one pixel as the page shows it (a sub-pixel shift
# re-antialiases a line's edge); a new image is accepted when no more than a measured number of its pixels
# leave that envelope.
PIXEL_SLACK = 32  # grey levels (of 255) a pixel may lie beyond the envelope before it counts as outside
ENVELOPE_RADIUS = 2  # pixels of the saved image: 1/100 in at the style's 200 dpi


def image_envelope(images: list[np.ndarray], radius: int = ENVELOPE_RADIUS) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel (low, high) over ``images`` (H, W, C uint8), widened by ``radius`` pixels."""
    from scipy.ndimage import maximum_filter, minimum_filter

    stack = np.stack(images)
    size = (2 * radius + 1, 2 * radius + 1, 1)
    return minimum_filter(stack.min(axis=0), size=size), maximum_filter(stack.max(axis=0), size=size)


def pixels_outside(image: np.ndarray, low: np.ndarray, high: np.ndarray, slack: int = PIXEL_SLACK) -> np.ndarray:
    """Boolean (H, W): pixels with a channel more than ``slack`` levels outside [low, high]."""
    image, low, high = (np.asarray(a, np.int16) for a in (image, low, high))
    return ((image < low - slack) | (image > high + slack)).any(axis=-1)
