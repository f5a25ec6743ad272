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
# # Beyond log-concave sampling, part 2: many modes and simulated tempering
#
# The post [Beyond log-concave sampling (Part 2)](http://www.offconvex.org/2021/03/01/beyondlogconcave2/)
# explains why Langevin Monte Carlo, the sampler that adds Gaussian noise to gradient descent on
# $f = -\log p$, gets stuck when $p$ has well separated modes, and how *simulated tempering* repairs it when
# the modes have the same shape. The theory is in
# [Ge, Lee and Risteski, *Simulated tempering Langevin Monte Carlo*](https://arxiv.org/abs/1710.02736)
# (and its second version, [arXiv:1812.00793](https://arxiv.org/abs/1812.00793)); the exponential
# escape time goes back to [Bovier, Eckhoff, Gayrard and Klein (2004)](https://doi.org/10.4171/JEMS/14).
#
# The post's figures are animations. Here we recompute them: trapped Langevin walkers, the mean time to
# change mode as a function of the separation (checked against an exact one-dimensional formula), the
# tempered densities, and a tempering chain that moves between temperatures and between modes. Everything
# runs on one CPU thread (the run time is in the reproducibility report). The paper proves polynomial
# bounds and reports no experiments, so the sizes are our own choices: the step sizes and the ladder of
# temperatures are in the parameters table below, the separations and the numbers of walkers, chains and
# sweeps in the code cell that follows it (after the folded imports).

# %% tags=["parameters"]
PROFILE = "book"
SEED = 0
PERTURBATION = 0  # ensemble member for `make baselines` (0: the published run; see README)
STEP_SIZE = 0.01  # Langevin step η for the switching-time experiment (time t = steps · η) [valid: >0]
TEMPERING_STEP = 0.05  # η at every level of the tempering chain [valid: >0]
MOVES_PER_SWAP = 10  # Langevin moves between two level proposals [valid: 1..]
N_LEVELS = 6  # inverse temperatures geomspace(0.1, 1, N_LEVELS) [valid: 2..]

# %% tags=["hide-input"]
import numpy as np
from offconvex import book
from offconvex.core.random import rng
from offconvex.sampling import langevin, mixtures, plots, scaling, tempering

# Assigned, so that the session's repr does not print on the page.
session = book.start(
    "2021-03-01-beyond-log-concave-2",
    PROFILE,
    SEED,
    perturbation=PERTURBATION,
)

# %%
# Sizes per profile (smoke: a quick test; book: this page; paper: larger).
HALF_SEPARATIONS = np.array(
    book.by_profile(
        PROFILE,
        smoke=[1.0, 1.5],
        book=[1.5, 2.0, 2.5, 3.0],
        paper=[1.5, 2.0, 2.5, 3.0, 3.5],
    )
)
N_HIT_CHAINS = book.by_profile(PROFILE, smoke=100, book=2000, paper=20000)
N_TEMPERING_CHAINS = book.by_profile(
    PROFILE, smoke=40, book=400, paper=4000
)
N_SWEEPS = book.by_profile(PROFILE, smoke=200, book=2000, paper=20000)
N_PARTITION_PARTICLES = book.by_profile(
    PROFILE, smoke=200, book=1000, paper=10000
)
N_PARTITION_STEPS = book.by_profile(
    PROFILE, smoke=200, book=1000, paper=5000
)
BETAS = np.geomspace(0.1, 1.0, N_LEVELS)
# Section 6: numbers of modes on a line, and chains per number.
LINE_MODES = np.array(
    book.by_profile(
        PROFILE, smoke=[2, 3], book=[2, 3, 4], paper=[2, 3, 4, 5, 6, 8]
    )
)
N_LINE_CHAINS = book.by_profile(PROFILE, smoke=20, book=100, paper=1000)

# %% [markdown]
# ## 1. Langevin stays in the mode it started in
#
# Take the mixture $\tfrac12\mathcal{N}(-r, 1) + \tfrac12\mathcal{N}(r, 1)$ in one dimension. Its potential
# $f = -\log p$ has two wells at about $\pm r$ and a bump at $0$ whose height grows like $r^2/2$. The
# Langevin walker
#
# $$x \leftarrow x - \eta f'(x) + \sqrt{2\eta}\,\xi, \qquad \xi \sim \mathcal{N}(0, 1),$$
#
# is pulled back into its well by the drift; to cross, the noise has to push against the drift all the way
# to the top of the bump. Below, a few walkers started in the left mode with $r = 4$ (modes 8 standard
# deviations apart).

