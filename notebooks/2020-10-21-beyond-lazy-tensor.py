# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Beyond lazy training for over-parameterized tensor decomposition
#
# *A chapter beyond the posts: a companion to the paper by Wang, Wu, Lee, Ma and Ge, NeurIPS 2020,
# [arXiv 2010.11356](https://arxiv.org/abs/2010.11356) {cite}`wang2020beyond`. No official code
# exists for it, the parts of the paper we could read contain no experiments, and every figure
# below is new.*
#
# The post of [25 March 2021](http://www.offconvex.org/2021/03/25/beyondNTK/) asks when a network
# does better than its neural tangent kernel, the linearization around its initialization. This
# paper answers in a model small enough to count everything exactly: decomposing a symmetric
# order-3 tensor $T^* = \sum_{j=1}^r u_j^{\otimes 3}$ in $\mathbb{R}^{d\times d\times d}$ with $m$
# components, $T(W) = \sum_{i=1}^m w_i^{\otimes 3}$, by gradient descent on
# $L(W) = \frac12\|T(W) - T^*\|_F^2$. In the *lazy* regime the model stays near its start $W_0$ and
# behaves like its linearization, which can only move inside the tangent space spanned by the
# symmetrizations of $\delta \otimes w_i \otimes w_i$: at most $md$ dimensions. Symmetric tensors
# have $D = \binom{d+2}{3} \approx d^3/6$ dimensions, so a generic target needs $md \ge D$, i.e. about
# $d^2/6$ components: the paper's lower bound $m = \Omega(d^{l-1})$ for order $l$. Away from the
# lazy regime (its algorithm, from a small initialization) the number of components it needs
# depends on the rank $r$ and only logarithmically on $d$.
#
# **What this chapter shows.** (1) The exact lazy requirement, computed from the tangent space at a
# random start for $d = 6, 10, 14$; (2) plain gradient descent from a small start with few
# components at the same sizes; (3) how gradient descent learns the components one after another.

# %% tags=["parameters"]
PROFILE = "book"
SEED = 0
PERTURBATION = 0  # ensemble member for `make baselines` (0: the published run; see README)

# %% tags=["hide-input"]
import numpy as np
from IPython.display import Markdown
from offconvex import book
from offconvex.core.random import rng
from offconvex.factorization import symmetric_tensor_decomposition as td
from offconvex.factorization.plots import phase_curves

book.start(
    "2020-10-21-beyond-lazy-tensor",
    PROFILE,
    SEED,
    perturbation=PERTURBATION,
)
DIMENSIONS = book.by_profile(
    PROFILE, smoke=(6, 8), book=(6, 10, 14), paper=(6, 8, 10, 12, 14)
)
RANK = 3  # orthonormal components of the target, unit weights
INIT_SCALE = 1e-2  # W_0 = INIT_SCALE * N(0, I/d) per component
STEP = 0.05
GD_STEPS = book.by_profile(PROFILE, smoke=2000, book=6000, paper=6000)
GD_COMPONENTS = (3, 6, 9)  # m for gradient descent
GD_SEEDS = book.by_profile(PROFILE, smoke=2, book=5, paper=8)
SUCCESS = 1e-2  # relative error that counts as a successful decomposition

# %% [markdown]
# ## 1. How many components the lazy regime needs
#
# For each $d$ the target has $r = 3$ orthonormal components with unit weights. We draw a random
# start of up to $\lceil D/d\rceil + 1$ components and, for each $m$, take its first $m$ rows: the
# tangent space at $W_0$ is spanned by $md$ symmetric tensors, and the best lazy fit is the
# orthogonal projection of $T^*$ on it (the best any linearized model at $W_0$ can do, with
# unbounded weights). We compute it in isometric coordinates of the symmetric tensors (the $D$
# sorted index triples, weighted by the square root of their number of permutations), with the
# rank from an SVD at relative tolerance $10^{-10}$. The scale of $W_0$ does not matter here: the
# tangent space is the same for every positive multiple of $W_0$.
# For generic starts the rank is $\min(md, D)$ with a single exception for cubics, the
# Alexander–Hirschowitz case $d = 5$, $m = 7$ (34 dimensions instead of 35), which none of our $d$
# meets.


