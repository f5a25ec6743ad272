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
# # Small random initialization is akin to spectral learning
#
# *A chapter beyond the posts: a companion to the paper by Stöger and Soltanolkotabi, NeurIPS 2021,
# [arXiv 2106.15013](https://arxiv.org/abs/2106.15013) {cite}`stoger2021small`. No official code was
# found for it, and every figure below is new: none redraws a figure of the paper.*
#
# The posts of [27 November 2020](http://www.offconvex.org/2020/11/27/reg_dl_not_norm/) and
# [8 July 2021](http://www.offconvex.org/2021/07/08/imp-reg-tf/) show gradient descent from a
# near-zero start preferring low rank in matrix and tensor factorizations. This paper explains *how*
# in the cleanest setting where the bias matters: symmetric low-rank matrix sensing with an
# over-parameterized factor. A rank-$r$ matrix $M = XX^\top$ of size $n \times n$ is seen through
# $m$ linear measurements $y_i = \langle A_i, M\rangle$, fewer than the $n(n+1)/2$ numbers of a
# symmetric matrix, and we fit $UU^\top$ with $U$ of width $k \ge r$, here as wide as $k = n$, by
# plain gradient descent on
#
# $$ f(U) = \frac{1}{4m} \sum_{i=1}^m \big(\langle A_i, UU^\top\rangle - y_i\big)^2, \qquad
#    U_{t+1} = U_t - \mu\, \mathcal{A}^*\big(\mathcal{A}(U_tU_t^\top) - y\big)\, U_t, $$
#
# where $\mathcal{A}^*(v) = \frac{1}{m}\sum_i v_i A_i$, starting from $U_0 = \alpha\, G$ with
# $G$ i.i.d. Gaussian of variance $1/k$. Infinitely many factors fit $y$ exactly when $k = n$, and
# most of them are far from $M$; yet the paper proves that from a small enough $\alpha$ gradient
# descent finds $M$ up to an error that vanishes as $\alpha \to 0$, whatever $k$. The mechanism
# comes in three phases. While $U$ is tiny the cubic term is negligible, so
# $U_t \approx (I + \mu\mathcal{A}^*(y))^t U_0$: a **power method** on $\mathcal{A}^*(y)$, the
# matrix whose top eigenvectors are the classical *spectral initialization*. The top-$r$ column
# space of $U_t$ therefore aligns with that spectral estimate while the loss barely moves. Then the
# part of $U$ along the truth grows to full size while the rest stays of order $\alpha$, and finally
# a local refinement phase converges to $M$ up to an error set by $\alpha$.
#
# **What this chapter shows.** (1) The final error against $\alpha$ over eight decades, all scales
# run as one batch; (2) the three phases in one run, measured by the angle between the top
# subspace of $U_t$ and either the spectral estimate or the truth; (3) the effect of the width $k$.

# %% tags=["parameters"]
PROFILE = "book"
SEED = 0
PERTURBATION = 0  # ensemble member for `make baselines` (0: the published run; see README)

# %% tags=["hide-input"]
import numpy as np
from IPython.display import Markdown
from offconvex import book
from offconvex.core.random import rng
from offconvex.factorization import matrix_sensing as ms
from offconvex.factorization.plots import (
    error_by_width,
    error_vs_scale,
    phase_curves,
)

book.start(
    "2021-06-29-small-init-spectral",
    PROFILE,
    SEED,
    perturbation=PERTURBATION,
)
N, RANK = 30, 2  # matrix size n and rank r of the ground truth
EIGENVALUES = (1.0, 0.5)  # of M = X X^T: ||M|| = 1, condition number 2
# gradient steps of the alpha and width sweeps (m = 300, step 0.25)
SWEEP_STEPS = book.by_profile(PROFILE, smoke=600, book=8000, paper=20_000)
# gradient steps of the phase run (m = 180, step 0.2)
PHASE_STEPS = book.by_profile(PROFILE, smoke=300, book=1200, paper=3000)
ALPHAS = np.array([1.0, 1e-1, 1e-2, 1e-3, 1e-4, 1e-6, 1e-8])
WIDTHS = (2, 3, 5, 10, 30)  # k; 30 = n, the fully over-parameterized case
WIDTH_ALPHA = 1e-4  # initialization scale of the width sweep

