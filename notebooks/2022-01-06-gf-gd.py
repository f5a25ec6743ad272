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
# # Does gradient flow over neural networks represent gradient descent?
#
# *Companion to the Off the Convex Path post of 6 January 2022,
# [Does Gradient Flow Over Neural Networks Really Represent Gradient Descent?](http://www.offconvex.org/2022/01/06/gf-gd/),
# and to the paper by Elkabetz and Cohen, NeurIPS 2021,
# [Continuous vs. Discrete Optimization of Deep Neural Networks](https://arxiv.org/abs/2107.06608).*
#
# Much of deep learning theory studies *gradient flow* (GF), the differential equation
# $\dot\theta = -\nabla f(\theta)$, because it is easier to analyse than the gradient descent (GD) that is
# actually run. GD with step $\eta$ is exactly Euler's method for that equation, so iterate $k$ should be
# compared with the flow at time $t = k\eta$. Numerical analysis bounds the gap by
# $O\big(e^{\int_0^t |\lambda_-|}\, t\,\eta\big)$, where $\lambda_-$ is the negative part of the smallest
# Hessian eigenvalue met along the flow. Where the flow crosses negative curvature, errors are amplified
# exponentially and GD needs a tiny step to stay close; where the flow only sees (almost) non-negative
# curvature, a moderate step is enough. The paper's point is that training losses of networks with
# homogeneous activations (linear, ReLU) are very non-convex in general, yet their gradient-flow paths are
# almost convex, so moderate step sizes already follow the flow.
#
# **What this chapter reproduces, and at what scale.** (1) The post's schematic of GD as Euler's method,
# computed on a two-dimensional non-convex function with an exactly integrated flow, including a path on
# which negative curvature amplifies the discretisation error. (2) The post's Figure 2 — GD at step
# $\eta_0$ against GD at $\eta_0/r$, $r = 2, 5, 10, 20$, compared at equal time — for bias-free fully
# connected networks (linear and ReLU), initialised Xavier-uniform as in the paper's code, all runs from one
# shared initial network. The paper used 1000 MNIST images, hidden width 50 and $\eta_0 = 0.001$ for 10 000
# steps on a GPU; here the `book` profile uses 500 standardised images of scikit-learn's bundled 8×8 digits,
# hidden width 32 (a smaller width, to fit the CPU budget), $\eta_0 = 0.05$ for 500 steps (time $t = 25$),
# in float64. (3) A negative control that raises $\eta_0$ until GD leaves GF, and (4) Theorem 2 made
# visible: the smallest Hessian eigenvalue along the GD path against random points of the same norm, on an
# even smaller network (hidden width 12, 300 images) so that Lanczos iterations stay cheap. The `paper`
# profile uses the paper's width, step size and step count on digits.

# %% tags=["parameters"]
PROFILE = "book"
SEED = 0
PERTURBATION = 0  # ensemble member for `make baselines` (0: the published run; see README)

# %% tags=["hide-input"]
import matplotlib.ticker
import numpy as np
import torch
from matplotlib.lines import Line2D
from offconvex import book
from offconvex.core.random import rng, torch_generator
from offconvex.dynamics import gradient_flow as gf
from offconvex.dynamics import hessian
from offconvex.dynamics import homogeneous_networks as hn
from offconvex.dynamics.plots import plot_curves, plot_landscape_paths

book.start("2022-01-06-gf-gd", PROFILE, SEED, perturbation=PERTURBATION)
RATIOS = (2, 5, 10, 20)  # the post's step-size ratios r
N_EXAMPLES = book.by_profile(PROFILE, smoke=100, book=500, paper=1000)
HIDDEN = book.by_profile(PROFILE, smoke=8, book=32, paper=50)
ETA0 = book.by_profile(PROFILE, smoke=0.05, book=0.05, paper=0.001)
# steps of the eta0 run
BASE_STEPS = book.by_profile(PROFILE, smoke=20, book=500, paper=10_000)
# records, equally spaced in time as in the paper
N_RECORDS = book.by_profile(PROFILE, smoke=10, book=50, paper=100)
CONTROL_ETAS = book.by_profile(
    PROFILE,
    smoke=(0.05, 1.0, 4.0),
    book=(0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 4.0),
    paper=(0.001, 0.01, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 4.0),
)
HESSIAN_HIDDEN = book.by_profile(PROFILE, smoke=6, book=12, paper=16)
HESSIAN_EXAMPLES = book.by_profile(
    PROFILE, smoke=100, book=300, paper=500
)
HESSIAN_STEPS = book.by_profile(PROFILE, smoke=20, book=600, paper=1000)
HESSIAN_RECORDS = book.by_profile(PROFILE, smoke=2, book=7, paper=11)

