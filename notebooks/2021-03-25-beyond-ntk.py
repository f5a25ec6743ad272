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

import matplotlib.pyplot as plt
import numpy as np
import torch
from offconvex import book, taylor
from offconvex import homogeneous_networks as hn
from offconvex.plots.dynamics import plot_curves, plot_points_by_group
from offconvex.random import torch_generator

book.start("2021-03-25-beyond-ntk", PROFILE, SEED, perturbation=PERTURBATION)
N_TRAIN = book.by_profile(PROFILE, smoke=100, book=500, paper=1297)
N_TEST = 500  # the last 500 digits, never trained on
HIDDEN = book.by_profile(PROFILE, smoke=16, book=128, paper=1024)
LEARNING_RATE = 1.0  # "practical", large: the regime where the post says linearization fails
SMALL_LEARNING_RATE = 0.1  # the contrast: closer to the lazy regime
STEPS = book.by_profile(PROFILE, smoke=10, book=200, paper=2000)
RECORD_EVERY = book.by_profile(PROFILE, smoke=5, book=20, paper=100)
ORDERS = (1, 2, 3)
COUPLING_NEURON_PAIRS = book.by_profile(PROFILE, smoke=32, book=256, paper=4096)
COUPLING_INPUTS = 100
SIGN_DRAWS = book.by_profile(PROFILE, smoke=20, book=400, paper=10_000)
POLY_DIM = book.by_profile(PROFILE, smoke=6, book=20, paper=40)
POLY_PAIRS = book.by_profile(PROFILE, smoke=10, book=50, paper=400)
SAMPLE_SIZES = book.by_profile(PROFILE, smoke=(10, 40), book=(25, 35, 50, 70, 100, 140, 200, 400),
                               paper=(25, 35, 50, 70, 100, 140, 200, 400, 800, 1600, 3200))
SAMPLE_SEEDS = book.by_profile(PROFILE, smoke=1, book=3, paper=10)  # fresh training sets (and starts) per n
TEST_ERROR_TARGET = 0.5  # relative test error: the model explains at least half of the target's variance

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
    """The network (order 0 stands for 'no expansion') or its Taylor model of this order, on inputs x."""
    return network_on(x) if order == 0 else taylor.taylor_model(network_on(x), theta0, order)


def taylorized_training(learning_rate):
    """Train the network and its Taylor models alike; return record steps, runs and distances to the network."""
    runs = {}
    for order in (0, *ORDERS):
        problem = taylor.CrossEntropyOf(model_on(x_train, order), y_train)
        steps, losses, thetas = hn.train_gd(problem, theta0, learning_rate, STEPS, RECORD_EVERY)
        with torch.no_grad():
            logits = torch.stack([model_on(x_test, order)(torch.tensor(theta)) for theta in thetas]).numpy()
        runs[order] = dict(loss=losses, theta=thetas, test_logits=logits,
                           test_accuracy=(logits.argmax(-1) == y_test.numpy()).mean(-1))
    network = runs[0]
    moved = np.linalg.norm(network["theta"] - network["theta"][0], axis=1)
    metrics = {order: dict(
        logit_distance=np.linalg.norm(runs[order]["test_logits"] - network["test_logits"], axis=(1, 2))
        / np.linalg.norm(network["test_logits"], axis=(1, 2)),
        weight_distance=np.linalg.norm(runs[order]["theta"] - network["theta"], axis=1)[1:] / moved[1:])
        for order in ORDERS}
    return steps, runs, metrics


steps, runs, metrics = taylorized_training(LEARNING_RATE)
_, small_lr_runs, small_lr_metrics = taylorized_training(SMALL_LEARNING_RATE)

# %%
labels = {0: "network", 1: "order 1 (NTK)", 2: "order 2", 3: "order 3"}


def plot_distances(logit_ax, weight_ax, distances):
    """Distance of each Taylor model to the network, in test logits and in weights, over GD steps."""
    plot_curves(logit_ax, steps, {labels[k]: distances[k]["logit_distance"] for k in ORDERS}, "GD step",
                "‖F_k − F‖ / ‖F‖ (test logits)", log_y=True)
    plot_curves(weight_ax, steps[1:], {labels[k]: distances[k]["weight_distance"] for k in ORDERS}, "GD step",
                "‖θ_k − θ‖ / ‖θ − θ₀‖", log_y=True)


fig, axes = plt.subplots(1, 4, figsize=(16, 3.6))
plot_curves(axes[0], steps, {labels[k]: run["loss"] for k, run in runs.items()}, "GD step", "training loss",
            log_y=True)