# %% [markdown]
# ## The problem and its measurement operator
#
# The ground truth is $M = XX^\top$ with $X = V\,\mathrm{diag}(1, 0.5)^{1/2}$ and $V$ a random
# orthonormal $30 \times 2$ matrix, so $\|M\| = 1$ and its condition number is 2. Each measurement
# matrix is $A_i = (G_i + G_i^\top)/2$ with $G_i$ i.i.d. standard Gaussian: diagonal entries of
# variance 1 and off-diagonal ones of variance 1/2, exactly what makes
# $\mathbb{E}[\mathcal{A}^*\mathcal{A}(Z)] = Z$ for every symmetric $Z$, so that the step size
# needs no rescaling. The operator is stored as one $m \times n^2$ matrix, so a gradient step is two
# matrix-vector products, and all initialization scales (and widths) of a sweep run as one batch
# of factors in float64, which the smallest scale, $\alpha = 10^{-8}$, needs.

# %%
X, V = ms.low_rank_truth(N, EIGENVALUES, rng(SEED, "truth"))
M = X @ X.T


def sensing_problem(m):
    """Operator, measurements and spectral estimate with m measurements."""
    A = ms.symmetric_gaussian_sensing(m, N, rng(SEED, f"sensing-{m}"))
    y = ms.measure(A, M)
    return A, y, ms.spectral_estimate(A, y, RANK)


A_sweep, y_sweep, spectral_sweep = sensing_problem(300)
A_phase, y_phase, spectral_phase = sensing_problem(180)

entries = A_sweep.reshape(-1, N, N)
diagonal_variance = float(
    np.mean(np.diagonal(entries, axis1=1, axis2=2) ** 2)
)
upper = np.triu_indices(N, 1)
off_diagonal_variance = float(np.mean(entries[:, upper[0], upper[1]] ** 2))
book.sanity_check(
    "Measurement matrices have entry variances 1 on the diagonal and 1/2 "
    "off it (so that E[A*A(Z)] = Z), within 10 %",
    abs(diagonal_variance - 1) < 0.1
    and abs(off_diagonal_variance - 0.5) < 0.05,
    diagonal_variance=diagonal_variance,
    off_diagonal_variance=off_diagonal_variance,
)

# %% [markdown]
# ## 1. The final error falls with the initialization scale
#
# With $m = 300$ measurements (the symmetric matrix has 465 entries), step $\mu = 0.25$ and the
# full width $k = n = 30$, we run gradient descent from $U_0 = \alpha G$ for seven scales
# $\alpha$ from 1 to $10^{-8}$, the same draw $G$ for all, for a fixed number of steps chosen before
# the runs. The same batch also carries the width sweep of section 3 (zero columns of $U$ stay zero
# under gradient descent, so narrower factors are padded to width $n$).

# %%
direction = ms.padded_gaussian_factor(N, N, rng(SEED, "init"))
width_starts = [
    WIDTH_ALPHA
    * ms.padded_gaussian_factor(N, k, rng(SEED, f"init-k{k}"), width=N)
    for k in WIDTHS[:-1]
]
U0 = np.concatenate(
    [ALPHAS[:, None, None] * direction, np.stack(width_starts)]
)
U_sweep, sweep = ms.gradient_descent(
    A_sweep,
    y_sweep,
    U0,
    step=0.25,
    n_steps=SWEEP_STEPS,
    metrics={"error": lambda U: ms.relative_error(U, M)},
    record_every=5,
)
scale_errors = sweep["error"][-1, : len(ALPHAS)]
small = (ALPHAS >= 1e-8) & (ALPHAS <= 1e-3)
slope, intercept = np.polyfit(
    np.log(ALPHAS[small]), np.log(scale_errors[small]), 1
)
# measurement residual ||A(UU^T) - y|| / ||y|| at the last step
fit_of_measurements = np.sqrt(
    ms.loss(A_sweep, y_sweep, U_sweep)
    / ms.loss(A_sweep, y_sweep, np.zeros((N, N)))
)
distance_moved = np.linalg.norm(
    U_sweep[: len(ALPHAS)] - U0[: len(ALPHAS)], axis=(1, 2)
) / np.linalg.norm(U0[: len(ALPHAS)], axis=(1, 2))

