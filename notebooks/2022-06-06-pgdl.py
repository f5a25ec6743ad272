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
# # Predicting generalization with GAN samples
#
# The post [Predicting Generalization using GANs](http://www.offconvex.org/2022/06/06/PGDL/) describes
# [Zhang, Gupta, Saunshi & Arora (ICLR 2022)](https://arxiv.org/abs/2111.14212), an almost embarrassingly
# simple answer to the [PGDL competition](https://arxiv.org/abs/2012.07976)'s question "given a training
# set and a trained network, estimate its test error": train a class-conditional GAN on the same training
# set, draw a labelled synthetic set from it (each image labelled with the class it was generated for), and
# report each classifier's error on that synthetic set. With pretrained BigGAN-type generators the
# predicted errors fall almost on the line $y = x$ for very different architectures. The puzzle the post
# raises: the same GANs are known to be poor copies of the data distribution — (1) their samples show
# mode collapse under the birthday-paradox test, (2) classifiers trained on GAN samples alone are poor —
# and yet (3) the samples rank classifiers well.
#
# This chapter reproduces the method and the three observations on one CPU thread, on scikit-learn's
# 8×8 digits (1797 images; 1000 for training, 797 held out as the test set). The GAN is a small fully
# connected conditional GAN trained here from scratch. The classifiers form a zoo built like a PGDL task:
# 64 ReLU networks trained on the same 1000 digits over a grid of architectures (depth, width) and training
# hyperparameters (step size, weight decay, batch size, data augmentation), each trained until it fits its
# training data. The GAN's predictions are judged by how close they fall to $y = x$, by Kendall's $\tau$
# and by the competition-style granulated $\tau$, and are compared with a margin-based baseline.
# What differs from the paper: 8×8 digits instead of CIFAR-10 and the PGDL tasks, a small MLP-GAN trained
# on a CPU instead of BigGAN with DiffAugment, one synthetic set of 1000 images, small MLPs instead of
# convolutional networks, our own 64-member zoo instead of the competition's, and $\tau$, $\Psi$ and
# absolute errors instead of the competition's conditional-mutual-information score.

# %% tags=["parameters"]
PROFILE = "book"
SEED = 0
PERTURBATION = 0  # ensemble member for `make baselines` (0: the published run; see README)
# Committed before the first measurement (research note's proposal), and kept: the synthetic error must
# rank the zoo with Kendall's tau of at least this much against the true test error.
KENDALL_TAU_THRESHOLD = 0.6
# Closeness to y = x, fixed and committed before the first run that measured GAN predictions on the
# converged zoo (its true test errors lie between about 0.02 and 0.07, so a +-0.05 band would hold for
# almost any constant guess; the band is scaled down to the digits' errors).
# A perfect generator still leaves a gap from the two finite sets (797 test, 1000 synthetic images):
# about 0.008 standard deviation at error 0.035, so MAE 0.015 is about twice that noise floor.
CLOSENESS_BAND = 0.02  # |predicted - true| <= this counts as "on the line"
MAE_THRESHOLD = 0.015  # mean |GAN-predicted - true test error| over the zoo at most this
WITHIN_BAND_THRESHOLD = (
    0.8  # and at least this share of the zoo within the band
)
# The zoo's training target (PGDL's models were trained to a cross-entropy target): a member stops once its
# mean cross-entropy on the full, clean training set is at most this, or at the step cap.
LOSS_TARGET = 0.05
# Birthday test: "near-duplicate" means closer than this quantile of real within-class neighbour distances.
DUPLICATE_QUANTILE = 0.01

# %% tags=["hide-input"]
import warnings

import numpy as np
from offconvex import book
from offconvex.core.random import rng, torch_generator
from offconvex.generalization import birthday, gan, predictors
from offconvex.generalization import classifier_zoo as zoo
from offconvex.generalization.plots import (
    plot_bars,
    plot_curves,
    plot_image_grid,
    plot_predicted_vs_true,
)
from scipy import stats
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

