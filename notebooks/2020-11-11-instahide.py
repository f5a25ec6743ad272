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
# # InstaHide: training on encrypted images, and the attack on it
#
# *Companion to the Off the Convex Path post of 11 November 2020,
# [How to allow deep learning on your data without revealing the data](http://www.offconvex.org/2020/11/11/instahide/),
# to the InstaHide paper by Huang, Song, Li and Arora ([ICML 2020, arXiv 2010.02772](https://arxiv.org/abs/2010.02772))
# and to the attack by Carlini et al. ([arXiv 2011.05315](https://arxiv.org/abs/2011.05315)).*
#
# InstaHide disguises a training image by averaging it with $k-1$ other images (the *mixup* augmentation),
# with random non-negative weights, and then multiplying every pixel by a random sign. The network is
# trained on these disguised images only, each epoch with fresh random choices. The security hope was that
# undoing the mix is a hard subset-sum-like problem. Carlini et al. showed that, given all the encryptions
# of a training run, one can group those that contain the same private image and then solve for the
# images; and that the released challenge could be decrypted exactly because its randomness came from a
# seed small enough to enumerate.
#
# **What this chapter does, and at what scale.** Everything runs on one CPU thread (the `book` profile's run
# time is listed in the reproducibility report). Figures 1 and
# 2 illustrate mixup and the encryption on scikit-learn's two bundled photographs. The private data is
# scikit-learn's 8×8 digits; the public images of the cross-dataset mode (ImageNet in the paper) are
# 8×8 grayscale crops of the photographs. The classifiers are a two-hidden-layer MLP (100 epochs, for every
# $k$) and a two-layer CNN (60 epochs, for $k = 1, 2, 4$), not the paper's ResNet-18 trained 200 epochs on
# CIFAR-10's 50 000 images. The attack replaces Carlini et al.'s
# similarity network (10 GPU-hours of training) by the plain correlation of absolute values or by a small
# MLP trained in seconds, and their clique heuristics by a simpler greedy grouping, so its grouping is much
# weaker; the true grouping is shown as the upper reference. As in their threat model, the attacker also
# sees the released mixed labels. The seed search enumerates 12-bit seeds instead of 32-bit ones.
# The encryption follows the authors' released code (weights `|g|/‖g‖₁` with a rejection bound
# of 0.65, 0.3 minimum private weight across datasets, mask applied after normalising the pixels).

# %% tags=["parameters"]
PROFILE = "book"
SEED = 0
PERTURBATION = 0  # ensemble member for `make baselines` (0: the published run; see README)
N_TRAIN = 1200  # digits used as the private training set; the other 597 are the clean test set [valid: 100..1697]
N_PUBLIC = 2000  # public photo patches for the cross-dataset mode (at least N_TRAIN) [valid: 100..]
AUXILIARY = 400  # attacker's own digits (test split) to train the learned similarity [valid: 10..]
N_SEED_PUBLIC = 100  # public patches in the seed-search demo (fewer: cheaper to regenerate per seed) [valid: 10..]

# %% tags=["hide-input"]
import time

import numpy as np
from offconvex import book
from offconvex.core.random import rng, torch_generator
from offconvex.privacy import attack, data, plots
from offconvex.privacy import instahide as ih
from offconvex.privacy.training import (
    TrainingConfig,
    accuracy,
    learning_curve,
    train_classifier,
)

book.start("2020-11-11-instahide", PROFILE, SEED, perturbation=PERTURBATION)
# classifier epochs (re-encrypted each)
EPOCHS = book.by_profile(PROFILE, smoke=2, book=100, paper=200)
# the small CNN's learning curves: epochs, test every CNN_EVERY epochs
CNN_EPOCHS = book.by_profile(PROFILE, smoke=2, book=60, paper=200)
CNN_EVERY = book.by_profile(PROFILE, smoke=1, book=5, paper=10)
CURVE_KS = book.by_profile(
    PROFILE, smoke=[1], book=[1, 2, 4], paper=[1, 2, 4]
)
TRAINING_SEEDS = book.by_profile(PROFILE, smoke=1, book=1, paper=3)
KS = book.by_profile(
    PROFILE, smoke=[1, 2], book=[1, 2, 3, 4, 5, 6], paper=[1, 2, 3, 4, 5, 6]
)
# T, the epochs of encryptions the attacker sees
ATTACK_EPOCHS = book.by_profile(
    PROFILE, smoke=[2, 4], book=[5, 10, 20], paper=[10, 20, 50]
)
# Adam steps of the recovery
ATTACK_STEPS = book.by_profile(PROFILE, smoke=50, book=300, paper=1000)
# learned-similarity epochs
SCORER_ITERATIONS = book.by_profile(PROFILE, smoke=5, book=60, paper=200)
# private images the attacker sees
N_ATTACKED = book.by_profile(PROFILE, smoke=20, book=40, paper=100)
# Size of the enumerable seed space. The challenge's was 32 bits; 24 in
# `paper` keeps the score array at 128 MB and the search at a few
# CPU-hours; the extrapolation printed below covers 32 bits.
SEED_BITS = book.by_profile(PROFILE, smoke=6, book=12, paper=24)

# %% [markdown]
# ## The data
#
# Pixels are standardised with one mean and one standard deviation computed on the private training set,
# as the official code normalises before it flips signs. The public patches are standardised likewise.