# %% tags=["hide-input"]
fig, (ax_scale, ax_time) = book.figure(1, 2, height=3.4)
error_vs_scale(
    ax_scale,
    ALPHAS,
    {"m = 300, k = n = 30": scale_errors},
    fitted_slope=(slope, intercept, small),
)
phase_curves(
    ax_time,
    sweep.steps,
    {
        f"α = {alpha:g}": sweep["error"][:, j]
        for j, alpha in enumerate(ALPHAS)
    },
    ylabel="relative error",
    log_y=True,
    log_x=True,
)
ax_time.set_xlim(0, SWEEP_STEPS)
ax_time.legend(frameon=False, fontsize=7, ncols=2, loc="lower left")
book.save_figure(
    fig,
    "fig1-error-vs-scale",
    data={
        "alphas": ALPHAS,
        "final_error": scale_errors,
        "steps": sweep.steps,
        "error": sweep["error"][:, : len(ALPHAS)],
        "slope": slope,
    },
    caption=(
        "Matrix sensing (n = 30, rank 2, m = 300 measurements, width "
        "k = 30): relative error ||UU^T - M||/||M|| after "
        f"{SWEEP_STEPS} gradient steps against the initialization scale "
        "(left, dashed: least-squares fit over 1e-8 to 1e-3), and along "
        "the runs (right). New figure, not one of the paper's."
    ),
)

# %% tags=["remove-input"]
Markdown(
    "Measured: the final error goes from "
    f"{scale_errors[0]:.1e} at $\\alpha = 1$ to {scale_errors[-1]:.1e} at "
    f"$\\alpha = 10^{{-8}}$; the fitted log-log slope is {slope:.2f}. "
    "The measurement residual $\\|\\mathcal{A}(UU^\\top) - y\\|/\\|y\\|$ "
    "ends at "
    f"{fit_of_measurements[0]:.1e} from $\\alpha = 1$ and at "
    f"{fit_of_measurements[len(ALPHAS) - 1]:.1e} from "
    "$\\alpha = 10^{-8}$. The small starts move far from where they began, "
    "as a lazy (kernel) regime never would: $\\|U_T - U_0\\|/\\|U_0\\|$ "
    f"is {distance_moved[0]:.2g} at $\\alpha = 1$ but "
    f"{distance_moved[-1]:.2g} at $\\alpha = 10^{{-8}}$, about $1/\\alpha$ "
    "(the contrast with the post of 2021-03-25)."
)

# %% [markdown]
# From $\alpha = 1$ the iterates fit the measurements far better than they fit $M$: gradient
# descent heads for one of the many factors that explain $y$ without being $M$, the failure the
# paper rules out for small $\alpha$. As $\alpha$ shrinks, each run first plateaus at an error of
# the order of its starting scale and then drifts down slowly; we report the error at the fixed
# final step. The slope is an empirical rate, not the theorem's: the theorem gives an upper bound
# whose exponent we do not test.

# %%
ratio = float(scale_errors[0] / scale_errors[ALPHAS == 1e-6][0])
book.claim(
    "The final error decreases monotonically as α shrinks from 1 to 1e-8, "
    "and err(α = 1) / err(α = 1e-6) ≥ 100",
    bool(np.all(np.diff(scale_errors) < 0) and ratio >= 100),
    errors=scale_errors,
    ratio_1_to_1e6=ratio,
)
book.claim(
    "The log-log slope of the final error against α over [1e-8, 1e-3] "
    "is at least 0.5",
    bool(slope >= 0.5),
    slope=float(slope),
)