# %%
r_show = 4.0
walker_potential = mixtures.symmetric_pair_value_and_grad(r_show)
walker_noise = rng(SEED, "walkers")
n_paths, record_every = 5, 100
path_steps = book.by_profile(PROFILE, smoke=2000, book=20000, paper=20000)
state = langevin.init(np.full((n_paths, 1), -r_show), walker_potential)
recorded = [state.position[:, 0]]
for step in range(1, path_steps + 1):
    state = langevin.ula_step(
        state, walker_potential, STEP_SIZE, walker_noise
    )
    if step % record_every == 0:
        recorded.append(state.position[:, 0])
path_positions = np.array(recorded)
path_times = STEP_SIZE * record_every * np.arange(len(path_positions))

# %%
grid = np.linspace(-8, 8, 641)
density_r3 = np.exp(
    mixtures.log_density(mixtures.symmetric_pair(r_show), grid[:, None])
)
fig, (ax_density, ax_paths) = book.figure(
    1, 2, height=2.8, gridspec_kw={"width_ratios": [1, 2.4]}
)
ax_density.plot(density_r3, grid)
ax_density.set(xlabel="p(x)", ylabel="x", title=f"target, r = {r_show:g}")
plots.paths(ax_paths, path_times, path_positions, bands=(-r_show, r_show))
ax_paths.set_title("five Langevin walkers started at -r")
book.save_figure(
    fig,
    "fig1-trapped-walkers",
    data={"times": path_times, "positions": path_positions},
    caption="Langevin walkers on ½N(-4,1) + ½N(4,1): they stay near the "
    "mode they start in.",
)

# %% [markdown]
# The same walkers as an animation (60 frames): the points sit on the density curve at their positions.

# %% tags=["hide-input"]
frame_index = np.linspace(0, len(path_times) - 1, 60).astype(int)
# Each walker drawn at (position, density there): on the density curve.
walker_heights = np.interp(path_positions, grid, density_r3)
walker_frames = np.stack(
    [
        np.stack([path_positions[k], walker_heights[k]], 1)
        for k in frame_index
    ]
)
book.show_animation(
    plots.cloud_animation(
        walker_frames,
        path_times[frame_index],
        lambda ax: ax.plot(grid, density_r3),
        limits=(-8, 8, 0, 0.25),
        title="Langevin, r = 4,",
    ),
    caption="Five Langevin walkers on the two-mode mixture (r = 4), drawn "
    "on the density curve over time: each stays in the mode it started in.",
)

# %% [markdown]
# ## 2. The time to change mode grows like $e^{r^2/2}$
#
# How long does a walker need? Run many independent walkers from $-r$ and stop each one when it first
# reaches $+r$. In one dimension the mean of this hitting time has an exact formula,
#
# $$T(r) = \int_{-r}^{r} e^{f(y)} \int_{-\infty}^{y} e^{-f(z)}\,dz\,dy,$$
#
# which we evaluate by quadrature. The post's law $T \propto e^{r^2/2}$ is the large-$r$ behaviour of this
# integral; at the moderate separations we can simulate, the prefactor still matters, so we compare the
# simulation with the exact integral, not with the asymptote.

# %%
def exact_switching_time(r):
    """Mean time from -r to +r of the pair at ±r (quadrature)."""
    pair_potential = mixtures.potential_1d(mixtures.symmetric_pair(r))
    return langevin.mean_hitting_time_1d(
        pair_potential, -r, r, lower=-r - 15
    )


measured_times, measured_sem, exact_times = [], [], []
for r in HALF_SEPARATIONS:
    potential = mixtures.symmetric_pair_value_and_grad(r)
    noise = rng(SEED, f"hitting-{r}")
    start = langevin.init(np.full((N_HIT_CHAINS, 1), -r), potential)
    steps = langevin.hitting_steps(
        start,
        lambda s, p=potential, g=noise: langevin.ula_step(
            s, p, STEP_SIZE, g
        ),
        lambda x, r=r: x[:, 0] >= r,
        max_steps=10**6,
    )
    assert np.all(np.isfinite(steps)), (
        "raise max_steps: some walker never switched"
    )
    measured_times.append(STEP_SIZE * steps.mean())
    measured_sem.append(STEP_SIZE * steps.std() / np.sqrt(len(steps)))
    exact_times.append(exact_switching_time(r))
measured_times, measured_sem, exact_times = map(
    np.array, (measured_times, measured_sem, exact_times)
)
squared = HALF_SEPARATIONS**2
slope_measured = np.polyfit(squared, np.log(measured_times), 1)[0]
slope_exact = np.polyfit(squared, np.log(exact_times), 1)[0]
far = np.arange(3.0, 8.5, 0.5)
slope_far = np.polyfit(
    far**2, np.log([exact_switching_time(r) for r in far]), 1
)[0]

