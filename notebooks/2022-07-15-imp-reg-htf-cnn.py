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
# # Implicit regularization in hierarchical tensor factorization and locality of CNNs
#
# *Companion to the Off the Convex Path post of 15 July 2022,
# [Implicit Regularization in Hierarchical Tensor Factorization and Deep Convolutional Networks](http://www.offconvex.org/2022/07/15/imp-reg-htf-cnn/),
# and to the paper by Razin, Maman and Cohen,
# [ICML 2022](https://arxiv.org/abs/2201.11729).*
#
# Three models, one mechanism. A deep linear network (matrix factorization), a CP tensor factorization
# (equivalent to a shallow network with product non-linearity) and a *hierarchical* tensor factorization
# (equivalent to a deep convolutional network with product pooling) are each trained by gradient descent
# from a small initialization on half the entries of a low-rank ground truth. In all three, the
# building blocks of the solution — singular values, CP components, and the *local* components at each
# node of the hierarchy — start near zero and become large one after another. Training therefore
# passes through solutions of rank 1, 2, 3, … and stops once the data is fit: an implicit bias towards
# low matrix rank, tensor rank and *hierarchical* tensor rank respectively.
#
# For convolutional networks, low hierarchical tensor rank means weak interactions between distant parts
# of the input, i.e. *locality*. The paper turns this around into an explicit regularizer that rewards
# long-range interactions, and reports that it lets a ResNet18 solve long-range Pathfinder tasks.
#
# **What this chapter reproduces.** Figures 1, 2 and 4 (the three dynamics) at the post's scale for the
# matrix and CP models (64×64 rank 5; 16×16×16 rank 5; 2048 observations; the authors' GroupRMSprop step
# rule, learning rate 1e-2) and at a reduced width for the hierarchical model (order 4, modes of size 8,
# hierarchical rank (5, 5), but 64 hidden units per node instead of 512 and initialization 0.05 instead of
# 0.01, run for at most 20 000 iterations: the paper's width costs ~10 minutes on a CPU, and at width 64
# an initialization of 0.01 does not escape the origin in 40 000 iterations). Figures 3 and 5 are
# schematics; we draw the mode tree the library uses. The CP experiment is also run at five seeds, to
# see how typical seed 0's ending is. Figure 6 (ResNet18 on Pathfinder) is GPU-scale:
# the regularizer is implemented and unit-tested, the paper's numbers are plotted **as reported by the
# paper**, and beside them a small CPU locality experiment (a long-range task on sequences, five seeds,
# with and without the regularizer) is computed. The `paper` profile of this notebook runs the
# full experiment — our own Pathfinder generator, ResNet18 trained from scratch with and without the
# regularizer at path lengths 3, 5, 7 and 9 — on a GPU; it has not been run by this book's CI, which has
# no GPU.

# %% tags=["parameters"]
PROFILE = "book"
SEED = 0
PERTURBATION = 0  # ensemble member for `make baselines` (0: the published run; see README)

# %% tags=["hide-input"]
import functools

import numpy as np
import torch
from IPython.display import Markdown
from offconvex import book
from offconvex.core import resnet
from offconvex.core.parallel import map_configurations
from offconvex.core.random import rng, torch_generator
from offconvex.factorization import (
    cnn_ensemble,
    cp,
    locality,
    locality_training,
    pathfinder,
)
from offconvex.factorization import hierarchical_tensor_factorization as htf
from offconvex.factorization import matrix_factorization as mf
from offconvex.factorization import plots as fplots
from offconvex.factorization import tensor_completion as tc
from scipy import stats

book.start(
    "2022-07-15-imp-reg-htf-cnn", PROFILE, SEED, perturbation=PERTURBATION
)
# iteration caps (runs stop earlier once the training error stays below
# 5e-5 for 100 checks)
MF_STEPS = book.by_profile(PROFILE, smoke=300, book=10_000, paper=500_000)
TF_STEPS = book.by_profile(PROFILE, smoke=300, book=12_000, paper=500_000)
HTF_STEPS = book.by_profile(PROFILE, smoke=300, book=20_000, paper=500_000)
HTF_WIDTH = book.by_profile(PROFILE, smoke=16, book=64, paper=512)
HTF_INIT = book.by_profile(PROFILE, smoke=0.05, book=0.05, paper=0.01)
# CPU locality experiment: (training sequences per network, Adam steps,
# dependency distances, steps between test-accuracy measurements)
TOY = book.by_profile(
    PROFILE,
    smoke=(200, 20, (4, 28), 10),
    book=(1000, 600, (4, 16, 28), 100),
    paper=(5000, 3000, (2, 8, 16, 28), 250),
)
N_OBSERVED, LR, TOL, PATIENCE, TOP = 2048, 1e-2, 5e-5, 100, 10
# the CP experiment is also run at these seeds (the first is the figure's)
CP_SEEDS = range(SEED, SEED + 5)
# the locality experiment runs at these seeds (the first is the chapter's):
# each seed draws its own data, initialization and mini-batches
TOY_SEEDS = range(
    SEED, SEED + book.by_profile(PROFILE, smoke=2, book=5, paper=5)
)
# check that the Pathfinder markers' distance does not give the label
# away: (batches, scenes per batch) per path length; batches bound the
# generator's memory
MARKER_CHECK = book.by_profile(
    PROFILE, smoke=(1, 200), book=(4, 500), paper=(4, 500)
)
# ResNet18 on Pathfinder (Figure 6), GPU-scale, paper profile only: (path
# lengths, train and test images per length, epochs at most); None skips it
PATHFINDER = book.by_profile(
    PROFILE,
    smoke=None,
    book=None,
    paper=((3, 5, 7, 9), 10_000, 10_000, 150),
)