# %% [markdown]
# ## Figure 1 — GD as Euler's method for GF, on a two-dimensional non-convex function
#
# Take $f(x, y) = \tfrac12 x^2 + \tfrac14 (y^2 - 1)^2$: a bowl in $x$ times a double well in $y$. Its
# Hessian is $\mathrm{diag}(1, 3y^2 - 1)$, negative (down to $-1$) on the ridge $|y| < 1/\sqrt3$ and
# positive inside the wells. We integrate GF with an adaptive high-order solver at tolerance $10^{-11}$
# (the reference) and run GD at three step sizes from two starts: one inside a well, whose path only meets
# positive curvature, and one a hair off the ridge, whose path runs along the ridge before falling into a
# well. For each we measure the gap $\|\theta(k\eta) - \theta_k\|$ and the shape of the bound,
# $e^{\int_0^t |\lambda_-|}\, t\,\eta$, with $\lambda_-$ read off the flow.

# %%
STARTS = {"inside a well": (2.0, 1.3), "along the ridge": (2.0, 1e-3)}
ETAS_2D = (0.2, 0.1, 0.05)
HORIZON_2D = 12.0
toy = {}
for name, start in STARTS.items():
    for eta in ETAS_2D:
        times, iterates, flow, error = gf.gd_vs_gf_error(
            gf.double_well_grad, start, eta, HORIZON_2D
        )
        lambda_min = np.array(
            [gf.double_well_hessian_min(point) for point in flow]
        )
        toy[name, eta] = dict(
            times=times,
            iterates=iterates,
            flow=flow,
            error=error,
            bound_shape=gf.euler_error_bound_shape(times, lambda_min, eta),
            lambda_min=lambda_min,
        )
grid_x = np.linspace(-0.5, 2.2, 120)
grid_y = np.linspace(-0.4, 1.5, 120)
landscape = np.array(
    [[gf.double_well((x, y)) for x in grid_x] for y in grid_y]
)

# %%
# Paths top left and the legends top right (off the data); below, the gap
# along each path, one colour per step size η.
fig, axes = book.figure(2, 2, height=5.4)
paths_ax, legend_ax = axes[0]
# No blue on the paths: shades of blue stand for the step sizes below.
paths_ax.set_prop_cycle(
    color=["tab:purple", "tab:orange", "tab:green", "tab:red"]
)
coarse = ETAS_2D[0]
plot_landscape_paths(
    paths_ax,
    grid_x,
    grid_y,
    landscape,
    {f"GF from {name}": toy[name, coarse]["flow"] for name in STARTS},
    {
        f"GD, η = {coarse}, {name}": toy[name, coarse]["iterates"]
        for name in STARTS
    },
    legend=False,
)
paths_ax.set_title("paths (GD dots at t = kη)")
# darker for larger steps
STEP_COLOURS = dict(
    zip(ETAS_2D, ("#08306b", "#2171b5", "#6baed6"), strict=True)
)
GAP_LABEL = r"gap $\|\theta(k\eta) - \theta_k\|$"
BOUND_LABEL = "bound shape exp(∫|λ₋|)·t·η"
for ax, name in zip(axes[1], STARTS, strict=True):
    curves, times, styles = {}, {}, {}
    for kind, key_name in (("gap", "error"), ("bound", "bound_shape")):
        for eta in ETAS_2D:
            label = f"{kind}, η = {eta}"
            curves[label] = toy[name, eta][key_name][1:]
            times[label] = toy[name, eta]["times"][1:]
            dashed = {"ls": "--", "lw": 1} if kind == "bound" else {}
            styles[label] = {"color": STEP_COLOURS[eta], **dashed}
    plot_curves(
        ax,
        times,
        curves,
        "time t = kη",
        "distance",
        log_y=True,
        styles=styles,
        legend=False,
    )
    ax.set_title(f"start {name}")
