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
# # When are neural networks more powerful than neural tangent kernels?
#
# *Companion to the Off the Convex Path post of 25 March 2021,
# [When are Neural Networks more powerful than Neural Tangent Kernels?](http://www.offconvex.org/2021/03/25/beyondNTK/),
# and to the papers by Bai and Lee, [Beyond Linearization](https://arxiv.org/abs/1910.01619) (ICLR 2020),
# and Bai, Krause, Wang, Xiong and Socher, [Taylorized Training](https://arxiv.org/abs/2002.04010) (2020).*
#
# The neural tangent kernel (NTK) view replaces a wide network by its first-order Taylor expansion in the
# weights around the initialization: a linear model with fixed features. The post makes two points against
# taking that picture literally. Empirically, at practical learning rates a finite network moves far
# enough that the linear model is a poor stand-in, while second- and third-order Taylor models follow the
# network much better. Theoretically, the quadratic term of the expansion can be made to do the learning:
# flipping each neuron's weight movement by an independent random sign averages the linear term away but
# leaves the quadratic term untouched, and the resulting quadratic model learns low-rank polynomials from
# fewer samples than any kernel method.
#
# **What this chapter reproduces, and at what scale.** (1) The post's Figure 1: a network and its
# order-1, 2 and 3 Taylor models, all trained by the same full-batch GD from the same initialization at a
# large learning rate. The paper trains ReLU convolutional networks on CIFAR-10 with SGD; here, to fit a
# CPU budget, the `book` profile trains a bias-free one-hidden-layer network (64-128-10, Xavier init) with
# the swish activation $z\,\mathrm{sigmoid}(z)$, a smooth relative of ReLU that the paper's code also
# offers, on 500 standardised images of scikit-learn's 8×8 digits for 200 steps at learning rate 1, and
# measures on 500 held-out digits. The same network with tanh, an *odd* activation, is the measured
# counter-example: there the second-order model does not beat the linear one, and we show why — and, by
# varying the width, in which regime the ordering holds and in which it fails. For this two-layer network
# the Taylor models have a closed form (the activation's own Taylor series in the pre-activation change,
# times the output layer), so all models of a comparison are trained in one batched GD run; a sanity
# check compares it with the generic expansion by nesting `torch.func.jvp` along the line from θ₀ to θ.
# (2) The randomized-sign coupling of the post's Figure 2, checked numerically on the post's two-layer
# network. (3) The
# sample-complexity gap in miniature: a single-direction quadratic target in dimension 20, learned by the
# linearized (NTK) model and by the quadratic model as the number of samples grows.

# %% tags=["parameters"]
PROFILE = "book"
SEED = 0
PERTURBATION = 0  # ensemble member for `make baselines` (0: the published run; see README)

# %% tags=["hide-input"]
import math

import numpy as np
import torch
from offconvex import book
from offconvex.core.random import nudge, torch_generator
from offconvex.dynamics import homogeneous_networks as hn
from offconvex.dynamics import taylor
from offconvex.dynamics.plots import (
    label_log_axis,
    plot_curves,
    plot_points_by_group,
)

book.start(
    "2021-03-25-beyond-ntk", PROFILE, SEED, perturbation=PERTURBATION
)
N_TRAIN = book.by_profile(PROFILE, smoke=100, book=500, paper=1297)
N_TEST = 500  # the last 500 digits, never trained on
HIDDEN = book.by_profile(PROFILE, smoke=16, book=128, paper=1024)
# a smooth ReLU (the paper's networks use ReLU; its code also has swish)
ACTIVATION = "swish"
# the counter-example: odd, so its quadratic term is weak (see below)
CONTRAST_ACTIVATION = "tanh"
# "practical", large: the regime where the post says linearization fails
LEARNING_RATE = 1.0
SMALL_LEARNING_RATE = 0.1  # the contrast: closer to the lazy regime
STEPS = book.by_profile(PROFILE, smoke=10, book=200, paper=2000)
RECORD_EVERY = book.by_profile(PROFILE, smoke=5, book=20, paper=100)
# the tanh run is recorded at log-spaced steps: its orders 1 and 2 cross
# early
CONTRAST_RECORDS = book.by_profile(PROFILE, smoke=6, book=24, paper=40)
ORDERS = (1, 2, 3)
# hidden widths of the width sweep (tanh; swish up to HIDDEN): the
# per-neuron movement, and with it the Taylor remainder, shrinks with width
SWEEP_WIDTHS = book.by_profile(
    PROFILE,
    smoke=(8, 16, 32),
    book=(32, 64, 128, 512),
    paper=(32, 64, 128, 256, 512, 1024, 2048),
)
STATIC_ORDERS = (1, 2, 3, 4)  # remainders of the expansion at one point
# the accuracy gap the post shows, in test accuracy (2 points)
ACCURACY_GAP = 0.02
COUPLING_NEURON_PAIRS = book.by_profile(
    PROFILE, smoke=32, book=256, paper=4096
)
COUPLING_INPUTS = 100
SIGN_DRAWS = book.by_profile(PROFILE, smoke=20, book=400, paper=10_000)
POLY_DIM = book.by_profile(PROFILE, smoke=6, book=20, paper=40)
POLY_PAIRS = book.by_profile(PROFILE, smoke=10, book=50, paper=400)
SAMPLE_SIZES = book.by_profile(
    PROFILE,
    smoke=(10, 40),
    book=(25, 35, 50, 70, 100, 140, 200, 400),
    paper=(25, 35, 50, 70, 100, 140, 200, 400, 800, 1600, 3200),
)
# fresh training sets (and starts) per n
SAMPLE_SEEDS = book.by_profile(PROFILE, smoke=1, book=3, paper=10)
# relative test error: the model explains at least half of the target's
# variance
TEST_ERROR_TARGET = 0.5

# %% [markdown]
# ## Figure 1 — the network against its Taylor models, trained alike
#
# Write $g(s) = f(\theta_0 + s(\theta - \theta_0); x)$. The order-$k$ Taylor model is
# $f_k(\theta; x) = \sum_{j \le k} g^{(j)}(0)/j!$, a degree-$k$ polynomial in $\theta$ that agrees with the
# network at $\theta_0$; $k = 1$ is the NTK (linearized) model. Each model is trained by full-batch GD on
# cross-entropy with the same step size from $\theta_0$. Along training we record the training loss, test
# accuracy, the distance between test logits $\|F_k - F\| / \|F\|$ and the distance between weights
# $\|\theta_k - \theta\| / \|\theta - \theta_0\|$, where $F$, $\theta$ belong to the network.