# %%
digits, digit_labels = data.digits()
order = rng(SEED, "split").permutation(len(digits))
train, test = order[:N_TRAIN], order[N_TRAIN:]
mean, std = digits[train].mean(), digits[train].std()
private = ih.standardize(digits, mean, std)
onehot = data.one_hot(digit_labels, 10)
public = ih.standardize(data.photo_patches(rng(SEED, "public"), N_PUBLIC))

# %% [markdown]
# ## Figure 1 — mixup
#
# Mixup treats images as vectors and averages two of them with weights 0.6 and 0.4; the one-hot labels are
# averaged with the same weights, so the mixed image carries a label that is 60 % one class and 40 % the
# other. Here the two "classes" are the two photographs shipped with scikit-learn.

# %%
# 128×128 centre-ish crops of china and flower
photos = data.photographs()[:, 80:336:2, 150:406:2]
photo_names = ["china", "flower"]
mixup_weights = np.array([0.6, 0.4])
mixed_photo = ih.mix(photos, mixup_weights)
mixed_label = ih.mix(np.eye(2), mixup_weights)

# %% tags=["hide-input"]
fig, axes = book.figure(
    2, 3, height=3.3, gridspec_kw={"height_ratios": [3, 1]}
)
panels = zip(
    [photos[0], photos[1], mixed_photo],
    [np.eye(2)[0], np.eye(2)[1], mixed_label],
    ["china", "flower", "0.6 · china + 0.4 · flower"],
    strict=True,
)
for column, (image, label, title) in enumerate(panels):
    axes[0, column].imshow(image)
    axes[0, column].set_title(title)
    axes[0, column].axis("off")
    plots.label_bars(axes[1, column], label, photo_names)
axes[1, 0].set_ylabel("label")
book.save_figure(
    fig,
    "fig1-mixup",
    data={
        "weights": mixup_weights,
        "label": mixed_label,
        "mixed_mean_rgb": mixed_photo.mean(axis=(0, 1)),
    },
    caption="Mixup of the two bundled photographs with weights 0.6 and "
    "0.4 (top); their one-hot labels mix alike (bottom).",
)

# %% [markdown]
# ## Figure 2 — one InstaHide encryption, stage by stage (k = 4)
#
# A private image is mixed with one other private image and two public images (cross-dataset mode, two
# private slots), with weights drawn as in the official code: draw $g \sim N(0, I_4)$, set
# $\lambda = |g|/\|g\|_1$ and redraw until no weight exceeds 0.65 and the two private weights sum to at
# least 0.3. The mixed image is multiplied pixel by pixel (and channel by channel) by random signs.
# The bottom row shows why the pixels must be centred first: on raw pixels in $[0, 1]$ the mix is
# non-negative, so the absolute value of the encryption *is* the mixup image and the mask hides nothing.

# %%
# 32×32 colour crops, CIFAR-sized
crops = data.photographs()[:, ::4, ::4][:, 20:52]
stage_images = np.stack(
    [
        crops[0][:, 40:72],
        crops[0][:, 100:132],
        crops[1][:, 60:92],
        crops[1][:, 110:142],
    ]
)
channel_mean = crops.mean(axis=(0, 1, 2))
channel_std = crops.std(axis=(0, 1, 2))
normalized = (stage_images - channel_mean) / channel_std
scheme_k4 = ih.cross(4, pair=True)
stage_rng = rng(SEED, "figure2")
weights_k4 = ih.sample_coefficients(stage_rng, 1, scheme_k4)[0]
signs_k4 = stage_rng.integers(0, 2, size=normalized[0].shape) * 2 - 1
mixed_k4 = ih.mix(normalized, weights_k4)
encrypted_k4 = signs_k4 * mixed_k4
raw_mixed = ih.mix(stage_images, weights_k4)
raw_encrypted = signs_k4 * raw_mixed
raw_gap = float(np.abs(np.abs(raw_encrypted) - raw_mixed).max())
centred_gap = float(np.abs(np.abs(encrypted_k4) - mixed_k4).max())

# %% tags=["hide-input"]
fig, axes = book.figure(2, 5, height=3.3)
slot_titles = ["private", "other private", "public", "public"]
for column in range(4):
    plots.show_image(
        axes[0, column],
        normalized[column].mean(axis=2),
        f"{slot_titles[column]}\nλ = {weights_k4[column]:.2f}",
    )
plots.show_image(axes[0, 4], mixed_k4.mean(axis=2), "mix")
plots.show_image(
    axes[1, 0], signs_k4.mean(axis=2), "sign mask", symmetric=True
)
plots.show_image(
    axes[1, 1], encrypted_k4.mean(axis=2), "encryption", symmetric=True
)
plots.show_image(
    axes[1, 2], np.abs(encrypted_k4).mean(axis=2), "|encryption|"
)
plots.show_image(axes[1, 3], raw_mixed.mean(axis=2), "raw mix")
plots.show_image(
    axes[1, 4],
    np.abs(raw_encrypted).mean(axis=2),
    f"|raw encryption|\ngap {raw_gap:.0e}",
)
book.save_figure(
    fig,
    "fig2-encryption",
    data={
        "weights": weights_k4,
        "encrypted_mean": encrypted_k4.mean(axis=2),
        "abs_encrypted_mean": np.abs(encrypted_k4).mean(axis=2),
        "raw_gap": raw_gap,
        "centred_gap": centred_gap,
    },
    caption="InstaHide with k = 4 (two private, two public images), shown "
    "as channel means. Top: the four centred images with their weights "
    "λ, and their mix. Bottom: the random sign mask, the encryption and "
    "its absolute value; then the mix of the raw [0, 1] pixels and the "
    "absolute value of its encryption, which equals it (gap: their "
    "largest difference).",
)

