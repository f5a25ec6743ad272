"""requirements.lock and environment.yml: the same pins, written from the running environment."""

import importlib.metadata
import re

from offconvex.book.project import Project

HEADER = [
    "# Every dependency of offconvex-companion, pinned (regenerate with: make lock).",
    "# torch==2.13.0 resolves to the CPU-only build where a local wheel or PyTorch's CPU index is configured;",
    "# the plain PyPI wheel works too (it is only larger). Never add a local version suffix here.",
]


def read_pins(text: str) -> dict:
    """``name -> version`` from ``name==version`` lines (comments and blanks ignored), names normalized."""
    pins = {}
    for line in text.splitlines():
        match = re.match(r"^\s*-?\s*([A-Za-z0-9_.\-\[\]]+)==([^\s;#]+)", line)
        if match:
            pins[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    return pins


def environment_yml(pins: dict) -> str:
    lines = ["# conda environment with the same pins as requirements.lock (a test keeps them equal).",
             "name: offconvex-companion", "channels:", "  - conda-forge", "dependencies:",
             "  - python=3.11", "  - pip", "  - pip:"]
    lines += [f"      - {name}=={version}" for name, version in sorted(pins.items())]
    return "\n".join(lines) + "\n"


def write_lock(project: Project) -> int:
    pins = {}
    for dist in importlib.metadata.distributions():
        name = re.sub(r"[-_.]+", "-", dist.metadata["Name"]).lower()
        if name in ("offconvex", "pip", "setuptools", "wheel"):
            continue
        pins[name] = dist.version.split("+")[0]  # never a local suffix such as +cpu
    files = {project.lock_file: "\n".join(HEADER + [f"{n}=={v}" for n, v in sorted(pins.items())]) + "\n",
             project.root / "environment.yml": environment_yml(pins)}
    # An identical file is left untouched: a new mtime would make `make` reinstall the environment.
    changed = [path for path, text in files.items() if not path.exists() or path.read_text() != text]
    for path in changed:
        path.write_text(files[path])
    names = " and ".join(path.name for path in changed)
    print(f"wrote {names} ({len(pins)} pins)" if changed else f"{project.lock_file.name} and environment.yml "
          f"already pin this environment ({len(pins)} pins); nothing written")
    return 0
