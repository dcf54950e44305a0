"""ThresholdOptimizer on many validation rows: thresholds on score quantiles."""

from __future__ import annotations

import numpy as np
from fairlearn.postprocessing import ThresholdOptimizer

from fairautoml.mitigators.threshold_optimizer import _PrefitScores, score_levels


def _scores(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    groups = (rng.random(n) < 0.3).astype(int)
    scores = 1.0 / (1.0 + np.exp(-(rng.normal(size=n) + 0.8 * groups)))
    y = (rng.random(n) < scores).astype(int)
    return scores, y, groups


def _fit(levels: np.ndarray | None, scores, y, groups) -> ThresholdOptimizer:
    optimizer = ThresholdOptimizer(
        estimator=_PrefitScores(levels),
        constraints="demographic_parity",
        prefit=True,
        predict_method="predict",
        tol=0.04,
    )
    return optimizer.fit(scores[:, None], y, sensitive_features=groups)


def test_few_distinct_scores_are_used_as_they_are():
    scores = np.repeat(np.linspace(0.0, 1.0, 100), 50)
    assert score_levels(scores, max_levels=256) is None
    assert _PrefitScores(None).predict(scores[:, None]) is not scores  # a float copy
    np.testing.assert_array_equal(_PrefitScores(None).predict(scores[:, None]), scores)


def test_levels_map_scores_monotonically_onto_at_most_max_levels():
    scores, _, _ = _scores(20_000)
    levels = score_levels(scores, max_levels=256)
    assert levels is not None and len(levels) <= 256
    mapped = _PrefitScores(levels).predict(np.sort(scores)[:, None])
    assert np.all(np.diff(mapped) >= 0)  # the order of the scores is kept
    assert np.all(mapped >= np.sort(scores))  # each score goes to the nearest level above
    assert len(np.unique(mapped)) <= 256
    # scores past the fitted range map to the last level
    assert _PrefitScores(levels).predict(np.array([[2.0]]))[0] == levels[-1]


def test_thresholds_on_levels_lose_no_accuracy_and_keep_the_bound():
    scores, y, groups = _scores(20_000)
    exact = _fit(None, scores, y, groups)
    binned = _fit(score_levels(scores, max_levels=256), scores, y, groups)

    def expected(optimizer: ThresholdOptimizer) -> tuple[float, float]:
        p = optimizer._pmf_predict(scores[:, None], sensitive_features=groups)[:, 1]
        accuracy = float(np.mean(p * y + (1 - p) * (1 - y)))
        rates = [p[groups == g].mean() for g in (0, 1)]
        return accuracy, abs(rates[0] - rates[1])

    (acc_exact, _), (acc_binned, gap_binned) = expected(exact), expected(binned)
    assert abs(acc_binned - acc_exact) < 0.002
    assert gap_binned <= 0.04 + 1e-6