# %%
fig, ax = book.figure(height=3.0, width=5.0)
plots.hitting_times(
    ax, HALF_SEPARATIONS, measured_times, measured_sem, exact_times
)
book.save_figure(
    fig,
    "fig2-switching-time",
    data={
        "half_separation": HALF_SEPARATIONS,
        "measured": measured_times,
        "sem": measured_sem,
        "exact": exact_times,
    },
    caption="Mean time for a Langevin walker to go from -r to +r "
    f"({N_HIT_CHAINS} walkers, η = {STEP_SIZE}) and the exact value of the "
    "one-dimensional integral.",
)

# %%
relative_errors = np.abs(measured_times / exact_times - 1)
book.claim(
    "The simulated mean switching time is within 10% of the exact integral "
    "for every r in {1.5, 2, 2.5, 3}",
    bool(np.all(relative_errors < 0.10)),
    relative_errors=relative_errors,
    measured=measured_times,
    exact=exact_times,
)
book.claim(
    "The switching time grows at least 10-fold between r = 1.5 and r = 3",
    bool(measured_times[-1] / measured_times[0] >= 10),
    growth=measured_times[-1] / measured_times[0],
)
book.claim(
    "The fitted slope of log T against r² is within 0.05 of the exact "
    "integral's slope over r in [1.5, 3]",
    bool(abs(slope_measured - slope_exact) < 0.05),
    slope_measured=slope_measured,
    slope_exact=slope_exact,
)
book.claim(
    "The exact slope approaches the post's 1/2 at large separations "
    "(above 0.45 over r in [3, 8])",
    bool(slope_far > 0.45),
    slope_far=slope_far,
)

# %% tags=["remove-input"]
from IPython.display import Markdown

Markdown(f"The fitted slope of log T against r² is {slope_measured:.3f} for the simulation and "
         f"{slope_exact:.3f} for the exact integral over r in [{HALF_SEPARATIONS[0]:g}, {HALF_SEPARATIONS[-1]:g}], "
         f"and {slope_far:.3f} for the exact integral over r in [3, 8].")

# %% [markdown]
# So at the separations we can simulate the slope is visibly below $1/2$: there the Eyring-Kramers
# prefactor (which depends on the curvature at the bottom of the well and at the top of the bump) still
# moves with $r$. The exact integral shows the slope creeping up towards $1/2$ as $r$ grows, which is what
# the post's $e^{r^2/2}$ describes.
#
# ## 3. Heating flattens the landscape
#
# Simulated tempering works with the family $p_\beta \propto e^{-\beta f}$, $\beta \le 1$. Small $\beta$
# (high temperature) lowers the bump between the modes by the factor $\beta$, so a walker at
# $\beta = 0.1$ crosses easily. The two-dimensional target from here on is
# $0.3\,\mathcal{N}((-4, 0), I) + 0.7\,\mathcal{N}((4, 0), I)$: two modes of the same shape but unequal
# weights.

# %%
target = mixtures.GaussianMixture(
    np.array([0.3, 0.7]), np.array([[-4.0, 0.0], [4.0, 0.0]])
)
target_potential = mixtures.potential_value_and_grad(target)
axis = np.linspace(-25, 25, 1001)
cell_area = (axis[1] - axis[0]) ** 2
plane = np.stack(np.meshgrid(axis, axis), -1).reshape(-1, 2)
exact_log_z = tempering.log_partition_on_grid(
    -mixtures.log_density(target, plane), BETAS, cell_area
)
line = np.linspace(-12, 12, 481)
f_line = -mixtures.log_density(
    target, np.stack([line, np.zeros_like(line)], 1)
)
# x₁-marginals of p_β: the x₂ direction is a Gaussian factor, so slice at
# x₂ = 0 and normalize on the line
tempered_line = np.exp(-BETAS[:, None] * f_line[None])
level_curves = np.exp(
    -BETAS[:, None] * f_line[None]
    - np.log(np.trapezoid(tempered_line, line, axis=1))[:, None]
)

