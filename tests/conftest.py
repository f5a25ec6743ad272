import os
import shutil
import textwrap
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")  # tests and scripts only; kernels get the inline backend (the runner unsets this)

from offconvex.book.project import Project  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

HEADER = """\
# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---
"""


def toy_notebook(body: str, parameters: str = 'PROFILE = "book"\nSEED = 0\nSCALE = 2.0\n') -> str:
    """A minimal chapter notebook in jupytext percent format."""
    return (HEADER + '\n# %% tags=["parameters"]\n' + parameters + "\n# %%\n" + textwrap.dedent(body))


@pytest.fixture
def scratch_project(tmp_path) -> Project:
    """A throw-away repository layout (notebooks/, lib/, lock file) for runner tests."""
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "lib" / "offconvex").mkdir(parents=True)
    (tmp_path / "lib" / "offconvex" / "module.py").write_text("VALUE = 1\n")
    shutil.copyfile(ROOT / "requirements.lock", tmp_path / "requirements.lock")
    return Project(tmp_path)


@pytest.fixture(autouse=True)
def _no_root_override(monkeypatch):
    monkeypatch.delenv("OFFCONVEX_ROOT", raising=False)
    monkeypatch.delenv("OFFCONVEX_FIGURE_DIR", raising=False)
    yield


os.environ.setdefault("PYTHONHASHSEED", "0")


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: opens the built site in headless Chromium (skips without one)")
    config.addinivalue_line("markers", "cuda: needs a CUDA GPU (skips without one); `pytest -m cuda` before a paper run")


@pytest.fixture(scope="session")
def site_builds() -> dict:
    """Site builds of this test session, by profile ({"book": exit code}). test_notebooks records the
    build made from the regressed book run; the browser test reuses it instead of building again."""
    return {}
