"""The book machinery. Notebooks use ``start``, ``by_profile``, ``save_figure``, ``show_animation``,
``claim`` and ``claims_table``; the runner, cache, regression and report live in submodules."""

from offconvex.book.notebook import by_profile, claim, claims_table, save_figure, show_animation, start
from offconvex.book.project import PROFILES, BookError, Project

__all__ = ["PROFILES", "BookError", "Project", "by_profile", "claim", "claims_table", "save_figure", "show_animation",
           "start"]