# %% [markdown]
# ## Figures 1, 2 and 4 — incremental learning in three factorizations
#
# The three ground truths have 4096 entries each and Frobenius norm 64 (entries of order 1), and each
# model observes a uniformly random half of them. Training minimises the mean squared error over the
# observed entries with the authors' *GroupRMSprop*: plain gradient directions with one global step size
# `lr / sqrt(running mean of the squared gradient norm)`, which lets runs from tiny initializations leave
# the origin in thousands rather than millions of iterations.
#
# * **Matrix factorization**: $W = W_3 W_2 W_1$, three 64×64 factors with $N(0, 10^{-3})$ entries;
#   ground truth $UV^\top$ with $U, V \in \mathbb{R}^{64\times 5}$ Gaussian. We record the singular values
#   of $W$.
# * **CP tensor factorization**: $\sum_{r=1}^{256} w_r^1\otimes w_r^2\otimes w_r^3$ of size 16×16×16
#   (256 components, enough for any tensor), initialization std $10^{-3}$; ground truth of CP rank 5.
#   We record the component norms $\prod_n \|w_r^n\|$.
# * **Hierarchical tensor factorization** over the mode tree $\{1\},\{2\},\{3\},\{4\}\to\{1,2\},\{3,4\}\to
#   \{1,2,3,4\}$ (drawn below), 8×8×8×8, ground truth of hierarchical rank (5, 5). We record the *local*
#   component norms at the root and at the node $\{1,2\}$.
#
# A run stops when the training error has stayed below $5\cdot10^{-5}$ for 100 consecutive checks
# (one every 25 iterations; every 50 for the hierarchical model), as in the authors' code.

# %%
def matrix_run(seed):
    data = rng(seed, "data")
    truth = data.standard_normal((64, 5)) @ data.standard_normal((5, 64))
    truth *= 64 / np.linalg.norm(truth)
    mask = tc.observation_mask(truth.shape, N_OBSERVED, data)
    factors = mf.init_factors(3, 64, 1e-3, rng(seed, "init"))
    values = {
        "values": lambda params, W: np.linalg.svd(W, compute_uv=False)[:TOP]
    }
    state, trajectory = tc.fit_completion(
        factors,
        mf.product,
        truth,
        mask,
        MF_STEPS,
        values,
        lr=LR,
        tol=TOL,
        patience=PATIENCE,
    )
    return truth, tc.full_tensor(state.params, mf.product), trajectory


def cp_problem(seed):
    data = rng(seed, "data")
    truth = cp.random_cp_tensor((16, 16, 16), 5, data, fro_norm=64.0)
    mask = tc.observation_mask(truth.shape, N_OBSERVED, data)
    params = cp.init_factors(truth.shape, 256, 1e-3, rng(seed, "init"))
    return {"params": params, "target": truth, "mask": mask}


def cp_runs(seeds):
    """The CP experiment at each seed: independent fits, one task each
    when the book runs on a cluster."""
    problems = [cp_problem(seed) for seed in seeds]
    fits = map_configurations(
        tc.fit_completion,
        problems,
        to_tensor=tc.cp_to_tensor,
        n_steps=TF_STEPS,
        lr=LR,
        tol=TOL,
        patience=PATIENCE,
        # a named metric: a seed's fit is then reused by the next seed's run
        metrics={
            "values": functools.partial(tc.top_component_norms, k=TOP)
        },
    )
    return [
        (
            problem["target"],
            tc.full_tensor(state.params, tc.cp_to_tensor),
            trajectory,
        )
        for problem, (state, trajectory) in zip(problems, fits, strict=True)
    ]


TREE = htf.mode_tree(4, 2)


# the library's model, not a local function: the fit then uses its
# closed-form gradient
htf_tensor = functools.partial(htf.flat_htf_to_tensor, tree=TREE)


def htf_run(seed):
    data = rng(seed, "data")
    truth = htf.random_ht_tensor(
        TREE, (8,) * 4, (5, 5), data, fro_norm=64.0
    )
    mask = tc.observation_mask(truth.shape, N_OBSERVED, data)
    weights = htf.flatten(
        htf.init_weights(
            TREE,
            (8,) * 4,
            (HTF_WIDTH, HTF_WIDTH),
            HTF_INIT,
            rng(seed, "init"),
        )
    )

    def node_norms(level, node):
        def top_norms(params, T):
            norms = htf.local_component_norms(
                htf.unflatten(params, TREE), TREE, level, node
            )
            return tc.top_k(norms, TOP)

        return top_norms

    values = {"values": node_norms(2, 0), "inner": node_norms(1, 0)}
    state, trajectory = tc.fit_completion(
        weights,
        htf_tensor,
        truth,
        mask,
        HTF_STEPS,
        values,
        lr=LR,
        tol=TOL,
        patience=PATIENCE,
        record_every=50,
    )
    return truth, tc.full_tensor(state.params, htf_tensor), trajectory


cp_seed_runs = dict(zip(CP_SEEDS, cp_runs(CP_SEEDS), strict=True))
runs = {
    "matrix": matrix_run(SEED),
    "tensor": cp_seed_runs[SEED],
    "hierarchical": htf_run(SEED),
}
summary = {}
for name, (truth, estimate, trajectory) in runs.items():
    summary[name] = {
        "error": tc.reconstruction_error(estimate, truth),
        "steps": int(trajectory.steps[-1]),
        "final": trajectory["values"][-1],
        "loss": trajectory["loss"],
        "half_rise": tc.half_rise_iterations(
            trajectory.steps, trajectory["values"][:, :5]
        ),
    }
    row = summary[name]
    print(
        f"{name:>12}: {row['steps']} iterations, "
        f"reconstruction error {row['error']:.2e}, "
        f"top values {np.round(row['final'][:7], 3)}, "
        f"half-rise {row['half_rise']}"
    )

# %% tags=["hide-input"]
fig, axes = book.figure(2, 2, height=5.2)
titles = {
    "matrix": "matrix factorization",
    "tensor": "tensor factorization",
    "hierarchical": "hierarchical TF: root {1,2,3,4}",
}
ylabels = {
    "matrix": "top singular values",
    "tensor": "top component norms",
    "hierarchical": "top local component norms",
}
for ax, name in zip(axes.flat, titles, strict=False):
    trajectory = runs[name][2]
    fplots.top_curves(
        ax,
        trajectory.steps,
        trajectory["values"],
        title=titles[name],
        ylabel=ylabels[name],
        half_rise=summary[name]["half_rise"][:3],
    )
