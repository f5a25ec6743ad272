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
# # Rip van Winkle's Razor: how much can a model overfit a test set it was tuned on?
#
# The post [Rip van Winkle's Razor, a Simple New Estimate for Adaptive Data Analysis](http://www.offconvex.org/2021/04/07/ripvanwinkle/)
# (Arora & Zhang, paper: [arXiv 2102.13189](https://arxiv.org/abs/2102.13189)) asks how far a published
# test error can sit below the error on the whole distribution when the community has looked at the test
# set many times. Adaptive data analysis ([Dwork et al. 2015](https://doi.org/10.1126/science.aaa9375))
# answers with bounds that grow with the number $t$ of models evaluated, which become useless once $t$
# is comparable to the test-set size $N$. The razor replaces $t$ by a *description length*: if the final
# model can be specified to a referee who fell asleep when the test set was made, in $k$ bits, then it is
# one of at most $2^k$ models, and a union bound over those bounds its meta-overfitting error (MOE,
# population error minus test error) by roughly $\sqrt{k/N}$ — whatever happened in between.
#
# This chapter (all NumPy/scikit-learn, on one CPU thread) reproduces:
#
# 1. the bound as a calculator, evaluated at the post's two numbers (ResNet-152, 1032 bits; DenseNet-264,
#    980 bits), with the exact formula used, and how it compares with the adaptive-analysis scales;
# 2. a simulation of adaptive overfitting on a test set of random labels (the boosting attack), a
#    data-hygienic analyst, and the Ladder leaderboard of [Blum & Hardt 2015](https://arxiv.org/abs/1502.04585)
#    that caps the attack;
# 3. a description-length count for this chapter's own small network on scikit-learn's digits, its bound,
#    and the gap measured on fresh data.
#
# What differs from the paper: the paper's theorem statement was not available to us offline, so the
# chapter states which candidate formula it uses and how far its numbers land from the post's; the
# "description" of the small network uses a simple fixed-length code over a vocabulary of our choosing,
# not the paper's encoding of English, math and graphs.

# %% tags=["parameters"]
PROFILE = "book"
SEED = 0
PERTURBATION = 0  # ensemble member for `make baselines` (0: the published run; see README)
DELTA = 0.01  # failure probability of the razor's bound (the post does not state it; 0.05 moves the 4th digit) [valid: >0]

# %% tags=["hide-input"]
import warnings

import numpy as np
from offconvex import book
from offconvex.core.random import rng
from offconvex.generalization import razor
from offconvex.generalization.adaptive_overfitting import (
    analyst_gains,
    attack_gain_prediction,
)
from offconvex.generalization.plots import (
    mark_points,
    plot_bars,
    plot_curves,
)
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

book.start(
    "2021-04-07-rip-van-winkle", PROFILE, SEED, perturbation=PERTURBATION
)
# random-label test-set size
N_ATTACK = book.by_profile(PROFILE, smoke=1000, book=4000, paper=50_000)
# queries the analyst submits
T_ATTACK = book.by_profile(PROFILE, smoke=500, book=2000, paper=20_000)
# independent test sets for the attack
N_REPEATS = book.by_profile(PROFILE, smoke=1, book=3, paper=10)
LADDER_STEP = 0.01  # Ladder step size eta (the research note's setting)
MLP_MAX_ITER = book.by_profile(PROFILE, smoke=30, book=300, paper=300)

# %% [markdown]
# ## 1. The bound as a calculator
#
# With $L = k\ln 2 + \ln(1/\delta)$, a prefix-free description language of at most $k$ bits and a test
# set of $N$ i.i.d. points, three standard concentration inequalities combined with the union bound give,
# simultaneously for every describable model with measured test error $\hat p$ and population error $p$,
# with probability at least $1-\delta$:
#
# * Hoeffding: $p - \hat p \le \sqrt{L/(2N)}$ (the post's "folklore theorem", independent of $\hat p$);
# * Chernoff–KL: $p \le \mathrm{kl}^{-1}(\hat p, L/N)$, the largest $q$ with $\mathrm{kl}(\hat p\,\|\,q) \le L/N$;
# * relative deviation: $p - \hat p \le \sqrt{2\hat p L/N} + L/N$.
#
# The post quotes "merely 5 %" for ResNet-152 (1032 bits, top-5 test error 4.49 %) and 5.06 % for
# DenseNet-264 (980 bits). A $\sqrt{k}$ bound that ignores the error would give the *shorter* DenseNet
# description the *smaller* bound, so the post's numbers must depend on the error. We evaluate all three
# forms at $N = 50{,}000$ (the ImageNet validation set on which these errors are reported) and
# $\delta = 0.01$, using the single-crop top-5 error 6.12 % reported for DenseNet-264 in the
# [DenseNet paper](https://arxiv.org/abs/1608.06993), and state the distance to the post's values.
# Before computing, we commit to calling a post number reproduced when some form lands within
# 0.1 percentage point of it, without fitting any constant.

