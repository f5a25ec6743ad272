"""Implicit regularization in factorizations (2020-11-27, 2021-07-08, 2022-07-15): deep matrix
factorization, CP and hierarchical tensor factorization, tensor completion with its optimizer and
image tensors, the locality of convolutional networks (Pathfinder-style data, the regularizer), and,
beyond the posts, over-parameterized matrix sensing from small initialization (2021-06-29, arXiv 2106.15013)
and symmetric tensor decomposition against its lazy linearization (2020-10-21, arXiv 2010.11356)."""
