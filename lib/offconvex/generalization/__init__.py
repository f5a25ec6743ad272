"""Generalization (2021-04-07, 2022-06-06): Rip van Winkle's razor, adaptive overfitting of a test set,
small GANs that predict test error, the birthday test, a PGDL-style zoo of classifiers and scores for
predictors of test error (closeness to y = x, granulated Kendall tau, a margin baseline)."""