# %% [markdown]
# ## 2. Three phases: spectral alignment, then growth, then refinement
#
# To see the spectral phase, the spectral estimate must differ visibly from the truth, so this
# run uses fewer measurements, $m = 180$ (step $\mu = 0.2$), where the top-2 eigenvectors of
# $\mathcal{A}^*(y)$ are far from $V$. For a batch of four scales we record, at every other step,
# the relative error, the sine of the largest principal angle between the top-2 left singular
# space of $U_t$ and the spectral estimate $V_{\mathrm{spec}}$ or the truth $V$ (computed from
# orthonormal bases), the smallest singular value of $V^\top U_t$ (the signal) and the norm of
# $(I - VV^\top)U_t$ (the part outside the truth's column space).

# %%
PHASE_ALPHAS = np.array([1e-2, 1e-4, 1e-6, 1e-8])
_, phases = ms.gradient_descent(
    A_phase,
    y_phase,
    PHASE_ALPHAS[:, None, None] * direction,
    step=0.2,
    n_steps=PHASE_STEPS,
    metrics=ms.phase_metrics(X, V, spectral_phase),
    record_every=2,
)
SHOWN = int(np.flatnonzero(PHASE_ALPHAS == 1e-6)[0])
run = {name: phases[name][:, SHOWN] for name in phases.metrics}
spectral_vs_truth = float(ms.sin_largest_angle(spectral_phase, V))
flat_loss = run["error"] >= 0.9
best = int(np.argmin(np.where(flat_loss, run["sin_spectral"], np.inf)))
spectral_phase_end = int(phases.steps[np.flatnonzero(flat_loss)[-1]])
# per scale: the closest the top subspace comes to the spectral estimate
# while the error is still at least 0.9
closest_alignment = np.array(
    [
        phases["sin_spectral"][phases["error"][:, j] >= 0.9, j].min()
        for j in range(len(PHASE_ALPHAS))
    ]
)
spectral_eigenvalues = np.sort(
    np.linalg.eigvalsh(ms.adjoint(A_phase, y_phase))
)[::-1][:3]

# %% tags=["hide-input"]
fig, (ax_angles, ax_parts) = book.figure(1, 2, height=3.9)
phase_curves(
    ax_angles,
    phases.steps,
    {
        "relative error": run["error"],
        "sin∠(top-2 of U, spectral estimate)": run["sin_spectral"],
        "sin∠(top-2 of U, truth)": run["sin_truth"],
    },
    ylabel="error / sine of angle",
    styles={"relative error": {"color": "k"}},
)
phase_curves(
    ax_parts,
    phases.steps,
    {
        "σ_min(V^T U), signal": run["signal"],
        "||(I - VV^T) U||, outside": run["orthogonal"],
    },
    ylabel="norm",
    log_y=True,
)
for ax in (ax_angles, ax_parts):
    ax.axvspan(0, spectral_phase_end, color="0.9", zorder=0)
    ax.set_xlim(0, min(PHASE_STEPS, 300))
ax_angles.set_ylim(0, 1.05)
# one legend under both panels: every corner of the left panel holds a curve
handles = [
    h
    for ax in (ax_angles, ax_parts)
    for h in ax.get_legend_handles_labels()[0]
]
fig.legend(
    handles=handles,
    loc="outside lower center",
    ncols=2,
    frameon=False,
)
book.save_figure(
    fig,
    "fig2-three-phases",
    data={
        "steps": phases.steps,
        "alphas": PHASE_ALPHAS,
        **{name: phases[name] for name in phases.metrics},
        "spectral_vs_truth": spectral_vs_truth,
    },
    caption=(
        "One run (m = 180, k = 30, α = 1e-6): relative error and the "
        "sine of the angle between the top-2 left singular space of U and "
        "the spectral estimate or the truth (left); size of the part of U "
        "along the truth and outside it (right). Shaded: steps where the "
        "error is still at least 0.9. New figure, not one of the paper's."
    ),
)

