"""Dask worker preload: import the library once, when a worker process starts.

``dask worker ADDRESS --preload offconvex.book.warm_worker`` (and the book's own LocalCluster) use it,
so that the first configuration task on each worker (``offconvex.core.parallel.map_configurations``) does
not pay about a second for importing torch, SciPy and the library. A long-lived cluster pays it once.
"""

import importlib
import pkgutil

import offconvex

# The book machinery and each topic's plots are never needed by a configuration task.
SKIPPED = ("offconvex.book", "offconvex.cli", "offconvex.__main__")


def library_modules() -> list[str]:
    """Names of the library's mathematical modules (what configuration tasks call into)."""
    names = (info.name for info in pkgutil.walk_packages(offconvex.__path__, "offconvex."))
    return sorted(name for name in names if not name.startswith(SKIPPED) and not name.endswith(".plots"))


def dask_setup(worker=None) -> None:  # the hook Dask calls when a worker starts
    for name in library_modules():
        importlib.import_module(name)