# %%
N_IMAGENET = 50_000
POST = {
    "ResNet-152": dict(bits=1032, error=0.0449, reported=0.05),
    "DenseNet-264": dict(bits=980, error=0.0612, reported=0.0506),
}
bound_table = {
    name: {
        form: float(
            razor.meta_overfitting_bound(
                case["bits"], N_IMAGENET, DELTA, case["error"], form
            )
        )
        for form in razor.FORMS
    }
    for name, case in POST.items()
}
for name, row in bound_table.items():
    print(
        name,
        {form: f"{100 * value:.2f} %" for form, value in row.items()},
        f"post: {100 * POST[name]['reported']:.2f} %",
    )

bits_grid = np.logspace(1, 5, 60)
sizes = [10_000, 50_000, 100_000]
bound_vs_bits = {
    f"N = {n:,}": razor.meta_overfitting_bound(bits_grid, n, DELTA)
    for n in sizes
}
bound_vs_bits["N = 50,000, relative form, err 4.49 %"] = (
    razor.meta_overfitting_bound(
        bits_grid, N_IMAGENET, DELTA, 0.0449, "relative"
    )
)
size_grid = np.logspace(3, 7, 60)
bound_vs_size = {
    f"k = {k} bits": razor.meta_overfitting_bound(k, size_grid, DELTA)
    for k in (100, 1032, 10_000)
}

# %%
fig, axes = book.figure(1, 2, height=3.8)
# the legend goes under the panel: every corner of it holds a curve
under_the_panel = dict(loc="upper center", bbox_to_anchor=(0.5, -0.15))
plot_curves(
    axes[0],
    bits_grid,
    bound_vs_bits,
    xlabel="description length k (bits)",
    ylabel="bound on meta-overfitting error",
    logy=True,
    legend=under_the_panel,
)
mark_points(
    axes[0],
    [POST[name]["bits"] for name in POST],
    [POST[name]["reported"] for name in POST],
    [f"{name} (post)" for name in POST],
    offsets=[(8, -12), (8, 4)],
)
plot_curves(
    axes[1],
    size_grid,
    bound_vs_size,
    xlabel="test-set size N",
    ylabel="Hoeffding bound",
    logy=True,
    legend=under_the_panel,
)
axes[1].axvline(N_IMAGENET, color="gray", linestyle=":")
book.save_figure(
    fig,
    "fig1-razor-bound",
    data={
        "bits": bits_grid,
        **bound_vs_bits,
        "test_set_size": size_grid,
        **bound_vs_size,
    },
    caption="The razor's bound on population minus test error "
    "(delta = 0.01): against the description length for three test-set "
    "sizes (left; stars: the post's numbers), and against the test-set "
    "size for three description lengths (right; dotted: N = 50,000).",
)

# %%
for name, case in POST.items():
    closest = min(
        razor.FORMS,
        key=lambda form: abs(bound_table[name][form] - case["reported"]),
    )
    difference = bound_table[name][closest] - case["reported"]
    reproduced = abs(difference) <= 0.001
    reason = (
        f"the closest form ({closest}) is {100 * difference:+.2f} pp "
        "away; the paper's exact theorem, N and error were not "
        "available offline"
    )
    book.claim(
        f"{name}: a {case['bits']}-bit description gives an MOE bound "
        f"of {100 * case['reported']:.2f} % (reproduced if some "
        "standard form lands within 0.1 percentage point)",
        reproduced,
        closest_form=closest,
        closest_bound=bound_table[name][closest],
        difference=difference,
        **{
            f"bound_{form}": bound_table[name][form]
            for form in razor.FORMS
        },
        **({} if reproduced else {"not_reproduced": reason}),
    )
all_bounds = [
    value for row in bound_table.values() for value in row.values()
]
book.claim(
    "For ~1000-bit descriptions and N = 50,000 every form of the bound "
    "is non-vacuous, between 4 % and 9 %",
    bool(0.04 <= min(all_bounds) and max(all_bounds) <= 0.09),
    smallest=min(all_bounds),
    largest=max(all_bounds),
)