# %% tags=["remove-input"]
ends = {
    alpha: int(
        phases.steps[np.flatnonzero(phases["error"][:, j] >= 0.9)[-1]]
    )
    for j, alpha in enumerate(PHASE_ALPHAS)
}
Markdown(
    "Measured (α = 1e-6): the spectral estimate itself is poor, "
    f"sin∠(V_spec, V) = {spectral_vs_truth:.2f}. At step "
    f"{int(phases.steps[best])}, with the error still at "
    f"{run['error'][best]:.2f}, the top subspace of U is within "
    f"sin∠ = {run['sin_spectral'][best]:.3f} of the spectral estimate and "
    f"at {run['sin_truth'][best]:.2f} from the truth. By step "
    f"{int(phases.steps[-1])} the error is {run['error'][-1]:.1e} and "
    f"sin∠(U, V) = {run['sin_truth'][-1]:.1e}. The last step with error "
    "≥ 0.9 grows with log(1/α): "
    + ", ".join(f"{ends[a]} at α = {a:g}" for a in PHASE_ALPHAS)
    + ", and the closest approach to the spectral estimate before it "
    "shrinks: "
    + ", ".join(f"{value:.3f}" for value in closest_alignment)
    + "."
)

# %% [markdown]
# While the loss has barely moved, gradient descent has already done what spectral
# initialization does: its top subspace has turned towards the spectral estimate, not the truth. Then the
# signal part grows by many orders of magnitude while the part outside the truth's column space
# stays near its starting size, and the angle to the truth collapses as the error falls. The
# shaded spectral phase is longer for smaller $\alpha$, by a number of steps that grows like
# $\log(1/\alpha)$, as a power method's would.

# %%
at_best = dict(
    step=int(phases.steps[best]),
    error_there=float(run["error"][best]),
    sin_to_spectral=float(run["sin_spectral"][best]),
    sin_to_truth=float(run["sin_truth"][best]),
)
book.claim(
    "Spectral phase (α = 1e-6, m = 180): at an iterate whose relative "
    "error is still ≥ 0.9, the top-2 subspace of U is at least twice as "
    "close to the spectral estimate as to the truth (in sin∠)",
    bool(run["sin_truth"][best] >= 2 * run["sin_spectral"][best]),
    **at_best,
    spectral_estimate_vs_truth=spectral_vs_truth,
    final_error=float(run["error"][-1]),
)
book.claim(
    "The spectral alignment sharpens as α shrinks (a longer power "
    "method): the smallest sin∠(U, spectral estimate) at error ≥ 0.9 "
    "decreases over α = 1e-2, 1e-4, 1e-6, 1e-8",
    bool(np.all(np.diff(closest_alignment) < 0)),
    alphas=PHASE_ALPHAS,
    smallest_sin_to_spectral=closest_alignment,
)
book.claim(
    "Spectral phase, absolute form (reported, not gated): at that "
    "iterate sin∠(top-2 subspace of U, spectral estimate) ≤ 0.15",
    bool(run["sin_spectral"][best] <= 0.15),
    not_reproduced=None
    if run["sin_spectral"][best] <= 0.15
    else "the alignment a power method reaches before the loss moves is "
    "limited by the gap between the 2nd and 3rd eigenvalues of A*(y), "
    "which is small at this seed",
    **at_best,
    eigenvalues_2_3=spectral_eigenvalues[1:3],
)

# %% [markdown]
# ## 3. Over-parameterization is harmless
#
# The paper's bound does not depend on the width $k$. We rerun the $m = 300$ problem at
# $\alpha = 10^{-4}$ with $k \in \{2, 3, 5, 10, 30\}$ (each start of variance $\alpha^2/k$, in the
# same batch as section 1). With $k = r = 2$ the model is exactly parameterized and converges to $M$
# to rounding level, which is why the claim compares the full width with $k = r + 3$ rather than
# with $k = r$.

# %%
width_errors = np.append(
    sweep["error"][-1, len(ALPHAS) :],
    scale_errors[ALPHAS == WIDTH_ALPHA],
)