# %%
digits = hn.digits_problem(1797, (64, HIDDEN, 10), ACTIVATION)
x_train, y_train = digits.x[:N_TRAIN], digits.labels[:N_TRAIN]
x_test, y_test = digits.x[-N_TEST:], digits.labels[-N_TEST:]


def initialization(hidden):
    """Xavier init of the 64-hidden-10 network: one per width, shared by
    every activation and every model trained at that width."""
    widths = (64, hidden, 10)
    return hn.xavier_uniform(widths, torch_generator(SEED, "init"))


theta0 = initialization(HIDDEN)
# GD runs in float32 (half the time); in exploratory runs the distances
# agreed with float64 GD to four digits
TRAIN_DTYPE = torch.float32


def network_on(x, activation):
    return lambda theta: hn.forward(theta, x, digits.widths, activation)


record_steps = np.unique(np.r_[0 : STEPS + 1 : RECORD_EVERY, STEPS])


def taylorized_training(
    activation, hidden=HIDDEN, record_at=record_steps, small_lr=False
):
    """Train the network and its Taylor models alike (one batched GD run,
    each model from the same start); return record steps, runs and
    distances to the network. With small_lr, the network and the linear
    model are also trained at SMALL_LEARNING_RATE."""
    # an ensemble member's float64 nudge vanishes in the cast: nudge again
    start = nudge(initialization(hidden).to(TRAIN_DTYPE))
    sigma = hn.ACTIVATIONS[activation]
    families = [
        taylor.two_layer_taylor(
            start, x.to(TRAIN_DTYPE), (64, hidden, 10), sigma, max(ORDERS)
        )
        for x in (x_train, x_test)
    ]
    # None: the network itself
    models = [(order, LEARNING_RATE) for order in (None, *ORDERS)]
    if small_lr:
        models += [(None, SMALL_LEARNING_RATE), (1, SMALL_LEARNING_RATE)]
    orders = [order for order, _ in models]
    steps, losses, thetas = taylor.train_alike(
        lambda thetas: families[0].logits(thetas, orders),
        y_train,
        start,
        [rate for _, rate in models],
        STEPS,
        record_at,
    )
    with torch.no_grad():
        # shape (models, records, test points, classes)
        logits = np.stack(
            [families[1].logits(torch.tensor(t), orders) for t in thetas],
            axis=1,
        ).astype(np.float64)
    thetas = thetas.astype(
        np.float64
    )  # distances and remainders in float64
    runs = [
        dict(
            loss=losses[:, i],
            theta=thetas[:, i],
            test_logits=logits[i],
            test_accuracy=(logits[i].argmax(-1) == y_test.numpy()).mean(-1),
        )
        for i in range(len(models))
    ]
    large = {k: run for k, run in zip((0, *ORDERS), runs, strict=False)}
    movement = preactivation_movement(families[1], thetas[-1, 0])
    small = (
        distances({0: runs[-2], 1: runs[-1]}, (1,)) if small_lr else None
    )
    return steps, large, distances(large, ORDERS), movement, small


def preactivation_movement(test_family, theta):
    """Root-mean-square change of the hidden pre-activations on the test
    digits, network at theta against the start: how far along the
    activation the expansion has to reach."""
    theta = torch.tensor(theta, dtype=test_family.x.dtype)
    first_layer_move, _ = test_family.split(theta[None])
    return float(
        (test_family.x @ first_layer_move[0].T).pow(2).mean().sqrt()
    )


def distances(runs, orders):
    """Relative test-logit distance, relative weight distance and relative
    logit size of each Taylor model to the network runs[0], per record."""
    network = runs[0]
    moved = np.linalg.norm(network["theta"] - network["theta"][0], axis=1)
    logit_size = np.linalg.norm(network["test_logits"], axis=(1, 2))
    metrics = {}
    for order in orders:
        run = runs[order]
        logit_gap = run["test_logits"] - network["test_logits"]
        weight_gap = np.linalg.norm(run["theta"] - network["theta"], axis=1)
        metrics[order] = dict(
            logit_distance=np.linalg.norm(logit_gap, axis=(1, 2))
            / logit_size,
            weight_distance=weight_gap[1:] / moved[1:],
            logit_scale=np.linalg.norm(run["test_logits"], axis=(1, 2))
            / logit_size,
        )
    return metrics


steps, runs, metrics, movement_main, small_lr_metrics = taylorized_training(
    ACTIVATION, small_lr=True
)

# %%
labels = {0: "network", 1: "order 1 (NTK)", 2: "order 2", 3: "order 3"}
# one colour per model in every panel and figure
styles = {label: {"color": f"C{k}"} for k, label in labels.items()}


def plot_distances(logit_ax, weight_ax, distances):
    """Distance of each Taylor model to the network, in test logits and in
    weights, over GD steps (from the first record after the start, where
    both are 0: a log axis cannot show 0)."""
    plot_curves(
        logit_ax,
        steps[1:],
        {labels[k]: distances[k]["logit_distance"][1:] for k in ORDERS},
        "GD step",
        r"$\|F_k - F\| \,/\, \|F\|$ (test logits)",
        log_y=True,
        styles=styles,
        legend=False,
    )
    plot_curves(
        weight_ax,
        steps[1:],
        {labels[k]: distances[k]["weight_distance"] for k in ORDERS},
        "GD step",
        r"$\|\theta_k - \theta\| \,/\, \|\theta - \theta_0\|$",
        log_y=True,
        styles=styles,
        legend=False,
    )
    for ax in (logit_ax, weight_ax):
        label_log_axis(ax.yaxis)