legend_ax.axis("off")
paths_legend = legend_ax.legend(
    *paths_ax.get_legend_handles_labels(),
    loc="upper left",
    title="paths (top left)",
    alignment="left",
    frameon=False,
)
legend_ax.add_artist(paths_legend)
gap_handles = [
    Line2D([], [], color=colour, label=f"η = {eta}")
    for eta, colour in STEP_COLOURS.items()
] + [
    Line2D([], [], color="0.3", label=GAP_LABEL),
    Line2D([], [], color="0.3", ls="--", lw=1, label=BOUND_LABEL),
]
legend_ax.legend(
    handles=gap_handles,
    loc="lower left",
    title="gaps (bottom row)",
    alignment="left",
    frameon=False,
)
book.save_figure(
    fig,
    "fig1-euler-gd-gf",
    data={
        f"{name}/eta={eta}/{key}": toy[name, eta][key]
        for name in STARTS
        for eta in ETAS_2D
        for key in ("times", "iterates", "flow", "error", "bound_shape")
    },
    caption=(
        "GD as Euler's method for GF on f(x,y) = x²/2 + (y²−1)²/4. Top "
        "left: flows and GD iterates at η = 0.2. Bottom: gap between "
        "iterate k and the flow at time kη (solid) and the shape "
        "exp(∫|λ₋|)·t·η of the bound (dashed, no constant), from each "
        "start."
    ),
    # float64 numpy is deterministic; the adaptive ODE solver is loosest
    rtol=1e-7,
    atol=1e-10,
)

# %% [markdown]
# Inside the well, the gap is largest in the first few steps (where the gradient is steepest) and then
# shrinks, because positive curvature contracts errors; it is proportional to $\eta$, as for any
# first-order method. Along the ridge the same local errors are amplified: while the flow sits at
# $y \approx 0$ the Hessian has eigenvalue $-1$, so the gap grows like $e^{t}$ — exactly the exponential
# factor in the bound — until both paths fall into the well and the gap contracts again.

# %%
def growth_rate(times, error, window):
    """Least-squares slope of log(error) against time inside ``window``
    = (t_start, t_end)."""
    inside = (times >= window[0]) & (times <= window[1])
    return float(np.polyfit(times[inside], np.log(error[inside]), 1)[0])


ridge, well = toy["along the ridge", 0.1], toy["inside a well", 0.1]
# The unstable direction on the ridge is y; the x-part of the gap is
# contracted by the bowl, so the amplification is read off the
# y-component of the gap and compared with the bound's own growth.
# In this window the flow stays at y < 0.15, where λ_min < −0.9.
ridge_window = (1.0, 5.0)
ridge_gap_y = np.abs(ridge["flow"][:, 1] - ridge["iterates"][:, 1])
ridge_rate = growth_rate(ridge["times"], ridge_gap_y, ridge_window)
bound_rate = growth_rate(ridge["times"], ridge["bound_shape"], ridge_window)
halving = {
    name: float(
        toy[name, 0.1]["error"].max() / toy[name, 0.05]["error"].max()
    )
    for name in STARTS
}
well_peak_time = float(well["times"][np.argmax(well["error"])])
book.claim(
    "Along the ridge the GD–GF gap in the unstable direction grows "
    "exponentially like the bound's shape exp(∫|λ₋|)·t·η (fitted growth "
    "rates of their logs over t ∈ [1, 5] within 25%)",
    abs(ridge_rate - bound_rate) <= 0.25 * bound_rate,
    gap_growth_rate=ridge_rate,
    bound_growth_rate=bound_rate,
)
book.claim(
    "Where the flow sees only positive curvature the gap does not grow: "
    "it peaks within the first time unit and ends below 1% of its peak",
    well_peak_time <= 1.0
    and well["error"][-1] < 0.01 * well["error"].max(),
    peak_time=well_peak_time,
    final_over_peak=float(well["error"][-1] / well["error"].max()),
)
book.claim(
    "GD is a first-order integrator: halving η halves the largest gap "
    "(ratio in [1.6, 2.4]) on both paths",
    all(1.6 <= ratio <= 2.4 for ratio in halving.values()),
    **{f"ratio_{k}": v for k, v in halving.items()},
)

