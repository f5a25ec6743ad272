"""Plot functions: each takes data and a matplotlib ``ax`` and returns the ``ax``; nothing here computes."""