htf_trajectory = runs["hierarchical"][2]
fplots.top_curves(
    axes[1, 1],
    htf_trajectory.steps,
    htf_trajectory["inner"],
    title="hierarchical TF: node {1,2}",
    ylabel="top local component norms",
)
book.save_figure(
    fig,
    "fig1-2-4-incremental-learning",
    data={f"{name}_values": runs[name][2]["values"] for name in runs}
    | {f"{name}_steps": runs[name][2].steps for name in runs}
    | {"hierarchical_inner": htf_trajectory["inner"]},
    caption="Top-10 singular values (matrix factorization, 64×64 rank 5), "
    "component norms (CP factorization, 16×16×16 rank 5) and local "
    "component norms (hierarchical factorization, 8×8×8×8 hierarchical "
    "rank (5,5), at the root and at node {1,2}) during training from "
    "small initialization on 2048 observed entries; dotted lines and "
    "dots: iteration at which each of the top three reaches half its final "
    "value.",
    # the stopping rule makes the run lengths depend on rounding: compare
    # the curves on a grid of steps
    rtol=1e-4,
    atol=1e-6,
    curves={f"{name}_values": f"{name}_steps" for name in runs}
    | {"hierarchical_inner": "hierarchical_steps"},
)

# %% [markdown]
# The post's claim, for each model: the top components rise **one after another** (the iterations at
# which they reach half their final size are increasing and well separated), the solution ends with the
# **rank of the ground truth** (five non-negligible values, the rest near zero), and it **reconstructs the
# unobserved entries**. Thresholds follow the research notes for this book (set before these runs): gaps of
# at least 300 iterations between consecutive half-rises of the five matrix/CP components, a sixth value
# below 1e-3 of the first, and reconstruction error below 0.05. For the reduced hierarchical model, which
# is stopped at 20 000 iterations, we ask for the top three root components, a gap of 500 iterations
# between the first two, at most five root components above 10 % of the largest (the sixth below 5 %),
# and error below 0.1.

# %%
for name, label in (
    ("matrix", "singular values"),
    ("tensor", "component norms"),
):
    rises = summary[name]["half_rise"]
    final, error = summary[name]["final"], summary[name]["error"]
    book.claim(
        f"{label.capitalize()} of {name} factorization rise one at a time: "
        f"half-rise iterations of the top 5 strictly increasing with "
        f"gaps ≥ 300",
        bool(np.all(np.diff(rises) >= 300)),
        half_rise=rises,
    )
    rank_five = bool(final[5] < 1e-3 * final[0])
    book.claim(
        f"{name.capitalize()} factorization ends at rank 5: "
        f"6th {label[:-1]} < 1e-3 × the largest",
        rank_five,
        ratio_6th_to_1st=final[5] / final[0],
        top_values=final[:7],
        not_reproduced=None
        if rank_five
        else "a sixth component is still small but above the threshold "
        "when the authors' stopping rule ends the run",
    )
    book.claim(
        f"{name.capitalize()} factorization reconstructs the ground truth: "
        f"relative error < 0.05",
        error < 0.05,
        reconstruction_error=error,
        iterations=summary[name]["steps"],
    )

hierarchical = summary["hierarchical"]
rises = hierarchical["half_rise"][:3]
final, error = hierarchical["final"], hierarchical["error"]
book.claim(
    "Hierarchical factorization, root node: the top 3 local components "
    "rise one at a time (half-rises strictly increasing, 2nd ≥ 500 "
    "iterations after the 1st)",
    bool(np.all(np.diff(rises) > 0) and rises[1] - rises[0] >= 500),
    half_rise=rises,
)
book.claim(
    "Hierarchical factorization ends at root rank ≤ 5: at most 5 local "
    "norms > 10 % of the largest, the 6th < 5 %",
    bool(
        np.sum(final > 0.1 * final[0]) <= 5 and final[5] < 0.05 * final[0]
    ),
    ratio_6th_to_1st=final[5] / final[0],
    top_values=final[:7],
)
loss = hierarchical["loss"]
book.claim(
    "Hierarchical factorization fits and reconstructs: training error "
    "down ≥ 1000× and relative reconstruction error < 0.1 within the "
    "iteration budget",
    bool(loss[-1] <= 1e-3 * loss[0] and error < 0.1),
    loss_ratio=loss[-1] / loss[0],
    reconstruction_error=error,
    iterations=hierarchical["steps"],
)

# %% [markdown]
# ### The CP experiment at five seeds
#
# At seed 0 the tensor-factorization claim "ends at rank 5" is not reproduced: when the stopping rule
# ends the run, the sixth component norm is above 10⁻³ of the largest (the claims table gives the ratio),
# while the research notes' prototype saw sixth norms of 1–3 × 10⁻⁴ at two other seeds. Two questions,
# measured rather than tuned. Is the sixth component on its way out when the run stops (so a longer run
# would pass), or has it settled? And is seed 0 typical? We rerun the same experiment — same sizes, step
# rule, stopping rule and threshold — at seeds 0–4 (SEED to SEED + 4; the first is the run above; the
# runs are independent and become parallel tasks when the book runs on a cluster). The check on the five
# seeds was fixed before they were run: **at least 3 of the 5 seeds end with a sixth norm below 10⁻³ of
# the largest**, the same threshold as the single-seed claim, which stays as it is.

# %%
def sixth_norm_summary(trajectory, window=2000):
    """Where the 6th largest component norm ends, where it peaked, and its
    relative change over the last ``window`` iterations (negative: still
    shrinking)."""
    sixth, steps = trajectory["values"][:, 5], trajectory.steps
    peak = int(np.argmax(sixth))
    earlier = sixth[np.searchsorted(steps, steps[-1] - window)]
    return {
        "ratio": sixth[-1] / trajectory["values"][-1, 0],
        "first": trajectory["values"][-1, 0],
        "sixth": sixth[-1],
        "peak": sixth[peak],
        "peak_step": int(steps[peak]),
        "late_change": sixth[-1] / earlier - 1,
    }


seed_study = {
    seed: {
        "error": tc.reconstruction_error(estimate, truth),
        "iterations": int(trajectory.steps[-1]),
        **sixth_norm_summary(trajectory),
    }
    for seed, (truth, estimate, trajectory) in cp_seed_runs.items()
}
for seed, row in seed_study.items():
    print(seed, {key: float(f"{value:.3g}") for key, value in row.items()})

# %% tags=["remove-input"]
header = ("| seed | iterations | reconstruction error | largest norm | 6th norm | 6th / largest | 6th norm's peak "
          "(iteration) | 6th norm's change over the last 2000 iterations |\n|" + "---|" * 8)
