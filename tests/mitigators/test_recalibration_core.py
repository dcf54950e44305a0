"""Tests of the per-group additive recalibration."""

from __future__ import annotations

import numpy as np
import pytest

from fairautoml.mitigators._recalibration_core import GroupRecalibration

BIAS = np.array([0.0, 2.0, -1.5])


def _biased(n: int = 3000, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """y = x + noise; the model's scores are x + a known bias per group."""
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, 3, size=n)
    x = rng.normal(size=n)
    y = x + rng.normal(scale=0.5, size=n)
    return y, x + BIAS[groups], groups


def test_full_strength_removes_the_bias() -> None:
    y, scores, groups = _biased()
    fitted = GroupRecalibration.fit(y, scores, groups, 3)
    np.testing.assert_allclose(fitted.offsets, -BIAS, atol=0.05)
    out = fitted.apply(scores, groups)
    for g in range(3):
        assert abs(np.mean(y[groups == g] - out[groups == g])) < 1e-12
        assert (
            np.mean((y - out)[groups == g] ** 2) < np.mean((y - scores)[groups == g] ** 2) + 1e-12
        )
    # held-out rows from the same distribution are corrected too
    y_new, scores_new, groups_new = _biased(seed=1)
    out_new = fitted.apply(scores_new, groups_new)
    for g in range(3):
        assert abs(np.mean((y_new - out_new)[groups_new == g])) < 0.05


def test_zero_strength_is_identity_and_strength_scales() -> None:
    y, scores, groups = _biased()
    assert np.array_equal(
        GroupRecalibration.fit(y, scores, groups, 3, strength=0.0).apply(scores, groups), scores
    )
    full = GroupRecalibration.fit(y, scores, groups, 3).offsets
    half = GroupRecalibration.fit(y, scores, groups, 3, strength=0.5).offsets
    np.testing.assert_allclose(half, 0.5 * full)


def test_absolute_loss_uses_the_median() -> None:
    rng = np.random.default_rng(2)
    groups = np.repeat([0, 1], 501)
    scores = np.zeros(groups.size)
    # skewed residuals: mean and median differ
    y = rng.exponential(scale=1.0, size=groups.size) + np.where(groups == 1, 3.0, 0.0)
    fitted = GroupRecalibration.fit(y, scores, groups, 2, loss="absolute")
    expected = [np.median(y[groups == g]) for g in range(2)]
    np.testing.assert_allclose(fitted.offsets, expected)
    assert not np.allclose(fitted.offsets, [np.mean(y[groups == g]) for g in range(2)], atol=0.1)
    out = fitted.apply(scores, groups)
    for g in range(2):
        assert abs(np.median((y - out)[groups == g])) < 1e-12


def test_noise_only_group_gets_no_meaningful_offset() -> None:
    rng = np.random.default_rng(3)
    groups = np.repeat([0, 1], 2000)
    x = rng.normal(size=groups.size)
    y = x + rng.normal(scale=np.where(groups == 1, 3.0, 0.1))
    fitted = GroupRecalibration.fit(y, x, groups, 2)
    assert np.abs(fitted.offsets).max() < 0.2


def test_blind_with_one_hot_equals_group_aware() -> None:
    y, scores, groups = _biased()
    fitted = GroupRecalibration.fit(y, scores, groups, 3, strength=0.7)
    assert np.array_equal(
        fitted.apply_blind(scores, np.eye(3)[groups]), fitted.apply(scores, groups)
    )
    uniform = np.full((scores.size, 3), 1 / 3)
    np.testing.assert_allclose(fitted.apply_blind(scores, uniform), scores + fitted.offsets.mean())


def test_invalid_inputs_error() -> None:
    y, scores, groups = _biased(n=60)
    with pytest.raises(ValueError, match=r"Unknown loss 'pinball'\. Available: absolute, squared"):
        GroupRecalibration.fit(y, scores, groups, 3, loss="pinball")
    with pytest.raises(ValueError, match="strength must lie in"):
        GroupRecalibration.fit(y, scores, groups, 3, strength=1.5)
    with pytest.raises(ValueError, match=r"Group code\(s\) \[3\] have no fitting rows"):
        GroupRecalibration.fit(y, scores, groups, 4)
    fitted = GroupRecalibration.fit(y, scores, groups, 3)
    with pytest.raises(ValueError, match=r"Unknown group code\(s\) \[5\]"):
        fitted.apply(scores, np.full(scores.size, 5))
    with pytest.raises(ValueError, match="summing to 1"):
        fitted.apply_blind(scores, np.ones((scores.size, 3)))
