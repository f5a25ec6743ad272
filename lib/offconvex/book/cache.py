"""Content-keyed execution cache.

Key = hash of the notebook source, every file under lib/ that a kernel can run, the lock file, the profile
and the resolved parameters. (jupyter-cache hashes code cells only, so a change in lib/ would go unnoticed.)
The driver-only modules (regression, reports, site, benchmarks, the command line) only read what notebooks
wrote, so editing them keeps the cache warm; a test keeps every other module and notebook from importing them.
An entry is a folder holding the executed notebook, figures, the run record and a manifest of
checksums; an entry whose files do not match its manifest is reported corrupt and re-executed.
"""

import hashlib
import json
import shutil
import sys
from pathlib import Path

from offconvex.book.project import Project

# Older entries are pruned. `make book` keeps 5 seeds of the book profile; the rest lets a smoke run or
# a changed parameter come and go without pushing them out.
KEEP_PER_SLUG = 12
# Ensemble members (PERTURBATION > 0, `make baselines`) are kept apart, so that regenerating baselines
# finds its members and a profile switch does not push them out (7 members, a held-out one, the retests
# of the 2-of-3 rule at each seed, slack).
KEEP_MEMBERS_PER_SLUG = 16
DRIVER_ONLY = ("offconvex/__main__.py", "offconvex/cli.py", "offconvex/book/bench.py", "offconvex/book/ensemble.py",
               "offconvex/book/lock.py", "offconvex/book/mutants.py", "offconvex/book/regress.py",
               "offconvex/book/report.py", "offconvex/book/seeds.py", "offconvex/book/site.py")


def _library_files(project: Project):
    for path in sorted(project.lib.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and ".egg-info" not in str(path) \
                and path.relative_to(project.lib).as_posix() not in DRIVER_ONLY:
            yield path


def cache_key(project: Project, slug: str, profile: str, parameters: dict, images: bool = True) -> str:
    digest = hashlib.sha256(b"offconvex-cache-v1\0")
    digest.update(f"python{sys.version_info.major}.{sys.version_info.minor}\0".encode())
    digest.update(project.notebook(slug).read_bytes())
    for path in _library_files(project):
        digest.update(str(path.relative_to(project.root)).encode() + b"\0")
        digest.update(path.read_bytes())
    digest.update(project.lock_file.read_bytes() if project.lock_file.exists() else b"no-lock")
    digest.update(f"\0{profile}\0{json.dumps(parameters, sort_keys=True)}".encode())
    if not images:  # a run without images is never the one a page shows
        digest.update(b"\0figure data only")
    return digest.hexdigest()[:20]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_manifest(entry: Path) -> None:
    files = sorted(p for p in entry.rglob("*") if p.is_file() and p.name != "manifest.json")
    manifest = {str(p.relative_to(entry)): _sha256(p) for p in files}
    (entry / "manifest.json").write_text(json.dumps(manifest, indent=1))


def verify(entry: Path) -> str | None:
    """None when the entry is intact, else the reason it is not."""
    try:
        manifest = json.loads((entry / "manifest.json").read_text())
    except (OSError, ValueError) as error:
        return f"unreadable manifest ({type(error).__name__})"
    for name in ("executed.ipynb", "record.json"):
        if name not in manifest:
            return f"manifest lacks {name}"
    for name, checksum in manifest.items():
        path = entry / name
        if not path.is_file():
            return f"missing {name}"
        if _sha256(path) != checksum:
            return f"checksum mismatch in {name}"
    return None


def entry_path(project: Project, slug: str, key: str) -> Path:
    return project.cache / slug / key


def _is_member(entry: Path) -> bool:
    try:
        return json.loads((entry / "record.json").read_text())["parameters"].get("PERTURBATION", 0) > 0
    except (OSError, ValueError, KeyError, AttributeError, TypeError):
        return False


def prune(project: Project, slug: str, keep: Path) -> None:
    """Remove old entries: beyond the newest KEEP_PER_SLUG runs and KEEP_MEMBERS_PER_SLUG ensemble members."""
    # staging folders (".staging-...") belong to runs in flight and are never pruned here
    entries = sorted((p for p in (project.cache / slug).iterdir()
                      if p.is_dir() and p != keep and not p.name.startswith(".")),
                     key=lambda p: p.stat().st_mtime, reverse=True)
    members = [entry for entry in entries if _is_member(entry)]
    runs = [entry for entry in entries if entry not in members]
    keep_is_member = _is_member(keep)  # the entry just made counts towards its own kind
    for old in runs[KEEP_PER_SLUG - (not keep_is_member):] + members[KEEP_MEMBERS_PER_SLUG - keep_is_member:]:
        shutil.rmtree(old, ignore_errors=True)
