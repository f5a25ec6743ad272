"""Sampling beyond log-concavity (2021-03-01, 2021-03-12): Langevin dynamics, simulated tempering over
Gaussian mixtures, Brownian motion on manifolds, the posterior of a matrix factorization."""