# Four panels in a 2×2 grid, one legend for all of them at the top.
fig, axes = book.figure(2, 2, height=5.4)
plot_curves(
    axes[0, 0],
    steps,
    {labels[k]: run["loss"] for k, run in runs.items()},
    "GD step",
    "training loss",
    log_y=True,
    styles=styles,
    legend=False,
)
plot_curves(
    axes[0, 1],
    steps,
    {labels[k]: run["test_accuracy"] for k, run in runs.items()},
    "GD step",
    "test accuracy",
    styles=styles,
    legend=False,
)
plot_distances(axes[1, 0], axes[1, 1], metrics)
fig.legend(
    *axes[0, 0].get_legend_handles_labels(),
    loc="outside upper center",
    ncols=4,
    frameon=False,
)
book.save_figure(
    fig,
    "fig1-taylorized-training",
    data={
        "steps": steps,
        **{
            f"order{k}/{name}": run[name]
            for k, run in runs.items()
            for name in ("loss", "test_accuracy")
        },
        **{
            f"order{k}/{name}": value
            for k, m in metrics.items()
            for name, value in m.items()
        },
    },
    caption=(
        f"A 64-{HIDDEN}-10 swish network and its Taylor models of order "
        "1–3 around the initialization, trained by full-batch GD (lr "
        f"{LEARNING_RATE}) on {N_TRAIN} digits; distances are to the "
        "network."
    ),
    # float32 GD on one thread is deterministic here; other kernels drift
    # at float32's level over 200 steps
    rtol=1e-4,
    atol=1e-6,
)

# %%
final_logits = {k: float(metrics[k]["logit_distance"][-1]) for k in ORDERS}
final_weights = {
    k: float(metrics[k]["weight_distance"][-1]) for k in ORDERS
}
final_accuracy = {
    k: float(run["test_accuracy"][-1]) for k, run in runs.items()
}


def ordered(final):
    """Strictly closer to the network with each order, and order 1 more
    than 3× farther than order 3."""
    return final[1] > final[2] > final[3] and final[1] > 3 * final[3]


book.claim(
    "In function space the Taylor models approach the network as the "
    "order grows (final relative test-logit distance strictly decreasing "
    "over orders 1, 2, 3, and order 1 more than 3× order 3)",
    ordered(final_logits),
    **{f"order{k}": v for k, v in final_logits.items()},
    not_reproduced=None
    if ordered(final_logits)
    else "at this scale the order-2 model's logits are not closer than "
    "the linear model's",
)
book.claim(
    "In weight space the Taylor models approach the network as the order "
    "grows (final relative weight distance strictly decreasing over "
    "orders 1, 2, 3, and order 1 more than 3× order 3)",
    ordered(final_weights),
    **{f"order{k}": v for k, v in final_weights.items()},
)
accuracy_gap = final_accuracy[0] - final_accuracy[1]
book.claim(
    "The linearized model generalizes worse than the network it "
    "approximates: its final test accuracy is at least "
    f"{100 * ACCURACY_GAP:.0f} points below the network's",
    accuracy_gap >= ACCURACY_GAP,
    **{f"accuracy_order{k}": v for k, v in final_accuracy.items()},
    not_reproduced=None
    if accuracy_gap >= ACCURACY_GAP
    else "on 8×8 digits the linearized model is as accurate as the "
    "network: the task does not need the features it cannot learn",
)
# the batched closed-form models against the generic nested-jvp expansion
# of the network, at the network's trained weights: an identity
closed_form = taylor.two_layer_taylor(
    theta0, x_test, digits.widths, hn.ACTIVATIONS[ACTIVATION], max(ORDERS)
)
trained_theta = torch.tensor(runs[0]["theta"][-1])
with torch.no_grad():
    closed_form_gap = max(
        float(
            (
                closed_form.logits(trained_theta[None], [k])[0]
                - taylor.taylor_model(
                    network_on(x_test, ACTIVATION), theta0, k
                )(trained_theta)
            )
            .abs()
            .max()
        )
        for k in ORDERS
    )
book.sanity_check(
    "The closed-form Taylor models used for training equal the nested-jvp "
    "expansion of the network (orders 1-3, max logit difference < 1e-9)",
    closed_form_gap < 1e-9,
    max_difference=closed_form_gap,
)
book.claim(
    "The linearized model is a worse stand-in at the large learning rate: "
    f"after {STEPS} steps its relative weight distance at lr "
    f"{LEARNING_RATE} exceeds the one at lr {SMALL_LEARNING_RATE}",
    final_weights[1] > float(small_lr_metrics[1]["weight_distance"][-1]),
    large_lr=final_weights[1],
    small_lr=float(small_lr_metrics[1]["weight_distance"][-1]),
)

# %% tags=["remove-input"]
from IPython.display import Markdown


def listed(values, unit="order {}"):
    return ", ".join(
        f"{value:.3f} ({unit.format(k)})" for k, value in values.items()
    )


Markdown(
    "Measured after the last step: relative test-logit distance to the "
    f"network {listed(final_logits)}; relative weight distance "
    f"{listed(final_weights)}; norm of the test logits relative to the "
    "network's "
    + listed({k: float(m["logit_scale"][-1]) for k, m in metrics.items()})
    + "; test accuracy "
    + ", ".join(
        f"{value:.3f} ({labels[k]})" for k, value in final_accuracy.items()
    )
    + f". The linear model at lr {SMALL_LEARNING_RATE}: relative weight "
    f"distance {float(small_lr_metrics[1]['weight_distance'][-1]):.3f}, "
    "relative test-logit distance "
    f"{float(small_lr_metrics[1]['logit_distance'][-1]):.3f}."
)