plot_curves(axes[1], steps, {labels[k]: run["test_accuracy"] for k, run in runs.items()}, "GD step",
            "test accuracy")
plot_distances(axes[2], axes[3], metrics)
fig.tight_layout()
book.save_figure(
    fig, "fig1-taylorized-training",
    data={"steps": steps, **{f"order{k}/{name}": run[name] for k, run in runs.items()
                             for name in ("loss", "test_accuracy")},
          **{f"order{k}/{name}": value for k, m in metrics.items() for name, value in m.items()}},
    caption=f"A 64-{HIDDEN}-10 tanh network and its Taylor models of order 1–3 around the initialization, "
            f"trained by full-batch GD (lr {LEARNING_RATE}) on {N_TRAIN} digits; distances are to the network.",
    rtol=1e-6, atol=1e-9)  # float64 torch on one thread is deterministic; nested jvp reorders a few sums

# %%
final_logits = {k: float(metrics[k]["logit_distance"][-1]) for k in ORDERS}
final_weights = {k: float(metrics[k]["weight_distance"][-1]) for k in ORDERS}
print("final test accuracy:", {labels[k]: round(float(run["test_accuracy"][-1]), 3) for k, run in runs.items()})
book.claim("In function space the Taylor models approach the network as the order grows (final relative "
           "test-logit distance strictly decreasing over orders 1, 2, 3, and order 1 more than 3× order 3)",
           final_logits[1] > final_logits[2] > final_logits[3] and final_logits[1] > 3 * final_logits[3],
           **{f"order{k}": v for k, v in final_logits.items()},
           not_reproduced=None if final_logits[1] > final_logits[2] > final_logits[3]
           and final_logits[1] > 3 * final_logits[3] else
           "at this scale the order-2 model's logits are not closer than the linear model's")
book.claim("In weight space the Taylor models approach the network as the order grows (final relative "
           "weight distance strictly decreasing over orders 1, 2, 3, and order 1 more than 3× order 3)",
           final_weights[1] > final_weights[2] > final_weights[3] and final_weights[1] > 3 * final_weights[3],
           **{f"order{k}": v for k, v in final_weights.items()})

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
# The same comparison at a ten times smaller learning rate, for contrast: the network moves less per unit
# of loss decrease, and all Taylor models, the linear one included, stay closer to it.

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
plot_distances(*axes, small_lr_metrics)
fig.tight_layout()
book.save_figure(
    fig, "fig1b-small-learning-rate",
    data={"steps": steps, **{f"order{k}/{name}": value for k, m in small_lr_metrics.items()
                             for name, value in m.items()}},
    caption=f"As Figure 1 (distance panels) with learning rate {SMALL_LEARNING_RATE} instead of {LEARNING_RATE}.",
    rtol=1e-6, atol=1e-9)  # as Figure 1

# %%
small_final_weights = {k: float(small_lr_metrics[k]["weight_distance"][-1]) for k in ORDERS}
small_final_logits = {k: float(small_lr_metrics[k]["logit_distance"][-1]) for k in ORDERS}
book.claim(f"The linearized model is a worse stand-in at the large learning rate: its final relative weight "
           f"distance at lr {LEARNING_RATE} exceeds the one at lr {SMALL_LEARNING_RATE}",
           final_weights[1] > small_final_weights[1],
           large_lr=final_weights[1], small_lr=small_final_weights[1])
ordered_small = (small_final_logits[1] > small_final_logits[2] > small_final_logits[3]
                 and small_final_logits[1] > 3 * small_final_logits[3])
book.claim(f"At lr {SMALL_LEARNING_RATE} too, the final relative test-logit distance decreases strictly over "
           "orders 1, 2, 3 with order 1 more than 3× order 3", ordered_small,
           **{f"order{k}": v for k, v in small_final_logits.items()},
           not_reproduced=None if ordered_small else "the order-2 logits are not closer than the linear model's")