# %%
def target_tensor(d):
    components = td.orthonormal_components(d, RANK, rng(SEED, f"truth-{d}"))
    return td.symmetric_cp(components)


TARGETS = {d: target_tensor(d) for d in DIMENSIONS}
lazy = {}
for d in DIMENSIONS:
    D = td.symmetric_dimension(d)
    counts = np.arange(1, -(-D // d) + 2)
    start = rng(SEED, f"lazy-{d}").standard_normal((counts[-1], d))
    fits = [td.lazy_fit(start[:m], TARGETS[d]) for m in counts]
    lazy[d] = {
        "m": counts,
        "rank": np.array([rank for rank, _ in fits]),
        "residual": np.array([residual for _, residual in fits]),
        "D": D,
    }
lazy_needs = {
    d: int(lazy[d]["m"][np.argmax(lazy[d]["residual"] < 0.1)])
    for d in DIMENSIONS
}

# %% [markdown]
# ## 2. Gradient descent from a small start
#
# For $m \in \{3, 6, 9\}$ and five seeds per $m$ we run plain gradient descent (step 0.05, 6000
# steps) from $W_0 = 0.01\,G/\sqrt{d}$, $G$ i.i.d. standard Gaussian, and call a run successful when
# its relative error $\|T(W) - T^*\|_F/\|T^*\|_F$ ends below $10^{-2}$. All runs of one $d$ are one
# batch: components beyond $m$ are zero rows, which gradient descent never moves. This is plain
# gradient descent, *not* the paper's algorithm (a regularized, re-initialized variant we could not
# read in full).


# %%
def small_starts(d):
    """(len(GD_COMPONENTS), GD_SEEDS, max m, d), zero rows beyond m."""
    starts = np.zeros((len(GD_COMPONENTS), GD_SEEDS, max(GD_COMPONENTS), d))
    for a, m in enumerate(GD_COMPONENTS):
        for run in range(GD_SEEDS):
            draw = rng(SEED, f"gd-{d}-{m}-{run}").standard_normal((m, d))
            starts[a, run, :m] = INIT_SCALE * draw / np.sqrt(d)
    return starts


def component_norms(W):
    return np.linalg.norm(W, axis=-1)


gd = {}
for d in DIMENSIONS:
    _, gd[d] = td.gradient_descent(
        small_starts(d),
        TARGETS[d],
        STEP,
        GD_STEPS,
        metrics={
            "error": lambda W, d=d: td.relative_error(W, TARGETS[d]),
            "norms": component_norms,
        },
        record_every=20,
    )
final_errors = {d: gd[d]["error"][-1] for d in DIMENSIONS}
successes = {d: (final_errors[d] < SUCCESS).sum(axis=1) for d in DIMENSIONS}
gd_needs = {
    d: next(
        (
            m
            for m, wins in zip(GD_COMPONENTS, successes[d], strict=True)
            if wins >= GD_SEEDS - 1
        ),
        None,
    )
    for d in DIMENSIONS
}
lazy_at_gd_sizes = {
    d: [
        float(lazy[d]["residual"][lazy[d]["m"] == m][0])
        for m in GD_COMPONENTS
    ]
    for d in DIMENSIONS
}

# %% tags=["hide-input"]
fig, (ax_lazy, ax_gd) = book.figure(1, 2, height=3.4)
for d in DIMENSIONS:
    (line,) = ax_lazy.plot(
        lazy[d]["m"], lazy[d]["residual"], lw=1.4, label=f"lazy, d = {d}"
    )
    ax_lazy.axvline(
        lazy[d]["D"] / d, color=line.get_color(), lw=0.8, ls=":"
    )
    ax_gd.plot(
        GD_COMPONENTS,
        successes[d],
        "o-",
        color=line.get_color(),
        label=f"gradient descent, d = {d}",
    )
ax_lazy.set(
    xlabel="components m",
    ylabel="best lazy fit: relative residual",
    ylim=(-0.02, 1.02),
)
ax_lazy.legend(frameon=False, fontsize=7)
ax_gd.set(
    xlabel="components m",
    ylabel=f"runs with error < {SUCCESS:g} (of {GD_SEEDS})",
    xticks=GD_COMPONENTS,
    ylim=(-0.2, GD_SEEDS + 0.2),
)
ax_gd.legend(frameon=False, fontsize=7, loc="lower right")
book.save_figure(
    fig,
    "fig1-lazy-vs-gd",
    data={
        **{f"lazy_m_d{d}": lazy[d]["m"] for d in DIMENSIONS},
        **{f"lazy_residual_d{d}": lazy[d]["residual"] for d in DIMENSIONS},
        **{f"lazy_rank_d{d}": lazy[d]["rank"] for d in DIMENSIONS},
        **{f"final_error_d{d}": final_errors[d] for d in DIMENSIONS},
    },
    caption=(
        "Left: relative residual of the best lazy (linearized) fit of a "
        "rank-3 symmetric tensor against the number of components, for "
        "three dimensions d (dotted: D/d, the count at which the tangent "
        "space can span all symmetric tensors). Right: plain gradient "
        "descent from a small start, runs that reach relative error 1e-2. "
        "New figure, not one of the paper's."
    ),
    tolerances={
        f"lazy_rank_d{d}": (0.0, 0.0) for d in DIMENSIONS
    },  # ranks are integers
)

# %% tags=["remove-input"]
Markdown(
    "Measured: the lazy fit needs "
    + ", ".join(
        f"m = {lazy_needs[d]} at d = {d} (D/d = {lazy[d]['D'] / d:.1f})"
        for d in DIMENSIONS
    )
    + " to bring its residual under 0.1; gradient descent succeeds in at "
    "least "
    f"{GD_SEEDS - 1} of {GD_SEEDS} runs from m = "
    + ", ".join(f"{gd_needs[d]} at d = {d}" for d in DIMENSIONS)
    + ". With 9 components the best lazy fit still leaves residuals "
    + ", ".join(
        f"{lazy_at_gd_sizes[d][-1]:.2f} (d = {d})" for d in DIMENSIONS
    )
    + "."
)

# %% [markdown]
# The lazy requirement grows like $d^2$ and matches the count $\lceil D/d\rceil$, while gradient
# descent from a small start needs a handful of components at every $d$ tested. A failed run ends
# near relative error $\sqrt{1/3} \approx 0.58$ or $\sqrt{2/3} \approx 0.82$: one or two of the three
# components still missing when the fixed number of steps runs out. More components do not always
# help within that budget (the success counts are not monotone in $m$ at every $d$ and seed), which
# is why the claim on gradient descent is reported rather than gated.

# %%
rank_matches = all(
    np.array_equal(
        lazy[d]["rank"], np.minimum(lazy[d]["m"] * d, lazy[d]["D"])
    )
    for d in DIMENSIONS
)
exact_iff_spanning = all(
    np.array_equal(
        lazy[d]["residual"] <= 1e-6, lazy[d]["m"] * d >= lazy[d]["D"]
    )
    for d in DIMENSIONS
)
book.claim(
    "The tangent space at a random start has rank min(md, D), and the "
    "lazy fit is exact (residual ≤ 1e-6) if and only if md ≥ D",
    bool(rank_matches and exact_iff_spanning),
    rank_matches=rank_matches,
    exact_iff_spanning=exact_iff_spanning,
)
smallest, largest = min(DIMENSIONS), max(DIMENSIONS)
growth = lazy_needs[largest] / lazy_needs[smallest]
book.claim(
    f"The lazy requirement grows quadratically in d: m_lazy(d = {largest}) "
    f"/ m_lazy(d = {smallest}) ≥ 3.5",
    bool(growth >= 3.5),
    m_lazy=[lazy_needs[d] for d in DIMENSIONS],
    ratio=float(growth),
)
flat = all(m is not None and m <= 9 for m in gd_needs.values())
book.claim(
    "Gradient descent from a small start needs m ≤ 9 components "
    f"(≥ {GD_SEEDS - 1} of {GD_SEEDS} runs below error {SUCCESS:g}) at "
    "every d tested (reported, not gated)",
    bool(flat),
    not_reproduced=None
    if flat
    else "at some d fewer than 4 of 5 runs with 9 components finished "
    "within the fixed number of steps",
    m_gd=[
        gd_needs[d] if gd_needs[d] is not None else -1 for d in DIMENSIONS
    ],
    successes=[successes[d] for d in DIMENSIONS],
)

# %% [markdown]
# ## 3. One component at a time
#
# The norms $\|w_i\|$ of one successful run with nine components at the largest $d$, and the
# errors of all its runs: the small start makes gradient descent learn the target's components one
# after another, the incremental learning of the post of
# [8 July 2021](http://www.offconvex.org/2021/07/08/imp-reg-tf/), and most of the nine components
# stay near zero.

# %%
largest_runs = gd[largest]
full = GD_COMPONENTS.index(9)
shown = int(np.argmin(largest_runs["error"][-1, full]))
norms = largest_runs["norms"][:, full, shown, :]

# %% tags=["hide-input"]
fig, (ax_norms, ax_errors) = book.figure(1, 2, height=3.4)
phase_curves(
    ax_norms,
    largest_runs.steps,
    {f"w{i + 1}": norms[:, i] for i in range(norms.shape[1])},
    ylabel="component norm ||w_i||",
)
for a, m in enumerate(GD_COMPONENTS):
    for run in range(GD_SEEDS):
        ax_errors.plot(
            largest_runs.steps,
            largest_runs["error"][:, a, run],
            color=f"C{a}",
            lw=1.0,
            label=f"m = {m}" if run == 0 else None,
        )
ax_errors.set(yscale="log", ylabel="relative error", xlabel="iteration")
ax_errors.axhline(SUCCESS, color="0.5", lw=0.8, ls=":")
ax_errors.legend(frameon=False, fontsize=7)
book.save_figure(
    fig,
    "fig2-incremental",
    data={
        "steps": largest_runs.steps,
        "norms": norms,
        "error": largest_runs["error"],
    },
    caption=(
        f"Gradient descent at d = {largest}: component norms of one run "
        "with 9 components (left) and the relative error of every run "
        "(right; dotted: the success threshold). New figure, not one of "
        "the paper's."
    ),
)

# %% [markdown]
# ## What differs from the paper
#
# * **Figures.** The parts of the paper we could read contain no experiments and no code exists;
#   both figures are new.
# * **Algorithm.** The paper's upper bound is for a variant of gradient descent (a regularized
#   objective, a 2-homogeneous reparameterization, small random initialization and periodic
#   re-initialization of a component) whose exact form we could not read. We run plain gradient
#   descent and do not call it the paper's algorithm; the theorem's constants
#   ($m$ of order $r^{2.5 l}$, about 181 already for $r = 2$, $l = 3$) are vacuous at this scale,
#   so the chapter can only show the qualitative separation.
# * **Lazy bound.** We verify the counting argument behind the lower bound ($md \ge D$ for a
#   generic target) exactly; the paper's theorem is sharper and covers low-rank targets.
#
# ## Claims checked in this chapter
#
# The claims' wording and thresholds were fixed from the research note's risk grades and checked
# at seeds 10–12 before the published run; the gradient-descent claim is graded moderately risky
# (failures at small $m$ are seed-dependent slow escapes) and is reported, not gated.

# %% tags=["remove-input"]
book.claims_table()