# %% [markdown]
# ## Figure 2 — networks: GD at step $\eta_0$ against GD at $\eta_0/r$, at equal time
#
# One Xavier-uniform initial network is drawn once and every run starts from a copy of it. The run with
# step $\eta_0$ takes $K$ steps; the run with step $\eta_0/r$ takes $rK$ steps, so that iterate $k$ of the
# first and iterate $rk$ of the second sit at the same time $t = k\eta_0$. If GD with step $\eta_0$ is
# already close to the flow, then all runs are close to each other. We record the training loss and the
# parameters at equally spaced times and plot (left) the loss curves and (right) the distance travelled
# from the initialization by the $\eta_0$ run against the distance between the $\eta_0$ run and each
# smaller-step run.

# %%
def equal_time_runs(activation, eta0, base_steps, ratios, n_records):
    """GD at eta0 and at eta0 / r from one shared initial network,
    recorded at the same times."""
    problem = hn.digits_problem(
        N_EXAMPLES, (64, HIDDEN, HIDDEN, 10), activation
    )
    theta0 = hn.xavier_uniform(
        problem.widths, torch_generator(SEED, "init")
    )
    record_every = max(base_steps // n_records, 1)
    runs = {}
    for ratio in (1, *ratios):
        steps = base_steps * ratio
        _, losses, thetas = hn.train_gd(
            problem, theta0, eta0 / ratio, steps, ratio * record_every
        )
        runs[ratio] = dict(loss=losses, theta=thetas)
    base = runs[1]["theta"]
    record_steps = np.r_[
        np.arange(0, base_steps + 1, record_every), base_steps
    ]
    return dict(
        time=eta0 * np.unique(record_steps),
        loss={r: run["loss"] for r, run in runs.items()},
        from_init=np.linalg.norm(base - base[0], axis=1),
        between={
            r: np.linalg.norm(base - runs[r]["theta"], axis=1)
            for r in ratios
        },
    )


comparisons = {
    act: equal_time_runs(act, ETA0, BASE_STEPS, RATIOS, N_RECORDS)
    for act in ("linear", "relu")
}

# %%
fig, axes = book.figure(2, 2, height=5.6, sharex=True)
for row, (activation, result) in zip(
    axes, comparisons.items(), strict=True
):
    losses = {
        f"η₀/{r}" if r > 1 else "η₀": loss
        for r, loss in result["loss"].items()
    }
    plot_curves(
        row[0], result["time"], losses, "", "training loss", log_y=True
    )
    row[0].set_title(f"{activation} network: training loss")
    distances = {"from init (η₀ run)": result["from_init"]}
    distances.update(
        {f"η₀ run vs η₀/{r} run": d for r, d in result["between"].items()}
    )
    plot_curves(row[1], result["time"], distances, "", "distance (weights)")
    row[1].set_title(f"{activation} network: distances")
for ax in axes[1]:
    ax.set_xlabel("time t = kη₀")
book.save_figure(
    fig,
    "fig2-step-size-comparison",
    data={
        f"{act}/{key}": value
        for act, result in comparisons.items()
        for key, value in result.items()
    },
    caption=(
        f"Bias-free FC networks (64-{HIDDEN}-{HIDDEN}-10, Xavier init "
        "shared by all runs) trained by full-batch GD on "
        f"{N_EXAMPLES} digits with step η₀ = {ETA0} and η₀/r, r = 2, 5, "
        "10, 20, compared at equal time."
    ),
    # float64 torch on one thread is deterministic; the tolerance covers
    # BLAS differences
    rtol=1e-7,
    atol=1e-10,
)

# %% [markdown]
# The loss curves lie on top of each other and the distances between runs stay far below the distance
# travelled. The distance between runs *grows* with $r$ and saturates: as $r \to \infty$ the small-step
# run converges to the flow, so the curve for large $r$ measures the distance of the $\eta_0$ run to GF.

# %%
for activation, result in comparisons.items():
    travelled = float(result["from_init"][-1])
    between = result["between"]
    relative = {r: float(d.max() / travelled) for r, d in between.items()}
    loss_gap = max(
        float(np.abs(result["loss"][1] - result["loss"][r]).max())
        for r in RATIOS
    )
    book.claim(
        f"{activation}: the runs are nearly indistinguishable — for every "
        "r the largest distance between the η₀ and η₀/r runs is below 10% "
        "of the distance the η₀ run travels",
        all(value < 0.1 for value in relative.values()),
        distance_travelled=travelled,
        **{f"relative_distance_r{r}": v for r, v in relative.items()},
    )
    saturation = float(between[20].max() - between[10].max())
    book.claim(
        f"{activation}: the distance between runs saturates in r "
        "(d(20) − d(10) < 0.25·d(2))",
        saturation < 0.25 * float(between[2].max()),
        d20_minus_d10=saturation,
        d2=float(between[2].max()),
    )
    book.claim(
        f"{activation}: the loss curves agree (largest gap over time and r "
        "below 0.02)",
        loss_gap < 0.02,
        max_loss_gap=loss_gap,
    )

# %% [markdown]
# ### Negative control: raise $\eta_0$ until GD leaves GF
#
# The agreement above is not automatic. We keep the time horizon fixed and raise $\eta_0$, comparing the
# $\eta_0$ run with the $\eta_0/2$ run at equal times, and report the first step size at which the distance
# between them exceeds 10% of the distance travelled (the threshold of the claims above).

# %%
HORIZON = ETA0 * BASE_STEPS
control = {}
for activation in ("linear", "relu"):
    relative = []
    for eta in CONTROL_ETAS:
        steps = max(int(round(HORIZON / eta)), 1)
        # A diverging run overflows to inf, which is handled below: no
        # warning on the page.
        with np.errstate(over="ignore"):
            result = equal_time_runs(
                activation, eta, steps, (2,), min(steps, 10)
            )
        travelled = max(float(result["from_init"].max()), 1e-300)
        relative.append(
            float(result["between"][2].max() / travelled)
            if np.isfinite(travelled)
            else np.inf
        )
    relative = np.array(relative)
    # capped at 1e3, which also stands for "GD diverged"
    control[activation] = np.where(
        np.isfinite(relative), np.minimum(relative, 1e3), 1e3
    )

# %%
fig, ax = book.figure(height=3.2, width=4.6)
plot_curves(
    ax,
    np.array(CONTROL_ETAS),
    control,
    "step size η₀",
    "max distance(η₀, η₀/2)\n/ distance travelled",
    log_y=True,
)
ax.set_xscale("log")
# label the step sizes of the ladder, not powers of ten
ax.set_xticks(CONTROL_ETAS, [f"{eta:g}" for eta in CONTROL_ETAS])
ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
ax.axhline(0.1, color="0.5", ls=":", lw=1)
book.save_figure(
    fig,
    "fig3-negative-control",
    data={"eta0": np.array(CONTROL_ETAS), **control},
    caption=(
        f"Raising the step size at fixed time t = {HORIZON:g}: relative "
        "distance between GD at η₀ and at η₀/2 (capped at 10³ when GD "
        "diverges). Dotted: the 10% threshold."
    ),
    # divergent runs near the edge of stability amplify round-off
    rtol=1e-6,
    atol=1e-10,
)

# %%
for activation, relative in control.items():
    leaving = [
        eta
        for eta, value in zip(CONTROL_ETAS, relative, strict=True)
        if not value < 0.1
    ]
    book.claim(
        f"{activation}: raising η₀ far enough makes GD leave GF (relative "
        "distance to the η₀/2 run above 10% for some η₀ in the ladder)",
        bool(leaving),
        first_leaving_eta0=leaving[0] if leaving else float("nan"),
        relative_distances=relative,
    )

# %% [markdown]
# ## Figure 4 — Theorem 2: the path is almost convex, the space around it is not
#
# For a smaller network (hidden width 12, so that each eigenvalue stays cheap), we compute the
# smallest Hessian eigenvalue of the training loss by Lanczos iterations on Hessian–vector products at
# equally spaced points of the GD path ($\eta_0 = 0.05$), and at random points of the same norm (a fresh
# random direction per point). Theorem 2 is stated for initialisations near zero; the paper's code (and
# ours) starts from Xavier-uniform, which is not small, so the first point of the path is itself a random
# point.

# %%
def curvature_along_path(activation):
    widths = (64, HESSIAN_HIDDEN, HESSIAN_HIDDEN, 10)
    problem = hn.digits_problem(HESSIAN_EXAMPLES, widths, activation)
    theta0 = hn.xavier_uniform(
        problem.widths, torch_generator(SEED, "hessian-init")
    )
    steps, _, thetas = hn.train_gd(
        problem,
        theta0,
        0.05,
        HESSIAN_STEPS,
        HESSIAN_STEPS // (HESSIAN_RECORDS - 1),
    )
    start = rng(SEED, "lanczos")
    directions = torch_generator(SEED, "random-points")

    def smallest_eigenvalue(theta):
        return hessian.min_eigenvalue_lanczos(problem.loss, theta, start)

    on_path = [smallest_eigenvalue(torch.tensor(t)) for t in thetas]
    off_path = [
        smallest_eigenvalue(
            hessian.random_point_like(torch.tensor(t), directions)
        )
        for t in thetas
    ]
    return dict(
        time=0.05 * steps,
        on_path=np.array(on_path),
        random_points=np.array(off_path),
    )


curvature = {act: curvature_along_path(act) for act in ("linear", "relu")}

# %%
fig, axes = book.figure(1, 2, height=3.0)
for ax, (activation, result) in zip(axes, curvature.items(), strict=True):
    plot_curves(
        ax,
        result["time"],
        {
            "on the GD path": result["on_path"],
            "random point, same norm": result["random_points"],
        },
        "time t = kη₀",
        r"$\lambda_{\min}$ of the Hessian",
        styles={
            "on the GD path": {"marker": "o"},
            "random point, same norm": {"marker": "s"},
        },
        legend=False,
    )
    ax.axhline(0.0, color="0.5", lw=0.8)
    ax.set_title(f"{activation} network")
# One legend for both panels, below them (off the data).
fig.legend(
    *axes[0].get_legend_handles_labels(),
    loc="outside lower center",
    ncols=2,
    frameon=False,
)
book.save_figure(
    fig,
    "fig4-hessian-min-eigenvalue",
    data={
        f"{act}/{key}": value
        for act, result in curvature.items()
        for key, value in result.items()
    },
    caption=(
        "Smallest Hessian eigenvalue of the training loss along the GD "
        "path and at random points of the same norm (Lanczos on "
        "Hessian–vector products)."
    ),
    # Lanczos converges to tol 1e-8 relative; eigenvalues near 0 need atol
    rtol=1e-5,
    atol=1e-7,
)

# %%
for activation, result in curvature.items():
    on_path = np.abs(np.minimum(result["on_path"], 0.0))
    off_path = np.abs(np.minimum(result["random_points"], 0.0))
    pointwise = float((on_path / off_path).max())
    book.claim(
        f"{activation}: on the path λ_min is near zero or slightly "
        "negative at every recorded time, |λ₋| ≤ 10% of its value at a "
        "random point of the same norm",
        pointwise <= 0.1,
        worst_ratio=pointwise,
        ratio_at_start=float(on_path[0] / off_path[0]),
        not_reproduced=(
            "the Xavier initialisation is not near zero: the path starts "
            "at a point as curved as a random one and needs a few time "
            "units to reach the almost-convex region"
        )
        if pointwise > 0.1
        else None,
    )
    exponent_path = float(np.trapezoid(on_path, result["time"]))
    exponent_random = float(np.trapezoid(off_path, result["time"]))
    book.claim(
        f"{activation}: the exponent ∫|λ₋|dt of Theorem 1 is at most a "
        "quarter of its value over the random points of the same norms",
        exponent_path <= 0.25 * exponent_random,
        exponent_on_path=exponent_path,
        exponent_random_points=exponent_random,
    )

# %% tags=["remove-input"]
from IPython.display import Markdown


def curvature_summary(activation):
    """One measured sentence per network: where the point-wise ratio exceeds 10 %, and the exponents."""
    result = curvature[activation]
    ratio = np.abs(np.minimum(result["on_path"], 0.0)) / np.abs(np.minimum(result["random_points"], 0.0))
    above = ", ".join(f"{t:g}" for t in result["time"][ratio > 0.1]) or "none"
    late = result["time"] >= result["time"][len(result["time"]) // 3]
    on_path = np.abs(np.minimum(result["on_path"], 0.0))
    off_path = np.abs(np.minimum(result["random_points"], 0.0))
    exponent_ratio = np.trapezoid(on_path, result["time"]) / np.trapezoid(off_path, result["time"])
    return (f"**{activation}**: |λ₋| on the path exceeds 10 % of the random point's at t = {above}; from "
            f"t = {result['time'][late][0]:g} on, λ_min on the path lies in [{result['on_path'][late].min():.3f}, "
            f"{result['on_path'][late].max():.3f}] while the random points lie in "
            f"[{result['random_points'].min():.2f}, {result['random_points'].max():.2f}]; the exponent ∫|λ₋|dt "
            f"on the path is {exponent_ratio:.2f} of its value over the random points.")


def control_summary(activation):
    values = control[activation]
    leaving = [eta for eta, value in zip(CONTROL_ETAS, values, strict=True) if not value < 0.1]
    diverged = [eta for eta, value in zip(CONTROL_ETAS, values, strict=True) if value >= 1e3]
    return (f"**{activation}**: first η₀ above the 10 % line: {leaving[0] if leaving else 'none'}; diverged at "
            f"η₀ = {', '.join(map(str, diverged)) or 'none'}; relative distance at the largest η₀: {values[-1]:.3g}.")


Markdown("Measured, Figure 4 — " + " ".join(curvature_summary(a) for a in curvature)
         + "\n\nMeasured, negative control — " + " ".join(control_summary(a) for a in control))

# %% [markdown]
# A note on the thresholds. The post's statement is qualitative (near zero or slightly negative on the
# trajectory, clearly negative off it). The 10 % point-wise bound is our reading of that wording; the
# factor of one quarter for the integrated exponent was chosen after a first prototype run, so it
# describes this run rather than testing it: the measured ratios of the exponents (above) are both below
# a quarter, the ReLU one close to the line. (Likewise, the window t ∈ [1, 5] of the ridge check in
# Figure 1 was read off the flow of a prototype run: it is where the flow sits on the ridge.)
#
# What we see. From Xavier-uniform initialisation the first point of the path is at least as non-convex as
# a random point of its norm, so the point-wise claim fails at $t = 0$; for the ReLU network it also fails
# at the next recorded time, while GD is still leaving that region (see the times listed above). We record
# it as not reproduced: the theorem's near-zero initialisation is not what the paper's experiments use.
# Later on, $\lambda_{\min}$ along the path is a small fraction of the random points' values and close
# to zero. What matters for Theorem 1 is the exponent $\int |\lambda_-|\,dt$: along the
# path it is several times smaller than over the random points, which is why moderate step sizes track
# the flow in Figure 2. The negative control shows where this stops: at the largest step sizes of the
# ladder the discretisation error passes 10 % of the distance travelled, GD on the linear network
# diverges, and the ReLU network's run ends about as far from its $\eta_0/2$ twin as from its starting
# point.

# %% tags=["remove-input"]
book.claims_table()