book.start("2022-06-06-pgdl", PROFILE, SEED, perturbation=PERTURBATION)
GAN_STEPS = book.by_profile(PROFILE, smoke=150, book=2000, paper=20_000)
# step cap of the zoo's training (each member stops at LOSS_TARGET first)
ZOO_MAX_STEPS = book.by_profile(PROFILE, smoke=25, book=1200, paper=5000)
# 1000 synthetic images, balanced like the test set
SYNTHETIC_PER_CLASS = 100
BIRTHDAY_SIZES = book.by_profile(
    PROFILE,
    smoke=(10, 40),
    book=(5, 10, 20, 40, 80),
    paper=(5, 10, 20, 40, 80, 160),
)
# batches per class and size
BIRTHDAY_BATCHES = book.by_profile(PROFILE, smoke=3, book=20, paper=100)
# epochs of the MLP in section 4
OBSERVATION_MLP_ITER = book.by_profile(
    PROFILE, smoke=20, book=300, paper=300
)
N_CLASSES = 10

# %% [markdown]
# ## 1. A small class-conditional GAN on digits
#
# The generator maps 16 Gaussian latent coordinates and a one-hot class to 64 pixel intensities in
# $[0, 1]$ through two hidden layers of 128 units (with batch normalisation); the discriminator sees an
# image and its one-hot class. Both are trained with the non-saturating GAN loss and Adam
# (learning rate $2\cdot10^{-4}$, $\beta_1 = 0.5$), one minibatch of 64 per step. The GAN is trained once
# per run, on the 1000 training images only; everything below uses this one generator.

# %%
digits = load_digits()
order = rng(SEED, "split").permutation(len(digits.target))
images, labels = digits.data[order] / 16.0, digits.target[order]
train_images, train_labels = images[:1000], labels[:1000]
test_images, test_labels = images[1000:], labels[1000:]

# +-1-pixel shifts are a large jitter at 8x8 and slowed learning
config = gan.GANConfig(augment=False)
gan_state, gan_losses = gan.train_gan(
    train_images,
    train_labels,
    GAN_STEPS,
    config,
    torch_generator(SEED, "gan"),
)
synthetic_images, synthetic_labels = gan.labelled_samples(
    gan_state,
    SYNTHETIC_PER_CLASS,
    config,
    torch_generator(SEED, "synthetic"),
)

# %%
fig, axes = book.figure(1, 2, height=3.4)
shown = np.concatenate(
    [np.flatnonzero(synthetic_labels == c)[:10] for c in range(N_CLASSES)]
)
real_shown = np.concatenate(
    [np.flatnonzero(test_labels == c)[:10] for c in range(N_CLASSES)]
)
plot_image_grid(
    axes[0], synthetic_images[shown], synthetic_labels[shown], columns=10
)
axes[0].set_title(f"GAN samples ({GAN_STEPS} steps)")
axes[0].set_ylabel("requested class")
plot_image_grid(
    axes[1], test_images[real_shown], test_labels[real_shown], columns=10
)
axes[1].set_title("real test digits")
axes[1].set_ylabel("class")
book.save_figure(
    fig,
    "fig1-gan-samples",
    data={
        "synthetic": synthetic_images[shown],
        "real": test_images[real_shown],
        "gan_losses": gan_losses[-100:],
    },
    caption="Ten GAN samples per class, one row per class, each labelled "
    "with the class it was generated for (left), next to real held-out "
    "digits (right).",
    # float32 torch training, 1 thread, deterministic algorithms:
    # bitwise repeatable here; the slack only absorbs a different BLAS
    # kernel choice on another CPU
    rtol=1e-4,
    atol=1e-5,
)

