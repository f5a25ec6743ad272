"""Training dynamics (2021-03-25, 2022-01-06): Taylorized models beyond the linearization,
homogeneous networks, gradient flow against gradient descent, Hessians along the path, and, beyond
the posts, learning the step size by meta-gradient descent (2020-06-29, arXiv 2006.16495)."""
