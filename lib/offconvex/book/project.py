"""Where things live in the repository, and the one error type the command line reports."""

import os
from dataclasses import dataclass
from pathlib import Path

PROFILES = ("smoke", "book", "paper")


class BookError(Exception):
    """A user-facing problem: the message is one line saying what is wrong and what to do."""


@dataclass(frozen=True)
class Project:
    root: Path

    @classmethod
    def default(cls) -> "Project":
        # lib/offconvex/book/project.py -> repository root; OFFCONVEX_ROOT lets tests use a scratch tree.
        root = os.environ.get("OFFCONVEX_ROOT") or Path(__file__).resolve().parents[3]
        return cls(Path(root))

    notebooks = property(lambda self: self.root / "notebooks")
    lib = property(lambda self: self.root / "lib")
    lock_file = property(lambda self: self.root / "requirements.lock")
    build = property(lambda self: self.root / "_build")
    cache = property(lambda self: self.root / "_build" / "cache")
    figures = property(lambda self: self.root / "_build" / "figures")
    runs = property(lambda self: self.root / "_build" / "runs")
    failed = property(lambda self: self.root / "_build" / "failed")
    posts = property(lambda self: self.root / "book" / "posts")
    baselines = property(lambda self: self.root / "tests" / "baselines")

    def notebook(self, slug: str) -> Path:
        return self.notebooks / f"{slug}.py"

    def written_slugs(self) -> list[str]:
        """Slugs that have a notebook source, sorted."""
        return sorted(path.stem for path in self.notebooks.glob("*.py"))


def check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise BookError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    return profile
