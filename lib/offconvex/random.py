"""Named random streams from one seed, so that changing how noise is drawn never changes the init.

Every stochastic function in the library takes a generator; notebooks make them here from ``SEED``.
"""

import zlib

import numpy as np


def seed_sequence(seed: int, name: str) -> np.random.SeedSequence:
    """Child seed sequence for the stream ``name`` (``"init"``, ``"data"``, ``"noise"``, ...)."""
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return np.random.SeedSequence(int(seed), spawn_key=(zlib.crc32(name.encode()),))


def rng(seed: int, name: str) -> np.random.Generator:
    """NumPy generator for the stream ``name`` derived from ``seed``."""
    return np.random.default_rng(seed_sequence(seed, name))


def torch_generator(seed: int, name: str):
    """torch.Generator for the stream ``name`` derived from ``seed`` (CPU)."""
    import torch

    state = seed_sequence(seed, name).generate_state(1, dtype=np.uint64)[0]
    return torch.Generator().manual_seed(int(state % (2**63)))