# %% [markdown]
# What we see at this scale. The post's ordering holds for the swish network, in function space as well
# as in weight space: the linear model ends far from the network, the quadratic model several times
# closer, the cubic one closer still (numbers above). The linear model undershoots the size of the
# network's logits, the quadratic and cubic ones match it closely, and the linear model also trains more
# slowly: its training loss stays several times above the others'. At the ten times smaller learning rate
# the linear model, after the same number of steps, has moved less and stays closer to the network in
# weights. What does *not* show is the accuracy gap the paper reports for convolutional networks on
# CIFAR-10: all four models end near the same test accuracy, the linear one included. Classifying 8×8
# digits is easy for a model with fixed random features, so learning better features, which is where the
# network and its higher-order models gain, buys no accuracy here.
#
# ## Where the ordering breaks: an odd activation
#
# The ordering is not a law of Taylor series. We train the same network, from the same weights, with
# tanh in place of swish, and record at log-spaced steps. The reason to expect trouble is the shape of the
# activation: tanh is odd, $\tanh(z_0 + \delta) = \tanh z_0 + \delta\,\tanh' z_0 - \delta^2 \tanh z_0
# \,\tanh' z_0 + O(\delta^3)$, and with bias-free weights and centred inputs the pre-activations $z_0$
# scatter around 0, where the $\delta^2$ coefficient changes sign and averages out across neurons. The
# nonlinearity that matters, saturation ($\tanh z \approx z - z^3/3$), first enters at order 3. The
# order-2 model therefore gains the product of the two layers' movements — which lets its logits grow
# faster — without the saturation that holds the network back. Swish, in contrast, has a genuine quadratic
# term ($\sigma''(0) = 1/2$), as does ReLU at its kink. To see this without any training dynamics, the
# right panel takes the network's own trained weights $\theta_T$ and measures the remainder of the
# expansion at that one point, $\|f_k(\theta_T) - f(\theta_T)\| / \|f(\theta_T)\|$, for $k = 1 \dots 4$.

# %%
# step 0, then log-spaced from step 2 to the last
contrast_record_at = np.unique(
    np.r_[0, np.geomspace(2, STEPS, CONTRAST_RECORDS).round()].astype(int)
)
(
    contrast_steps,
    contrast_runs,
    contrast_metrics,
    contrast_movement,
    _,
) = taylorized_training(CONTRAST_ACTIVATION, record_at=contrast_record_at)
trained = {
    ACTIVATION: torch.tensor(runs[0]["theta"][-1]),
    CONTRAST_ACTIVATION: torch.tensor(contrast_runs[0]["theta"][-1]),
}
# the static remainder of the expansion at the network's final weights
remainders = {
    activation: taylor.truncation_errors(
        network_on(x_test, activation), theta0, theta, STATIC_ORDERS[-1]
    )
    for activation, theta in trained.items()
}
first_layer_size = math.prod(hn.layer_shapes(digits.widths)[0])


def first_layer_terms(activation, theta):
    """Sizes of the 2nd and 3rd Taylor terms when only the first layer
    moves (to its trained value), relative to the trained network's test
    logits: the activation's own curvature, without the products of the
    two layers' movements."""
    first_layer_only = theta0.clone()
    first_layer_only[:first_layer_size] = theta[:first_layer_size]
    apply = network_on(x_test, activation)
    with torch.no_grad():
        terms = taylor.taylor_terms(apply, theta0, first_layer_only, 3)
        size = apply(theta).norm()
    return {j: float(terms[j].norm() / size) for j in (2, 3)}


curvature_terms = {
    activation: first_layer_terms(activation, theta)
    for activation, theta in trained.items()
}

# %%
fig, (distance_ax, remainder_ax) = book.figure(1, 2, height=3.2)
plot_curves(
    distance_ax,
    contrast_steps[1:],
    {labels[k]: contrast_metrics[k]["logit_distance"][1:] for k in ORDERS},
    f"GD step ({CONTRAST_ACTIVATION} network)",
    r"$\|F_k - F\| \,/\, \|F\|$ (test logits)",
    log_y=True,
    styles=styles,
    legend=False,
)
distance_ax.set_xscale("log")
label_log_axis(distance_ax.xaxis)
distance_ax.legend(
    loc="upper center", bbox_to_anchor=(0.5, -0.22), ncols=3, frameon=False
)
plot_curves(
    remainder_ax,
    np.array(STATIC_ORDERS),
    remainders,
    "Taylor order k",
    r"$\|f_k(\theta_T) - f(\theta_T)\| \,/\, \|f(\theta_T)\|$",
    log_y=True,
    styles={
        ACTIVATION: {"color": "k", "marker": "o"},
        CONTRAST_ACTIVATION: {"color": "0.5", "marker": "s", "ls": "--"},
    },
    legend=False,
)
remainder_ax.set_xticks(STATIC_ORDERS)
remainder_ax.legend(
    loc="upper center", bbox_to_anchor=(0.5, -0.22), ncols=2, frameon=False
)
for ax in (distance_ax, remainder_ax):
    label_log_axis(ax.yaxis)
book.save_figure(
    fig,
    "fig1b-odd-activation",
    data={
        "steps": contrast_steps,
        **{
            f"order{k}/{name}": value
            for k, m in contrast_metrics.items()
            for name, value in m.items()
        },
        "orders": np.array(STATIC_ORDERS),
        **{f"remainder/{a}": value for a, value in remainders.items()},
    },
    caption=(
        "Left: as Figure 1 (test logits) with tanh instead of swish, "
        f"recorded at {len(contrast_steps) - 1} log-spaced steps. Right: "
        "remainder of the Taylor "
        "expansion at the trained network's own weights, per order, for "
        "both activations."
    ),
    rtol=1e-4,
    atol=1e-6,  # as Figure 1
)

# %%
contrast_first = {
    k: float(contrast_metrics[k]["logit_distance"][1]) for k in ORDERS
}
contrast_final = {
    k: float(contrast_metrics[k]["logit_distance"][-1]) for k in ORDERS
}
first_record = int(contrast_steps[1])
book.claim(
    f"With {CONTRAST_ACTIVATION}, the quadratic model beats the linear one "
    f"only early: at step {first_record} its test logits are closer to "
    f"the network's than the linear model's, at step {STEPS} farther",
    contrast_first[2] < contrast_first[1]
    and contrast_final[2] > contrast_final[1],
    **{f"first_order{k}": v for k, v in contrast_first.items()},
    **{f"final_order{k}": v for k, v in contrast_final.items()},
)
cubic_closest = bool(
    np.all(
        contrast_metrics[3]["logit_distance"][1:]
        < np.minimum(
            contrast_metrics[1]["logit_distance"][1:],
            contrast_metrics[2]["logit_distance"][1:],
        )
    )
)
book.claim(
    f"With {CONTRAST_ACTIVATION}, the cubic model is the closest of the "
    "three to the network in test logits at every recorded step",
    cubic_closest,
    **{f"final_order{k}": v for k, v in contrast_final.items()},
)
book.claim(
    "The activation decides which order carries its curvature: moving "
    "only the first layer to its trained weights, the expansion's cubic "
    f"term is larger than its quadratic term for {CONTRAST_ACTIVATION} "
    f"and smaller for {ACTIVATION}",
    curvature_terms[CONTRAST_ACTIVATION][3]
    > curvature_terms[CONTRAST_ACTIVATION][2]
    and curvature_terms[ACTIVATION][3] < curvature_terms[ACTIVATION][2],
    **{
        f"{activation}_term{j}": value
        for activation, terms in curvature_terms.items()
        for j, value in terms.items()
    },
)