# %%
fig, ax = book.figure(height=3.0, width=5.5)
shown = [0, N_LEVELS // 2, N_LEVELS - 1]
plots.densities(
    ax, line, level_curves[shown], [f"β = {BETAS[i]:.2f}" for i in shown]
)
ax.set_xlabel("x₁")
book.save_figure(
    fig,
    "fig3-tempered-densities",
    data={
        "x1": line,
        "densities": level_curves[shown],
        "betas": BETAS[shown],
    },
    caption="x₁-marginals of the tempered densities ∝ pᵝ for the two-mode "
    "target: lower β flattens the barrier.",
)

# %% [markdown]
# ## 4. The simulated tempering chain
#
# The chain lives on pairs $(i, x)$ of a level and a position. Each sweep makes ten Langevin moves at the
# chain's own temperature,
#
# $$x \leftarrow x - \eta\beta_i\nabla f(x) + \sqrt{2\eta}\,\xi,$$
#
# then proposes to move one level up or down, to $i' = i \pm 1$, and accepts with probability
# $\min\{1, p_{i'}(x)/p_i(x)\}$. The ratio involves the *normalized* densities $p_i = e^{-\beta_i f}/Z_i$,
# so the partition functions $Z_i$ must be estimated. We do it level by level: particles equilibrated at
# $\beta_i$ give $Z_{i+1}/Z_i$ as the average of $e^{-(\beta_{i+1} - \beta_i) f}$, are resampled with those
# weights and moved on to $\beta_{i+1}$. For this small problem a grid gives the exact values to compare
# with. With exact $Z_i$ every level is visited equally often, and the samples taken at the last level
# ($\beta = 1$) are draws from $p$.

# %%
partition_start = 3 * rng(SEED, "partition-init").standard_normal(
    (N_PARTITION_PARTICLES, 2)
)
estimated_log_z = tempering.estimate_log_partition(
    target_potential,
    BETAS,
    partition_start,
    TEMPERING_STEP,
    N_PARTITION_STEPS,
    rng(SEED, "partition"),
)
log_z_error = np.abs(estimated_log_z - (exact_log_z - exact_log_z[0]))


def run_tempering(mixture, n_chains, n_sweeps, log_z, stream):
    """Chains started in the light left mode at β = 1.

    Returns the levels and x₁ after every sweep, and the final state.
    """
    potential = mixtures.potential_value_and_grad(mixture)
    start = np.tile(mixture.means[0], (n_chains, 1))
    state = tempering.init(start, N_LEVELS - 1, potential)
    noise, levels, x1 = rng(SEED, stream), [], []
    for _ in range(n_sweeps):
        state = tempering.sweep(
            state,
            potential,
            BETAS,
            log_z,
            TEMPERING_STEP,
            MOVES_PER_SWAP,
            noise,
        )
        levels.append(state.level)
        x1.append(state.position[:, 0])
    return np.array(levels), np.array(x1), state


levels, x1, tempering_state = run_tempering(
    target, N_TEMPERING_CHAINS, N_SWEEPS, estimated_log_z, "tempering"
)
sweep_time = TEMPERING_STEP * MOVES_PER_SWAP
tempering_times = sweep_time * np.arange(1, N_SWEEPS + 1)

# %% [markdown]
# For comparison, plain Langevin at $\beta = 1$ with the same number of gradient evaluations and the same
# start.

# %%
plain_state = langevin.init(
    np.tile(target.means[0], (N_TEMPERING_CHAINS, 1)), target_potential
)
plain_noise, plain_x1 = rng(SEED, "plain-langevin"), []
for _ in range(N_SWEEPS):
    for _ in range(MOVES_PER_SWAP):
        plain_state = langevin.ula_step(
            plain_state, target_potential, TEMPERING_STEP, plain_noise
        )
    plain_x1.append(plain_state.position[:, 0])
plain_x1 = np.array(plain_x1)


def cold_mode_statistics(levels, x1):
    """Right-mode fraction of the β = 1 samples after a 20% burn-in, and
    the mode switches per chain there."""
    burn = len(levels) // 5
    cold = levels[burn:] == N_LEVELS - 1
    right = x1[burn:] > 0
    switches = []
    for chain in range(levels.shape[1]):
        sides = right[cold[:, chain], chain]
        switches.append(np.count_nonzero(np.diff(sides.astype(int))))
    return right[cold].mean(), np.mean(switches)


occupation = tempering.level_occupation(
    levels[len(levels) // 5 :], N_LEVELS
)
tempering_right, tempering_switches = cold_mode_statistics(levels, x1)
plain_right, plain_switches = cold_mode_statistics(
    np.full(plain_x1.shape, N_LEVELS - 1), plain_x1
)

# %%
chain = 0
fig, (ax_level, ax_position) = book.figure(2, 1, height=3.8, sharex=True)
shown_sweeps = slice(0, min(N_SWEEPS, 600))
shown_times = tempering_times[shown_sweeps]
plots.level_trace(
    ax_level, shown_times, levels[shown_sweeps, chain], N_LEVELS
)
plots.paths(
    ax_position,
    shown_times,
    x1[shown_sweeps, chain],
    bands=(-4, 4),
    label="x₁",
)
ax_level.set_xlabel("")
book.save_figure(
    fig,
    "fig4-tempering-trace",
    data={
        "times": shown_times,
        "level": levels[shown_sweeps, chain],
        "x1": x1[shown_sweeps, chain],
    },
    caption="One simulated tempering chain: its level (top, 5 = target "
    "β = 1) and its first coordinate (bottom). Crossings between the modes "
    "happen while the chain is hot.",
)

# %%
burn = len(levels) // 5
cold_samples = x1[burn:][levels[burn:] == N_LEVELS - 1]
plain_samples = plain_x1[burn:].ravel()
true_marginal = np.exp(
    mixtures.log_density(
        mixtures.GaussianMixture(target.weights, target.means[:, :1]),
        line[:, None],
    )
)
fig, (ax_hist, ax_plain) = book.figure(1, 2, height=2.9, sharey=True)
plots.histogram_vs_density(
    ax_hist, cold_samples, line, true_marginal, label="samples"
)
plots.histogram_vs_density(
    ax_plain, plain_samples, line, true_marginal, label="samples"
)
ax_hist.set_title("simulated tempering (β = 1 samples)")
ax_plain.set_title("plain Langevin")
ax_plain.set_ylabel("")
# One legend above both panels: inside, it would cover the tall bars.
for ax in (ax_hist, ax_plain):
    ax.get_legend().remove()
handles, labels = ax_hist.get_legend_handles_labels()
fig.legend(handles, labels, loc="outside upper center", ncols=2)
histogram_range = (line[0], line[-1])
counts_tempering = np.histogram(
    cold_samples, bins=60, range=histogram_range, density=True
)[0]
counts_plain = np.histogram(
    plain_samples, bins=60, range=histogram_range, density=True
)[0]
book.save_figure(
    fig,
    "fig5-level-one-histogram",
    data={
        "tempering_histogram": counts_tempering,
        "plain_histogram": counts_plain,
        "true_density": true_marginal,
    },
    caption="x₁ of the β = 1 samples against the true marginal "
    "0.3·N(-4,1) + 0.7·N(4,1): simulated tempering finds the right "
    "weights; plain Langevin from the left mode barely leaves it.",
)

# %%
book.claim(
    "With estimated partition functions, every level's occupation is "
    "within 0.02 of 1/L",
    bool(np.all(np.abs(occupation - 1 / N_LEVELS) < 0.02)),
    occupation=occupation,
)
book.claim(
    "The level-by-level estimates of log Zᵢ - log Z₁ are within 0.1 of the "
    "exact (grid) values",
    bool(np.all(log_z_error < 0.1)),
    estimated=estimated_log_z,
    error=log_z_error,
)
book.claim(
    "At β = 1 the tempering chain puts a fraction within 0.03 of 0.70 in "
    "the heavy mode; plain Langevin with the same budget stays below 0.3",
    bool(abs(tempering_right - 0.7) < 0.03 and plain_right < 0.3),
    tempering_fraction=tempering_right,
    plain_fraction=plain_right,
)
book.claim(
    "Tempering switches modes at β = 1 at least 5 times as often as plain "
    "Langevin",
    bool(tempering_switches >= 5 * plain_switches),
    tempering_switches_per_chain=tempering_switches,
    plain_switches_per_chain=plain_switches,
)

# %% [markdown]
# ### The switching time of tempering grows far slower
#
# Repeat the tempering run for closer modes (means $\pm 2$, $\pm 3$ and the $\pm 4$ above, same weights and
# ladder, exact $Z_i$ on the grid to keep it short) and measure the time per mode switch seen at
# $\beta = 1$. For plain Langevin the matching number is the mean time to go from one mode to the other,
# which grows like the exponential of the barrier; we take the exact one-dimensional integral for equal
# weights as its yardstick.

# %%
TEMPERING_SEPARATIONS = np.array([2.0, 3.0, 4.0])
small_chains, small_sweeps = N_TEMPERING_CHAINS // 4, N_SWEEPS // 2
time_per_switch, langevin_switch_time = [], []
for r in TEMPERING_SEPARATIONS:
    mixture = mixtures.GaussianMixture(
        target.weights, np.array([[-r, 0.0], [r, 0.0]])
    )
    log_z = tempering.log_partition_on_grid(
        -mixtures.log_density(mixture, plane), BETAS, cell_area
    )
    run_levels, run_x1, _ = run_tempering(
        mixture, small_chains, small_sweeps, log_z, f"tempering-{r}"
    )
    switches = cold_mode_statistics(run_levels, run_x1)[1]
    time_per_switch.append(
        0.8 * small_sweeps * sweep_time / max(switches, 1e-12)
    )
    langevin_switch_time.append(exact_switching_time(r))
time_per_switch = np.array(time_per_switch)
langevin_switch_time = np.array(langevin_switch_time)

# %%
fig, ax = book.figure(height=3.0, width=5.0)
plots.rate_curves(
    ax,
    TEMPERING_SEPARATIONS,
    [time_per_switch, langevin_switch_time],
    ["simulated tempering (measured)", "Langevin (exact integral)"],
    styles=["o-", "s--"],
)
ax.set(
    yscale="log", xlabel="half separation r", ylabel="time per mode switch"
)
book.save_figure(
    fig,
    "fig6-switching-growth",
    data={
        "half_separation": TEMPERING_SEPARATIONS,
        "tempering": time_per_switch,
        "langevin": langevin_switch_time,
    },
    caption="Time per mode switch: simulated tempering (measured at β = 1) "
    "against plain Langevin's mean switching time (exact integral).",
)
tempering_growth = time_per_switch[-1] / time_per_switch[0]
langevin_growth = langevin_switch_time[-1] / langevin_switch_time[0]
book.claim(
    "From r = 2 to r = 4 tempering's measured time per switch grows less "
    "than 10-fold while Langevin's mean switching time (exact 1-D "
    "integral, equal weights) grows more than 100-fold",
    bool(tempering_growth < 10 and langevin_growth > 100),
    tempering_growth=tempering_growth,
    langevin_growth=langevin_growth,
)

# %% [markdown]
# ## 5. The chain, drawn from its own definition
#
# The post's diagram of the tempering chain, here drawn from the quantities the chain uses: the
# $x_1$-marginal of each level, Langevin moves within a level (horizontal) and level swaps with their mean
# acceptance probability measured along the run above (vertical). An animation of all chains in the
# (position $x_1$, level $i$) plane follows: chains started on the top level in the left mode spread over
# all levels and both modes.

# %%
swap_acceptance = []
for i in range(N_LEVELS - 1):
    at_level = tempering_state.level == i
    proposed = np.full(at_level.sum(), i + 1)
    log_ratio = tempering.swap_log_ratio(
        tempering_state.potential[at_level],
        tempering_state.level[at_level],
        proposed,
        BETAS,
        estimated_log_z,
    )
    swap_acceptance.append(
        np.mean(np.minimum(1, np.exp(log_ratio)))
        if at_level.any()
        else np.nan
    )
swap_acceptance = np.array(swap_acceptance)
fig, ax = book.figure(height=3.9, width=5.5)
plots.tempering_diagram(ax, line, level_curves, BETAS, swap_acceptance)
book.save_figure(
    fig,
    "fig7-tempering-diagram",
    data={
        "betas": BETAS,
        "level_densities": level_curves,
        "swap_acceptance": swap_acceptance,
    },
    caption="The simulated tempering chain: the x₁-marginal of each level, "
    "moves within levels, and the mean acceptance of an upward swap from "
    "each level at the end of the run.",
)

# %% tags=["hide-input"]
frame_sweeps = np.linspace(0, min(N_SWEEPS, 600) - 1, 60).astype(int)
shown_chains = np.arange(min(N_TEMPERING_CHAINS, 80))
jitter = 0.6 * (shown_chains / len(shown_chains) - 0.5)
tempering_frames = np.stack(
    [
        np.stack([x1[k, shown_chains], levels[k, shown_chains] + jitter], 1)
        for k in frame_sweeps
    ]
)
book.show_animation(
    plots.cloud_animation(
        tempering_frames,
        tempering_times[frame_sweeps],
        limits=(-12, 12, -0.5, N_LEVELS - 0.5),
        title="tempering chains,",
    ),
    caption="Simulated tempering chains over time: position x₁ against "
    "temperature level; chains climb to hot levels, cross between the "
    "modes there and come back down.",
)

# %% [markdown]
# Four key frames of that animation (these are what the regression tests compare).

# %%
key_frames = [0, 5, 20, 59]
fig, axes = book.figure(2, 2, height=4.4, sharex=True, sharey=True)
for ax, k in zip(axes.flat, key_frames, strict=True):
    points = tempering_frames[k]
    ax.scatter(points[:, 0], points[:, 1], s=5, color="tab:red")
    ax.set(
        xlim=(-12, 12),
        ylim=(-0.5, N_LEVELS - 0.5),
        title=f"t = {tempering_times[frame_sweeps[k]]:.1f}",
    )
for ax in axes[1]:
    ax.set_xlabel("x₁")
for ax in axes[:, 0]:
    ax.set_ylabel("level i")
book.save_figure(
    fig,
    "fig8-tempering-key-frames",
    data={"frames": tempering_frames[key_frames]},
    caption="Key frames of the tempering animation: chains in the "
    "(x₁, level) plane.",
)

# %% [markdown]
# ## 6. How the time grows with the number of modes
#
# The theorem's promise is a running time polynomial in the number of modes $k$ (and in $d$). To see
# how the time grows, put $k$ equal-weight unit Gaussians on a line, neighbours $2r = 8$ apart, and
# measure the mean time for a tempering chain started in the leftmost mode at $\beta = 1$ to be found
# at $\beta = 1$ at or beyond the rightmost mode's centre (the same ladder, steps and exact $Z_i$ as
# above). Two mechanisms bracket the answer. If each visit to the hot levels scattered a chain
# uniformly over the modes, the wait would be geometric with success probability $1/k$: $T \propto k$.
# If a hot excursion only ever moved a chain to a neighbouring mode, the chain would do a random walk
# on $k$ sites, whose mean time from one end to the other is $k(k-1)/2$ hops. Plain Langevin is of
# the second kind, with one hop costing the $e^{r^2/2}$ of section 2; its mean time for the same trip
# is again the exact one-dimensional integral, and no simulation is needed for it.
#
# What we check, fixed before the run: (i) the exponent $\alpha$ of a power law $T \propto k^\alpha$
# fitted to tempering's times lies between the two mechanisms' exponents, $1$ and the least-squares
# exponent of $k(k-1)/2$ over the same $k$ (2.58 for $k = 2, 3, 4$), each widened by two bootstrap
# standard errors of $\alpha$ (chains resampled; a pilot with another seed over $k = 2, \dots, 5$,
# counting arrival already past the last barrier, gave $\alpha = 2.30 \pm 0.13$); (ii) at every $k$
# tempering is at least ten times faster than plain Langevin's exact mean time. The random-walk law
# for plain Langevin is a property of the integral,
# recorded as a sanity check.

# %%
LINE_HALF_SEPARATION = 4.0
line_times, line_exact = [], []
for k in LINE_MODES:
    modes = mixtures.modes_on_a_line(int(k), LINE_HALF_SEPARATION)
    modes_potential = mixtures.potential_value_and_grad(modes)
    first, last = modes.means[0, 0], modes.means[-1, 0]
    line_grid = np.linspace(first - 40, last + 40, 20001)
    line_log_z = tempering.log_partition_on_grid(
        -mixtures.log_density(modes, line_grid[:, None]),
        BETAS,
        line_grid[1] - line_grid[0],
    )
    line_noise = rng(SEED, f"modes-{k}")
    sweeps = tempering.target_hitting_sweeps(
        tempering.init(
            np.full((N_LINE_CHAINS, 1), first),
            N_LEVELS - 1,
            modes_potential,
        ),
        lambda s, p=modes_potential, z=line_log_z, g=line_noise: (
            tempering.sweep(
                s, p, BETAS, z, TEMPERING_STEP, MOVES_PER_SWAP, g
            )
        ),
        lambda x, last=last: x[:, 0] >= last,
        N_LEVELS - 1,
        max_sweeps=10**6,
    )
    assert np.all(np.isfinite(sweeps)), "raise max_sweeps"
    line_times.append(sweep_time * sweeps)
    line_exact.append(
        langevin.mean_hitting_time_1d(
            mixtures.potential_1d(modes), first, last, lower=first - 15
        )
    )
line_exact = np.array(line_exact)
line_mean = np.array([t.mean() for t in line_times])
# Chains resampled within each k: bootstrap means, and the fit on each.
boot_means = scaling.bootstrap(
    line_times,
    lambda samples: [t.mean() for t in samples],
    500,
    rng(SEED, "modes-bootstrap"),
)
line_alpha, line_log_c = scaling.power_law_fit(LINE_MODES, line_mean)
line_boot = np.array(
    [scaling.power_law_fit(LINE_MODES, means) for means in boot_means]
)
alpha_se = line_boot[:, 0].std()
mean_interval = np.percentile(boot_means, [2.5, 97.5], axis=0)
hop_law = LINE_MODES * (LINE_MODES - 1) / 2
neighbour_alpha = scaling.power_law_fit(LINE_MODES, hop_law)[0]
langevin_alpha = scaling.power_law_fit(LINE_MODES, line_exact)[0]

# %%
fig, ax = book.figure(height=3.2, width=5.5)
fit_k = np.linspace(LINE_MODES[0], LINE_MODES[-1], 50)
plots.scaling_fit(
    ax,
    LINE_MODES,
    line_mean,
    mean_interval,
    fit_k,
    np.exp(line_log_c) * fit_k**line_alpha,
    scaling.power_law_band(fit_k, line_boot),
    f"tempering (measured), fit k^{line_alpha:.2f}",
)
ax.plot(
    LINE_MODES,
    line_exact,
    "s--",
    color="tab:red",
    label="Langevin (exact integral) = T₂·k(k-1)/2",
)
ax.set(
    xscale="log",
    yscale="log",
    xlabel="number of modes k",
    ylabel="mean time to reach the last mode",
    xticks=LINE_MODES,
    xticklabels=[str(k) for k in LINE_MODES],
)
ax.minorticks_off()
ax.legend(loc="center right")
book.save_figure(
    fig,
    "fig9-modes-scaling",
    data={
        "modes": LINE_MODES,
        "tempering": line_mean,
        "tempering_interval": mean_interval,
        "langevin_exact": line_exact,
        "alpha": line_alpha,
    },
    caption=f"k equal modes on a line, 2r = {2 * LINE_HALF_SEPARATION:g} "
    "apart: mean time from the first mode to the last at β = 1, for "
    f"simulated tempering ({N_LINE_CHAINS} chains, 95% bootstrap "
    "intervals; line and band: fitted power law) and for plain Langevin "
    "(exact one-dimensional integral).",
)

# %%
book.sanity_check(
    "Plain Langevin's exact time from the first to the last of k modes "
    "is k(k-1)/2 times the two-mode time, within 1% (random walk on the "
    "modes)",
    bool(np.all(np.abs(line_exact / line_exact[0] / hop_law - 1) < 0.01)),
    ratio=line_exact / line_exact[0],
    random_walk=hop_law,
)
book.claim(
    "Tempering's time grows polynomially in k: the fitted exponent lies "
    "between 1 (uniform scattering) and the nearest-neighbour exponent "
    "of k(k-1)/2, within two bootstrap standard errors",
    bool(
        1 - 2 * alpha_se <= line_alpha <= neighbour_alpha + 2 * alpha_se
    ),
    alpha=line_alpha,
    alpha_se=alpha_se,
    neighbour_alpha=neighbour_alpha,
    langevin_alpha=langevin_alpha,
)
book.claim(
    "At every k tempering reaches the last mode at least 10 times sooner "
    "than plain Langevin (exact mean time)",
    bool(np.all(line_exact / line_mean >= 10)),
    speedup=line_exact / line_mean,
)

# %% tags=["remove-input"]
Markdown(
    f"Measured: tempering's exponent is α = {line_alpha:.2f} ± "
    f"{alpha_se:.2f} (bootstrap standard error) over k = "
    f"{', '.join(str(k) for k in LINE_MODES)}; the nearest-neighbour "
    f"law k(k-1)/2 has exponent {neighbour_alpha:.2f}, and tempering "
    "is faster than plain Langevin by a factor "
    f"{(line_exact / line_mean).min():.0f} to "
    f"{(line_exact / line_mean).max():.0f}."
)

# %% [markdown]
# Read together with section 2, the picture is this. In $k$ both samplers are polynomial here:
# plain Langevin's exact time is exactly the random walk's $k(k-1)/2$ hops, and tempering's exponent
# is at or a little below that, far from the value 1 of uniform scattering: with this ladder a hot
# excursion carries a chain over a few modes, not across the whole line. What separates them is the cost of a hop, which for
# plain Langevin grows like $e^{r^2/2}$ with the separation (section 2) and for tempering is set by the
# flattened barrier at the hottest level. The theorem's $\mathrm{poly}(k)$ comes from the weight
# $1/k$ of the smallest mode and from a ladder and a hottest temperature chosen for the modes' spread;
# with a fixed ladder and modes spread over a growing interval, as here, the transport along the line
# sets the exponent. Four values of $k$ cannot tell a power law from other slow growth; what they do
# show is that tempering's time at these $k$ grows no faster than the random walk's and stays an order
# of magnitude below plain Langevin's. The dimension $d$ is not scanned: in this family the extra
# coordinates are independent Gaussians, and what $d$ changes is the overlap of neighbouring levels,
# i.e. how many levels the ladder needs.

# %% [markdown]
# ## What differs from the post
#
# The post shows animations and states theorems; it reports no numbers. The switching-time experiment
# checks the mechanism behind the post's $e^{r^2/2}$ against the exact integral rather than against the
# asymptote, because at simulable separations the asymptote is not reached yet. The tempering ladder, step
# sizes and the particle estimator of the partition functions are our choices (the paper estimates $Z_i$
# with the tempering chain itself on the levels already built). The proof device of the post's last
# figure, a high-probability path through the hottest level, is visible in the level trace: mode changes
# happen while the chain is hot. The scaling in the number of modes (section 6) is measured with a
# fixed six-level ladder and modes on a line, at $k \le 4$ on this page; the theorem's ladder grows
# with $d$ and $\log(1/w_{\min})$, and its polynomial degrees are not the exponent measured here.

# %% tags=["remove-input"]
book.claims_table()
