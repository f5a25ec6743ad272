"""The book machinery. Notebooks use ``start``, ``by_profile``, ``figure`` (a figure sized for the page),
``save_figure``, ``show_animation``, ``claim``, ``sanity_check`` and ``claims_table``; the runner, cache,
regression and report live in submodules."""

from offconvex.book.notebook import (
    by_profile,
    claim,
    claims_table,
    sanity_check,
    save_figure,
    show_animation,
    start,
)
from offconvex.book.project import PROFILES, BookError, Project
from offconvex.book.style import figure

__all__ = ["PROFILES", "BookError", "Project", "by_profile", "claim", "claims_table", "figure", "sanity_check",
           "save_figure", "show_animation", "start"]
