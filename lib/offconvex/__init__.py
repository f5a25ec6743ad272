"""offconvex: the mathematics behind the Off the Convex Path companion book.

One module per mathematical object (``matrix_factorization``, ``cp``, ...), pure functions over arrays.
The book machinery (notebook execution, figures, claims, regression) lives in :mod:`offconvex.book`.
"""

__version__ = "0.1.0"