# %%
keys_checked = [
    ih.draw_key(rng(SEED, f"bounds-{k}"), N_TRAIN, N_PUBLIC, 64, scheme)
    for k in KS
    for scheme in (ih.inside(k), ih.cross(k, pair=True))
]
schemes_checked = [
    scheme for k in KS for scheme in (ih.inside(k), ih.cross(k, pair=True))
]
weights_all = [key.coefficients for key in keys_checked]


def follows_official_sampling(w, s):
    """Weights ``w`` (keys, slots) obey the bounds of scheme ``s``."""
    return (
        (w >= 0).all()
        and np.allclose(w.sum(axis=1), 1, atol=1e-12, rtol=0)
        and (w.max(axis=1) <= s.upper).all()
        and (
            not s.cross
            or (w[:, : s.private_slots].sum(axis=1) >= s.private_min).all()
        )
    )


# Both are checks of the encryption code, not claims of the post: the
# sampler's specification, and an identity (|s·x| = x for x ≥ 0).
book.sanity_check(
    "Official coefficient sampling: weights ≥ 0, sum to 1 (to 1e-12), "
    "none above the bound 0.65 (k ≥ 2), private slots ≥ 0.3 in cross "
    "mode — for every key drawn",
    bool(
        all(
            follows_official_sampling(w, s)
            for w, s in zip(weights_all, schemes_checked, strict=True)
        )
    ),
    keys=len(keys_checked),
    largest_weight_k_ge_2=float(
        max(w.max() for w in weights_all if w.shape[1] > 1)
    ),
)
book.sanity_check(
    "On raw [0, 1] pixels |encryption| equals the mixup image exactly; "
    "on centred pixels it does not (gap > 0.1)",
    raw_gap == 0.0 and centred_gap > 0.1,
    raw_gap=raw_gap,
    centred_gap=centred_gap,
)

# %% [markdown]
# ## Figure 3 — the price in accuracy (beyond the post)
#
# We train on plain digits and on InstaHide encryptions re-drawn every epoch, with the official loss
# (cross-entropy against the mixed label), SGD with momentum and clean test images. The post reports about
# 90 % on CIFAR-10 with a ResNet-18 and calls this only slightly worse than training without encryption (the
# paper's tables have the exact numbers). **Tolerance stated before running:** the cost is modest if
# encrypted training with $k \le 2$ loses at most 5 percentage points against plain training; the post's
# setting $k = 4$ is held to the same 5 points.
#
# Two networks answer two questions. The two-hidden-layer MLP is trained for the same 100 epochs at every
# $k = 1, \dots, 6$, in both modes (cross-dataset with $\lceil k/2 \rceil$ private slots, the official
# default): how does the price grow with $k$ at a fixed budget? A small CNN (two $3 \times 3$ convolutions
# with 8 and 16 channels, a max-pool and a linear read-out) is trained 60 epochs at $k = 1, 2, 4$ and
# cross-dataset $k = 4$, and tested every 5 epochs: does the price shrink with training, and how far? The
# claims are judged on the CNN after its last epoch, the best-trained classifier of this chapter.

# %%
config = TrainingConfig(epochs=EPOCHS)


def test_accuracy(scheme, seed):
    model = train_classifier(
        private[train],
        onehot[train],
        scheme,
        config,
        rng(seed, f"keys-{scheme}"),
        torch_generator(seed, "init"),
        public.reshape(len(public), -1),
    )
    return accuracy(model, private[test], digit_labels[test])


training_seeds = [SEED + offset for offset in range(TRAINING_SEEDS)]
plain_accuracy = np.array(
    [test_accuracy(None, seed) for seed in training_seeds]
)
cross_ks = [k for k in KS if k > 1]  # cross k = 1 is inside k = 1
inside_accuracy = np.array(
    [
        [test_accuracy(ih.inside(k), seed) for k in KS]
        for seed in training_seeds
    ]
)
cross_accuracy = np.array(
    [
        [test_accuracy(ih.cross(k), seed) for k in cross_ks]
        for seed in training_seeds
    ]
)

# %%
cnn_config = TrainingConfig(epochs=CNN_EPOCHS, model="cnn")
cnn_schemes = {f"inside k={k}": ih.inside(k) for k in CURVE_KS}
if 4 in CURVE_KS:
    cnn_schemes["cross k=4"] = ih.cross(4)


def cnn_curve(scheme):
    """Clean test accuracy every CNN_EVERY epochs of one CNN run."""
    return learning_curve(
        private[train],
        onehot[train],
        scheme,
        cnn_config,
        rng(SEED, f"cnn-keys-{scheme}"),
        torch_generator(SEED, "cnn-init"),
        private[test],
        digit_labels[test],
        CNN_EVERY,
        public.reshape(len(public), -1),
    )