# %% [markdown]
# ## 2. Adaptive analysis: the bounds that grow with $t$
#
# Without adaptivity, $t$ models fixed before the test set is drawn deviate from their population errors
# by at most $\sqrt{\ln(2t/\delta)/(2N)}$ each (Hoeffding plus a union bound over $t$): a slow
# $\sqrt{\log t/N}$. An analyst who sees the test scores of earlier models before designing the next one
# can reach $\sqrt{t/N}$ (up to constants). The razor's bound does not depend on $t$ at all: the figure
# draws the three at the ImageNet size $N = 50{,}000$, with the ResNet-152 description.

# %%
queries_grid = np.logspace(0, 9, 80)
razor_resnet = float(razor.meta_overfitting_bound(1032, N_IMAGENET, DELTA))
scales_vs_queries = {
    "adaptive worst case sqrt(t/N)": razor.adaptive_worst_case(
        queries_grid, N_IMAGENET
    ),
    "non-adaptive max sqrt(ln(2t/delta)/(2N))": (
        razor.nonadaptive_max_deviation(queries_grid, N_IMAGENET, DELTA)
    ),
    "razor, 1032 bits (Hoeffding)": np.full_like(
        queries_grid, razor_resnet
    ),
}
# t where sqrt(t/N) reaches the razor's bound
crossing_models = N_IMAGENET * razor_resnet**2

# %%
fig, ax = book.figure(height=3.2)
plot_curves(
    ax,
    queries_grid,
    scales_vs_queries,
    xlabel="number of models evaluated t",
    ylabel="deviation of test from population error",
    logy=True,
    legend=dict(loc="upper left"),
)
ax.axhline(1.0, color="gray", linewidth=0.8)
book.save_figure(
    fig,
    "fig2-adaptive-scales",
    data={"models": queries_grid, **scales_vs_queries},
    caption="At N = 50,000: the adaptive worst case sqrt(t/N) passes "
    f"the razor's t-independent bound after {crossing_models:.0f} models "
    "and becomes vacuous (> 1, grey line) at t = N; the non-adaptive "
    "union bound grows only like sqrt(log t).",
)

# %%
book.claim(
    "Unlike sqrt(t/N), the razor's bound does not grow with t: the "
    "adaptive scale overtakes the 1032-bit bound at N = 50,000 after "
    "fewer than 1000 models",
    bool(crossing_models < 1000),
    crossing_models=crossing_models,
    razor_bound=razor_resnet,
)

# %% [markdown]
# ## 3. Simulating adaptive overfitting
#
# Labels of a test set of $N$ points are fair coin flips, so every classifier has population accuracy
# exactly $1/2$ and any test accuracy above $1/2$ is pure meta-overfitting. Each query is a random
# labelling. Three analysts see $t$ queries:
#
# * **adaptive** (the boosting attack): keeps the queries whose reported test accuracy beats $1/2$ and
#   submits their majority vote. A Gaussian calculation predicts a gain of $\sqrt{t/(2N)}/\pi$ for $t\ll N$:
#   the $\sqrt{t/N}$ worst-case scale of section 2 with its constant $1/(\pi\sqrt 2)\approx 0.23$ made explicit.
# * **hygienic**: keeps queries that beat $1/2$ on its own training set, never looking at the test set.
# * **Ladder**: the adaptive analyst, but the leaderboard only posts a score (rounded to $\eta = 0.01$)
#   when it beats the best so far by $\eta$; the analyst keeps the queries that were posted.
#
# We also record the largest deviation $|{\rm acc}-1/2|$ among the first $t$ individual queries, which
# were not chosen adaptively and so obey the union bound $\sqrt{\ln(2t/\delta)/(2N)}$. Before running, we
# commit to the research note's thresholds: at $t = 2000$, $N = 4000$ the attack reaches test accuracy
# above 0.62 on every repeat and is within 20 % of the predicted gain; the Ladder's gain is below half the
# attack's; the hygienic analyst and the single-query maximum stay inside the non-adaptive bound.

# %%
checkpoints = np.unique(
    np.round(np.logspace(0, np.log10(T_ATTACK), 25)).astype(int)
)
attack_rng = rng(SEED, "attack")
repeats = [
    analyst_gains(N_ATTACK, T_ATTACK, checkpoints, LADDER_STEP, attack_rng)
    for _ in range(N_REPEATS)
]
gains = {
    name: np.stack([run[name] for run in repeats]) for name in repeats[0]
}
attack_theory = attack_gain_prediction(checkpoints, N_ATTACK)
nonadaptive_bound = razor.nonadaptive_max_deviation(
    checkpoints, N_ATTACK, DELTA
)