# %% tags=["remove-input"]
crossing = next(
    (
        int(s)
        for s, one, two in zip(
            contrast_steps[1:],
            contrast_metrics[1]["logit_distance"][1:],
            contrast_metrics[2]["logit_distance"][1:],
            strict=True,
        )
        if two > one
    ),
    None,
)
Markdown(
    f"Measured with {CONTRAST_ACTIVATION}: the order-2 model's test logits "
    "are first farther from the network's than the linear model's at step "
    f"{crossing}; after step {STEPS} the relative test-logit distance is "
    f"{listed(contrast_final)} and the norm of the test logits relative "
    "to the network's "
    + listed(
        {
            k: float(m["logit_scale"][-1])
            for k, m in contrast_metrics.items()
        }
    )
    + "; test accuracy "
    + ", ".join(
        f"{float(run['test_accuracy'][-1]):.3f} ({labels[k]})"
        for k, run in contrast_runs.items()
    )
    + ". Remainder of the expansion at the trained weights, orders "
    f"{STATIC_ORDERS[0]}–{STATIC_ORDERS[-1]}: "
    + "; ".join(
        f"{a} " + ", ".join(f"{v:.3f}" for v in values)
        for a, values in remainders.items()
    )
    + ". First layer alone, quadratic and cubic terms: "
    + "; ".join(
        f"{a} {t[2]:.3f} and {t[3]:.3f}" for a, t in curvature_terms.items()
    )
    + "."
)

# %% [markdown]
# What we see. With tanh the quadratic model is the better stand-in only for the first few steps; after
# that its logits grow past the network's while the linear model's lag behind, and the quadratic model
# ends farther from the network than the linear one. The cubic model, which has the saturation, stays
# the closest throughout. The static remainders tell the same story without training: for swish each
# order removes a large part of what is left, for tanh the step from order 1 to order 2 gains little,
# most of the gain comes at order 3, and order 4 does not improve on order 3 at these weights; moving only
# the first layer, tanh's cubic term outweighs its
# quadratic one while swish's is the other way round. So the post's picture — each extra order a better
# approximation — describes networks whose activation has a real second derivative where the
# pre-activations live, such as the ReLU networks of the paper; for an odd activation at centred
# pre-activations the approximation improves in pairs of orders. With either activation, every Taylor
# model ends within about one point of the network's test accuracy on this task.

# %% [markdown]
# ## Where the ordering holds: width and training time
#
# Why does the tanh network at width 128 break the ordering while the swish one keeps it? The Taylor
# series of the activation around a neuron's starting pre-activation $z_0$ is only useful while the
# pre-activation's change $u = \Delta W_1 x$ stays well inside its radius of convergence (for tanh,
# $|u| < \sqrt{z_0^2 + \pi^2/4}$, set by its poles at $\pm i\pi/2$). Under the standard (Xavier)
# parameterization each neuron moves less when there are more of them, so width is the knob. We repeat
# the run, same learning rate and number of steps, at several widths, and also record the root-mean-square
# of $u$ over test digits and neurons at the end of the network's training.


# %%
def final_state(activation, hidden):
    """Final logit distances of orders 1-3, test accuracies of all four
    models and the network's pre-activation movement at this width (the
    runs above are reused at HIDDEN)."""
    if hidden == HIDDEN:
        done = {ACTIVATION: (runs, metrics, movement_main)}.get(
            activation,
            (contrast_runs, contrast_metrics, contrast_movement),
        )
    else:
        _, *done, _ = taylorized_training(
            activation, hidden, record_at=(0, STEPS)
        )
    sweep_runs, sweep_metrics, movement = done
    return dict(
        logit_distance=[
            float(sweep_metrics[k]["logit_distance"][-1]) for k in ORDERS
        ],
        accuracy=[
            float(r["test_accuracy"][-1]) for r in sweep_runs.values()
        ],
        movement=movement,
    )


sweep = {
    CONTRAST_ACTIVATION: {
        h: final_state(CONTRAST_ACTIVATION, h) for h in SWEEP_WIDTHS
    },
    ACTIVATION: {
        h: final_state(ACTIVATION, h) for h in SWEEP_WIDTHS if h <= HIDDEN
    },
}

# %%
tanh_states = sweep[CONTRAST_ACTIVATION]  # the widest list of widths
fig, sweep_axes = book.figure(1, 3, height=2.9)
for ax, activation in zip(sweep_axes, sweep, strict=False):
    widths = np.array(list(sweep[activation]))
    plot_curves(
        ax,
        widths,
        {
            labels[k]: [
                state["logit_distance"][k - 1]
                for state in sweep[activation].values()
            ]
            for k in ORDERS
        },
        f"hidden width ({activation})",
        r"$\|F_k - F\| \,/\, \|F\|$ after " + f"{STEPS} steps",
        log_y=True,
        styles={
            labels[k]: {**styles[labels[k]], "marker": "o"} for k in ORDERS
        },
        legend=False,
    )
movement_curves = {
    activation: [state["movement"] for state in states.values()]
    for activation, states in sweep.items()
}
plot_curves(
    sweep_axes[2],
    {a: np.array(list(states)) for a, states in sweep.items()},
    movement_curves,
    "hidden width",
    "rms pre-activation change $u$",
    log_y=True,
    styles={
        ACTIVATION: {"color": "k", "marker": "o"},
        CONTRAST_ACTIVATION: {"color": "0.5", "marker": "s", "ls": "--"},
    },
    legend=False,
)
sweep_axes[2].legend(loc="upper right", frameon=False)
for ax, states in zip(
    sweep_axes, (*sweep.values(), tanh_states), strict=True
):
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(states))
    ax.xaxis.set_major_formatter("{x:g}")
    label_log_axis(ax.yaxis)
