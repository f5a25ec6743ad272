import numpy as np
import pytest
from offconvex.core.random import rng, torch_generator
from offconvex.core.trajectory import iterate


def test_iterate_records_start_every_k_and_end():
    state, trajectory = iterate(1.0, lambda x: x / 2, 5, {"x": lambda x: x}, record_every=2)
    assert list(trajectory.steps) == [0, 2, 4, 5]
    np.testing.assert_allclose(trajectory["x"], [1, 0.25, 0.0625, 0.03125])
    assert state == trajectory.at_end("x")


def test_iterate_stops_at_a_record_point():
    _, trajectory = iterate(0, lambda x: x + 1, 100, {"x": float}, record_every=10, stop=lambda x: x >= 30)
    assert trajectory.steps[-1] == 30


def test_named_streams_are_reproducible_and_independent():
    assert rng(0, "init").random() == rng(0, "init").random()
    assert rng(0, "init").random() != rng(0, "data").random()
    assert torch_generator(3, "x").initial_seed() == torch_generator(3, "x").initial_seed()
    with pytest.raises(ValueError, match="non-negative int"):
        rng(-1, "init")