# %% [markdown]
# ## 2. A zoo trained like the competition's, and two predictors
#
# The PGDL tasks are sets of networks trained on one data set with varied architectures and
# hyperparameters, each trained until it fits its training data. Our zoo copies that design at digit scale:
# ReLU MLPs on the same 1000 training digits, over a full factorial grid of six two-level factors, 64
# members in all: depth (1 or 2 hidden layers), width (32 or 128 units), Adam step size ($10^{-2}$ or
# $3\cdot10^{-2}$), decoupled weight decay (0 or 0.05 per unit step size), minibatch size (32 or 128) and
# data augmentation (none, or half of the drawn images shifted by -1, 0 or +1 pixel along each axis). Every
# member trains until its mean cross-entropy on the clean training set is at most `LOSS_TARGET` (0.05),
# checked every 25 steps, or until a cap of steps; members of one depth, width and batch size are trained
# side by side as one stacked tensor (batched matrix products, one Adam update for all, each leaving the
# stack at its own convergence step).
#
# Two predictors of each member's test error are compared:
#
# * **GAN:** its error on the 1000 synthetic images, with no fitting at all.
# * **Margin baseline**, in the spirit of the margin-based predictors the competition and the paper
#   compared against: the lower quartile of the member's output margins on its training data (true-class
#   logit minus the largest other logit), divided by the member's root-mean-square logit so that scaling
#   the outputs does not change it. A margin is not an error rate, so a least-squares line maps it to one;
#   the line is fitted on a random half of the zoo (using those members' true test errors, an advantage
#   the GAN does not get) and judged on the other half. As a rank score the margin needs no fit.
#
# Scores: closeness to $y = x$ (mean absolute error, share of members within ±`CLOSENESS_BAND` = 0.02,
# thresholds in the parameters table, committed before the judging run), Kendall's $\tau$ over the whole
# zoo, and the granulated $\tau$ of Jiang et al. (2019), $\Psi$: for each factor, the mean $\tau$ over the
# pairs of members that differ only in that factor, averaged over the six factors. $\Psi$ asks whether a
# predictor tracks the effect of each hyperparameter on its own, which a global $\tau$ can hide. The
# training error, the baseline of the previous version of this chapter, carries no information once every
# member fits its training set, so it is gone.

# %%
collapsed_images, collapsed_labels = gan.labelled_samples(
    gan_state,
    SYNTHETIC_PER_CLASS,
    config,
    torch_generator(SEED, "collapsed"),
    latents=gan.collapsed_latents(
        N_CLASSES * SYNTHETIC_PER_CLASS,
        30,
        0.05,
        config,
        torch_generator(SEED, "collapsed-codes"),
    ),
)
eval_sets = {
    "test": (test_images, test_labels),
    "synthetic": (synthetic_images, synthetic_labels),
    "collapsed": (collapsed_images, collapsed_labels),
}
LEVELS = dict(
    depth=(1, 2),
    width=(32, 128),
    lr=(1e-2, 3e-2),
    weight_decay=(0.0, 0.05),
    batch_size=(32, 128),
    augment=(False, True),
)
members = predictors.grid(**LEVELS)
table = {key: [] for key in ("train", *eval_sets)}
table |= {"steps": [], "converged": [], "train_loss": [], "margin": []}
order_in_zoo = []
for depth in LEVELS["depth"]:
    for width in LEVELS["width"]:
        for batch_size in LEVELS["batch_size"]:
            chosen = [
                index
                for index, member in enumerate(members)
                if (member["depth"], member["width"], member["batch_size"])
                == (depth, width, batch_size)
            ]
            stack = zoo.train_to_target(
                (width,) * depth,
                [
                    zoo.TrainingSetup(
                        members[i]["lr"],
                        members[i]["weight_decay"],
                        batch_size,
                        members[i]["augment"],
                    )
                    for i in chosen
                ],
                train_images,
                train_labels,
                loss_target=LOSS_TARGET,
                max_steps=ZOO_MAX_STEPS,
                check_every=25,
                generator=torch_generator(
                    SEED, f"zoo-{depth}x{width}-b{batch_size}"
                ),
            )
            order_in_zoo += chosen
            table["train"] += list(
                zoo.stack_errors(stack, train_images, train_labels)
            )
            for key, (xs, ys) in eval_sets.items():
                table[key] += list(zoo.stack_errors(stack, xs, ys))
            table["steps"] += list(stack.steps)
            table["converged"] += list(stack.converged)
            table["train_loss"] += list(stack.train_loss)
            train_logits = zoo.stack_logits(stack, train_images)
            table["margin"] += list(
                predictors.normalized_margin_feature(
                    zoo.output_margins(train_logits, train_labels),
                    np.sqrt(np.mean(train_logits**2, axis=(1, 2))),
                    quantile=0.25,
                )
            )
