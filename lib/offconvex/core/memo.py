"""Reuse of a configuration's result between the book's runs: a content-addressed memo.

The book runs every chapter at seeds 0–4, and a chapter that repeats an experiment over seeds SEED to
SEED + 4 asks four of its five seeds again in the next run. ``map_configurations`` is given a library
function and plain arguments, so the same call gives the same numbers wherever it is made again on this
machine (one thread, deterministic kernels): its result can be kept and read back. The key is a hash of
the function's name, every library file's content, the package versions, the numerical settings
(threads, determinism, denormals, the ensemble member's rounding perturbation) and the arguments'
content; a result is read back only under the same key, so a changed argument, library file or
ensemble member computes afresh.

The runner turns it on for kernels on this machine by setting ``OFFCONVEX_MEMO_DIR``; without it (a
notebook run by hand, a cluster task, a mutant) every call computes.
"""

import dataclasses
import enum
import functools
import hashlib
import os
import pickle
import sys
from pathlib import Path

import numpy as np

MEMO_DIR_ENV = "OFFCONVEX_MEMO_DIR"
# Environment that selects other numerical kernels (the cross-kernel regression check sets them): part of the key.
KERNEL_SELECTION_ENV = ("OPENBLAS_CORETYPE", "ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS", "MKL_CBWR",
                        "NPY_DISABLE_CPU_FEATURES", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


class NotFingerprintable(TypeError):
    """An argument whose content cannot be hashed reliably (the call is then computed, not memoized)."""


def fingerprint(value, digest) -> None:
    """Feed ``value``'s type and content into ``digest`` (a hashlib object), recursively."""
    if value is None or isinstance(value, bool | int | float | complex | str | bytes):
        digest.update(f"{type(value).__name__}:{value!r}\0".encode())
    elif isinstance(value, np.ndarray | np.generic):
        array = np.ascontiguousarray(value)
        if array.dtype.hasobject:
            raise NotFingerprintable("object arrays")
        digest.update(f"ndarray:{array.dtype.str}:{array.shape}\0".encode())
        digest.update(array.tobytes())
    elif _is_torch_tensor(value):
        fingerprint(value.detach().cpu().numpy(), digest)
        digest.update(f"tensor:{value.dtype}:{value.requires_grad}\0".encode())
    elif isinstance(value, enum.Enum):
        digest.update(f"enum:{type(value).__qualname__}.{value.name}\0".encode())
    elif isinstance(value, tuple | list):
        _fingerprint_items(type(value).__qualname__, value, digest)
    elif isinstance(value, dict):
        digest.update(f"dict:{len(value)}\0".encode())
        for key in sorted(value, key=repr):
            fingerprint(key, digest)
            fingerprint(value[key], digest)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        _fingerprint_items(type(value).__qualname__, dataclasses.astuple(value), digest)
    else:
        digest.update(f"callable:{function_name(value)}\0".encode())
        if isinstance(value, functools.partial):
            fingerprint((value.args, value.keywords), digest)


def _fingerprint_items(name: str, items, digest) -> None:
    digest.update(f"{name}:{len(items)}\0".encode())  # a NamedTuple keeps its type name: Key(...) != tuple
    for item in items:
        fingerprint(item, digest)


def _is_torch_tensor(value) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def function_name(function) -> str:
    """``module.qualname`` of a library function, class or partial; anything else cannot be named."""
    target = function.func if isinstance(function, functools.partial) else function
    module, name = getattr(target, "__module__", None), getattr(target, "__qualname__", None)
    if not (isinstance(module, str) and module.startswith("offconvex.") and name) or "<" in name:
        raise NotFingerprintable(f"{target!r} is not a library function")
    return f"{module}.{name}"


@functools.cache
def library_digest() -> str:
    """Hash of every file of the imported ``offconvex`` package (the code a memoized call runs)."""
    import offconvex

    digest = hashlib.sha256()
    root = Path(offconvex.__file__).parent
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def flushes_denormals() -> bool:
    """Whether this thread treats subnormal floats as zero (torch.set_flush_denormal has no getter)."""
    return bool(np.float64(1e-310) * np.float64(1.0) == 0.0)


def numerical_settings() -> tuple:
    """What besides the arguments decides a result's rounding: versions, threads, determinism, member."""
    from offconvex.core.random import perturbation_member

    torch = sys.modules.get("torch")
    settings = (sys.version_info[:2], np.__version__, perturbation_member(),
                flushes_denormals(),
                tuple(os.environ.get(name) for name in KERNEL_SELECTION_ENV))
    if torch is None:
        return settings
    return settings + (torch.__version__, torch.get_num_threads(), torch.are_deterministic_algorithms_enabled(),
                       torch.get_default_dtype())


def call_key(function, arguments: dict) -> str | None:
    """The memo key of ``function(**arguments)``, or None when an argument cannot be fingerprinted."""
    digest = hashlib.sha256(b"offconvex-memo-v1\0")
    try:
        digest.update(f"{function_name(function)}\0{library_digest()}\0{numerical_settings()}\0".encode())
        fingerprint(function, digest)
        fingerprint(arguments, digest)
    except NotFingerprintable:
        return None
    return digest.hexdigest()


def memo_folder() -> Path | None:
    """Where this kernel keeps results: one subfolder per library version (older ones are pruned)."""
    folder = os.environ.get(MEMO_DIR_ENV)
    return Path(folder) / library_digest()[:16] if folder else None


def prune(folder: Path, keep_current: bool = True) -> None:
    """Remove the results of other library versions (all results with ``keep_current=False``)."""
    import shutil

    if not folder.is_dir():
        return
    for version in folder.iterdir():
        if not (keep_current and version.name == library_digest()[:16]):
            shutil.rmtree(version, ignore_errors=True)


def memoized_call(function, arguments: dict):
    """``function(**arguments)``, read back from the memo folder when this exact call was made before."""
    folder = memo_folder()
    key = None if folder is None else call_key(function, arguments)
    if key is None:
        return function(**arguments)
    path = folder / key[:2] / f"{key}.pickle"
    if path.exists():
        try:
            return pickle.loads(path.read_bytes())
        except Exception:  # a torn or foreign file: compute again and replace it
            path.unlink(missing_ok=True)
    result = function(**arguments)
    _write_atomically(path, pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    return result


def _write_atomically(path: Path, payload: bytes) -> None:
    """Another kernel may write the same key at the same time: each writes its own file, then renames."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        partial.write_bytes(payload)
        os.replace(partial, path)
    except OSError:  # a full disk or read-only folder costs the reuse, never the run
        pass