fig.legend(
    *sweep_axes[0].get_legend_handles_labels(),
    loc="outside upper center",
    ncols=3,
    frameon=False,
)
book.save_figure(
    fig,
    "fig1c-width",
    data={
        f"{activation}/{name}": np.array(
            [state[name] for state in states.values()]
        )
        for activation, states in sweep.items()
        for name in ("logit_distance", "accuracy", "movement")
    }
    | {f"{a}/widths": np.array(list(st)) for a, st in sweep.items()},
    caption=(
        "Final relative test-logit distance of the Taylor models after "
        f"{STEPS} GD steps at lr {LEARNING_RATE}, against hidden width, "
        f"for {CONTRAST_ACTIVATION} (left) and {ACTIVATION} (middle); "
        "right: the network's rms change of its hidden pre-activations."
    ),
    rtol=1e-4,
    atol=1e-6,  # as Figure 1
)

# %%
tanh_sweep = sweep[CONTRAST_ACTIVATION]
widest, narrow = max(tanh_sweep), sorted(tanh_sweep)[:2]
book.claim(
    f"With {CONTRAST_ACTIVATION}, width restores the ordering: at hidden "
    f"width {widest} the final test-logit distance strictly decreases "
    "over orders 1, 2, 3 and order 1 is more than 3× order 3",
    ordered(
        dict(zip(ORDERS, tanh_sweep[widest]["logit_distance"], strict=True))
    ),
    **{
        f"width{widest}_order{k}": v
        for k, v in zip(
            ORDERS, tanh_sweep[widest]["logit_distance"], strict=True
        )
    },
)
book.claim(
    f"With {CONTRAST_ACTIVATION} at the narrow widths "
    f"{' and '.join(map(str, narrow))}, the order-2 model ends farther "
    "from the network than the linear one",
    all(
        tanh_sweep[h]["logit_distance"][1]
        > tanh_sweep[h]["logit_distance"][0]
        for h in narrow
    ),
    **{
        f"width{h}_order{k}": tanh_sweep[h]["logit_distance"][k - 1]
        for h in narrow
        for k in (1, 2)
    },
)
book.claim(
    "The network's rms pre-activation change shrinks as the width grows "
    "(strictly decreasing over the sweep, both activations)",
    all(np.all(np.diff(curve) < 0) for curve in movement_curves.values()),
    **{
        f"{a}_width{h}": state["movement"]
        for a, states in sweep.items()
        for h, state in states.items()
    },
)

# %% tags=["remove-input"]
accuracy_gaps = [
    state["accuracy"][0] - state["accuracy"][1]
    for states in sweep.values()
    for state in states.values()
]
Markdown(
    "Measured after the last step, relative test-logit distance of orders "
    "1, 2, 3: "
    + "; ".join(
        f"{a} width {h}: "
        + ", ".join(f"{v:.3f}" for v in state["logit_distance"])
        + f" (rms u {state['movement']:.2f})"
        for a, states in sweep.items()
        for h, state in states.items()
    )
    + ". Largest test-accuracy lead of the network over the linear model "
    f"anywhere in the sweep: {100 * max(accuracy_gaps):.1f} points."
)

# %% [markdown]
# What we see. Width decides the regime. At the narrow widths the network's hidden pre-activations move by
# about one unit or more — the same scale as their starting values and as tanh's radius of convergence —
# and no short truncation of the series follows it: with tanh at width 32 even the cubic model ends
# farther from the network than the linear one, at width 64 the quadratic one does, and with swish at
# width 32 the cubic model gains little or nothing over the quadratic one.
# As the width grows the movement shrinks roughly like one over the square root of the width, and the
# ordering of the post appears for both activations; for tanh it needs the widest network, where order 1
# ends more than three times farther from the network than order 3 and the quadratic model is clearly
# better than the linear one. Training time plays the same role at a fixed width (the left panel of the
# previous figure): the ordering holds while the movement is small and fails once it has grown. The
# step size is not the cause as long as GD is stable: in exploratory runs outside this notebook, ten
# times smaller steps for ten times longer gave nearly the same distances, and the picture changed only
# at a step size (lr 4) where the quadratic and cubic polynomials diverge. The accuracy gap does not appear anywhere in this sweep (number above):
# on digits all models, the linear one included, end within a couple of points of the network.

# %% [markdown]
# ## Figure 2 — random signs kill the linear term and keep the quadratic one
#
# For the post's two-layer network $f_{W_0 + W}(x) = m^{-1/2}\sum_r a_r\,\sigma((w_{0,r} + w_r)^\top x)$
# with $\sigma = \tanh$, symmetric initialization (neurons in pairs with equal $w_{0,r}$ and opposite
# $a_r$, so $f^{(0)} = 0$) and a random movement $W$, the $j$-th Taylor term is
# $f^{(j)} = m^{-1/2}\sum_r a_r\,\sigma^{(j)}(w_{0,r}^\top x)(w_r^\top x)^j / j!$. Replacing $w_r$ by
# $s_r w_r$ with random signs multiplies each summand of $f^{(1)}$ by $s_r$ (mean zero) and each summand of
# $f^{(2)}$ by $s_r^2 = 1$. We draw many sign vectors, evaluate both terms on 100 inputs, and check the
# closed-form terms against the nested-jvp expansion.

# %%
coupling_dim = 20
w0, a = taylor.symmetric_init(
    COUPLING_NEURON_PAIRS,
    coupling_dim,
    torch_generator(SEED, "coupling-init"),
)
movement = torch.randn(
    w0.shape,
    generator=torch_generator(SEED, "coupling-movement"),
    dtype=torch.float64,
)
# each w_r of norm ≈ 1, a movement as large as w_{0,r}
movement = movement / math.sqrt(coupling_dim)
inputs = taylor.sphere_samples(
    COUPLING_INPUTS, coupling_dim, torch_generator(SEED, "coupling-inputs")
)


def tanh_first(z):
    return 1 - torch.tanh(z) ** 2


def tanh_second(z):
    return -2 * torch.tanh(z) * (1 - torch.tanh(z) ** 2)


