"""Named streams and the rounding-perturbation switch of ensemble members."""

import subprocess
import sys

import numpy as np
import pytest
import torch
from offconvex.core import random as streams
from offconvex.core.random import perturb_draws, rng, torch_generator


@pytest.fixture(autouse=True)
def _switch_off():
    yield
    perturb_draws(0)


def test_streams_are_named_and_reproducible():
    assert np.array_equal(rng(3, "init").standard_normal(4), rng(3, "init").standard_normal(4))
    assert not np.array_equal(rng(3, "init").standard_normal(4), rng(3, "data").standard_normal(4))


def test_a_member_nudges_float_draws_at_the_rounding_level_only():
    plain = rng(0, "init").standard_normal(1000)
    plain_torch = torch.randn(1000, generator=torch_generator(0, "x"), dtype=torch.float64)
    plain_float32 = torch.empty(1000).uniform_(generator=torch_generator(0, "y"))
    plain_integers = rng(0, "init").integers(0, 100, size=50)
    perturb_draws(2)
    nudged = rng(0, "init").standard_normal(1000)
    relative = np.abs(nudged / plain - 1)
    assert 0 < relative.max() <= 1e-12 and np.median(relative) > 1e-14  # every draw moved, none by more
    relative_torch = ((torch.randn(1000, generator=torch_generator(0, "x"), dtype=torch.float64) / plain_torch) - 1)
    assert 0 < relative_torch.abs().max() <= 1e-12
    relative_float32 = (torch.empty(1000).uniform_(generator=torch_generator(0, "y")).double() / plain_float32 - 1)
    assert 0 < relative_float32.abs().max() <= 2 * 2.0**-20
    assert np.array_equal(rng(0, "init").integers(0, 100, size=50), plain_integers)  # choices are not rounding
    other = rng(0, "init").standard_normal(1000)
    assert np.array_equal(other, nudged)  # a member is reproducible
    perturb_draws(3)
    assert not np.array_equal(rng(0, "init").standard_normal(1000), nudged)  # members differ
    perturb_draws(0)
    assert np.array_equal(rng(0, "init").standard_normal(1000), plain)  # off again: exactly the plain draws
    assert np.array_equal(torch.randn(1000, generator=torch_generator(0, "x"), dtype=torch.float64), plain_torch)


def test_module_initializers_are_nudged_too():
    torch.manual_seed(0)
    plain = torch.nn.Linear(8, 4).weight.detach().clone()
    perturb_draws(1)
    torch.manual_seed(0)
    nudged = torch.nn.Linear(8, 4).weight.detach()
    assert not torch.equal(nudged, plain) and torch.allclose(nudged, plain, rtol=1e-5, atol=0)


@pytest.mark.parametrize("bad", [-1, 1.5, True, "1"])
def test_a_bad_member_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="PERTURBATION must be a non-negative int"):
        perturb_draws(bad)
    assert streams.perturbation_member() == 0


def test_use_deterministic_torch_sets_the_eager_switch_without_loading_the_compiler():
    code = (
        "import sys, torch\n"
        "from offconvex.core.random import use_deterministic_torch\n"
        "use_deterministic_torch(True)\n"
        "assert torch.are_deterministic_algorithms_enabled()\n"
        "assert 'torch._inductor.config' not in sys.modules\n"
        "use_deterministic_torch(False)\n"
        "assert not torch.are_deterministic_algorithms_enabled()\n"
        "import torch._inductor.config as inductor\n"
        "use_deterministic_torch(True)\n"
        "assert inductor.deterministic\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