print("final test accuracy at the small lr:",
      {labels[k]: round(float(run["test_accuracy"][-1]), 3) for k, run in small_lr_runs.items()})

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
w0, a = taylor.symmetric_init(COUPLING_NEURON_PAIRS, coupling_dim, torch_generator(SEED, "coupling-init"))
movement = torch.randn(w0.shape, generator=torch_generator(SEED, "coupling-movement"), dtype=torch.float64)
movement = movement / math.sqrt(coupling_dim)  # each w_r of norm ≈ 1, a movement as large as w_{0,r}
inputs = taylor.sphere_samples(COUPLING_INPUTS, coupling_dim, torch_generator(SEED, "coupling-inputs"))
tanh_first = lambda z: 1 - torch.tanh(z) ** 2  # noqa: E731
tanh_second = lambda z: -2 * torch.tanh(z) * (1 - torch.tanh(z) ** 2)  # noqa: E731
signs = torch_generator(SEED, "signs")
first, second = [], []
for _ in range(SIGN_DRAWS):
    signed = taylor.random_signs(w0.shape[0], signs)[:, None] * movement
    first.append(taylor.two_layer_term(w0, a, signed, inputs, tanh_first, 1))
    second.append(taylor.two_layer_term(w0, a, signed, inputs, tanh_second, 2))
first, second = torch.stack(first).numpy(), torch.stack(second).numpy()  # (draws, inputs)
unsigned_first = taylor.two_layer_term(w0, a, movement, inputs, tanh_first, 1).numpy()
unsigned_second = taylor.two_layer_term(w0, a, movement, inputs, tanh_second, 2).numpy()
draws = np.arange(1, SIGN_DRAWS + 1)
running_mean_rms = np.sqrt((np.cumsum(first, axis=0) / draws[:, None]) ** 2).mean(axis=1)


def apply_flat(flat):
    return taylor.two_layer(w0, a, flat.reshape(w0.shape) - w0, inputs, torch.tanh)


jvp_terms = taylor.taylor_terms(apply_flat, w0.reshape(-1), (w0 + movement).reshape(-1), 2)
jvp_gap = max(float(np.abs(jvp_terms[1].numpy() - unsigned_first).max()),
              float(np.abs(jvp_terms[2].numpy() - unsigned_second).max()))

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
rms_unsigned = float(np.sqrt(np.mean(unsigned_first**2)))
plot_curves(axes[0], draws, {"|mean over signs of f⁽¹⁾(SW)| (avg over inputs)": running_mean_rms,
                             "|f⁽¹⁾(W)| without signs (avg)": np.full(len(draws), np.abs(unsigned_first).mean()),
                             "1/√n reference": rms_unsigned / np.sqrt(draws)},
            "number of sign draws n", "size of the linear term", log_y=True,
            styles={"1/√n reference": {"ls": ":", "color": "0.4"}})
axes[0].set_xscale("log")
for label, values, marker in (("f⁽¹⁾(SW) vs f⁽¹⁾(W)", (unsigned_first, first), "."),
                              ("f⁽²⁾(SW) vs f⁽²⁾(W)", (unsigned_second, second), "x")):
    axes[1].plot(np.broadcast_to(values[0], values[1][:20].shape).ravel(), values[1][:20].ravel(), marker,
                 ms=3, alpha=0.5, label=label)
axes[1].set_xlabel("term at W (no signs)")
axes[1].set_ylabel("term at SW (20 sign draws)")
axes[1].legend(fontsize=7)
fig.tight_layout()
book.save_figure(
    fig, "fig2-sign-coupling",
    data={"draws": draws, "running_mean_rms": running_mean_rms, "unsigned_first": unsigned_first,
          "unsigned_second": unsigned_second, "first_20_draws": first[:20], "second_20_draws": second[:20]},
    caption=f"Two-layer tanh network, m = {w0.shape[0]}, d = {coupling_dim}: the mean of the linear term over "
            "random signs shrinks like 1/√n (left); the quadratic term is the same for every sign draw (right).",
    rtol=1e-9, atol=1e-12)  # closed-form float64 arithmetic

# %%
standard_error = first.std(axis=0, ddof=1) / math.sqrt(SIGN_DRAWS)
z_scores = first.mean(axis=0) / standard_error
slope = float(np.polyfit(np.log(draws[9:]), np.log(running_mean_rms[9:]), 1)[0])
book.claim("The nested-jvp Taylor terms equal the post's closed-form f⁽¹⁾, f⁽²⁾ (max difference < 1e-10)",
           jvp_gap < 1e-10, max_difference=jvp_gap)
book.claim("Sign randomization kills the linear term in expectation: on every input the mean of f⁽¹⁾(SW) over "
           "the draws is within 4.5 standard errors of 0", float(np.abs(z_scores).max()) < 4.5,
           max_abs_z=float(np.abs(z_scores).max()), draws=SIGN_DRAWS)
book.claim("… and the average shrinks like 1/√n (log-log slope of its size against n in [−0.7, −0.3])",
           -0.7 <= slope <= -0.3, slope=slope)