# back to the grid's order: member i has the hyperparameters members[i]
restore = np.argsort(order_in_zoo)
table = {key: np.array(values)[restore] for key, values in table.items()}
hyper = {
    name: np.array([member[name] for member in members]) for name in LEVELS
}
architecture = np.array([f"MLP {m['depth']}x{m['width']}" for m in members])
print(
    f"{len(members)} members; converged {table['converged'].mean():.0%}; "
    f"steps {table['steps'].min()}-{table['steps'].max()}; "
    f"train error <= {table['train'].max():.3f}; test error "
    f"{table['test'].min():.3f}-{table['test'].max():.3f}"
)

# %%
fit_half, eval_half = predictors.split_halves(
    len(members), rng(SEED, "zoo-halves")
)
margin_line = predictors.fit_line(
    table["margin"][fit_half], table["test"][fit_half]
)
margin_prediction = margin_line[1] + margin_line[0] * table["margin"]
gan_close = predictors.closeness(
    table["synthetic"], table["test"], CLOSENESS_BAND
)
gan_close_eval = predictors.closeness(
    table["synthetic"][eval_half], table["test"][eval_half], CLOSENESS_BAND
)
margin_close_eval = predictors.closeness(
    margin_prediction[eval_half], table["test"][eval_half], CLOSENESS_BAND
)
# the best constant guess (the median true error: an oracle), for scale
constant_mae = float(
    np.mean(np.abs(table["test"] - np.median(table["test"])))
)
# rank scores: larger means "predicts a larger error"; a larger margin
# predicts a smaller error
scores = {
    "synthetic": table["synthetic"],
    "margin": -table["margin"],
    "collapsed": table["collapsed"],
}
tau = {
    key: float(stats.kendalltau(score, table["test"]).statistic)
    for key, score in scores.items()
}
psi = {
    key: predictors.granulated_kendall(score, table["test"], hyper)
    for key, score in scores.items()
}
print("GAN, whole zoo:", gan_close, "| evaluation half:", gan_close_eval)
print(
    "margin line",
    np.round(margin_line, 4),
    "evaluation half:",
    margin_close_eval,
)
print(f"constant-guess MAE {constant_mae:.4f}; tau", tau)
print(
    {
        key: {k: round(v, 3) for k, v in value.items()}
        for key, value in psi.items()
    }
)

# %%
fig, axes = book.figure(1, 2, height=3.9)
top = 1.1 * max(
    table["test"].max(), table["synthetic"].max(), margin_prediction.max()
)
in_fit_half = np.isin(np.arange(len(members)), fit_half)
panels = [
    (
        table["synthetic"],
        "error on GAN samples (prediction)",
        None,
        f"GAN samples: MAE {gan_close['mae']:.3f},\n"
        f"{gan_close['within_band']:.0%} in band, "
        f"τ = {tau['synthetic']:.2f}",
    ),
    (
        margin_prediction,
        "margin-baseline prediction",
        in_fit_half,
        f"margin baseline: MAE {margin_close_eval['mae']:.3f} (held-out\n"
        f"half, filled), {margin_close_eval['within_band']:.0%} in band, "
        f"τ = {tau['margin']:.2f}",
    ),
]
for ax, (prediction, ylabel, hollow, title) in zip(
    axes, panels, strict=True
):
    plot_predicted_vs_true(
        ax,
        prediction,
        table["test"],
        architecture,
        xlabel="true test error",
        ylabel=ylabel,
        legend=False,
        band=CLOSENESS_BAND,
        hollow=hollow,
        true_on_x=True,
        top=top,
    )
    ax.set_title(title, fontsize="medium")
for ax in axes:
    ax.set_xticks(np.arange(0, top, 0.05))
    ax.set_yticks(np.arange(0, top, 0.05))
