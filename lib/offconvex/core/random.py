"""Named random streams from one seed, so that changing how noise is drawn never changes the init.

Every stochastic function in the library takes a generator; notebooks make them here from ``SEED``.

The rounding-perturbation switch (``perturb_draws``) makes an *ensemble member* of a run: every
floating-point number drawn afterwards, through these streams or torch's samplers, is multiplied by
``1 + delta * u`` with ``|u| <= 1`` (``delta``: 1e-12 in float64, 2^-20, about 8 ulp, in float32). The same
draws are made in the same order, so the member differs from the published run only at the level of
rounding, and its spread shows how far a machine with other kernels may move a figure (README,
"Figure regression"). ``u`` is a fixed function of the drawn value and the member number, so a member
is reproducible wherever its draws happen (in the kernel or on a cluster worker).
"""

import functools
import zlib

import numpy as np

ROUNDING_NUDGE = {np.dtype("float64"): 1e-12, np.dtype("float32"): 2.0**-20}
# numpy Generator methods that return floating-point draws; integer draws (indices, permutations)
# are discrete choices, not rounding, and are never nudged.
_FLOAT_DRAWS = ("random", "standard_normal", "normal", "uniform", "exponential", "standard_exponential",
                "gamma", "standard_gamma", "beta", "dirichlet", "laplace", "lognormal", "logistic",
                "multivariate_normal", "standard_t", "chisquare", "rayleigh", "standard_cauchy")
_TORCH_DRAWS = ("randn", "rand", "normal", "randn_like", "rand_like")
_TORCH_IN_PLACE = ("normal_", "uniform_", "exponential_")

_member = 0
_torch_originals: dict = {}


def seed_sequence(seed: int, name: str) -> np.random.SeedSequence:
    """Child seed sequence for the stream ``name`` (``"init"``, ``"data"``, ``"noise"``, ...)."""
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return np.random.SeedSequence(int(seed), spawn_key=(zlib.crc32(name.encode()),))


def rng(seed: int, name: str) -> np.random.Generator:
    """NumPy generator for the stream ``name`` derived from ``seed``."""
    if _member:
        return _NudgedGenerator(np.random.PCG64(seed_sequence(seed, name)))
    return np.random.default_rng(seed_sequence(seed, name))


def torch_generator(seed: int, name: str):
    """torch.Generator for the stream ``name`` derived from ``seed`` (CPU)."""
    import torch

    state = seed_sequence(seed, name).generate_state(1, dtype=np.uint64)[0]
    return torch.Generator().manual_seed(int(state % (2**63)))


# --- the rounding-perturbation switch -------------------------------------------------------------

def perturbation_member() -> int:
    """The ensemble member this process draws for (0: unperturbed, the published run)."""
    return _member


def perturb_draws(member: int) -> None:
    """Nudge every later floating-point draw at the rounding level for ensemble member ``member``.

    ``member = 0`` restores plain draws. Called by ``book.start`` with the notebook's ``PERTURBATION``
    parameter; never set in a published run.
    """
    global _member
    if isinstance(member, bool) or not isinstance(member, (int, np.integer)) or member < 0:
        raise ValueError(f"PERTURBATION must be a non-negative int (0 = none), got {member!r}")
    _member = int(member)
    _patch_torch(_member > 0)


def rounding_factor(values: np.ndarray, member: int) -> np.ndarray:
    """``1 + delta * u`` for each value: ``u`` in [-1, 1], a fixed hash of the value and the member."""
    delta = ROUNDING_NUDGE.get(values.dtype, ROUNDING_NUDGE[np.dtype("float64")])
    phase = np.sin(values.astype(np.float64) * 12.9898 + member * 78.233) * 43758.5453
    return (1.0 + delta * (2.0 * (phase - np.floor(phase)) - 1.0)).astype(values.dtype)


def nudge(values, member: int | None = None):
    """``values`` (a float array or tensor) times its rounding factor; anything else unchanged."""
    member = _member if member is None else member
    if not member:
        return values
    if hasattr(values, "detach"):  # torch tensor, nudged in place where it lives
        import torch

        if values.is_floating_point():
            factor = rounding_factor(values.detach().cpu().numpy(), member)
            with torch.no_grad():
                values.mul_(torch.from_numpy(factor).to(values.device))
        return values
    array = np.asarray(values)
    if array.dtype.kind != "f":
        return values
    nudged = array * rounding_factor(array, member)
    return nudged if isinstance(values, np.ndarray) else nudged.dtype.type(nudged)


class _NudgedGenerator(np.random.Generator):
    """A numpy Generator whose floating-point draws are nudged for the current ensemble member."""


def _nudged_method(name):
    original = getattr(np.random.Generator, name)

    @functools.wraps(original)
    def draw(self, *args, **kwargs):
        return nudge(original(self, *args, **kwargs))

    return draw


for _name in _FLOAT_DRAWS:
    setattr(_NudgedGenerator, _name, _nudged_method(_name))


def _patch_torch(on: bool) -> None:
    """Wrap torch's float samplers so that their results are nudged (``on``), or restore them."""
    try:
        import torch
    except ImportError:
        return
    if on and not _torch_originals:
        for name in _TORCH_DRAWS:
            _torch_originals[("torch", name)] = getattr(torch, name)
            setattr(torch, name, _nudging(getattr(torch, name)))
        for name in _TORCH_IN_PLACE:
            _torch_originals[("Tensor", name)] = getattr(torch.Tensor, name)
            setattr(torch.Tensor, name, _nudging(getattr(torch.Tensor, name)))
    elif not on:
        for (owner, name), original in _torch_originals.items():
            setattr(torch if owner == "torch" else torch.Tensor, name, original)
        _torch_originals.clear()


def _nudging(sampler):
    @functools.wraps(sampler)
    def draw(*args, **kwargs):
        return nudge(sampler(*args, **kwargs))

    return draw


def use_deterministic_torch(mode: bool = True) -> None:
    """``torch.use_deterministic_algorithms(mode)`` without importing TorchInductor.

    The public call imports ``torch._inductor.config`` (about 1.5 s, paid by every chapter kernel) only to
    set the compiler's own flag; the book never compiles, so the eager kernels' switch is set directly.
    Where the compiler is already loaded, its flag is kept in step.
    """
    import sys

    import torch

    torch._C._set_deterministic_algorithms(mode)
    inductor_config = sys.modules.get("torch._inductor.config")
    if inductor_config is not None:
        inductor_config.deterministic = mode
