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
# large learning rate. The paper trains convolutional networks on CIFAR-10 with SGD; here, to fit a CPU
# budget, the `book` profile trains a bias-free one-hidden-layer tanh network (64-128-10, Xavier init) on
# 500 standardised images of scikit-learn's 8×8 digits for 200 steps at learning rate 1, and measures on
# 500 held-out digits. Taylor models are computed by nesting `torch.func.jvp` along the line from θ₀ to θ.
# (2) The randomized-sign coupling of the post's Figure 2, checked numerically on the post's two-layer
# network. (3) The sample-complexity gap in miniature: a single-direction quadratic target in dimension
# 20, learned by the linearized (NTK) model and by the quadratic model as the number of samples grows.

# %% tags=["parameters"]
PROFILE = "book"
SEED = 0
PERTURBATION = 0  # ensemble member for `make baselines` (0: the published run; see README)

# %% tags=["hide-input"]
import math

import numpy as np
import torch
from offconvex import book
from offconvex.core.random import torch_generator
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
# "practical", large: the regime where the post says linearization fails
LEARNING_RATE = 1.0
SMALL_LEARNING_RATE = 0.1  # the contrast: closer to the lazy regime
STEPS = book.by_profile(PROFILE, smoke=10, book=200, paper=2000)
RECORD_EVERY = book.by_profile(PROFILE, smoke=5, book=20, paper=100)
ORDERS = (1, 2, 3)
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
digits = hn.digits_problem(1797, (64, HIDDEN, 10), "tanh")
x_train, y_train = digits.x[:N_TRAIN], digits.labels[:N_TRAIN]
x_test, y_test = digits.x[-N_TEST:], digits.labels[-N_TEST:]
theta0 = hn.xavier_uniform(digits.widths, torch_generator(SEED, "init"))


def network_on(x):
    return lambda theta: hn.forward(theta, x, digits.widths, "tanh")


def model_on(x, order):
    """The network (order 0 stands for 'no expansion') or its Taylor model
    of this order, on inputs x."""
    if order == 0:
        return network_on(x)
    return taylor.taylor_model(network_on(x), theta0, order)


def taylorized_training(learning_rate):
    """Train the network and its Taylor models alike; return record steps,
    runs and distances to the network."""
    runs = {}
    for order in (0, *ORDERS):
        problem = taylor.CrossEntropyOf(model_on(x_train, order), y_train)
        steps, losses, thetas = hn.train_gd(
            problem, theta0, learning_rate, STEPS, RECORD_EVERY
        )
        test_model = model_on(x_test, order)
        with torch.no_grad():
            logits = torch.stack(
                [test_model(torch.tensor(theta)) for theta in thetas]
            ).numpy()
        runs[order] = dict(
            loss=losses,
            theta=thetas,
            test_logits=logits,
            test_accuracy=(logits.argmax(-1) == y_test.numpy()).mean(-1),
        )
    network = runs[0]
    moved = np.linalg.norm(network["theta"] - network["theta"][0], axis=1)
    logit_size = np.linalg.norm(network["test_logits"], axis=(1, 2))
    metrics = {}
    for order in ORDERS:
        run = runs[order]
        logit_gap = run["test_logits"] - network["test_logits"]
        weight_gap = np.linalg.norm(run["theta"] - network["theta"], axis=1)
        metrics[order] = dict(
            logit_distance=np.linalg.norm(logit_gap, axis=(1, 2))
            / logit_size,
            weight_distance=weight_gap[1:] / moved[1:],
        )
    return steps, runs, metrics


steps, runs, metrics = taylorized_training(LEARNING_RATE)
_, small_lr_runs, small_lr_metrics = taylorized_training(
    SMALL_LEARNING_RATE
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
        f"A 64-{HIDDEN}-10 tanh network and its Taylor models of order 1–3 "
        "around the initialization, trained by full-batch GD (lr "
        f"{LEARNING_RATE}) on {N_TRAIN} digits; distances are to the "
        "network."
    ),
    # float64 torch on one thread is deterministic; nested jvp reorders a
    # few sums
    rtol=1e-6,
    atol=1e-9,
)

