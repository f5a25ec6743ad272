"""Versions and commit recorded with every run (never inside figure data)."""

import importlib.metadata
import platform
import subprocess
from pathlib import Path

PACKAGES = ("numpy", "scipy", "matplotlib", "torch", "tensorly", "scikit-learn", "papermill", "jupyter-book")


def versions() -> dict:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def git_commit(root: Path) -> str:
    """Short commit hash, with ``-dirty`` when tracked files differ from it; ``unknown`` outside git."""
    def git(*args):
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True)

    try:
        commit = git("rev-parse", "--short=10", "HEAD").stdout.strip()
        dirty = git("status", "--porcelain", "--untracked-files=no").stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")