Markdown("\n".join([header] + [
    f"| {seed} | {r['iterations']} | {r['error']:.2e} | {r['first']:.1f} | {r['sixth']:.2e} | **{r['ratio']:.1e}** | "
    f"{r['peak']:.2e} ({r['peak_step']}) | {100 * r['late_change']:+.2f} % |" for seed, r in seed_study.items()]))

# %% tags=["hide-input"]
# five panels in two rows of three; the sixth slot holds the legend
fig, axes = book.figure(2, 3, height=4.8, sharey=True)
seed_trajectories = {seed: run[2] for seed, run in cp_seed_runs.items()}
for i, (seed, trajectory) in enumerate(seed_trajectories.items()):
    ax = axes.flat[i]
    fplots.top_curves(
        ax,
        trajectory.steps,
        trajectory["values"],
        # the rows share their y axis: label it once, on the left
        ylabel="top component norms" if i % 3 == 0 else "",
        title=f"seed {seed}\n"
        f"6th / largest = {seed_study[seed]['ratio']:.1e}",
    )
    threshold = ax.axhline(
        1e-3 * trajectory["values"][-1, 0], color="0.3", lw=1.2, ls="--"
    )
    ax.set_yscale("log")
axes[1, 2].axis("off")
threshold_label = (
    "1e-3 × the final\nlargest norm: the\nthreshold for\n'ends at rank 5'"
)
axes[1, 2].legend([threshold], [threshold_label], loc="center")
book.save_figure(
    fig,
    "fig2-cp-five-seeds",
    data={
        f"seed_{seed}_values": trajectory["values"]
        for seed, trajectory in seed_trajectories.items()
    }
    | {
        f"seed_{seed}_steps": trajectory.steps
        for seed, trajectory in seed_trajectories.items()
    }
    | {
        key: np.array([row[key] for row in seed_study.values()])
        for key in ("ratio", "error", "late_change")
    },
    caption="The CP experiment of Figure 2 (16×16×16, rank 5, 2048 "
    "observed entries, initialization 1e-3) at five seeds: top-10 "
    "component norms on a log scale; dashed: 1e-3 × the final largest "
    "norm, the threshold for 'ends at rank 5'.",
    # the same computation as Figure 2 at other seeds: same tolerance and
    # reason; the late change is a difference of two nearly equal norms,
    # so it gets an absolute slack instead
    rtol=1e-4,
    atol=1e-6,
    tolerances={"late_change": (0, 1e-3)},
    curves={
        f"seed_{seed}_values": f"seed_{seed}_steps" for seed in cp_seed_runs
    },
)

# %%
ratios = np.array([row["ratio"] for row in seed_study.values()])
at_rank_five = int(np.sum(ratios < 1e-3))
book.claim(
    f"Tensor factorization ends at rank 5 at most seeds: at least 3 of the "
    f"{len(ratios)} seeds {CP_SEEDS[0]}–{CP_SEEDS[-1]} end with 6th "
    f"component norm < 1e-3 × the largest",
    at_rank_five >= 3,
    not_reproduced=None
    if at_rank_five >= 3
    else "fewer than 3 of the seeds end below the threshold",
    seeds_below_threshold=at_rank_five,
    ratio_6th_to_1st=ratios,
    reconstruction_error=np.array(
        [row["error"] for row in seed_study.values()]
    ),
)

# %% tags=["remove-input"]
first, errors = seed_study[SEED], np.array([row["error"] for row in seed_study.values()])
Markdown(f"**What the five seeds show.** At seed {SEED} the sixth norm peaked at {first['peak']:.4g} (iteration "
         f"{first['peak_step']}) and ends at {first['sixth']:.4g}, {100 * first['late_change']:+.2f} % over the last "
         f"2000 iterations. Across seeds {CP_SEEDS[0]}–{CP_SEEDS[-1]} the sixth / largest ratio runs from "
         f"{ratios.min():.1e} to {ratios.max():.1e}, {at_rank_five} of {len(ratios)} seeds end below 10⁻³, and "
         f"every seed reconstructs the unobserved entries to a relative error of at most {errors.max():.1e}.")

# %% [markdown]
# How to read these numbers: a sixth norm that barely changes over the last 2000 iterations has settled
# rather than being on its way out, so a longer run would not change its verdict. Where every seed fits
# well (small errors above), the five large components were learned at every seed, and whether a sixth,
# smaller component rides along at the end is what varies from seed to seed.

# %% [markdown]
# ## Figures 3 and 5 — the hierarchical factorization as a network
#
# The post's Figure 3 draws CP and hierarchical tensor factorizations as networks; Figure 5 illustrates
# local versus long-range dependencies. Both are schematics. The only structure our computation needs is
# the *mode tree*: each leaf is one input variable (a pixel, in the network picture), each inner node
# combines its children by product pooling followed by a linear map, and the root outputs the prediction.
# A CP factorization is the tree of height one (the root pools all leaves at once). The hierarchical rank
# counts, per node, the local components in use: a low rank at a node means the variables under it
# interact weakly with the rest — for a convolutional network whose nodes are growing image regions,
# this is locality.

# %% tags=["hide-input"]
CP_TREE = htf.mode_tree(4)
fig, axes = book.figure(1, 2, height=2.4)
fplots.mode_tree_diagram(axes[0], CP_TREE.levels)
axes[0].set_title("CP factorization (height 1)")
fplots.mode_tree_diagram(axes[1], TREE.levels)
axes[1].set_title("hierarchical (this chapter)")
book.save_figure(
    fig,
    "fig3-mode-trees",
    data={
        "cp_levels": [[list(n) for n in lv] for lv in CP_TREE.levels],
        "htf_levels": [[list(n) for n in lv] for lv in TREE.levels],
    },
    caption="Mode trees of an order-4 CP factorization and of the "
    "hierarchical factorization used above (modes numbered from 1).",
)