# %%
final_logits = {
    k: float(metrics[k]["logit_distance"][-1]) for k in ORDERS
}
final_weights = {
    k: float(metrics[k]["weight_distance"][-1]) for k in ORDERS
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

# %% tags=["remove-input"]
from IPython.display import Markdown

Markdown("Measured after the last step: relative weight distance to the network "
         + ", ".join(f"{final_weights[k]:.3f} (order {k})" for k in ORDERS)
         + "; relative test-logit distance " + ", ".join(f"{final_logits[k]:.3f} (order {k})" for k in ORDERS)
         + "; test accuracy " + ", ".join(f"{float(run['test_accuracy'][-1]):.3f} ({labels[k]})"
                                          for k, run in runs.items()) + ".")

# %% [markdown]
# What we see at this scale. In weight space the picture is the post's: the linearized model ends far from
# the network (its weights differ from the network's by a sizeable fraction of the distance the network
# travelled, numbers above), and each extra order brings the model markedly closer. In function space (test logits) only part of it
# holds: the cubic model is the closest, but the quadratic model's logits are *not* closer to the network's
# than the linear model's, so the ordering claim is recorded as not reproduced. All four models reach
# about the same test accuracy here, so the accuracy gap that the paper reports for
# convolutional networks on CIFAR-10 does not show on 8×8 digits.
#
# The same comparison at a ten times smaller learning rate, for contrast: every Taylor model, the linear
# one included, ends closer to the network, in weights and in test logits (numbers below the figure).

# %%
fig, axes = book.figure(1, 2, height=3.0)
plot_distances(*axes, small_lr_metrics)
fig.legend(
    *axes[0].get_legend_handles_labels(),
    loc="outside upper center",
    ncols=3,
    frameon=False,
)
book.save_figure(
    fig,
    "fig1b-small-learning-rate",
    data={
        "steps": steps,
        **{
            f"order{k}/{name}": value
            for k, m in small_lr_metrics.items()
            for name, value in m.items()
        },
    },
    caption=(
        "As Figure 1 (distance panels) with learning rate "
        f"{SMALL_LEARNING_RATE} instead of {LEARNING_RATE}."
    ),
    rtol=1e-6,
    atol=1e-9,  # as Figure 1
)

# %%
small_final_weights = {
    k: float(small_lr_metrics[k]["weight_distance"][-1]) for k in ORDERS
}
small_final_logits = {
    k: float(small_lr_metrics[k]["logit_distance"][-1]) for k in ORDERS
}
book.claim(
    "The linearized model is a worse stand-in at the large learning rate: "
    f"its final relative weight distance at lr {LEARNING_RATE} exceeds "
    f"the one at lr {SMALL_LEARNING_RATE}",
    final_weights[1] > small_final_weights[1],
    large_lr=final_weights[1],
    small_lr=small_final_weights[1],
)
ordered_small = ordered(small_final_logits)
book.claim(
    f"At lr {SMALL_LEARNING_RATE} too, the final relative test-logit "
    "distance decreases strictly over orders 1, 2, 3 with order 1 more "
    "than 3× order 3",
    ordered_small,
    **{f"order{k}": v for k, v in small_final_logits.items()},
    not_reproduced=None
    if ordered_small
    else "the order-2 logits are not closer than the linear model's",
)

# %% tags=["remove-input"]
Markdown(
    "Measured at lr "
    f"{SMALL_LEARNING_RATE} after the last step: relative weight distance "
    "to the network "
    + ", ".join(f"{small_final_weights[k]:.3f} (order {k})" for k in ORDERS)
    + "; relative test-logit distance "
    + ", ".join(f"{small_final_logits[k]:.3f} (order {k})" for k in ORDERS)
    + "; test accuracy "
    + ", ".join(
        f"{float(run['test_accuracy'][-1]):.3f} ({labels[k]})"
        for k, run in small_lr_runs.items()
    )
    + "."
)

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
ahead = [n for n, q, k in zip(SAMPLE_SIZES, errors["quadratic model f⁽²⁾"], errors["NTK model f⁽¹⁾"], strict=True)
         if q < k]
Markdown(f"Measured (medians): relative test error {TEST_ERROR_TARGET} is first reached at n = {quadratic_needs} "
         f"by the quadratic model and at n = {ntk_needs} by the NTK model; the quadratic model is ahead at "
         f"n = {', '.join(map(str, ahead))}; at the largest n = {SAMPLE_SIZES[-1]} the errors are "
         f"{errors['NTK model f⁽¹⁾'][-1]:.2g} (NTK) and {errors['quadratic model f⁽²⁾'][-1]:.2g} (quadratic).")

# %% [markdown]
# What we see at this scale. The quadratic model reaches the error target with fewer samples than the NTK
# model and stays ahead over most of the grid (numbers above). That is a real but modest gap: the theory's
# separation is a factor of order $d = 20$ in the sample complexity, which a grid this small and a
# dimension this low cannot show. With many samples both models fit the target, and the minimum-norm NTK
# fit ends *better* than the quadratic model, whose small weight decay and finite L-BFGS budget leave it
# a floor.

# %% tags=["remove-input"]
book.claims_table()