def term(movement, sigma_derivative, order):
    return taylor.two_layer_term(
        w0, a, movement, inputs, sigma_derivative, order
    )


signs = torch_generator(SEED, "signs")
first, second = [], []
for _ in range(SIGN_DRAWS):
    signed = taylor.random_signs(w0.shape[0], signs)[:, None] * movement
    first.append(term(signed, tanh_first, 1))
    second.append(term(signed, tanh_second, 2))
# shapes (draws, inputs)
first, second = torch.stack(first).numpy(), torch.stack(second).numpy()
unsigned_first = term(movement, tanh_first, 1).numpy()
unsigned_second = term(movement, tanh_second, 2).numpy()
draws = np.arange(1, SIGN_DRAWS + 1)
running_mean = np.cumsum(first, axis=0) / draws[:, None]
running_mean_rms = np.sqrt(running_mean**2).mean(axis=1)


def apply_flat(flat):
    return taylor.two_layer(
        w0, a, flat.reshape(w0.shape) - w0, inputs, torch.tanh
    )


jvp_terms = taylor.taylor_terms(
    apply_flat, w0.reshape(-1), (w0 + movement).reshape(-1), 2
)
jvp_gap = max(
    float(np.abs(jvp_terms[1].numpy() - unsigned_first).max()),
    float(np.abs(jvp_terms[2].numpy() - unsigned_second).max()),
)

# %%
fig, (size_ax, scatter_ax) = book.figure(1, 2, height=3.7)
rms_unsigned = float(np.sqrt(np.mean(unsigned_first**2)))
size_curves = {
    "|mean over n draws of f⁽¹⁾(SW)|": running_mean_rms,
    "|f⁽¹⁾(W)|, no signs": np.full(
        len(draws), np.abs(unsigned_first).mean()
    ),
    "1/√n reference": rms_unsigned / np.sqrt(draws),
}
plot_curves(
    size_ax,
    draws,
    size_curves,
    "number of sign draws n",
    "linear term (avg over inputs)",
    log_y=True,
    styles={"1/√n reference": {"ls": ":", "color": "0.4"}},
    legend=False,
)
size_ax.set_xscale("log")
label_log_axis(size_ax.yaxis)
scatter = (
    ("linear term f⁽¹⁾", (unsigned_first, first), "."),
    ("quadratic term f⁽²⁾", (unsigned_second, second), "x"),
)
for label, (unsigned, signed), marker in scatter:
    shown = signed[:20]
    scatter_ax.plot(
        np.broadcast_to(unsigned, shown.shape).ravel(),
        shown.ravel(),
        marker,
        ms=3,
        alpha=0.5,
        label=label,
    )
scatter_ax.set_xlabel("term at W (no signs)")
scatter_ax.set_ylabel("term at SW (20 sign draws)")
# Legends under their panels, off the data.
for ax in (size_ax, scatter_ax):
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False)
book.save_figure(
    fig,
    "fig2-sign-coupling",
    data={
        "draws": draws,
        "running_mean_rms": running_mean_rms,
        "unsigned_first": unsigned_first,
        "unsigned_second": unsigned_second,
        "first_20_draws": first[:20],
        "second_20_draws": second[:20],
    },
    caption=(
        f"Two-layer tanh network, m = {w0.shape[0]}, d = {coupling_dim}: "
        "the mean of the linear term over random signs shrinks like 1/√n "
        "(left); the quadratic term is the same for every sign draw "
        "(right)."
    ),
    rtol=1e-9,
    atol=1e-12,  # closed-form float64 arithmetic
)

# %%
standard_error = first.std(axis=0, ddof=1) / math.sqrt(SIGN_DRAWS)
z_scores = first.mean(axis=0) / standard_error
slope = float(
    np.polyfit(np.log(draws[9:]), np.log(running_mean_rms[9:]), 1)[0]
)
quadratic_change = float(np.abs(second - unsigned_second).max())
# An identity (two ways of computing the same terms): a sanity check.
book.sanity_check(
    "The nested-jvp Taylor terms equal the post's closed-form f⁽¹⁾, f⁽²⁾ "
    "(max difference < 1e-10)",
    jvp_gap < 1e-10,
    max_difference=jvp_gap,
)
book.claim(
    "Sign randomization kills the linear term in expectation: on every "
    "input the mean of f⁽¹⁾(SW) over the draws is within 4.5 standard "
    "errors of 0",
    float(np.abs(z_scores).max()) < 4.5,
    max_abs_z=float(np.abs(z_scores).max()),
    draws=SIGN_DRAWS,
)
book.claim(
    "… and the average shrinks like 1/√n (log-log slope of its size "
    "against n in [−0.7, −0.3])",
    -0.7 <= slope <= -0.3,
    slope=slope,
)
# s_r² = 1 for every sign, so this holds exactly by algebra: a sanity
# check of the closed-form terms, not a finding.
book.sanity_check(
    "Sign randomization leaves the quadratic term unchanged "
    "(max |f⁽²⁾(SW) − f⁽²⁾(W)| < 1e-10)",
    quadratic_change < 1e-10,
    max_difference=quadratic_change,
)

# %% [markdown]
# ## Figure 3 — sample complexity: the quadratic model against the NTK
#
# Target: a single direction to degree $p = 2$, $y = (\beta^\top x)^2 - 1$ with $\|\beta\| = 1$ and $x$
# uniform on the sphere of radius $\sqrt d$, $d = 20$. Both learners come from one two-layer network with
# softplus activation and symmetric initialization ($m = 100$ neurons). The **NTK model** is $f^{(1)}$, linear
# in the movement $W$; we fit it by the minimum-norm least-squares solution, which is where GD from $W = 0$
# converges. The **quadratic model** is $f^{(2)}$ alone — what the sign-randomized network computes in
# expectation — fitted by L-BFGS with a small weight decay from a small random start. A kernel method needs
# on the order of $d^p = 400$ samples for a degree-2 target in $d = 20$; the quadratic model's bound scales
# like $d^{p-1}$. We report the relative test error $\mathbb{E}(\hat f - y)^2 / \mathbb{E} y^2$ on 2000
# fresh points, as the median over several independent training sets (and quadratic-model starts) per
# sample size, since a single draw at small $n$ is noisy.

# %%
softplus_first = torch.sigmoid


