"""The chapters of the book: one per post, grouped into five parts of the table of contents, then the part
"Beyond the posts" (one chapter per paper; its ``post_url`` is the paper's arXiv page).

This registry is the single source for chapter titles, parts, links and the plan shown on a chapter's
page until its notebook exists. A test keeps ``_toc.yml`` in agreement with it.
"""

from typing import NamedTuple


class Chapter(NamedTuple):
    slug: str  # notebooks/<slug>.py, book/posts/<slug>.ipynb
    title: str
    part: str
    post_url: str
    plan: str  # what the chapter will reproduce (shown on its stub page until the notebook lands)


PARTS = (
    "Implicit regularization",
    "Optimization dynamics",
    "Sampling",
    "Generalization and data reuse",
    "Privacy",
    "Beyond the posts",
)
BEYOND = "Beyond the posts"  # chapters on a paper, not a post: slug dated by the arXiv submission

CHAPTERS = (
    Chapter(
        "2020-11-27-reg-dl-not-norm",
        "Can implicit regularization be explained by norms?",
        "Implicit regularization",
        "http://www.offconvex.org/2020/11/27/reg_dl_not_norm/",
        "Matrix completion where every norm grows while the loss falls; tensor completion finding rank 1.",
    ),
    Chapter(
        "2021-07-08-imp-reg-tf",
        "Implicit regularization in tensor factorization: tensor rank as a complexity measure",
        "Implicit regularization",
        "http://www.offconvex.org/2021/07/08/imp-reg-tf/",
        "Incremental learning of CP components at three initialization scales (Figure 4); tensor rank as a "
        "complexity measure on images turned into tensor entries, against random-label and random-image "
        "variants (Figure 5); a prediction task read as tensor completion (Figure 2).",
    ),
    Chapter(
        "2022-07-15-imp-reg-htf-cnn",
        "Implicit regularization in hierarchical tensor factorization and locality of CNNs",
        "Implicit regularization",
        "http://www.offconvex.org/2022/07/15/imp-reg-htf-cnn/",
        "Incremental rank learning side by side in matrix, tensor and hierarchical tensor factorization "
        "(Figures 1, 2, 4); the input-gradient-change regularizer that counters locality (Figure 6).",
    ),
    Chapter(
        "2022-01-06-gf-gd",
        "Does gradient flow over neural networks represent gradient descent?",
        "Optimization dynamics",
        "http://www.offconvex.org/2022/01/06/gf-gd/",
        "Gradient descent as Euler's method for gradient flow (Figure 1); deep networks trained at step "
        "sizes that differ 20-fold staying on the same path (Figure 2); Hessian eigenvalues along the path.",
    ),
    Chapter(
        "2021-03-25-beyond-ntk",
        "When are neural networks more powerful than neural tangent kernels?",
        "Optimization dynamics",
        "http://www.offconvex.org/2021/03/25/beyondNTK/",
        "A network against its first-, second- and third-order Taylor models during training (Figure 1); "
        "the randomized-sign coupling; sample complexity of quadratic models against the NTK.",
    ),
    Chapter(
        "2021-03-01-beyond-log-concave-2",
        "Beyond log-concave sampling, part 2: many modes and simulated tempering",
        "Sampling",
        "http://www.offconvex.org/2021/03/01/beyondlogconcave2/",
        "Langevin dynamics trapped in one mode of a Gaussian mixture, with switching times against the "
        "exact one-dimensional answer; simulated tempering crossing between the modes.",
    ),
    Chapter(
        "2021-03-12-beyond-log-concave-3",
        "Beyond log-concave sampling, part 3: Langevin near a manifold of maximizers",
        "Sampling",
        "http://www.offconvex.org/2021/03/12/beyondlogconcave3/",
        "Langevin dynamics on a matrix-factorization posterior staying near its manifold of symmetries "
        "and mixing along it; coupling of Brownian motions on the sphere.",
    ),
    Chapter(
        "2022-06-06-pgdl",
        "Predicting generalization with GAN samples",
        "Generalization and data reuse",
        "http://www.offconvex.org/2022/06/06/PGDL/",
        "A small class-conditional GAN on digits ranking a zoo of classifiers by their error on synthetic "
        "data; mode collapse by the birthday-paradox test.",
    ),
    Chapter(
        "2021-04-07-rip-van-winkle",
        "Rip van Winkle's Razor: how much can a model overfit a test set it was tuned on?",
        "Generalization and data reuse",
        "http://www.offconvex.org/2021/04/07/ripvanwinkle/",
        "The meta-overfitting bound as a calculator; adaptive overfitting of a reused test set simulated "
        "against the bounds.",
    ),
    Chapter(
        "2020-11-11-instahide",
        "InstaHide: training on encrypted images, and the attack on it",
        "Privacy",
        "http://www.offconvex.org/2020/11/11/instahide/",
        "Mixup and InstaHide encodings of images; accuracy when training on encodings; the attack that "
        "recovers the private images.",
    ),
    Chapter(
        "2020-06-29-learning-to-learn-step-size",
        "Tuning the step size with a learning-to-learn approach",
        "Beyond the posts",
        "https://arxiv.org/abs/2006.16495",
        "Learning the step size of gradient descent by meta-gradient descent: the unrolled loss's "
        "meta-gradient explodes or vanishes with the horizon while the log-objective's stays bounded; "
        "convergence to the optimal step and its drift with the horizon; train-by-train against "
        "train-by-validation on noisy least squares.",
    ),
    Chapter(
        "2020-10-08-dissecting-hessian",
        "Dissecting the Hessian: Kronecker structure of layer-wise Hessians",
        "Beyond the posts",
        "https://arxiv.org/abs/2010.04261",
        "Exact layer-wise Hessians of a ReLU network on digits against their Kronecker approximation "
        "E[M] ⊗ E[xxᵀ]: top-eigenspace overlap, rank-one top eigenvectors aligned with the mean input, "
        "overlap across independently trained models, and what centering the inputs does.",
    ),
    Chapter(
        "2020-10-21-beyond-lazy-tensor",
        "Beyond lazy training for over-parameterized tensor decomposition",
        "Beyond the posts",
        "https://arxiv.org/abs/2010.11356",
        "Symmetric order-3 tensor decomposition: the components the lazy (linearized) regime needs, counted "
        "exactly from the tangent space, against plain gradient descent from a small start; components "
        "learned one at a time.",
    ),
    Chapter(
        "2021-06-29-small-init-spectral",
        "Small random initialization is akin to spectral learning",
        "Beyond the posts",
        "https://arxiv.org/abs/2106.15013",
        "Over-parameterized low-rank matrix sensing from small random initialization: final error against "
        "the initialization scale, the spectral, growth and refinement phases measured by subspace angles, "
        "and the effect of the width of the factor.",
    ),
)

BY_SLUG = {chapter.slug: chapter for chapter in CHAPTERS}