fig.legend(
    *axes[0].get_legend_handles_labels(),
    loc="outside lower center",
    ncols=6,
)
book.save_figure(
    fig,
    "fig2-synthetic-vs-test",
    data={
        "test_error": table["test"],
        "synthetic_error": table["synthetic"],
        "margin_prediction": margin_prediction,
        "margin_feature": table["margin"],
        "margin_line": list(margin_line),
        "fit_half": fit_half,
        "architecture": architecture,
        "train_error": table["train"],
        "steps": table["steps"],
        "band": CLOSENESS_BAND,
    },
    caption=f"One dot per network ({len(members)} MLPs, trained to a "
    "training cross-entropy target): the GAN's prediction (its error on "
    "1000 GAN samples, left) and the margin baseline's (right; open "
    "circles: the half of the zoo its line was fitted on) against the true "
    f"test error, with y = x dashed and the band ±{CLOSENESS_BAND} shaded.",
    # float32 training, 1 thread, deterministic: repeatable here; errors
    # are multiples of 1/797 or 1/1000, so the slack only absorbs float
    # formatting and a different BLAS kernel's rounding
    rtol=1e-5,
    atol=1e-5,
)

# %%
book.sanity_check(
    "The zoo is trained to convergence: at least 80 % of members reach the "
    f"training cross-entropy target {LOSS_TARGET} before the step cap, and "
    "every member's training error is at most 0.1",
    bool(table["converged"].mean() >= 0.8 and table["train"].max() <= 0.1),
    share_converged=float(table["converged"].mean()),
    max_train_error=float(table["train"].max()),
    median_steps=float(np.median(table["steps"])),
    max_train_loss=float(table["train_loss"].max()),
)
close_ok = bool(
    gan_close["mae"] <= MAE_THRESHOLD
    and gan_close["within_band"] >= WITHIN_BAND_THRESHOLD
)
book.claim(
    "GAN-predicted errors lie close to y = x: mean |predicted - true| <= "
    f"{MAE_THRESHOLD} and at least {WITHIN_BAND_THRESHOLD:.0%} of the zoo "
    f"within +-{CLOSENESS_BAND}",
    close_ok,
    not_reproduced=None
    if close_ok
    else "the small CPU-trained GAN's samples do not give errors this "
    "close to the true test errors (see the numbers)",
    mae=gan_close["mae"],
    within_band=gan_close["within_band"],
    max_gap=gan_close["max_gap"],
    constant_guess_mae=constant_mae,
    n_classifiers=len(members),
)
tau_ok = bool(tau["synthetic"] >= KENDALL_TAU_THRESHOLD)
book.claim(
    "GAN-synthetic error ranks the zoo's true test errors with Kendall "
    f"tau >= {KENDALL_TAU_THRESHOLD}",
    tau_ok,
    not_reproduced=None
    if tau_ok
    else "on a converged zoo whose test errors span only a few percent, "
    "the GAN's ranking is weaker",
    kendall_tau=tau["synthetic"],
    granulated_psi=psi["synthetic"]["psi"],
    n_classifiers=len(members),
)
beats = bool(
    tau["synthetic"] > tau["margin"]
    and gan_close_eval["mae"] < margin_close_eval["mae"]
)
book.claim(
    "The GAN predictor beats the margin baseline: higher Kendall tau over "
    "the zoo and lower mean absolute error on the held-out half",
    beats,
    not_reproduced=None
    if beats
    else "at this scale the simple margin baseline is as good or better "
    "on at least one of the two scores",
    tau_gan=tau["synthetic"],
    tau_margin=tau["margin"],
    psi_gan=psi["synthetic"]["psi"],
    psi_margin=psi["margin"]["psi"],
    mae_gan_heldout=gan_close_eval["mae"],
    mae_margin_heldout=margin_close_eval["mae"],
    within_band_gan_heldout=gan_close_eval["within_band"],
    within_band_margin_heldout=margin_close_eval["within_band"],
)