# %% tags=["hide-input"]
fig, ax = book.figure(1, 1, height=3.0)
error_by_width(ax, WIDTHS, width_errors, exact_floor=1e-15)
book.save_figure(
    fig,
    "fig3-width",
    data={"widths": np.array(WIDTHS), "final_error": width_errors},
    caption=(
        "Final relative error against the width k of the factor "
        f"(m = 300, α = 1e-4, {SWEEP_STEPS} steps); k = 2 is the exact "
        "rank. New figure, not one of the paper's."
    ),
)

# %%
exact, r_plus_3, full = (
    width_errors[WIDTHS.index(k)] for k in (RANK, RANK + 3, N)
)
book.sanity_check(
    "Exact parameterization (k = r = 2) fits M to rounding level "
    "(relative error ≤ 1e-10)",
    bool(exact <= 1e-10),
    error_k2=float(exact),
)
book.claim(
    "Over-parameterization is harmless (reported, not gated): "
    "err(k = n = 30) ≤ 3 · err(k = r + 3 = 5) at α = 1e-4",
    bool(full <= 3 * r_plus_3),
    not_reproduced=None
    if full <= 3 * r_plus_3
    else "at this seed the widest factor ends more than 3 times above "
    "k = 5 after the fixed number of steps",
    error_k30=float(full),
    error_k5=float(r_plus_3),
    ratio=float(full / r_plus_3),
)

# %% [markdown]
# ## What differs from the paper
#
# * **Figures.** The paper's numerical section was not available to us; all three figures are
#   new experiments on the paper's setting, not redrawings, and no official code exists to compare
#   with.
# * **Scale and constants.** Only the paper's abstract and introduction were available to us; its
#   conditions as we recall them (to be checked against the paper) ask for a restricted isometry
#   constant of order $\kappa^{-4}/\sqrt{r}$, i.e. far more measurements than our $m = 180$ or $300$
#   for $n = 30$, and a step size $\mu \lesssim \kappa^{-2}\|M\|^{-1}$ with unspecified constants;
#   our $m$ and $\mu$ are chosen to work at CPU scale, not to meet them. The initialization
#   variance $1/k$ and the theorem's rate in $\alpha$ are also recalled, not read; the chapter tests
#   only that the error falls with $\alpha$ (slope at least 0.5 on a log-log plot), not the exponent.
# * **Fixed horizon.** The error keeps drifting slowly after its plateau; every number here is
#   at a step count fixed in advance.
# * **Not run.** The effect of the step size below the stability threshold and the paper's
#   asymmetric or noisy variants.
#
# ## How this connects to the posts
#
# The posts of 2020-11-27 and 2021-07-08 see the small-initialization bias towards low rank in
# matrix and tensor factorization, and the 2021-07-08 post describes it as incremental learning,
# one component at a time. This paper gives the matrix case a mechanism: the first phase is a power
# method, so a small start first learns the spectral estimate's subspace and only then fits. The
# runs here move by about $1/\alpha$ times their starting size, the opposite of the lazy regime
# discussed in the post of 2021-03-25.
#
# ## Claims checked in this chapter
#
# The claims' wording and thresholds were fixed before the published run, from the research
# note's risk grades, and checked at seeds 10–14 (never at the book's seeds 0–4) before being
# committed. The note proposed to gate the spectral phase as "sin∠ to the spectral estimate at most
# 0.15 at $\alpha = 10^{-6}$"; at the exploratory seeds that number was 0.019, 0.110, 0.221, 0.151
# and 0.115: it depends on how well the 2nd and 3rd eigenvalues of $\mathcal{A}^*(y)$ are separated,
# which a power method needs. So the gated form of the claim is relative (closer to the spectral
# estimate than to the truth by a factor of at least 2; the smallest factor seen at seeds 10–14
# was 2.9) together with the power method's prediction that a smaller $\alpha$ aligns better, and
# the absolute form is reported, not gated, like the width claim, which the note grades as risky.

# %% tags=["remove-input"]
book.claims_table()
