"""Tests of the partial transport to the groups' Wasserstein barycenter."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from scipy.stats import ks_2samp

from fairautoml.mitigators._transport_core import BarycenterTransport


def _groups_data(sizes: list[int], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Distinct continuous scores with a different location and spread per group."""
    rng = np.random.default_rng(seed)
    scores = np.concatenate([rng.normal(2.0 * g, 1.0 + g, size=n) for g, n in enumerate(sizes)])
    groups = np.concatenate([np.full(n, g) for g, n in enumerate(sizes)])
    assert np.unique(scores).size == scores.size
    return scores, groups


def _brute_force_target(scores: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """The barycenter map on the fitting rows, one row at a time, from the definition.

    A row of rank k (1-based) in its group of size m has level u = (k - 1/2) / m; each group's
    quantile function is the linear interpolation through ((j - 1/2) / n_s, sort(scores_s)[j]),
    constant beyond its end points; the target is the share-weighted sum of those quantiles.
    """
    labels = sorted(set(groups.tolist()))
    sorted_by_group = {s: sorted(scores[groups == s].tolist()) for s in labels}
    share = {s: float(np.mean(groups == s)) for s in labels}

    def quantile(values: list[float], u: float) -> float:
        n = len(values)
        pos = u * n - 0.5  # fractional 0-based index
        if pos <= 0:
            return values[0]
        if pos >= n - 1:
            return values[-1]
        j = int(np.floor(pos))
        return values[j] + (pos - j) * (values[j + 1] - values[j])

    out = np.empty(scores.size)
    for i in range(scores.size):
        own = sorted_by_group[groups[i]]
        k = own.index(scores[i]) + 1
        u = (k - 0.5) / len(own)
        out[i] = sum(share[s] * quantile(sorted_by_group[s], u) for s in labels)
    return out


@pytest.mark.parametrize("n_groups", [2, 3])
def test_full_transport_is_the_sorted_order_average_on_equal_sizes(n_groups: int) -> None:
    scores, groups = _groups_data([50] * n_groups)
    fitted = BarycenterTransport.fit(scores, groups, n_groups)
    out = fitted.transport(scores, groups, fraction=1.0)
    bary = sum(np.sort(scores[groups == s]) / n_groups for s in range(n_groups))
    for s in range(n_groups):
        rows = groups == s
        ranks = np.argsort(np.argsort(scores[rows]))
        np.testing.assert_allclose(out[rows], bary[ranks], rtol=0, atol=1e-12)
    for a in range(n_groups):
        for b in range(a + 1, n_groups):
            assert ks_2samp(out[groups == a], out[groups == b]).statistic == 0.0
    assert ks_2samp(scores[groups == 0], scores[groups == 1]).statistic > 0.3


def test_full_transport_matches_brute_force_on_unequal_sizes() -> None:
    scores, groups = _groups_data([30, 70, 45], seed=1)
    fitted = BarycenterTransport.fit(scores, groups, 3)
    np.testing.assert_allclose(fitted.shares, [30 / 145, 70 / 145, 45 / 145])
    out = fitted.transport(scores, groups, fraction=1.0)
    np.testing.assert_allclose(out, _brute_force_target(scores, groups), rtol=0, atol=1e-12)
    # the groups' transported distributions differ only by their grids' resolution
    for a, b in [(0, 1), (0, 2), (1, 2)]:
        assert ks_2samp(out[groups == a], out[groups == b]).statistic <= 0.05


def test_fraction_zero_is_identity_and_between_is_linear() -> None:
    scores, groups = _groups_data([40, 60], seed=2)
    fitted = BarycenterTransport.fit(scores, groups, 2)
    assert np.array_equal(fitted.transport(scores, groups, 0.0), scores)
    full = fitted.transport(scores, groups, 1.0)
    for t in (0.25, 0.6):
        np.testing.assert_allclose(
            fitted.transport(scores, groups, t), (1 - t) * scores + t * full, atol=1e-12
        )
    # partial transport shrinks the gap between the groups' means proportionally
    gap = scores[groups == 1].mean() - scores[groups == 0].mean()
    half = fitted.transport(scores, groups, 0.5)
    half_gap = half[groups == 1].mean() - half[groups == 0].mean()
    assert abs(half_gap - 0.5 * gap) < 0.05 * abs(gap)


def test_monotone_within_group_on_fitting_and_new_rows() -> None:
    scores, groups = _groups_data([40, 60], seed=3)
    fitted = BarycenterTransport.fit(scores, groups, 2)
    grid = np.linspace(scores.min() - 3, scores.max() + 3, 500)
    for g in range(2):
        for values in (np.sort(scores[groups == g]), grid):
            for t in (0.3, 1.0):
                out = fitted.transport(values, np.full(values.size, g), t)
                assert (np.diff(out) >= -1e-12).all()
        # distinct fitting scores keep a strict order under full transport
        out = fitted.transport(np.sort(scores[groups == g]), np.full((groups == g).sum(), g), 1.0)
        assert (np.diff(out) > 0).all()


def test_repeatable_and_independent_of_the_batch() -> None:
    scores, groups = _groups_data([40, 60], seed=4)
    fitted = BarycenterTransport.fit(scores, groups, 2)
    rng = np.random.default_rng(5)
    new = rng.normal(1.0, 2.0, size=200)
    new_groups = rng.integers(0, 2, size=200)
    keys = rng.integers(0, 2**62, size=200)
    first = fitted.transport(new, new_groups, 0.7, row_keys=keys)
    assert np.array_equal(first, fitted.transport(new, new_groups, 0.7, row_keys=keys))
    for i in (0, 17, 199):
        one = fitted.transport(new[i : i + 1], new_groups[i : i + 1], 0.7, row_keys=keys[i : i + 1])
        assert one[0] == first[i]
    order = rng.permutation(200)
    shuffled = fitted.transport(new[order], new_groups[order], 0.7, row_keys=keys[order])
    assert np.array_equal(shuffled, first[order])
    restored = pickle.loads(pickle.dumps(fitted))
    assert np.array_equal(restored.transport(new, new_groups, 0.7, row_keys=keys), first)


def test_new_rows_stay_within_the_barycenter_range() -> None:
    scores, groups = _groups_data([40, 60], seed=6)
    fitted = BarycenterTransport.fit(scores, groups, 2)
    bary_low = sum(p * q[0] for p, q in zip(fitted.shares, fitted.quantiles, strict=True))
    bary_high = sum(p * q[-1] for p, q in zip(fitted.shares, fitted.quantiles, strict=True))
    new = np.array([-1e6, -5.0, 0.1, 1.3, 2.7, 9.0, 1e6])
    for g in range(2):
        out = fitted.transport(new, np.full(new.size, g), 1.0)
        assert (out >= bary_low - 1e-12).all() and (out <= bary_high + 1e-12).all()
        # beyond the group's fitted range a score is sent where the group's extreme score goes
        own = scores[groups == g]
        ends = fitted.transport(np.array([own.min(), own.max()]), np.full(2, g), 1.0)
        assert out[0] == ends[0] and out[-1] == ends[1]


def test_new_rows_are_sent_to_the_barycenter_distribution() -> None:
    rng = np.random.default_rng(7)
    scores = np.r_[rng.normal(0, 1, 1500), rng.normal(3, 2, 1500)]
    groups = np.repeat([0, 1], 1500)
    fitted = BarycenterTransport.fit(scores, groups, 2)
    new = np.r_[rng.normal(0, 1, 1500), rng.normal(3, 2, 1500)]
    out = fitted.transport(new, groups, 1.0)
    assert ks_2samp(out[groups == 0], out[groups == 1]).statistic < 0.06
    assert ks_2samp(new[groups == 0], new[groups == 1]).statistic > 0.4


def test_blind_with_one_hot_equals_group_aware() -> None:
    scores, groups = _groups_data([40, 60, 30], seed=8)
    fitted = BarycenterTransport.fit(scores, groups, 3)
    one_hot = np.eye(3)[groups]
    for t in (0.0, 0.4, 1.0):
        assert np.array_equal(
            fitted.transport_blind(scores, one_hot, t), fitted.transport(scores, groups, t)
        )


def test_blind_with_uninformative_proba_applies_the_average_map() -> None:
    scores, groups = _groups_data([40, 60], seed=9)
    fitted = BarycenterTransport.fit(scores, groups, 2)
    proba = np.full((scores.size, 2), 0.5)
    expected = 0.5 * fitted.transport(scores, np.zeros(scores.size, int), 1.0) + 0.5 * (
        fitted.transport(scores, np.ones(scores.size, int), 1.0)
    )
    np.testing.assert_allclose(fitted.transport_blind(scores, proba, 1.0), expected, atol=1e-12)


def test_ties_spread_with_row_keys_and_share_a_value_without() -> None:
    rng = np.random.default_rng(10)
    # group 0 is a tree-like model's output: few distinct values
    scores = np.r_[rng.choice([1.0, 2.0, 3.0], size=300), rng.normal(2.0, 1.0, size=300)]
    groups = np.repeat([0, 1], 300)
    fitted = BarycenterTransport.fit(scores, groups, 2)
    plain = fitted.transport(scores, groups, 1.0)
    assert np.unique(plain[groups == 0]).size == 3
    keys = rng.integers(0, 2**62, size=600)
    spread = fitted.transport(scores, groups, 1.0, row_keys=keys)
    assert np.unique(spread[groups == 0]).size > 250
    assert ks_2samp(spread[groups == 0], spread[groups == 1]).statistic < 0.1
    assert ks_2samp(plain[groups == 0], plain[groups == 1]).statistic > 0.15
    # tied rows keep their tie's slice of the barycenter: order across tie values is preserved
    for low, high in [(1.0, 2.0), (2.0, 3.0)]:
        assert (
            spread[(groups == 0) & (scores == low)].max()
            <= spread[(groups == 0) & (scores == high)].min()
        )
    # a different seed spreads differently, the same seed identically
    other = BarycenterTransport.fit(scores, groups, 2, random_state=1)
    assert not np.array_equal(other.transport(scores, groups, 1.0, row_keys=keys), spread)


def test_quantile_grid_stays_close_to_exact() -> None:
    rng = np.random.default_rng(11)
    scores = np.r_[rng.normal(0, 1, 5000), rng.lognormal(0.5, 0.5, 3000)]
    groups = np.repeat([0, 1], [5000, 3000])
    exact = BarycenterTransport.fit(scores, groups, 2, max_points=10_000)
    grid = BarycenterTransport.fit(scores, groups, 2, max_points=256)
    assert [q.size for q in grid.quantiles] == [256, 256]
    assert [q.size for q in exact.quantiles] == [5000, 3000]
    new = np.r_[rng.normal(0, 1, 2000), rng.lognormal(0.5, 0.5, 2000)]
    new_groups = np.repeat([0, 1], 2000)
    gap = np.abs(grid.transport(new, new_groups, 1.0) - exact.transport(new, new_groups, 1.0))
    spread = np.std(scores)
    # the chords differ from the exact quantile function most in the sparse tails
    assert np.median(gap) < 0.002 * spread and np.quantile(gap, 0.99) < 0.02 * spread
    assert gap.max() < 0.5 * spread


def test_sample_weights_weight_shares_and_quantiles() -> None:
    scores, groups = _groups_data([1000, 1500], seed=12)
    rng = np.random.default_rng(13)
    weights = rng.integers(1, 4, size=scores.size).astype(float)
    weighted = BarycenterTransport.fit(scores, groups, 2, sample_weight=weights)
    repeated = BarycenterTransport.fit(
        np.repeat(scores, weights.astype(int)), np.repeat(groups, weights.astype(int)), 2
    )
    np.testing.assert_allclose(weighted.shares, repeated.shares)
    new = np.linspace(-2, 6, 300)
    for g in range(2):
        # away from the extreme rows, where a heavy row's level differs from its copies' levels
        low, high = np.quantile(scores[groups == g], [0.01, 0.99])
        inner = new[(new > low) & (new < high)]
        a = weighted.transport(inner, np.full(inner.size, g), 1.0)
        b = repeated.transport(inner, np.full(inner.size, g), 1.0)
        assert np.abs(a - b).max() < 0.02 * np.std(scores)
    # zero-weight rows are left out, as if absent
    dropped = weights.copy()
    dropped[::7] = 0.0
    zero = BarycenterTransport.fit(scores, groups, 2, sample_weight=dropped)
    kept = dropped > 0
    without = BarycenterTransport.fit(scores[kept], groups[kept], 2, sample_weight=dropped[kept])
    assert np.array_equal(
        zero.transport(new, np.zeros(300, int), 0.8),
        without.transport(new, np.zeros(300, int), 0.8),
    )


def test_absent_and_unknown_groups_error() -> None:
    scores, groups = _groups_data([20, 20], seed=14)
    with pytest.raises(ValueError, match=r"Group code\(s\) \[2\] have no fitting rows"):
        BarycenterTransport.fit(scores, groups, 3)
    fitted = BarycenterTransport.fit(scores, groups, 2)
    with pytest.raises(ValueError, match=r"Unknown group code\(s\) \[2\]"):
        fitted.transport(scores, np.full(scores.size, 2), 0.5)
    with pytest.raises(ValueError, match="fraction must lie in"):
        fitted.transport(scores, groups, 1.5)
    with pytest.raises(ValueError, match="group_proba must have shape"):
        fitted.transport_blind(scores, np.ones((scores.size, 3)) / 3, 0.5)
    with pytest.raises(ValueError, match="summing to 1"):
        fitted.transport_blind(scores, np.ones((scores.size, 2)), 0.5)
