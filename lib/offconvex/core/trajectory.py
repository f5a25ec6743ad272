"""One generic loop for iterative methods written as ``step(state) -> state`` (BlackJAX style).

Metrics are named like the figure axes they feed (``"loss"``, ``"unobserved_entry"``, ...).
"""

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np


class Trajectory(NamedTuple):
    steps: np.ndarray  # (T,) iteration index (or time) of each record
    metrics: dict  # name -> (T, ...) array

    def __getitem__(self, name):  # trajectory["loss"]
        if isinstance(name, str):
            return self.metrics[name]
        return tuple.__getitem__(self, name)

    def at_end(self, name: str):
        return self.metrics[name][-1]


def iterate(state: Any, step: Callable[[Any], Any], n_steps: int, metrics: dict[str, Callable[[Any], Any]],
            record_every: int = 1, stop: Callable[[Any], bool] | None = None) -> tuple[Any, Trajectory]:
    """Apply ``step`` up to ``n_steps`` times, recording ``metrics`` at step 0 and every ``record_every``.

    ``stop(state)`` is checked at record points; the final state is always recorded.
    Returns the final state and the trajectory.
    """
    if n_steps < 0 or record_every < 1:
        raise ValueError(f"need n_steps >= 0 and record_every >= 1, got {n_steps}, {record_every}")
    steps, records = [], {name: [] for name in metrics}

    def record(k):
        steps.append(k)
        for name, metric in metrics.items():
            records[name].append(np.asarray(metric(state), dtype=float))

    record(0)
    k = 0
    for k in range(1, n_steps + 1):
        state = step(state)
        if k % record_every == 0 or k == n_steps:
            record(k)
            if stop is not None and stop(state):
                break
    if steps[-1] != k:
        record(k)
    return state, Trajectory(np.asarray(steps), {name: np.stack(v) for name, v in records.items()})