# %% [markdown]
# ## Figure 6 — an explicit regularizer against locality
#
# **The regularizer.** For a batch of inputs, pick a small patch $P_1$ and another patch $P_2$ elsewhere.
# Replace $P_2$ in each input by $P_2$ of the next input in the batch, and compare the network's input
# gradient on $P_1$ before and after: the penalty is the mean of
# $|\cos(\nabla_x f(x)_{P_1}, \nabla_x f(x')_{P_1})|$. If $f$ has no interaction between the two
# patches the gradient on $P_1$ does not move and the penalty is 1; adding $\lambda\cdot$penalty to the
# loss pushes the network to model interactions between distant regions, i.e. towards high hierarchical
# rank. `offconvex.factorization.locality` implements it with double back-propagation; its tests check the value 1
# for linear and separable models and the exact cosine for a bilinear interaction between the two
# patches.
#
# **The paper's experiment**: ResNet18 trained from scratch on Pathfinder images of 150×150 pixels,
# where the label says whether two markers are joined by a dashed path; the path length (3 to 9 segments)
# sets the dependency distance. The top panel of the figure below shows **the paper's reported test
# accuracies** (coefficient 9 for "with regularizer"), copied from its published figure, not produced by
# this notebook.
#
# **The task, drawn by our generator.** `offconvex.factorization.pathfinder` is our own Pathfinder generator with the
# geometry of the authors' data (dashes of 2.5 pixels every 5.5 pixels, markers of radius 1.5, the two
# target paths starting 13.5 pixels apart, about 90/L short distractor paths of L/3 segments). Every image
# holds two target paths of L segments that never touch; a positive image marks both ends of one of them,
# a negative image marks the start of one and the end of the other, so both classes carry the same ink.
# The figure shows two images of each class at path lengths 3 and 9 (drawn in every profile; it costs
# milliseconds).
#
# **A shortcut we checked for, and removed.** If the second target path simply grows from its own seed, as
# in Linsley et al.'s generator and the authors' adaptation, a negative's markers are farther apart, and
# more variably so, than a positive's: the 13.5-pixel offset between the two seeds adds to the second
# path's reach. Measured on our first version of the generator (3000 scenes per class and path length),
# positives had their markers 16.0 ± 0.4 pixels apart at path length 3 and negatives 22.0 ± 6.9
# (two-sample Kolmogorov–Smirnov statistic 0.76); at path length 9, 45.0 ± 3.6 against 49.3 ± 9.0 (KS
# 0.57). A network could then beat chance by measuring the distance between the two rings, without
# tracing anything. The generator now places the second path's start, still 13.5 pixels from the first
# marker, at the point of that circle from which its end lands exactly as far from the first marker as the
# first path's end (`offconvex.factorization.pathfinder`'s docstring gives the construction). The scene is drawn before
# the label, so the marker distance is the same whichever label a scene gets; the check below measures it
# on freshly drawn scenes and `tests/test_pathfinder.py` guards it.

# %%
samples = {
    length: pathfinder.sample_scenes(
        4, length, torch_generator(SEED, f"pathfinder-samples-{length}")
    )
    for length in (3, 9)
}
sample_images = {
    length: pathfinder.render(scenes, 150)
    for length, scenes in samples.items()
}


def marker_distances(length):
    """Distances between the two markers of fresh scenes: (positives,
    negatives)."""
    generator = torch_generator(SEED, f"pathfinder-markers-{length}")
    batches, size = MARKER_CHECK
    scenes = [
        pathfinder.sample_scenes(size, length, generator)
        for _ in range(batches)
    ]
    markers = np.concatenate([batch.markers.numpy() for batch in scenes])
    distance = np.linalg.norm(markers[:, 1] - markers[:, 0], axis=-1)
    labels = np.concatenate([batch.labels.numpy() for batch in scenes])
    positive = labels == 1
    return distance[positive], distance[~positive]


marker_check = {length: marker_distances(length) for length in (3, 5, 7, 9)}
marker_ks = {
    length: stats.ks_2samp(*pair) for length, pair in marker_check.items()
}

# %% tags=["hide-input"]
# two rows of four 150-pixel images, each shown at about its own size
fig, axes = book.figure(2, 4, height=3.9)
for row, length in zip(axes, samples, strict=True):
    # the two positives first
    order = np.argsort(-samples[length].labels.numpy(), kind="stable")
    for ax, i in zip(row, order, strict=True):
        fplots.pathfinder_image(
            ax,
            sample_images[length][i, 0].numpy(),
            samples[length].markers[i].numpy(),
            title="joined" if samples[length].labels[i] else "not joined",
        )
    row[0].set_ylabel(f"path length {length}")
marker_distances_by_class = list(marker_check.values())
book.save_figure(
    fig,
    "fig6-pathfinder-samples",
    data={
        **{f"labels_{n}": s.labels for n, s in samples.items()},
        **{f"markers_{n}": s.markers for n, s in samples.items()},
        **{f"target_paths_{n}": s.targets for n, s in samples.items()},
        **{
            f"image_row_sums_{n}": images[:, 0].sum(-1)
            for n, images in sample_images.items()
        },
        "marker_check_path_length": np.array(list(marker_check)),
        "marker_distance_mean_positive": np.array(
            [pos.mean() for pos, _ in marker_distances_by_class]
        ),
        "marker_distance_mean_negative": np.array(
            [neg.mean() for _, neg in marker_distances_by_class]
        ),
        "marker_distance_ks_statistic": np.array(
            [test.statistic for test in marker_ks.values()]
        ),
    },
    caption="Pathfinder images (150×150) from this book's generator at "
    "path lengths 3 and 9; rings mark the two markers. In a positive image "
    "one dashed path joins them; in a negative each marker ends its own "
    "path. The data saved are the labels, markers, target-path vertices "
    "and the images' row sums.",
    # float64 geometry, deterministic from the seed; the slack absorbs libm
    # differences in sin/cos across machines, which may also move a
    # sub-pixel of the 2× rendering (0.25 in a row sum)
    rtol=1e-6,
    atol=1e-6,
    tolerances={f"image_row_sums_{n}": (0, 0.5) for n in samples},
)

# %% tags=["remove-input"]
Markdown(f"**Marker distance by class**, {MARKER_CHECK[0] * MARKER_CHECK[1]} fresh scenes per path length (pixels, mean ± "
         "standard deviation; two-sample Kolmogorov–Smirnov test between the classes):\n\n"
         "| path length | positives | negatives | KS statistic | p-value |\n|---|---|---|---|---|\n"
         + "\n".join(f"| {length} | {pos.mean():.2f} ± {pos.std():.2f} ({pos.size}) | {neg.mean():.2f} ± {neg.std():.2f} "
                     f"({neg.size}) | {marker_ks[length].statistic:.3f} | {marker_ks[length].pvalue:.2f} |"
                     for length, (pos, neg) in marker_check.items()))