cnn_epochs = np.arange(CNN_EVERY, CNN_EPOCHS + 1, CNN_EVERY)
cnn_plain = cnn_curve(None)
cnn_curves = {name: cnn_curve(s) for name, s in cnn_schemes.items()}

# %% tags=["hide-input"]
fig, axes = book.figure(1, 2, height=3.2)
plots.accuracy_vs_k(
    axes[0],
    {
        "inside-dataset": (KS, inside_accuracy),
        "cross-dataset": (cross_ks, cross_accuracy),
    },
    plain_accuracy,
)
axes[0].set_title(f"MLP, {EPOCHS} epochs")
plots.accuracy_vs_epochs(axes[1], cnn_epochs, cnn_curves, cnn_plain)
axes[1].set_title("small CNN, learning curves")
# SGD on CPU with one thread is deterministic; the tolerance only absorbs
# BLAS summation-order changes.
book.save_figure(
    fig,
    "fig3-accuracy-vs-k",
    data={
        "ks": KS,
        "cross_ks": cross_ks,
        "plain": plain_accuracy,
        "inside": inside_accuracy,
        "cross": cross_accuracy,
        "cnn_epochs": cnn_epochs,
        "cnn_plain": cnn_plain,
        **{f"cnn/{name}": curve for name, curve in cnn_curves.items()},
    },
    caption="Clean test accuracy when training on InstaHide encryptions. "
    f"Left: an MLP after {EPOCHS} epochs, against k. Right: a small CNN "
    "during training, plain and encrypted.",
    rtol=0,
    atol=0.02,
)

# %% [markdown]
# The cross-dataset curve on the left zigzags for a simple reason: with $\lceil k/2 \rceil$ private slots
# out of $k$, the private images carry about half of the weight at even $k$ but about two thirds at $k = 3$
# and three fifths at $k = 5$, so the digit is easier to see at odd $k$.

