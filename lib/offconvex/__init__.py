"""offconvex: the mathematics behind the Off the Convex Path companion book.

One package per part of the book, each holding its mathematics (one module per object, pure functions
over arrays), its data generators and its plot functions (``plots``: data and an ``ax`` in, ``ax`` out):

- :mod:`offconvex.factorization`: implicit regularization in matrix, tensor and hierarchical tensor
  factorization, and the locality of convolutional networks (2020-11-27, 2021-07-08, 2022-07-15);
- :mod:`offconvex.dynamics`: training dynamics beyond the linearization, gradient flow against gradient
  descent (2021-03-25, 2022-01-06);
- :mod:`offconvex.sampling`: Langevin dynamics, simulated tempering, sampling near manifolds (2021-03-01,
  2021-03-12);
- :mod:`offconvex.generalization`: Rip van Winkle's razor, adaptive overfitting, GAN-based prediction of
  generalization (2021-04-07, 2022-06-06);
- :mod:`offconvex.privacy`: InstaHide and its attack (2020-11-11);
- :mod:`offconvex.core`: what the topics share (seeded random streams and the rounding-perturbation
  switch, the init/step loop and its trajectory, configurations mapped over processes, a small ResNet).

Arrows run one way: notebooks -> topic packages -> ``core``. The machinery that executes, checks and
publishes the book lives in :mod:`offconvex.book` and imports no topic.
"""

__version__ = "0.1.0"