# %% [markdown]
# **A CPU locality experiment, run in every profile.** Each input is a sequence of 32 random ±1 bits with
# a second channel marking two positions a fixed *dependency distance* apart; the label says whether the
# two marked bits agree. The label depends on one interaction between two positions at a known distance,
# and on nothing else, so a network that cannot relate positions that far apart is at chance. The
# network is small: 1×3 convolutions (16 channels), ReLU and 1×2 max-pooling, five times, down to a single
# unit and one logit, so its receptive field covers the whole sequence, as ResNet18's global pooling
# does for a Pathfinder image. Nothing in the architecture stops it from solving the longest distance; if
# it fails there, training did not find the long-range interaction. Every network is trained with Adam
# (learning rate 3e-3, batches of 64) for 600 steps on 1000 sequences per distance and tested on 2000,
# at distances 4, 16 and 28, at five seeds (SEED to SEED + 4; each seed draws its own data,
# initialization and mini-batches). With the regularizer (coefficient 1, 1×2 patches at any distance,
# each network drawing its own patches) we train the same networks — same data, initialization and
# mini-batches — at the longest distance. The test accuracy is measured every 100 steps, which gives
# the gap as a function of the training budget for free. All these networks train at once as the
# groups of one grouped convolution (`offconvex.factorization.cnn_ensemble`), so five seeds cost about
# as much as one would in a Python loop.
#
# **Why sequences and not small Pathfinder images.** This chapter used to run a smaller version of this
# experiment at three seeds and two distances (300 steps), where the gap appeared at one seed of three.
# Before building this version we tried the obvious CPU-scale Pathfinder: our generator at 24×24 pixels
# (path lengths 2, 4, 6 segments, with and without distractors, dashed and solid paths) and at 16×16 a
# 2-D version of the marker-pair task, each with a small pooling CNN trained for 300–800 Adam steps on
# 1000–2000 images at five seeds. Every network stayed at chance at *every* distance, the shortest
# included: at this budget those tasks are not learned at all, so they have no gap to measure. The
# sequence task is the smallest one we found where the short distance is learned within the book's budget.

# %%
PAPER_PATH_LENGTH = np.array([3, 5, 7, 9])
PAPER_ACCURACY = {
    "ResNet18 (paper)": np.array([98.5, 96.0, 68.7, 50.5]),
    "ResNet18 + regularizer (paper)": np.array([98.5, 96.8, 91.7, 85.4]),
}

n_train, n_steps, distances, every = TOY
LENGTH, CHANNELS, LAMBDA, N_TEST = 32, 16, 1.0, 2000


def stack_networks(pairs):
    """One ``(inputs, labels)`` per network -> ``(N, G, ...)``,
    ``(N, G)``."""
    inputs, labels = zip(*pairs, strict=True)
    return torch.stack(inputs, 1), torch.stack(labels, 1)


def locality_runs(configurations, coefficient):
    """Test accuracy ``(checks, networks)`` of one small CNN per (seed,
    distance), all trained at once."""
    data = []
    for seed, distance in configurations:
        draws = torch_generator(seed, f"toy-data-{distance}")
        data.append(
            [
                locality.marker_pair_task(n, LENGTH, distance, draws)
                for n in (n_train, N_TEST)
            ]
        )
    model = cnn_ensemble.grouped_small_cnns(
        LENGTH,
        CHANNELS,
        [torch_generator(seed, "toy-init") for seed, _ in configurations],
    )
    return cnn_ensemble.train_grouped(
        model,
        stack_networks([train for train, _ in data]),
        stack_networks([test for _, test in data]),
        torch.full((len(configurations),), coefficient),
        n_steps,
        [torch_generator(s, f"toy-batches-{d}") for s, d in configurations],
        [torch_generator(s, "toy-patches") for s, _ in configurations],
        every=every,
    )


n_seeds, longest = len(TOY_SEEDS), distances[-1]
check_steps, plain_curves = locality_runs(
    [(seed, d) for seed in TOY_SEEDS for d in distances], 0.0
)
# (checks, seeds, distances)
plain_curves = plain_curves.numpy().reshape(-1, n_seeds, len(distances))
_, regularized_curves = locality_runs(
    [(seed, longest) for seed in TOY_SEEDS], LAMBDA
)
regularized_curves = regularized_curves.numpy()  # (checks, seeds)
check_steps = check_steps.numpy()
plain, regularized = plain_curves[-1], regularized_curves[-1]
# accuracy at the shortest minus the longest distance, per check and seed
gap_curves = plain_curves[:, :, 0] - plain_curves[:, :, -1]
gap, gain = gap_curves[-1], regularized - plain[:, -1]
print("plain (seeds x distances):\n", plain.round(1))
print("regularized at the longest distance:", regularized.round(1))
print("gap:", gap.round(1), "gain:", gain.round(1))

# %% tags=["hide-input"]
# three rows, legends right of the panels: the series' names are long
fig, axes = book.figure(3, 1, height=7.2)
fplots.accuracy_by_distance(
    axes[0],
    PAPER_PATH_LENGTH,
    PAPER_ACCURACY,
    title="Pathfinder, as reported in the paper (not recomputed)",
    legend_outside=True,
)
axes[0].set_xlabel("path length (dependency distance)")
fplots.accuracy_with_seed_spread(
    axes[1],
    {
        "small CNN": (distances, plain),
        f"+ regularizer (λ={LAMBDA:g})": (
            distances[-1:],
            regularized[:, None],
        ),
    },
    title=f"marker-pair sequences, computed here ({n_steps} Adam steps)",
    legend_outside=True,
)
fplots.gap_by_budget(
    axes[2],
    check_steps,
    gap_curves,
    title=f"plain CNN: accuracy at distance {distances[0]} minus at "
    f"{longest}",
    legend_outside=True,
)
book.save_figure(
    fig,
    "fig6-locality-regularizer",
    data={
        "paper_path_length": PAPER_PATH_LENGTH,
        **PAPER_ACCURACY,
        "distance": np.array(distances),
        "seeds": np.array(list(TOY_SEEDS)),
        "check_steps": check_steps,
        "plain_accuracy": plain_curves,
        "regularized_accuracy_longest": regularized_curves,
    },
    caption="Top: test accuracy of ResNet18 on Pathfinder against path "
    "length without and with the input-gradient-change regularizer, "
    "numbers reported by Razin, Maman and Cohen (2022), not recomputed. "
    "Middle: the same comparison computed here on the marker-pair "
    "sequence task (2000 test sequences per network), for a small CNN "
    "with a full receptive field trained without the regularizer at "
    "three distances and with it at the longest; dots: each of five "
    "seeds, squares: their mean. Bottom: the plain network's gap between "
    "the shortest and the longest distance against the number of Adam "
    "steps (each seed and the mean).",
    # torch CPU training with one thread is deterministic; accuracies move
    # in steps of 0.05 %
    rtol=0,
    atol=0.11,
)