# %%
fig, ax = book.figure(height=4.2)
labels = {
    "adaptive": "adaptive analyst (attack)",
    "ladder": "adaptive analyst behind the Ladder",
    "hygienic": "data-hygienic analyst",
    "max_single_deviation": "max |acc - 1/2| over t fixed queries",
}
plot_curves(
    ax,
    checkpoints,
    {labels[name]: values.mean(axis=0) for name, values in gains.items()},
    xlabel="number of queries t",
    ylabel="test accuracy - true accuracy (1/2)",
    legend=False,
)
# same colour order as the lines above
for index, values in enumerate(gains.values()):
    ax.fill_between(
        checkpoints,
        values.min(axis=0),
        values.max(axis=0),
        color=f"C{index}",
        alpha=0.15,
    )
prediction_label = "prediction sqrt(t/(2N))/pi"
bound_label = "non-adaptive bound sqrt(ln(2t/delta)/(2N))"
plot_curves(
    ax,
    checkpoints,
    {prediction_label: attack_theory, bound_label: nonadaptive_bound},
    xlabel="number of queries t",
    ylabel="test accuracy - true accuracy (1/2)",
    styles={
        prediction_label: dict(color="black", linestyle="--"),
        bound_label: dict(color="gray", linestyle=":"),
    },
    legend=False,
)
# six long labels: below the axes, in two columns, off the data
fig.legend(loc="outside lower center", ncols=2)
book.save_figure(
    fig,
    "fig3-adaptive-attack",
    data={
        "queries": checkpoints,
        **{name: values for name, values in gains.items()},
        "attack_prediction": attack_theory,
        "nonadaptive_bound": nonadaptive_bound,
    },
    caption=f"Random labels, N = {N_ATTACK}: gain of the test accuracy "
    f"over the true 1/2 after t queries (mean and range over {N_REPEATS} "
    "test sets). The attack follows sqrt(t/(2N))/pi; the Ladder and a "
    "hygienic analyst stay at noise level.",
)

# %%
final = {name: values[:, -1] for name, values in gains.items()}
final_theory = float(attack_theory[-1])
book.claim(
    f"Adaptive attack: after t = {T_ATTACK} queries on N = {N_ATTACK} "
    "random labels the test accuracy exceeds 0.62 on every repeat "
    "although the true accuracy is 1/2",
    bool(np.all(0.5 + final["adaptive"] > 0.62)),
    test_accuracy=0.5 + final["adaptive"],
)
book.claim(
    "The attack's gain matches the sqrt(t/(2N))/pi prediction within 20 %",
    bool(np.all(np.abs(final["adaptive"] / final_theory - 1) <= 0.2)),
    gain=final["adaptive"],
    prediction=final_theory,
)
book.claim(
    "The Ladder caps the attack: its gain is less than half the "
    "unprotected gain on every repeat",
    bool(np.all(final["ladder"] < 0.5 * final["adaptive"])),
    ladder_gain=final["ladder"],
    attack_gain=final["adaptive"],
)
book.claim(
    "Without adaptivity the deviation stays within "
    "sqrt(ln(2t/delta)/(2N)): the hygienic analyst's gain and the max "
    "over t single queries, at every t and repeat",
    bool(
        np.all(np.abs(gains["hygienic"]) <= nonadaptive_bound)
        and np.all(gains["max_single_deviation"] <= nonadaptive_bound)
    ),
    worst_hygienic_ratio=float(
        np.max(np.abs(gains["hygienic"]) / nonadaptive_bound)
    ),
    worst_single_ratio=float(
        np.max(gains["max_single_deviation"] / nonadaptive_bound)
    ),
)

# %% [markdown]
# ## 4. Counting the bits of a small network
#
# To see the razor at work end to end, we give a referee from before the test set's creation a recipe for
# a small network on scikit-learn's digits (1797 images): the digits are split into a training part, a
# test part of $N$ images and a fresh part standing in for the population. The recipe is written in a
# vocabulary of pre-existing concepts and decimal digits; with a fixed-length code (plus an end marker,
# so the code is prefix-free) each token costs $\lceil\log_2(|V|+1)\rceil$ bits. Our analyst then tunes
# the hidden width and weight decay *on the test set* — exactly the adaptivity the razor forgives,
# because every candidate recipe has at most $k$ bits. The bound covers all of them at once; we compare
# it with the gap between the chosen model's test error and its error on the fresh images.

# %%
VOCABULARY = (
    ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", ".", "e", "-", ";"]
    + ["pixels", "divide", "by", "network", "fully-connected", "hidden"]
    + ["units", "relu", "softmax", "output", "classes", "loss"]
    + ["cross-entropy", "l2", "penalty", "optimizer", "adam"]
    + ["learning-rate", "epochs", "batch", "size", "all", "train", "set"]
    + ["initialize", "glorot", "uniform", "sgd", "momentum", "sigmoid"]
    + ["tanh", "conv", "max-pool", "dropout", "layers", "stop", "when"]
    + ["loss-change", "below", "for", "iterations", "average", "vote"]
    + ["nearest", "neighbour", "tree", "depth", "standardize", "inputs"]
)