# %% [markdown]
# What the run shows (numbers from the published run, seed 0; the claims table at the end has them all).
# The zoo trains as intended: 55 of 64 members reach the cross-entropy target within 1200 steps (median
# about 290 steps); the others, small batches with augmentation and the larger step size, stop at the cap
# with training error at most 0.07. Their true test errors span about 0.02 to 0.10, most between 0.02 and
# 0.06: a realistic band for networks that fit digits, and a much harder ranking problem than the previous
# version of this chapter, whose zoo ran from 0.014 to 0.917 and gave $\tau = 0.72$.
#
# On this zoo the GAN predictor does **not** reproduce the post's picture. Its errors lie well above
# $y = x$ (mean absolute gap 0.053, 3 of 64 members within ±0.02; committed thresholds: at most 0.015 and at
# least 80 %), because our small GAN's samples are harder to classify than real digits (in the first
# figure many are speckled or malformed, e.g. in the rows of 5s and 8s), and they barely rank the zoo ($\tau \approx 0.10$, $\Psi \approx 0.16$). The
# margin baseline, given a line fitted on half the zoo, lands within ±0.02 for every held-out member
# (mean absolute error 0.007), but that mostly reflects the narrow band: the best constant guess already
# has mean absolute error 0.008. As a ranking it is weak too ($\tau \approx 0.17$, $\Psi \approx 0.22$),
# though better than the GAN's. With 797 test images an error is only known to about ±0.006, comparable to
# the differences between many members, so every $\tau$ here is bounded by noise as well as by the
# predictor. The paper's generators are large BigGAN models, ours a 2000-step MLP-GAN; what this section
# shows is that a GAN whose samples are visibly off shifts all predicted errors up and loses the fine
# ranking among networks that all fit their data, whereas a wide, partly untrained zoo hides this.
#
# How much of this is luck of the draw? The 15 reruns behind this chapter's regression baselines perturb
# every random draw at the level of rounding, and GAN training amplifies that into what amounts to a
# different GAN each time. Across the 16 runs the GAN's mean absolute gap ranged from 0.043 to 0.082 (never
# more than 20 % of the zoo within ±0.02), its $\tau$ from −0.08 to 0.21, the margin baseline's $\tau$ from
# 0.13 to 0.29 and its held-out mean absolute error from 0.006 to 0.009: the margin ranked the zoo better
# in all 16, so the verdicts above do not hinge on one lucky or unlucky GAN.

# %% [markdown]
# ## 3. Observation 1: mode collapse, by the birthday paradox
#
# If a generator can only produce about $M$ distinct images of a class, a batch of $s$ of them contains a
# (near-)repeat with probability about $1 - e^{-s^2/2M}$ — a coin flip once $s \approx \sqrt{M}$. We
# draw batches of $s$ images of one class, from the GAN and from the 1797 real digits, and count the batches
# with a pair closer than the 1st percentile of nearest-neighbour distances among real digits of the same
# class. A deliberately collapsed sampler (the same generator restricted to 30 latent codes plus small
# noise) is the positive control. Committed criterion: at $s = 40$ the GAN's near-duplicate rate is at
# least twice the real data's.

# %%
real_by_class = [images[labels == c] for c in range(N_CLASSES)]
threshold = birthday.duplicate_threshold(real_by_class, DUPLICATE_QUANTILE)
birthday_rng = rng(SEED, "birthday")


def gan_batches(size, latent_maker=None):
    """BIRTHDAY_BATCHES batches of ``size`` GAN images per class.

    Returns an array (classes * batches, size, 64).
    """
    count = size * BIRTHDAY_BATCHES
    latents = (
        None if latent_maker is None else latent_maker(N_CLASSES * count)
    )
    samples, _ = gan.labelled_samples(
        gan_state,
        count,
        config,
        torch_generator(SEED, f"birthday-{size}"),
        latents,
    )
    return samples.reshape(N_CLASSES * BIRTHDAY_BATCHES, size, -1)


def collapsed_maker(n):
    return gan.collapsed_latents(
        n, 30, 0.05, config, torch_generator(SEED, "collapsed-codes")
    )


COLLAPSED = "collapsed GAN (30 codes)"
duplicate_rates = {"real digits": [], "GAN": [], COLLAPSED: []}
for size in BIRTHDAY_SIZES:
    real = np.concatenate(
        [
            birthday.batches_from_pool(
                pool, size, BIRTHDAY_BATCHES, birthday_rng
            )
            for pool in real_by_class
        ]
    )
    duplicate_rates["real digits"].append(
        birthday.has_near_duplicate(real, threshold).mean()
    )
    duplicate_rates["GAN"].append(
        birthday.has_near_duplicate(gan_batches(size), threshold).mean()
    )
    duplicate_rates[COLLAPSED].append(
        birthday.has_near_duplicate(
            gan_batches(size, collapsed_maker), threshold
        ).mean()
    )