# %% [markdown]
# ### The full experiment (`paper` profile, GPU)
#
# With `PROFILE = "paper"` the next cells run the paper's protocol on our generator: for each path length
# 3, 5, 7, 9, 10 000 training and 10 000 test images of 150×150 pixels, standardised with the training
# statistics; ResNet18 (our own implementation in `offconvex.core.resnet`, the standard layout with a
# one-channel stem and one logit) trained from the same initialization with SGD (momentum 0.9, learning
# rate 0.01, batch 64, no weight decay) for at most 150 epochs, stopping 20 epochs after the training
# accuracy first reaches 100 %; with the regularizer, coefficient 9 with 2×2 patches at any distance (the
# code's defaults). The reported number is the test accuracy after the last epoch. Training uses
# `cuda` when a GPU is visible (else the CPU, which would take weeks).
#
# **Expected cost — an estimate, not a measurement.** On this book's CPU one training step (batch 64,
# 150×150) took 15 s without and 66 s with the regularizer (one thread of a shared machine; the penalty's
# double back-propagation costs about 4.3×). Assuming a current data-centre GPU (A100/H100 class) is
# 1000–2000× faster than that single thread for ResNet18, a step takes about 8–15 ms without and 35–65 ms
# with the regularizer: 1–3 s and 6–11 s per epoch of 157 steps plus evaluation, at most 4–7 and 15–27
# minutes per run of 150 epochs (early stopping shortens runs that reach 100 % training accuracy), so
# **about 1–2 hours on one GPU** for all eight runs, plus a few minutes to generate the 80 000 images on
# one CPU thread. This profile **has not been run by this book's CI**, which has no GPU; the
# code path it runs is exercised at toy size on the CPU by `tests/test_locality_training.py`. On a GPU,
# run `pytest -m cuda` first: in seconds it checks that this path has deterministic CUDA kernels (the
# notebook turns deterministic algorithms on), repeats bit for bit, and follows the CPU.

# %%
pathfinder_accuracy = {}
if PATHFINDER is not None:
    path_lengths, n_train, n_test, max_epochs = PATHFINDER
    device = locality_training.default_device()
    pathfinder_runs = {
        "ResNet18 (computed)": 0.0,
        "ResNet18 + regularizer (computed)": 9.0,
    }
    pathfinder_accuracy = {name: [] for name in pathfinder_runs}
    for length in path_lengths:
        data = torch_generator(SEED, f"pathfinder-data-{length}")
        train_set = pathfinder.pathfinder_images(n_train, length, data)
        test_set = pathfinder.pathfinder_images(n_test, length, data)
        for name, coeff in pathfinder_runs.items():
            model = resnet.resnet18(
                torch_generator(SEED, "pathfinder-init")
            )
            run = locality_training.train_classifier(
                model,
                train_set,
                test_set,
                torch_generator(SEED, f"pathfinder-batches-{length}"),
                reg_coeff=coeff,
                epochs=max_epochs,
                device=device,
            )
            pathfinder_accuracy[name].append(run.final_test_accuracy)
            print(
                f"path length {length}, {name}: "
                f"{len(run.test_accuracy)} epochs, "
                f"test accuracy {run.final_test_accuracy:.1f} %, "
                f"final train accuracy {run.train_accuracy[-1]:.1f} %"
            )
    pathfinder_accuracy = {
        name: np.array(values)
        for name, values in pathfinder_accuracy.items()
    }

# %% tags=["hide-input"]
if PATHFINDER is not None:
    # two rows, legends right of the panels: the series' names are long
    fig, axes = book.figure(2, 1, height=4.6, sharey=True)
    fplots.accuracy_by_distance(
        axes[0],
        PAPER_PATH_LENGTH,
        PAPER_ACCURACY,
        title="Pathfinder, as reported in the paper (not recomputed)",
        legend_outside=True,
    )
    fplots.accuracy_by_distance(
        axes[1],
        np.array(path_lengths),
        pathfinder_accuracy,
        title="Pathfinder, computed here (ResNet18, our generator)",
        legend_outside=True,
    )
    for ax in axes:
        ax.set_xlabel("path length (dependency distance)")
    book.save_figure(
        fig,
        "fig6-pathfinder-resnet18",
        data={
            "paper_path_length": PAPER_PATH_LENGTH,
            **PAPER_ACCURACY,
            "path_length": np.array(path_lengths),
            **pathfinder_accuracy,
        },
        caption="Test accuracy of ResNet18 on Pathfinder (150×150) against "
        "path length, without and with the input-gradient-change "
        "regularizer (coefficient 9). Top: as reported by Razin, Maman "
        "and Cohen (2022). Bottom: computed by this notebook's paper "
        "profile on this book's Pathfinder generator (one seed, "
        "final-epoch test accuracy on 10 000 test images).",
        # GPU training is reproducible only up to kernel choice; accuracies
        # are in steps of 0.01 %
        rtol=0,
        atol=1.0,
    )

# %% [markdown]
# The post's claim is that without the regularizer accuracy collapses as the dependency distance grows,
# and the regularizer closes most of that gap. This chapter used to test both on a single seed of its
# old toy (a 20-point drop, a 10-point gain) and on a majority of three seeds; those claims are replaced
# by the five-seed ones below. The thresholds were fixed from an exploratory run of this notebook at
# seeds 10–14 (not 0–4) and committed before the run that judges them: the plain network's accuracy at
# the longest distance is at least 5 points below the shortest at at least 4 of 5 seeds, with a mean gap
# of at least 10 points; and the regularizer raises the mean accuracy at the longest distance by at
# least 10 points (a third of the way from no gain to the paper's 35 points).