def softplus_second(z):
    return torch.sigmoid(z) * (1 - torch.sigmoid(z))


poly_w0, poly_a = taylor.symmetric_init(
    POLY_PAIRS, POLY_DIM, torch_generator(SEED, "poly-init")
)
beta = torch.zeros(POLY_DIM, dtype=torch.float64)
beta[0] = 1.0


def target(x):
    return (x @ beta) ** 2 - 1.0


x_fresh = taylor.sphere_samples(
    2000, POLY_DIM, torch_generator(SEED, "poly-test")
)
y_fresh = target(x_fresh)


def relative_error(prediction):
    return float(((prediction - y_fresh) ** 2).mean() / (y_fresh**2).mean())


def ntk_features(x):
    return taylor.linearized_features(poly_w0, poly_a, x, softplus_first)


def test_errors(n, draw):
    """Relative test errors of the NTK model and of the quadratic model
    trained on draw ``draw`` of n samples."""
    stream = f"poly-train-{n}" + (f"-draw{draw}" if draw else "")
    x = taylor.sphere_samples(n, POLY_DIM, torch_generator(SEED, stream))
    weights = taylor.fit_min_norm(ntk_features(x), target(x))
    ntk = relative_error(ntk_features(x_fresh) @ weights)
    start_stream = stream.replace("train", "start")
    start_generator = torch_generator(SEED, start_stream)
    start = 1e-2 * torch.randn(
        poly_w0.shape, generator=start_generator, dtype=torch.float64
    )
    moved_q = taylor.fit_quadratic_term(
        poly_w0,
        poly_a,
        x,
        target(x),
        softplus_second,
        start,
        max_iterations=300,
    )
    quadratic = relative_error(
        taylor.two_layer_term(
            poly_w0, poly_a, moved_q, x_fresh, softplus_second, 2
        )
    )
    return ntk, quadratic


# per_draw[name] has shape (draws, sample sizes); the curves are medians
# over draws
per_draw = np.array(
    [
        [test_errors(n, draw) for n in SAMPLE_SIZES]
        for draw in range(SAMPLE_SEEDS)
    ]
)
per_draw = {
    "NTK model f⁽¹⁾": per_draw[:, :, 0],
    "quadratic model f⁽²⁾": per_draw[:, :, 1],
}
errors = {name: np.median(v, axis=0) for name, v in per_draw.items()}

# %%
fig, ax = book.figure(height=3.4, width=4.8)
plot_points_by_group(
    ax,
    {name: np.array(SAMPLE_SIZES) for name in errors},
    errors,
    "training samples n",
    "relative test error\n(median over draws)",
    log_x=True,
    range_by_group={
        name: (v.min(axis=0), v.max(axis=0)) for name, v in per_draw.items()
    },
)
ax.axhline(TEST_ERROR_TARGET, color="0.5", ls=":", lw=1)
ax.set_yscale("log")
book.save_figure(
    fig,
    "fig3-sample-complexity",
    data={
        "n": np.array(SAMPLE_SIZES),
        **{name: np.array(v) for name, v in errors.items()},
        **{f"{name} per draw": v for name, v in per_draw.items()},
    },
    caption=(
        f"Learning y = (βᵀx)² − 1 in d = {POLY_DIM}: relative test error "
        "of the linearized (NTK) model and of the quadratic Taylor model "
        "against the number of samples; median over "
        f"{SAMPLE_SEEDS} independent training sets, shaded from the best "
        "to the worst. Dotted: 0.5."
    ),
    # L-BFGS stops on a tolerance; float64 and one thread make it
    # repeatable
    rtol=1e-6,
    atol=1e-9,
)


# %%
def samples_to_reach(curve):
    reached = [
        n
        for n, error in zip(SAMPLE_SIZES, curve, strict=True)
        if error <= TEST_ERROR_TARGET
    ]
    return reached[0] if reached else math.inf


needed = {name: samples_to_reach(curve) for name, curve in errors.items()}
quadratic_needs = needed["quadratic model f⁽²⁾"]
ntk_needs = needed["NTK model f⁽¹⁾"]
book.claim(
    "The quadratic model reaches relative test error "
    f"{TEST_ERROR_TARGET} with fewer samples than the NTK model (median "
    f"over {SAMPLE_SEEDS} training sets)",
    quadratic_needs < ntk_needs,
    samples_quadratic=float(quadratic_needs),
    samples_ntk=float(ntk_needs),
    **{
        f"error_{'ntk' if 'NTK' in name else 'quadratic'}": curve
        for name, curve in errors.items()
    },
)

# %% tags=["remove-input"]
ahead = [
    n
    for n, q, k in zip(
        SAMPLE_SIZES,
        errors["quadratic model f⁽²⁾"],
        errors["NTK model f⁽¹⁾"],
        strict=True,
    )
    if q < k
]
Markdown(
    f"Measured (medians): relative test error {TEST_ERROR_TARGET} is first reached at n = {quadratic_needs} "
    f"by the quadratic model and at n = {ntk_needs} by the NTK model; the quadratic model is ahead at "
    f"n = {', '.join(map(str, ahead))}; at the largest n = {SAMPLE_SIZES[-1]} the errors are "
    f"{errors['NTK model f⁽¹⁾'][-1]:.2g} (NTK) and {errors['quadratic model f⁽²⁾'][-1]:.2g} (quadratic)."
)

# %% [markdown]
# What we see at this scale. The quadratic model reaches the error target with fewer samples than the NTK
# model and stays ahead over most of the grid (numbers above). That is a real but modest gap: the theory's
# separation is a factor of order $d = 20$ in the sample complexity, which a grid this small and a
# dimension this low cannot show. Whether the gap grows with $d$ is not measured here: fitting the
# quadratic model at $d = 40$ takes about ten seconds per fit on one core, too much for this book's budget.
# A single exploratory run at $d = 10$, 20 and 40 outside this notebook pointed the way the theory does (the
# ratio of the two sample sizes grew with $d$), but one seed is not a result we claim. With many samples
# both models fit the target, and the minimum-norm NTK
# fit ends *better* than the quadratic model, whose small weight decay and finite L-BFGS budget leave it
# a floor.

# %% tags=["remove-input"]
book.claims_table()