book.claim("Sign randomization leaves the quadratic term unchanged (max |f⁽²⁾(SW) − f⁽²⁾(W)| < 1e-10)",
           float(np.abs(second - unsigned_second).max()) < 1e-10,
           max_difference=float(np.abs(second - unsigned_second).max()))

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
softplus_second = lambda z: torch.sigmoid(z) * (1 - torch.sigmoid(z))  # noqa: E731
poly_w0, poly_a = taylor.symmetric_init(POLY_PAIRS, POLY_DIM, torch_generator(SEED, "poly-init"))
beta = torch.zeros(POLY_DIM, dtype=torch.float64)
beta[0] = 1.0


def target(x):
    return (x @ beta) ** 2 - 1.0


x_fresh = taylor.sphere_samples(2000, POLY_DIM, torch_generator(SEED, "poly-test"))
y_fresh = target(x_fresh)


def relative_error(prediction):
    return float(((prediction - y_fresh) ** 2).mean() / (y_fresh**2).mean())


def test_errors(n, draw):
    """Relative test errors of the NTK model and of the quadratic model trained on draw ``draw`` of n samples."""
    stream = f"poly-train-{n}" if draw == 0 else f"poly-train-{n}-draw{draw}"
    x = taylor.sphere_samples(n, POLY_DIM, torch_generator(SEED, stream))
    weights = taylor.fit_min_norm(taylor.linearized_features(poly_w0, poly_a, x, softplus_first), target(x))
    ntk = relative_error(taylor.linearized_features(poly_w0, poly_a, x_fresh, softplus_first) @ weights)
    start = 1e-2 * torch.randn(poly_w0.shape, generator=torch_generator(SEED, stream.replace("train", "start")),
                               dtype=torch.float64)
    moved_q = taylor.fit_quadratic_term(poly_w0, poly_a, x, target(x), softplus_second, start, max_iterations=300)
    quadratic = relative_error(taylor.two_layer_term(poly_w0, poly_a, moved_q, x_fresh, softplus_second, 2))
    return ntk, quadratic


# per_draw[name] has shape (draws, sample sizes); the curves are medians over draws
per_draw = np.array([[test_errors(n, draw) for n in SAMPLE_SIZES] for draw in range(SAMPLE_SEEDS)])
per_draw = {"NTK model f⁽¹⁾": per_draw[:, :, 0], "quadratic model f⁽²⁾": per_draw[:, :, 1]}
errors = {name: np.median(values, axis=0) for name, values in per_draw.items()}

# %%
fig, ax = plt.subplots(figsize=(5.5, 3.8))
plot_points_by_group(ax, {name: np.array(SAMPLE_SIZES) for name in errors}, errors, "training samples n",
                     "relative test error (median over draws)", log_x=True,
                     range_by_group={name: (v.min(axis=0), v.max(axis=0)) for name, v in per_draw.items()})
ax.axhline(TEST_ERROR_TARGET, color="0.5", ls=":", lw=1)
ax.set_yscale("log")
fig.tight_layout()
book.save_figure(fig, "fig3-sample-complexity",
                 data={"n": np.array(SAMPLE_SIZES), **{name: np.array(v) for name, v in errors.items()},
                       **{f"{name} per draw": v for name, v in per_draw.items()}},
                 caption=f"Learning y = (βᵀx)² − 1 in d = {POLY_DIM}: relative test error of the linearized (NTK) "
                         "model and of the quadratic Taylor model against the number of samples; median over "
                         f"{SAMPLE_SEEDS} independent training sets, shaded from the best to the worst. Dotted: 0.5.",
                 rtol=1e-6, atol=1e-9)  # L-BFGS stops on a tolerance; float64 and one thread make it repeatable


# %%
def samples_to_reach(curve):
    reached = [n for n, error in zip(SAMPLE_SIZES, curve, strict=True) if error <= TEST_ERROR_TARGET]
    return reached[0] if reached else math.inf


needed = {name: samples_to_reach(curve) for name, curve in errors.items()}
quadratic_needs, ntk_needs = needed["quadratic model f⁽²⁾"], needed["NTK model f⁽¹⁾"]
book.claim(f"The quadratic model reaches relative test error {TEST_ERROR_TARGET} with fewer samples than the "
           f"NTK model (median over {SAMPLE_SEEDS} training sets)", quadratic_needs < ntk_needs,
           samples_quadratic=float(quadratic_needs), samples_ntk=float(ntk_needs),
           **{f"error_{'ntk' if 'NTK' in name else 'quadratic'}": curve for name, curve in errors.items()})

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