duplicate_rates = {
    name: np.array(rates) for name, rates in duplicate_rates.items()
}
support = {
    name: birthday.support_size_estimate(BIRTHDAY_SIZES, rates)
    for name, rates in duplicate_rates.items()
}
print(
    f"threshold {threshold:.3f};",
    {name: np.round(rates, 3) for name, rates in duplicate_rates.items()},
    support,
)

# %%
fig, ax = book.figure(height=3.4)
sizes = np.array(BIRTHDAY_SIZES)
reference = {
    f"{m} equally likely images": birthday.collision_probability(sizes, m)
    for m in (100, 1000)
}
plot_curves(
    ax,
    sizes,
    {**duplicate_rates, **reference},
    xlabel="batch size s (images of one class)",
    ylabel="fraction of batches with a near-duplicate",
    logx=True,
    styles={
        **{name: dict(marker="o") for name in duplicate_rates},
        **{name: dict(color="gray", linestyle=":") for name in reference},
    },
    # right of the axes: the curves fill every corner
    legend=dict(loc="center left", bbox_to_anchor=(1.02, 0.5)),
)
ax.set_xticks(sizes, [str(size) for size in sizes])
ax.minorticks_off()
book.save_figure(
    fig,
    "fig3-birthday",
    data={
        "batch_sizes": sizes,
        **duplicate_rates,
        **reference,
        "threshold": threshold,
    },
    caption="Birthday-paradox test: share of one-class batches holding a "
    f"pair closer than {threshold:.2f} (the 1st percentile of real "
    "nearest-neighbour distances), for real digits, the GAN, and the GAN "
    "restricted to 30 latent codes; dotted: exact repeat probability for "
    "uniform supports of 100 and 1000 images.",
    # rates are counts over batches of float32 samples (see fig1)
    rtol=1e-6,
    atol=1e-6,
)

# %%
at_40 = list(BIRTHDAY_SIZES).index(40)
gan_rate = duplicate_rates["GAN"][at_40]
real_rate = duplicate_rates["real digits"][at_40]
gan_collapses = bool(gan_rate >= 2 * real_rate and gan_rate > 0)
book.claim(
    "Observation 1: GAN samples show mode collapse: near-duplicates in "
    "batches of 40 at least twice as often as in real digits",
    gan_collapses,
    gan_rate=gan_rate,
    real_rate=real_rate,
    collapsed_control_rate=duplicate_rates[COLLAPSED][at_40],
    support_estimates=[support[name] for name in duplicate_rates],
    **(
        {}
        if gan_collapses
        else {
            "not_reproduced": "this small GAN on 8x8 digits is not "
            "measurably more repetitive than real data at this batch size"
        }
    ),
)
# Thresholds from the research note's plan for this test (written before
# any run): the positive control must show near-duplicates in more than
# half of the batches of 40, real digits in fewer than 10 %. A check of
# the instrument, not a claim of the post.
collapsed_rate = duplicate_rates[COLLAPSED][at_40]
book.sanity_check(
    "Birthday test works as a detector: at s = 40 the collapsed sampler "
    "(30 codes) has near-duplicates in more than 50 % of batches, real "
    "digits in fewer than 10 %",
    bool(collapsed_rate > 0.5 and real_rate < 0.1),
    collapsed_rate=collapsed_rate,
    real_rate=real_rate,
)

# %% [markdown]
# Reading the figure: the real digits almost never contain such close pairs, while this small GAN's
# samples of one class are far more alike (in the first figure, each row of GAN samples is more uniform
# than the matching row of real digits); by the birthday heuristic its per-class support is of the order
# of the square of the batch size where its curve crosses 1/2. The collapsed control crosses much earlier, as it should. A caveat on what is
# measured: a generator whose images are merely smoother or blurrier than real digits also produces closer
# pairs, so the test measures lack of diversity at the pixel scale, which is what mode collapse means here.

