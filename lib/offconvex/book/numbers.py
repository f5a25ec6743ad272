"""Numbers as a reader sees them: significant digits, not the float's last bits.

One formatter for the claims tables, the gallery and the reproducibility report. Four significant
digits by default; a value within a few units of the last float bit of a round number shows as that
number (``52.999996185302734`` is float32 rounding of 53, printed ``53``).
"""

import math

SIGNIFICANT = 4
SHOWN_ITEMS = 8  # of a list: the rest is elided


def format_number(value, significant: int = SIGNIFICANT) -> str:
    """``value`` with ``significant`` digits: 0.002855, 34.9, 53, 1.2e-07, nan, inf; ints and bools as is."""
    if isinstance(value, int):  # bools too
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return f"{value:.{significant}g}"
    if isinstance(value, (list, tuple)):
        shown = ", ".join(format_number(item, significant) for item in value[:SHOWN_ITEMS])
        return f"[{shown}{', …' if len(value) > SHOWN_ITEMS else ''}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {format_number(item, significant)}" for key, item in value.items()) + "}"
    return str(value)


def format_measured(measured: dict) -> str:
    """'gap = 0.1234; steps = 358' for a claim's measured numbers."""
    return "; ".join(f"{name} = {format_number(value)}" for name, value in measured.items())
