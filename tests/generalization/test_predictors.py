import numpy as np
import pytest
from offconvex.generalization import predictors
from scipy import stats


def test_closeness_counts_the_band():
    result = predictors.closeness([0.1, 0.2, 0.5], [0.1, 0.25, 0.2], band=0.05)
    assert result["mae"] == pytest.approx((0 + 0.05 + 0.3) / 3)
    assert result["max_gap"] == pytest.approx(0.3)
    assert result["within_band"] == pytest.approx(2 / 3)
    with pytest.raises(ValueError):
        predictors.closeness([], [], 0.1)


def test_granulated_kendall_on_a_grid():
    design = predictors.grid(a=(0, 1, 2), b=(0, 1))
    a = np.array([d["a"] for d in design])
    b = np.array([d["b"] for d in design])
    true = a + 10 * b  # a raises the error within every b; b raises it within every a
    # a score that follows a but ranks b backwards: tau 1 along a, -1 along b, Psi 0
    score = a - 10 * b
    result = predictors.granulated_kendall(score, true, {"a": a, "b": b})
    assert result["a"] == pytest.approx(1.0) and result["b"] == pytest.approx(-1.0)
    assert result["psi"] == pytest.approx(0.0)
    # while the global tau of that score is something else entirely
    assert stats.kendalltau(score, true).statistic < 0
    # a perfect score has Psi 1
    assert predictors.granulated_kendall(true, true, {"a": a, "b": b})["psi"] == pytest.approx(1.0)


def test_grid_is_full_factorial():
    design = predictors.grid(x=(1, 2), y=("p", "q", "r"), z=(True, False))
    assert len(design) == 12 and len({tuple(d.values()) for d in design}) == 12


def test_margin_feature_is_scale_free_and_line_recovers():
    rng = np.random.default_rng(0)
    margins, scale = rng.random((4, 50)), rng.random(4) + 0.5
    feature = predictors.normalized_margin_feature(margins, scale)
    np.testing.assert_allclose(predictors.normalized_margin_feature(3 * margins, 3 * scale), feature)
    np.testing.assert_allclose(feature, np.quantile(margins, 0.25, axis=1) / scale)
    slope, intercept = predictors.fit_line([0, 1, 2, 3], [1.0, 0.5, 0.0, -0.5])
    assert slope == pytest.approx(-0.5) and intercept == pytest.approx(1.0)


def test_split_halves_partition():
    fit, held = predictors.split_halves(11, np.random.default_rng(0))
    assert len(fit) == 5 and len(held) == 6
    np.testing.assert_array_equal(np.sort(np.concatenate([fit, held])), np.arange(11))
