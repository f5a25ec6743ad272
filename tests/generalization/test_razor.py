import numpy as np
import pytest
from offconvex.generalization import razor


def test_hoeffding_closed_form():
    bound = razor.meta_overfitting_bound(1032, 50_000, delta=0.01)
    expected = np.sqrt((1032 * np.log(2) + np.log(100)) / (2 * 50_000))
    assert bound == pytest.approx(expected, rel=1e-12)
    assert bound == pytest.approx(0.0848, abs=5e-4)  # research note, plain Hoeffding at N = 50k


def test_bound_scales_like_sqrt_bits_over_n():
    small = razor.meta_overfitting_bound(1e4, 1e5, delta=0.5)
    assert razor.meta_overfitting_bound(4e4, 1e5, delta=0.5) / small == pytest.approx(2, rel=1e-4)
    assert razor.meta_overfitting_bound(1e4, 4e5, delta=0.5) / small == pytest.approx(0.5, rel=1e-12)


def test_kl_inverse_solves_kl_equation_and_beats_hoeffding():
    error, budget = 0.0449, (1032 * np.log(2) + np.log(100)) / 50_000
    upper = razor.kl_upper_inverse(error, budget)
    assert razor.binary_kl(error, upper) == pytest.approx(budget, rel=1e-9)
    kl_bound = razor.meta_overfitting_bound(1032, 50_000, 0.01, error=error, form="kl")
    assert kl_bound < razor.meta_overfitting_bound(1032, 50_000, 0.01)
    # Pinsker: kl >= 2 (q - p)^2, so the kl bound never exceeds Hoeffding's; the relative form upper-bounds it
    assert kl_bound <= razor.meta_overfitting_bound(1032, 50_000, 0.01, error=error, form="relative")


def test_binary_kl_against_scipy_entropy():
    from scipy.stats import entropy

    assert razor.binary_kl(0.3, 0.6) == pytest.approx(entropy([0.3, 0.7], [0.6, 0.4]), rel=1e-12)
    assert razor.binary_kl(0.0, 0.5) == pytest.approx(np.log(2), rel=1e-12)


def test_relative_form_matches_post_for_resnet152():
    # what the chapter states: sqrt(2 e L / N) + L / N at N = 50k, delta = 0.01 gives 5.04 % vs the post's 5 %
    bound = razor.meta_overfitting_bound(1032, 50_000, 0.01, error=0.0449, form="relative")
    assert bound == pytest.approx(0.0504, abs=5e-5)


def test_nonadaptive_and_adaptive_scales():
    assert razor.nonadaptive_max_deviation(1, 100, delta=2 / np.e) == pytest.approx(np.sqrt(1 / 200))
    assert razor.adaptive_worst_case(400, 100) == pytest.approx(2.0)


def test_description_length_is_prefix_free_fixed_length():
    vocabulary = ["a", "b", "c"]  # 3 words + end marker = 4 codewords = 2 bits each
    assert razor.description_length_bits(["a", "c", "a"], vocabulary) == 8
    assert razor.description_length_bits([], vocabulary) == 2


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: razor.meta_overfitting_bound(-1, 10), "bits"),
        (lambda: razor.meta_overfitting_bound(10, 0), "n_test"),
        (lambda: razor.meta_overfitting_bound(10, 10, delta=1.5), "delta"),
        (lambda: razor.meta_overfitting_bound(10, 10, form="pac"), "form"),
        (lambda: razor.meta_overfitting_bound(10, 10, form="kl"), "error"),
        (lambda: razor.kl_upper_inverse(1.2, 0.1), "error"),
        (lambda: razor.description_length_bits(["z"], ["a"]), "'z'"),
        (lambda: razor.description_length_bits(["a"], ["a", "a"]), "duplicates"),
    ],
)
def test_bad_arguments_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()