# %%
def mean_private_weight(k):
    """Mean total weight of the ⌈k/2⌉ private slots, cross-dataset."""
    weights = ih.sample_coefficients(
        rng(SEED, "share"), 20_000, ih.cross(k)
    )
    return float(weights[:, : -(-k // 2)].sum(axis=1).mean())


private_share = {k: mean_private_weight(k) for k in cross_ks}
print(
    "mean private weight, cross-dataset:",
    {k: round(share, 3) for k, share in private_share.items()},
)

# %% [markdown]
# **Why the price is high here, and what lowers it.** Nothing in the encryption is wrong (the sanity checks
# above hold, and plain training reaches the usual accuracy on these digits). Three measured facts explain
# the gap. First, the budget: plain training is done within a few epochs, while the encrypted curves on the
# right keep rising for most of the run (cross-dataset $k = 4$ until its end), and every setting costs the
# MLP far more after its 100 epochs than the CNN after 60 (table below), although both see one fresh
# encryption of each image per epoch. A sign-flipped, mixed digit carries its class only through features that ignore the
# per-pixel sign, and a network needs many passes of fresh encryptions to find them; the paper's ResNet-18
# sees 50 000 images for 200 epochs, over a hundred times more gradient steps than the CNN here (printed
# below). Second, the
# architecture: convolutions find those features much sooner than the MLP, for a similar CPU time. Third,
# the label: cross-dataset labels are not renormalised (they sum to the private weight, often near a half),
# which shrinks the gradient and slows early training: the CNN's cross-dataset curve idles for its first
# epochs and then catches up with inside-dataset $k = 4$, and the MLP's cross-dataset accuracy after 100
# epochs is the lowest of the figure. The table prints the accuracy lost against plain training with the
# same network and budget. The upshot: at this scale only $k = 1$ (the sign flip alone) comes
# close to the post's "slightly worse", and reaching it at $k = 2$ and $k = 4$ would need a longer run or a
# larger network than a CPU chapter affords; the claims below say so.

# %%
mlp_drop = {
    f"inside k={k}": float(
        plain_accuracy.mean() - inside_accuracy.mean(axis=0)[KS.index(k)]
    )
    for k in CURVE_KS
    if k in KS
}
if 4 in cross_ks:
    mlp_drop["cross k=4"] = float(
        plain_accuracy.mean()
        - cross_accuracy.mean(axis=0)[cross_ks.index(4)]
    )
cnn_drop = {
    name: float(cnn_plain[-1] - curve[-1])
    for name, curve in cnn_curves.items()
}
print(
    f"accuracy lost to encryption (plain: MLP "
    f"{plain_accuracy.mean():.3f}, CNN {cnn_plain[-1]:.3f})"
)
steps_here = CNN_EPOCHS * -(-N_TRAIN // cnn_config.batch_size)
steps_paper = 200 * -(-50_000 // cnn_config.batch_size)
print(
    f"SGD steps: CNN here {steps_here}, ResNet-18 in the paper "
    f"{steps_paper} ({steps_paper / steps_here:.0f} times more)"
)
print(f"{'setting':12s} {'MLP':>12s} {'CNN':>12s}")
for name in cnn_drop:
    mlp = f"{mlp_drop[name]:.3f}" if name in mlp_drop else "-"
    print(f"{name:12s} {mlp:>12s} {cnn_drop[name]:>12.3f}")

# %%
cnn_small_k = [
    name for name, k in zip(cnn_curves, CURVE_KS, strict=False) if k <= 2
]
worst_small_k = min(cnn_curves[name][-1] for name in cnn_small_k)
drop_small_k = float(cnn_plain[-1] - worst_small_k)
reason = (
    f"a CNN on 8×8 digits after {CNN_EPOCHS} epochs of 1200 images (its "
    "curve still rising) and an MLP after "
    f"{EPOCHS}; the paper's ResNet-18 trained 200 epochs on CIFAR-10's "
    "50 000 images"
)
passed = drop_small_k <= 0.05
book.claim(
    "Accuracy cost at small k is modest: inside-dataset k ≤ 2 loses ≤ 5 "
    "points of clean test accuracy (CNN, last epoch)",
    passed,
    not_reproduced=None if passed else reason,
    plain=float(cnn_plain[-1]),
    worst_small_k=float(worst_small_k),
    drop=drop_small_k,
    mlp_drop_small_k=max(
        mlp_drop[f"inside k={k}"] for k in CURVE_KS if k <= 2 and k in KS
    ),
)
if 4 in CURVE_KS:
    inside_k4 = float(cnn_curves["inside k=4"][-1])
    cross_k4 = float(cnn_curves["cross k=4"][-1])
    drop_k4 = float(cnn_plain[-1] - min(inside_k4, cross_k4))
    passed = drop_k4 <= 0.05
    book.claim(
        "Post: training on encryptions is only slightly worse than plain "
        "training — k = 4 (inside and cross) within 5 points (CNN, last "
        "epoch)",
        passed,
        not_reproduced=None if passed else reason,
        plain=float(cnn_plain[-1]),
        inside_k4=inside_k4,
        cross_k4=cross_k4,
        drop=drop_k4,
        mlp_drop_k4=max(mlp_drop["inside k=4"], mlp_drop["cross k=4"]),
    )

# %% [markdown]
# ## Figure 4 — step 1 of the attack: which encryptions share a private image?
#
# The attacker sees $n \cdot T$ encryptions ($T$ epochs of $n$ private images) and their mixed labels. The
# random signs hide nothing from $|\text{encryption}|$, which is the absolute value of the mix, so two
# encryptions that contain the same private image tend to have correlated absolute values. We score every
# pair by that correlation and measure, with the ROC AUC, how well it separates pairs that share a private
# image from pairs that do not (AUC 0.5 = chance). Carlini et al. trained a network for this score; the
# research notes predicted (threshold fixed in advance) that the plain correlation falls below an AUC of
# 0.6 at the challenge's setting, $k = 6$ with two private slots.

# %%
attacked = private[train[:N_ATTACKED]]
attacked_onehot = onehot[train[:N_ATTACKED]]
auc_ks = [k for k in KS if k > 1]
T_AUC = max(ATTACK_EPOCHS)


def encryptions_of(scheme, epochs, stream):
    return ih.encrypt_epochs(
        attacked, attacked_onehot, scheme, epochs, public, rng(SEED, stream)
    )


auc = {}
modes = (
    ("inside-dataset", ih.inside),
    ("cross-dataset, 2 private", lambda k: ih.cross(k, pair=True)),
)
for mode, make in modes:
    values = []
    for k in auc_ks:
        encryptions, _, keys = encryptions_of(
            make(k), T_AUC, f"auc-{mode}-{k}"
        )
        values.append(
            attack.pair_auc(
                attack.abs_similarity(encryptions),
                attack.membership(keys, make(k), N_ATTACKED),
            )
        )
    auc[mode] = np.array(values)

# %% tags=["hide-input"]
fig, ax = book.figure(height=3.0)
plots.curves(
    ax,
    auc_ks,
    auc,
    "k (images mixed)",
    "AUC of corr(|e_a|, |e_b|)",
    reference=0.5,
    reference_label="chance",
)
ax.set_xticks(auc_ks)  # k is a whole number of images
book.save_figure(
    fig,
    "fig4-similarity-auc",
    data={"ks": auc_ks, **auc},
    caption="How well the correlation of absolute values detects a shared "
    f"private image (n = {N_ATTACKED}, T = {T_AUC}).",
)

# %%
inside_auc = auc["inside-dataset"]
cross_auc = auc["cross-dataset, 2 private"]
book.claim(
    "The naive similarity's AUC decreases with k (inside-dataset, every "
    "step)",
    bool(np.all(np.diff(inside_auc) < 0)),
    auc=inside_auc,
)
if 6 in auc_ks:
    book.claim(
        "At the challenge setting (k = 6, 2 private slots) the naive "
        "similarity's AUC is below 0.6",
        bool(cross_auc[auc_ks.index(6)] < 0.6),
        auc_k6_cross=float(cross_auc[auc_ks.index(6)]),
    )

# %% [markdown]
# ## Figure 5 — grouping, then recovery
#
# From the similarity, the attacker grows $n$ groups greedily (each group starts from the encryption least
# similar to the groups so far and repeatedly adds the encryption most similar to its members), then
# assigns each encryption to the groups it resembles most, as many as there are private slots. The
# released label of an encryption holds the weight of each private slot at that slot's class, so each group
# gets the majority class of its members and each encryption the weight at its groups' classes.
# Recovery then fits images $P$ to the absolute values, minimising
# $\operatorname{mean}\,(|e| - |\textstyle\sum_j \lambda_j P_{a_j}|)^2$ with Adam (Carlini et al.'s step 5;
# the public images are unknown and act as noise). The loss cannot see one sign per pixel shared by all
# images, so quality is measured as the correlation of $|P_{\text{recovered}}|$ with $|P|$ (median over
# images). The same recovery with the **true** grouping and weights is the upper reference, and the
# correlation of the average $|\text{digit}|$ with each $|P|$ is what one gets without any attack.

# %%
book_schemes = {
    "inside k=2": ih.inside(2),
    "inside k=4": ih.inside(4),
    "cross k=4": ih.cross(4, pair=True),
    "cross k=6": ih.cross(6, pair=True),
}
attack_schemes = book.by_profile(
    PROFILE,
    smoke={"inside k=2": ih.inside(2), "cross k=6": ih.cross(6, pair=True)},
    book=book_schemes,
    paper=book_schemes,
)
flat_attacked = attacked.reshape(N_ATTACKED, -1)
mean_abs_digit = np.abs(private[train]).reshape(N_TRAIN, -1).mean(axis=0)
no_attack = float(
    np.median(
        attack.abs_correlations(
            np.broadcast_to(mean_abs_digit, flat_attacked.shape),
            flat_attacked,
        )
    )
)
recovery = {
    name: {"grouped": [], "true": [], "grouping_accuracy": []}
    for name in attack_schemes
}
galleries = {}
for name, scheme in attack_schemes.items():
    for epochs in ATTACK_EPOCHS:
        encryptions, labels, keys = encryptions_of(
            scheme, epochs, f"attack-{name}-{epochs}"
        )
        grouped = attack.attack(
            encryptions,
            labels,
            attacked,
            keys,
            scheme,
            attack.abs_similarity(encryptions),
            steps=ATTACK_STEPS,
        )
        true = attack.attack(
            encryptions,
            labels,
            attacked,
            keys,
            scheme,
            None,
            steps=ATTACK_STEPS,
        )
        recovery[name]["grouped"].append(float(np.median(grouped.quality)))
        recovery[name]["true"].append(float(np.median(true.quality)))
        recovery[name]["grouping_accuracy"].append(
            grouped.grouping_accuracy
        )
        galleries[name] = (grouped.recovered, true.recovered)
recovery = {
    name: {key: np.array(values) for key, values in entry.items()}
    for name, entry in recovery.items()
}

# %% [markdown]
# **A learned similarity.** Carlini et al. replaced the correlation by a network trained on encryptions they
# made themselves. In miniature: the attacker encrypts digits of his own (the test split, disjoint from the
# private images) with the same scheme, so he knows which of his encryptions share an image, and fits a
# one-hidden-layer MLP (scikit-learn) on symmetric features of pairs of centred $|e|$. We use it at the
# challenge-like setting only (k = 6, two private slots, largest T), where the correlation is weakest.

# %%
learned_scheme = attack_schemes["cross k=6"]
auxiliary = private[test[:AUXILIARY]]
aux_encryptions, _, aux_keys = ih.encrypt_epochs(
    auxiliary,
    onehot[test[:AUXILIARY]],
    learned_scheme,
    max(ATTACK_EPOCHS),
    public,
    rng(SEED, "auxiliary"),
)
scorer = attack.fit_similarity(
    aux_encryptions,
    attack.membership(aux_keys, learned_scheme, AUXILIARY),
    rng(SEED, "scorer"),
    max_iter=SCORER_ITERATIONS,
)
encryptions, labels, keys = encryptions_of(
    learned_scheme,
    max(ATTACK_EPOCHS),
    f"attack-cross k=6-{max(ATTACK_EPOCHS)}",
)
learned = attack.learned_similarity(scorer, encryptions)
learned_result = attack.attack(
    encryptions,
    labels,
    attacked,
    keys,
    learned_scheme,
    learned,
    steps=ATTACK_STEPS,
)
members_k6 = attack.membership(keys, learned_scheme, N_ATTACKED)
learned_auc = attack.pair_auc(learned, members_k6)
naive_auc = attack.pair_auc(attack.abs_similarity(encryptions), members_k6)
learned_quality = float(np.median(learned_result.quality))
galleries["learned"] = learned_result.recovered

# %% tags=["hide-input"]
fig, axes = book.figure(1, 2, height=3.9)
plots.recovery_vs_epochs(
    axes[0], ATTACK_EPOCHS, recovery, no_attack, legend=False
)
plots.recovery_vs_grouping(
    axes[1],
    recovery,
    no_attack,
    (learned_result.grouping_accuracy, learned_quality),
    "cross k=6",
    legend=False,
)
# one key for both panels, under them: colour = scheme, marker = grouping
plots.recovery_legend(fig, list(recovery), "cross k=6")
book.save_figure(
    fig,
    "fig5-recovery",
    data={
        "T": ATTACK_EPOCHS,
        "no_attack": no_attack,
        "learned_grouping_accuracy": learned_result.grouping_accuracy,
        "learned_quality": learned_quality,
        **{
            f"{name}/{key}": values
            for name, entry in recovery.items()
            for key, values in entry.items()
        },
    },
    caption="Recovery quality against T (left) and against grouping "
    f"accuracy (right; n = {N_ATTACKED}).",
)

# %% [markdown]
# **How the next two checks were set.** The post and the paper make these points qualitatively: the
# correlation of absolute values is a poor grouping signal at the challenge setting, the grouping is what
# limits recovery, and a learned similarity does better. The margin of 0.1 in median correlation for "the
# grouping is the bottleneck" was written down after a first prototype run of this chapter, not before any
# data, so read it as a description of this run; the measured gap (printed in the claims table) is several
# times larger than the margin. The learned-similarity check has no margin: it only asks that the learned
# score be better on all three counts (AUC, grouping accuracy, recovery).

# %%
challenge = recovery["cross k=6"]
at_20 = ATTACK_EPOCHS.index(20) if 20 in ATTACK_EPOCHS else -1
book.claim(
    "With the true grouping, step-5 recovery at k = 6 (2 private), T = 20 "
    "reaches median corr(|recovered|, |P|) ≥ 0.8",
    bool(20 in ATTACK_EPOCHS and challenge["true"][at_20] >= 0.8),
    median_corr=float(challenge["true"][at_20]),
    T=int(ATTACK_EPOCHS[at_20]),
)
gap = float(challenge["true"][-1] - challenge["grouped"][-1])
book.claim(
    "The grouping is the bottleneck: at k = 6 (2 private), largest T, "
    "recovery from the naive grouping trails the true grouping by ≥ 0.1 "
    "in median correlation",
    gap >= 0.1,
    gap=gap,
    grouping_accuracy=float(challenge["grouping_accuracy"][-1]),
)

naive_grouping = float(challenge["grouping_accuracy"][-1])
naive_quality = float(challenge["grouped"][-1])
book.claim(
    "A learned similarity (Carlini et al.'s remedy) beats plain "
    "correlation at k = 6, 2 private: higher AUC, higher grouping "
    "accuracy and better recovery",
    bool(
        learned_auc > naive_auc
        and learned_result.grouping_accuracy > naive_grouping
        and learned_quality > naive_quality
    ),
    learned_auc=learned_auc,
    naive_auc=naive_auc,
    learned_grouping=learned_result.grouping_accuracy,
    naive_grouping=naive_grouping,
    learned_quality=learned_quality,
    naive_quality=naive_quality,
)

# %% [markdown]
# **The attack at the challenge setting, against doing nothing.** The dotted line of Figure 5 is what an
# attacker gets without any attack: the average $|\text{digit}|$ already correlates with every $|P|$, since
# all digits share a dark background and a bright centre. An attack is only worth its name above that
# line. At $k = 6$ with two private slots (largest $T$), the numbers are printed below. The recovery
# step itself is sound: given the true grouping it recovers the digits well. What fails is step 1: the
# correlation of absolute values barely separates pairs that share a private image (its AUC in Figure 4),
# because each private digit carries only a small share of the weight of a mix whose other four images
# are photo patches (the mean share is printed below), and because all digits look alike in absolute
# value. Its greedy groups are then
# mostly wrong, each recovered image is an average over encryptions of unrelated digits, and the
# result is no better than the average digit. The learned similarity, trained on the attacker's own
# encryptions, groups better and lifts the recovery above the line; the right panel of Figure 5 shows how
# the recovery grows with grouping accuracy. So the attack needs a similarity good enough to group
# encryptions correctly, which Carlini et al. bought with a network trained for 10 GPU-hours; at this
# scale the plain correlation does not provide it.

# %%
challenge_rows = {
    "no attack (average |digit|)": (None, no_attack),
    "correlation grouping": (naive_grouping, naive_quality),
    "learned similarity": (
        learned_result.grouping_accuracy,
        learned_quality,
    ),
    "true grouping": (1.0, float(challenge["true"][-1])),
}
print(f"k = 6, 2 private, T = {max(ATTACK_EPOCHS)}, n = {N_ATTACKED}")
print(f"{'':30s} {'grouping acc.':>14s} {'median corr':>12s}")
for name, (grouping, quality) in challenge_rows.items():
    shown = "-" if grouping is None else f"{grouping:.3f}"
    print(f"{name:30s} {shown:>14s} {quality:>12.3f}")
print(f"naive AUC {naive_auc:.3f}, learned AUC {learned_auc:.3f}")
share_k6 = ih.sample_coefficients(
    rng(SEED, "share"), 20_000, learned_scheme
)
print(f"mean weight of one private slot: {share_k6[:, 0].mean():.3f}")

# %% [markdown]
# **Thresholds of the next two checks, fixed before the run that judges them** (after the issue that
# prompted them had reported this run's numbers): the learned and the true grouping beat the no-attack
# line by at least 0.1 in median correlation; the correlation grouping does not beat it by more than 0.05.

# %%
beats = {
    name: quality - no_attack
    for name, (_, quality) in challenge_rows.items()
    if name != "no attack (average |digit|)"
}
book.claim(
    "At k = 6 (2 private), largest T, the learned similarity's and the "
    "true grouping's recoveries beat the no-attack baseline by ≥ 0.1",
    bool(
        beats["learned similarity"] >= 0.1
        and beats["true grouping"] >= 0.1
    ),
    no_attack=no_attack,
    learned_margin=beats["learned similarity"],
    true_margin=beats["true grouping"],
)
book.claim(
    "At k = 6 (2 private), largest T, the correlation grouping's recovery "
    "is no better than no attack (margin over it ≤ 0.05)",
    bool(beats["correlation grouping"] <= 0.05),
    no_attack=no_attack,
    correlation_quality=naive_quality,
    margin=beats["correlation grouping"],
)

# %% [markdown]
# ## Figure 6 — what the attacker sees
#
# Absolute values of the first eight private images at the challenge-like setting (k = 6, two private
# slots, largest T) and their recoveries with the true grouping, the learned grouping and the correlation
# grouping. Absolute values are shown because the recovery is defined only up to a per-pixel sign.

# %% tags=["hide-input"]
grouped_images, true_images = galleries["cross k=6"]
rows = {
    "original |P|": np.abs(flat_attacked),
    "true grouping": np.abs(true_images),
    "learned grouping": np.abs(galleries["learned"]),
    "correlation grouping": np.abs(grouped_images),
}
fig, axes = book.figure(4, 8, height=3.3)
for row, (title, images) in enumerate(rows.items()):
    for column in range(8):
        plots.show_image(axes[row, column], images[column].reshape(8, 8))
    # the row's name on its left, level: a title per image would be tiny
    axes[row, 0].set_ylabel(
        title.replace(" ", "\n", 1), rotation=0, ha="right", va="center"
    )
book.save_figure(
    fig,
    "fig6-recovered-images",
    data={name: images[:8] for name, images in rows.items()},
    caption="Columns: the first eight private digits (absolute values, "
    "top row). Rows below: their recoveries from k = 6 encryptions "
    f"(T = {max(ATTACK_EPOCHS)}) with the true grouping, the learned "
    "grouping and the correlation grouping.",
)

# %% [markdown]
# ## Figure 7 — the random-number lesson
#
# The challenge was decrypted pixel-perfectly without any of the above: its keys came from a generator
# seeded with a 32-bit number, and Carlini et al. tried all $2^{32}$ seeds (about 120 CPU-hours). We
# repeat this on a seed space of $2^{12}$: encrypt with `numpy.random.default_rng(secret)`, then, for each
# candidate seed, regenerate the sign mask that seed would have drawn, un-mask the first four encryptions and
# score how smooth they look (total variation): only the right mask turns the encryptions back into
# smooth mixes. With the seed in hand, every weight, partner and sign is known, and (the public patches
# being public) the private images solve a linear least-squares problem exactly. The library's own default
# draws each key from a `SeedSequence` holding 128 bits from the operating system (`secrets`), which
# leaves the same search $2^{128-12} = 2^{116}$ times larger than the book profile's.

# %%
seed_scheme = ih.cross(6, pair=True)
secret = int(rng(SEED, "secret").integers(2**SEED_BITS))
seed_public = public[:N_SEED_PUBLIC]
seeded_encryptions, _, seeded_keys = ih.encrypt_epochs(
    attacked,
    attacked_onehot,
    seed_scheme,
    2,
    seed_public,
    np.random.default_rng(secret),
)
first_epoch = seeded_encryptions[:N_ATTACKED]
candidates = np.arange(2**SEED_BITS)
started = time.perf_counter()
scores = attack.seed_scores(
    first_epoch, candidates, seed_scheme, N_SEED_PUBLIC
)
seconds_per_candidate = (time.perf_counter() - started) / len(candidates)
found = int(candidates[np.argmin(scores)])
found_rng = np.random.default_rng(found)
found_keys = [
    ih.draw_key(found_rng, N_ATTACKED, N_SEED_PUBLIC, 64, seed_scheme)
    for _ in range(2)
]
solution, residual = attack.solve_private(
    seeded_encryptions, found_keys, seed_scheme, N_ATTACKED, seed_public
)
recovery_error = float(np.abs(solution - flat_attacked).max())
runner_up_ratio = float(np.sort(scores)[1] / scores.min())
print(
    f"{seconds_per_candidate * 1e6:.0f} µs per candidate on this machine: "
    f"2^32 seeds would take {2**32 * seconds_per_candidate / 3600:.0f} "
    f"CPU-hours, 2^128 seeds "
    f"{2**128 * seconds_per_candidate / 3.15e7:.1e} CPU-years."
)

# %% tags=["hide-input"]
fig, ax = book.figure(height=2.8)
plots.seed_scores(ax, candidates, scores, secret)
book.save_figure(
    fig,
    "fig7-seed-search",
    data={"scores": scores, "secret": secret, "found": found},
    caption=f"Score of every {SEED_BITS}-bit seed; the secret seed is the "
    "unique minimum.",
)

# %%
book.claim(
    "Enumerating the seed space finds the secret seed, and the key it "
    "regenerates recovers the private images exactly (max error < 1e-8)",
    found == secret and recovery_error < 1e-8,
    secret=secret,
    found=found,
    recovery_error=recovery_error,
    runner_up_ratio=runner_up_ratio,
)
default_generator = ih.secure_generator()
entropy_bits = ih.KEY_ENTROPY_BITS
# A setting of the library (the entropy it requests), not a measurement:
# it guards the default, so it is a sanity check.
book.sanity_check(
    "Library setting: default keys are seeded with ≥ 128 bits from the OS "
    "secure source, so the same search would need 2^128 candidates",
    isinstance(default_generator.bit_generator.seed_seq.entropy, int)
    and entropy_bits >= 128,
    key_bits=entropy_bits,
    bits_searched_here=SEED_BITS,
)

# %% [markdown]
# ## Claims and sanity checks

# %% tags=["remove-input"]
book.claims_table()