# %%
paper_gain = (
    PAPER_ACCURACY["ResNet18 + regularizer (paper)"][-1]
    - PAPER_ACCURACY["ResNet18 (paper)"][-1]
)
if PATHFINDER is None:
    book.claim(
        "Pathfinder (post's Figure 6): the regularizer lifts ResNet18's "
        "accuracy at path length 9 by ≥ 30 points",
        False,
        not_reproduced="GPU-scale, not run here; the paper reports this "
        "gain, the figure's top panel shows its numbers",
        paper_reported_gain=paper_gain,
    )
else:
    # paper profile: judged on the accuracies computed above, next to the
    # post's
    computed = {
        name.removesuffix(" (computed)"): accuracy[-1]
        for name, accuracy in pathfinder_accuracy.items()
    }
    computed_gain = (
        computed["ResNet18 + regularizer"] - computed["ResNet18"]
    )
    book.claim(
        f"Pathfinder (post's Figure 6): the regularizer lifts ResNet18's "
        f"accuracy at path length {path_lengths[-1]} by ≥ 30 points (the "
        f"post: {paper_gain:.1f} points at path length 9)",
        bool(computed_gain >= 30),
        not_reproduced=None
        if computed_gain >= 30
        else "on this book's generator and seed the computed gain falls "
        "short of the threshold",
        computed_gain=computed_gain,
        paper_reported_gain=paper_gain,
        accuracy_plain=computed["ResNet18"],
        accuracy_regularized=computed["ResNet18 + regularizer"],
    )

# thresholds fixed from the exploratory run at seeds 10-14 (see above)
GAP_POINTS, GAP_SEED_SHARE, MEAN_GAP, MEAN_GAIN = 5.0, 0.8, 10.0, 10.0
seeds_with_gap = [
    seed for seed, g in zip(TOY_SEEDS, gap, strict=True) if g >= GAP_POINTS
]
enough_seeds = len(seeds_with_gap) >= GAP_SEED_SHARE * n_seeds
locality_gap = bool(enough_seeds and gap.mean() >= MEAN_GAP)


def no_gap_reasons():
    """Why the seeds without a gap have none: the shortest distance was
    not learned within the budget, or the longest was learned too."""
    reasons = [
        f"seed {seed}: "
        + (
            f"near chance even at distance {distances[0]} "
            f"({accuracy[0]:.1f} %)"
            if accuracy[0] < 60
            else f"distance {longest} learned too ({accuracy[-1]:.1f} %)"
        )
        for seed, accuracy, g in zip(TOY_SEEDS, plain, gap, strict=True)
        if g < GAP_POINTS
    ]
    return (
        f"{len(seeds_with_gap)} of {n_seeds} seeds show the gap, mean "
        f"{gap.mean():.1f} points; " + "; ".join(reasons)
    )


book.claim(
    f"Locality (CPU, {n_seeds} seeds): without the regularizer, test "
    f"accuracy at distance {longest} is ≥ {GAP_POINTS:g} points below "
    f"distance {distances[0]} at ≥ {GAP_SEED_SHARE:.0%} of the seeds, "
    f"and ≥ {MEAN_GAP:g} points below on average",
    locality_gap,
    not_reproduced=None if locality_gap else no_gap_reasons(),
    gap_by_seed=gap,
    mean_gap=gap.mean(),
    # fixed shapes: the rounding ensemble compares these member by member
    gap_at_seed=gap >= GAP_POINTS,
    seeds_with_gap_count=len(seeds_with_gap),
    accuracy_shortest=plain[:, 0],
    accuracy_longest=plain[:, -1],
)
regularizer_helps = bool(gain.mean() >= MEAN_GAIN)
book.claim(
    f"Regularizer (CPU, {n_seeds} seeds): coefficient {LAMBDA:g} raises "
    f"the mean test accuracy at distance {longest} by ≥ {MEAN_GAIN:g} "
    "points",
    regularizer_helps,
    not_reproduced=None
    if regularizer_helps
    else "at this scale the penalty does not close the gap on average "
    "(see the table)",
    gain_by_seed=gain,
    mean_gain=gain.mean(),
    accuracy_plain=plain[:, -1],
    accuracy_regularized=regularized,
)

# %% [markdown]
# **Reading the experiment.** The table gives every network's final test accuracy (%) at every seed; the
# figure shows the same numbers with the mean, and the gap at every 100 steps.

# %% tags=["remove-input"]
Markdown(
    "| seed | " + " | ".join(f"plain, distance {d}" for d in distances) + f" | regularized, distance {longest} | gap | gain |\n|"
    + "---|" * (4 + len(distances)) + "\n"
    + "\n".join(f"| {seed} | " + " | ".join(f"{a:.1f}" for a in plain[i]) + f" | {regularized[i]:.1f} | {gap[i]:+.1f} | "
                f"{gain[i]:+.1f} |" for i, seed in enumerate(TOY_SEEDS)))

# %% tags=["remove-input"]
Markdown(f"**What the seeds show.** Without the regularizer the gap between distance {distances[0]} and distance "
         f"{longest} is {gap.mean():.1f} points on average over the {n_seeds} seeds (from {gap.min():.1f} to "
         f"{gap.max():.1f}), at least {GAP_POINTS:g} points at {len(seeds_with_gap)} of them; after "
         f"{check_steps[len(check_steps) // 2]} steps it was {gap_curves[len(check_steps) // 2].mean():.1f}. With "
         f"the regularizer the accuracy at distance {longest} changes by {gain.mean():+.1f} points on average (from "
         f"{gain.min():+.1f} to {gain.max():+.1f}).")

# %% [markdown]
# How to read these numbers. A gap that grows with the number of steps means the short distance is being
# learned while the long one is not, rather than both being out of reach of the budget. A seed at which the
# plain network solves the longest distance (a negative gap) is a reminder that nothing in the network forbids
# the long-range interaction: the locality is in what training finds first. The regularizer is judged on
# the same networks (data, initialization and mini-batches) as the plain ones, so a gain is the penalty's
# effect at that seed; it varies a lot between seeds, which is why the claim is on the mean. Either way this
# experiment is small and says nothing for or against the paper's ResNet18 result, which is why that claim
# is recorded as not reproduced here; the `paper` profile runs it on a GPU.

# %% [markdown]
# ## Claims checked in this chapter

# %% tags=["remove-input"]
book.claims_table()