def recipe(width: int, penalty: str) -> list[str]:
    """A one-hidden-layer digits classifier, as tokens of VOCABULARY."""
    return [
        *["pixels", "divide", "by", "1", "6", ";"],
        *["network", "fully-connected", "hidden", *str(width), "units"],
        *["relu", "softmax", "output", ";"],
        *["loss", "cross-entropy", "l2", "penalty", *penalty, ";"],
        *["optimizer", "adam", "learning-rate", "1", "e", "-", "3"],
        *["batch", "size", "2", "0", "0", ";"],
        *["epochs", *str(MLP_MAX_ITER)],
    ]


digits = load_digits()
order = rng(SEED, "split").permutation(len(digits.target))
images, targets = digits.data[order] / 16.0, digits.target[order]
train, test, fresh = np.split(np.arange(len(targets)), [897, 1347])
candidates = [
    (width, penalty) for width in (8, 32) for penalty in ("1e-4", "1e-1")
]
test_errors, fresh_errors, candidate_bits = [], [], []
for index, (width, penalty) in enumerate(candidates):
    model = MLPClassifier(
        (width,),
        alpha=float(penalty),
        batch_size=200,
        max_iter=MLP_MAX_ITER,
        random_state=int(rng(SEED, f"mlp-{index}").integers(2**31)),
    )
    with warnings.catch_warnings():
        # the recipe fixes the epochs; no tolerance stop
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(images[train], targets[train])
    test_errors.append(1 - model.score(images[test], targets[test]))
    fresh_errors.append(1 - model.score(images[fresh], targets[fresh]))
    candidate_bits.append(
        razor.description_length_bits(recipe(width, penalty), VOCABULARY)
    )
# selected on the test set: adaptive on purpose
chosen = int(np.argmin(test_errors))
# the razor covers every recipe of at most this many bits
bits = max(candidate_bits)
gap = fresh_errors[chosen] - test_errors[chosen]
small_bounds = {
    form: float(
        razor.meta_overfitting_bound(
            bits, len(test), DELTA, test_errors[chosen], form
        )
    )
    for form in razor.FORMS
}
print(
    f"{len(VOCABULARY)} words, {bits} bits; chosen {candidates[chosen]}: "
    f"test {test_errors[chosen]:.3f}, fresh {fresh_errors[chosen]:.3f}; "
    f"bounds {small_bounds}"
)

# %%
fig, ax = book.figure(height=3.2)
bar_names = [
    "test error",
    "fresh error",
    "measured gap",
    *[f"bound ({form})" for form in razor.FORMS],
]
bar_values = [
    test_errors[chosen],
    fresh_errors[chosen],
    gap,
    *small_bounds.values(),
]
plot_bars(
    ax,
    bar_names,
    bar_values,
    ylabel="error / deviation",
    colors=["C0", "C0", "C1", "C2", "C2", "C2"],
)
book.save_figure(
    fig,
    "fig4-small-network",
    data={
        "test_errors": test_errors,
        "fresh_errors": fresh_errors,
        "bits": candidate_bits,
        "chosen": chosen,
        "bounds": list(small_bounds.values()),
    },
    caption=f"A {bits}-bit recipe for a small network on digits, tuned "
    f"on a test set of {len(test)} images: its measured gap between "
    "fresh and test error against the razor's bounds (delta = 0.01).",
    # sklearn's MLP is float64 and single-threaded here: deterministic
    # up to summation order
    rtol=1e-9,
    atol=1e-12,
)

# %%
book.claim(
    "The razor bounds the meta-overfitting of the test-tuned small "
    f"network: its {bits}-bit recipe gives a bound at N = {len(test)} "
    "that exceeds the measured fresh-minus-test gap",
    bool(gap <= min(small_bounds.values())),
    bits=bits,
    gap=gap,
    **small_bounds,
)

# %% tags=["remove-input"]
from IPython.display import Markdown

Markdown(f"This last check is a weak one, and we say so: with only N = {len(test)} test images a {bits}-bit "
         f"recipe buys a bound between {min(small_bounds.values()):.2f} and {max(small_bounds.values()):.2f}, "
         f"while the measured fresh-minus-test gap is {gap:+.3f}. The razor is honest here but loose; it only "
         "becomes sharp when N is large compared with the description length, as for ImageNet in section 1.")

# %% tags=["remove-input"]
book.claims_table()