# %% [markdown]
# ## 4. Observation 2: GAN samples are a poor training set
#
# We fit the same two classifiers once on the 1000 real training digits and once on 1000 GAN samples
# (100 per class), and score both on the real test digits. Committed criterion: the GAN-trained version
# has the higher test error for both classifiers.

# %%
observation_models = {
    "logistic regression": lambda: LogisticRegression(C=1.0, max_iter=1000),
    "MLP (64)": lambda: MLPClassifier(
        (64,),
        max_iter=OBSERVATION_MLP_ITER,
        random_state=int(rng(SEED, "observation-mlp").integers(2**31)),
    ),
}
trained_on = {
    "real": (train_images, train_labels),
    "GAN": (synthetic_images, synthetic_labels),
}


def real_test_error(make, source):
    """Error on the real test digits of a model fitted on ``source``."""
    model = make().fit(*trained_on[source])
    return 1 - model.score(test_images, test_labels)


with warnings.catch_warnings():
    # a fixed epoch budget, as in the zoo
    warnings.simplefilter("ignore", ConvergenceWarning)
    observation_errors = {
        (model_name, source): real_test_error(make, source)
        for model_name, make in observation_models.items()
        for source in trained_on
    }
print(
    {
        f"{model} on {source}": round(error, 4)
        for (model, source), error in observation_errors.items()
    }
)

# %%
fig, ax = book.figure(height=3.0)
names = [
    f"{model}\ntrained on {source}" for model, source in observation_errors
]
plot_bars(
    ax,
    names,
    list(observation_errors.values()),
    ylabel="error on real test digits",
    colors=["C0", "C3"] * len(observation_models),
    rotation=0,
)
book.save_figure(
    fig,
    "fig4-train-on-gan",
    data={"names": names, "test_error": list(observation_errors.values())},
    caption="The same classifiers trained on 1000 real digits or on 1000 "
    "GAN samples, scored on real held-out digits.",
    rtol=1e-6,
    atol=1e-6,
)

# %%
worse = {
    model: observation_errors[(model, "GAN")]
    > observation_errors[(model, "real")]
    for model in observation_models
}
book.claim(
    "Observation 2: a classifier trained only on GAN samples is worse on "
    "real test data than the same classifier trained on as many real "
    "samples (both classifiers)",
    bool(all(worse.values())),
    **{
        f"{model} ({source})".replace(" ", "_"): error
        for (model, source), error in observation_errors.items()
    },
)

# %% [markdown]
# ## 5. Observation 3: the collapsed sampler still ranks the zoo
#
# The post resolves the paradox with a thought experiment: a generator that knows only a limited set of
# images (plus small variations of them) can still estimate test error well, provided those images are
# like independent draws from the real distribution. Our 30-code sampler is such a generator. We
# evaluated the zoo on its samples too (section 2); the research note's criterion, committed beforehand,
# is Kendall $\tau \ge 0.5$.

# %%
collapsed_ranks = bool(tau["collapsed"] >= 0.5)
book.claim(
    "Observation 3: even the deliberately collapsed sampler (30 latent "
    "codes per class) ranks the zoo with Kendall tau >= 0.5",
    collapsed_ranks,
    not_reproduced=None
    if collapsed_ranks
    else "on the converged zoo neither the full GAN nor the collapsed "
    "sampler ranks the members well (both taus in the table), so there is "
    "no good ranking for collapse to preserve",
    tau_collapsed=tau["collapsed"],
    tau_full_gan=tau["synthetic"],
    psi_collapsed=psi["collapsed"]["psi"],
)

# %% [markdown]
# Where this claim holds, a sampler that knows only 30 latent codes per class ranks the zoo about as well
# as the full GAN: estimating an error rate needs samples that are typical of each class, not samples that
# cover the distribution, which is the post's resolution of the paradox. On the converged zoo it does not
# hold, but for a reason that says little about collapse: the full GAN itself ranks the zoo only weakly
# ($\tau \approx 0.10$), and the collapsed sampler is about as weak ($\tau \approx 0.08$), so there is no
# good ranking for collapse to destroy.

# %% tags=["remove-input"]
book.claims_table()
