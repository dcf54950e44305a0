"""Rows whose group is unknown: ``missing_groups="error" | "exclude" | "infer"``.

The groups of the other rows are checked as before; fairness is measured on the rows
whose group is known ("exclude") or also on the others through their inferred
memberships ("infer"); whatever fits to the groups gets only the rows whose group is
known, but for the post-processors that take weights under "infer" (the soft rows too);
bad uses are clear errors."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference
from scipy.special import log_softmax
from sklearn.metrics import log_loss

from fairautoml import FairAutoML, FairAutoMLRegressor
from fairautoml.cli import main
from fairautoml.data.groups import UNKNOWN_GROUP, GroupEncoder
from fairautoml.data.messages import SENSITIVE_HAS_NAN
from fairautoml.data.missing_groups import (
    calibrated,
    drawn_groups,
    fairness_rows,
    fitted_calibration,
    infer_membership,
    shifted_to_unknown_shares,
)
from fairautoml.data.prepare import prepare_fit_data
from fairautoml.data.splits import split_train_validation
from fairautoml.estimators.params import MISSING_GROUPS_AT_PREDICT
from fairautoml.exceptions import ConfigurationError, GroupInferenceWarning, InputError
from fairautoml.measures.constraints import (
    evaluate_constraints,
    evaluate_intervals,
    parse_constraints,
)
from fairautoml.measures.decisions import bootstrap_rates
from fairautoml.measures.row_copies import RowCopies, counted
from fairautoml.study.trial import make_group_classifier
from fairautoml.tasks import get_task

BINARY = get_task("binary")
LOOSE = "demographic_parity_difference <= 0.9"  # met by any model: no pick warning
FAST = dict(n_trials=2, time_budget=None, learners=["logistic_regression"], cv_folds=None,
            confirm=False, random_state=0)  # fmt: skip


def table(n: int = 600, hidden: float = 0.3, seed: int = 0):
    """Features that reveal the group (``proxy``), a target, and the group with a share of
    it hidden (None)."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b"], size=n, p=[0.6, 0.4])
    proxy = (group == "b") * 2.0 + rng.normal(0, 0.5, n)
    x = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(x + 0.8 * (group == "b"))))).astype(int)
    s = pd.Series(group, name="group", dtype=object)
    s[rng.random(n) < hidden] = None
    return pd.DataFrame({"x": x, "proxy": proxy}), pd.Series(y, name="y"), s, group


# --- the data -----------------------------------------------------------------------------


def test_default_error_names_the_other_modes():
    X, y, s, _ = table()
    with pytest.raises(InputError) as info:
        FairAutoML(**FAST, constraints=LOOSE).fit(X, y, sensitive_features=s)
    message = str(info.value)
    assert "missing_groups='exclude'" in message and "missing_groups='infer'" in message


def test_unknown_rows_get_their_own_code_and_the_known_groups_are_checked():
    X, y, s, _ = table()
    data = prepare_fit_data(X, y, s, task=BINARY, missing_groups="exclude")
    assert data.group_encoder.labels == ["a", "b"]
    assert (data.groups == UNKNOWN_GROUP).sum() == s.isna().sum()
    assert data.known.sum() == s.notna().sum()
    assert data.missing_groups == "exclude"
    assert s.isna().sum() > 0  # the user's values are not changed
    tiny = s.copy()
    tiny[(tiny == "b").to_numpy().nonzero()[0][3:]] = None  # three rows of group b known
    with pytest.raises(InputError, match="'b'"):
        prepare_fit_data(X, y, tiny, task=BINARY, missing_groups="exclude")


def test_a_mode_without_missing_values_changes_nothing():
    X, y, _, group = table()
    plain = FairAutoML(**FAST, constraints=LOOSE).fit(X, y, sensitive_features=group)
    excl = FairAutoML(**FAST, constraints=LOOSE, missing_groups="infer")
    excl.fit(X, y, sensitive_features=group)
    pd.testing.assert_frame_equal(
        plain.leaderboard_.drop(columns=["fit_time"]), excl.leaderboard_.drop(columns=["fit_time"])
    )
    assert excl.best_config_["missing_groups"] == "error"
    assert excl.best_config_["n_unknown_group"] == 0


def test_every_value_missing_and_a_bad_mode_are_errors():
    X, y, s, _ = table()
    with pytest.raises(InputError, match="no group is known"):
        prepare_fit_data(X, y, pd.Series([None] * len(X)), task=BINARY, missing_groups="infer")
    with pytest.raises(ConfigurationError, match="missing_groups must be one of"):
        FairAutoML(**FAST, missing_groups="drop").fit(X, y, sensitive_features=s)
    with pytest.raises(ConfigurationError, match="sensitive_at_predict=True"):
        FairAutoML(**FAST, missing_groups="exclude", sensitive_at_predict=True).fit(
            X, y, sensitive_features=s
        )


def test_encoder_leaves_missing_rows_out_of_its_groups_and_bins():
    frame = pd.DataFrame({"age": [20, np.nan, 30, 50, np.inf]})
    encoder = GroupEncoder.fit(frame, {"age": "quantiles:2"}, allow_missing=True)
    assert encoder.bins["age"] == [30.0]  # the median of the known ages
    assert encoder.encode(frame, allow_missing=True).tolist() == [0, -1, 1, 1, -1]
    with pytest.raises(InputError, match="missing or infinite"):
        encoder.encode(frame)


def test_split_keeps_two_rows_of_every_known_group_and_class_in_validation():
    rng = np.random.default_rng(1)
    groups = rng.choice([-1, 0, 1], size=300, p=[0.5, 0.3, 0.2])
    y = rng.integers(0, 2, 300)
    train, val = split_train_validation(y, groups, 0.25, 0)
    assert len(np.intersect1d(train, val)) == 0 and len(train) + len(val) == 300
    for g in (0, 1):
        for c in (0, 1):
            assert ((groups[val] == g) & (y[val] == c)).sum() >= 2
    share = (groups[val] == -1).mean()
    assert 0.4 < share < 0.6  # rows without a group are a stratum of their own


# --- measuring ----------------------------------------------------------------------------


def test_fairness_rows_keep_known_rows_and_spread_the_others_by_membership():
    groups = np.array([0, -1, 1, -1])
    excl = fairness_rows(groups)
    assert excl.index.tolist() == [0, 2] and excl.groups.tolist() == [0, 1]
    assert excl.weight is None
    membership = np.array([[1, 0], [0.25, 0.75], [0, 1], [1.0, 0.0]])
    infer = fairness_rows(groups, membership)
    assert infer.index.tolist() == [0, 1, 1, 2, 3]  # by row, then group
    assert infer.groups.tolist() == [0, 0, 1, 1, 0]
    assert infer.weight.tolist() == [1, 0.25, 0.75, 1, 1.0]
    # memberships alone: no row copies
    assert counted(infer.index, infer.weight, infer.plain) is infer.weight


def test_rectified_rows_add_the_known_rows_error_scaled_to_the_unknown_rows():
    """Two known rows of group 0 (held out: 0.6 and 1.0 in group 0), one of group 1 (held
    out 0.5), two unknown rows whose memberships sum to 1.5 in group 0 and 0.5 in group 1:
    each known row of group 0 adds 1.5 / 2 (own - held out), the one of group 1 0.5 / 1."""
    groups = np.array([0, 0, 1, -1, -1])
    membership = np.array([[1, 0], [1, 0], [0, 1], [0.9, 0.1], [0.6, 0.4]])
    held_out = np.array([[0.6, 0.4], [1.0, 0.0], [0.5, 0.5], [0.9, 0.1], [0.6, 0.4]])
    rows = fairness_rows(groups, membership, held_out=held_out)
    weight = np.zeros((5, 2))
    weight[rows.index, rows.groups] = rows.weight
    expected = [[1 + 0.75 * 0.4, -0.75 * 0.4], [1, 0], [-0.5 * 0.5, 1 + 0.5 * 0.5],
                [0.9, 0.1], [0.6, 0.4]]  # fmt: skip
    np.testing.assert_allclose(weight, expected)
    plain = np.zeros((5, 2))
    plain[rows.index, rows.groups] = rows.plain
    np.testing.assert_allclose(plain, [[1, 0], [1, 0], [0, 1], [0.9, 0.1], [0.6, 0.4]])
    copies = counted(rows.index, rows.weight, rows.plain)
    assert isinstance(copies, RowCopies) and copies.rows.tolist() == rows.index.tolist()
    # the rectifier moves weight between groups: every row still counts once in all
    np.testing.assert_allclose(weight.sum(axis=1), 1.0)


def test_rectified_rates_undo_the_memberships_pull_towards_parity():
    """Groups hidden three times as often in group 1, memberships from a weak feature: the
    memberships pull the groups' selection rates together, the rectified estimate keeps
    them (within its noise) where the true groups put them."""
    rng = np.random.default_rng(7)
    n = 40_000
    g = (rng.random(n) < 0.4).astype(int)
    x = rng.normal(0.8 * g, 1.0)  # a weak proxy of the group
    pred = (rng.random(n) < 0.3 + 0.2 * g).astype(int)
    hidden = rng.random(n) < np.where(g == 1, 0.9, 0.3)
    like = np.stack([np.exp(-0.5 * x**2), np.exp(-0.5 * (x - 0.8) ** 2)], axis=1)
    posterior = like * np.array([0.6, 0.4])
    posterior /= posterior.sum(axis=1, keepdims=True)
    unknown_share = np.mean(g[hidden])  # group 1's share among the unknown rows

    def moved(share: float) -> np.ndarray:
        p = posterior * np.array([(1 - share) / 0.6, share / 0.4])
        return p / p.sum(axis=1, keepdims=True)

    groups = np.where(hidden, -1, g)
    membership = np.eye(2)[g]
    membership[hidden] = moved(unknown_share)[hidden]
    held_out = moved(unknown_share)  # the known rows' memberships, moved the same way
    y = np.zeros(n, dtype=int)
    gap = {}
    for name, held in (("memberships", None), ("rectified", held_out)):
        rows = fairness_rows(groups, membership, held_out=held)
        by = counted(rows.index, rows.weight, rows.plain)
        values = evaluate_constraints(
            parse_constraints("demographic_parity_difference <= 0.1"),
            rows.take(y), rows.take(pred), rows.groups, membership=by,
        )  # fmt: skip
        gap[name] = values["demographic_parity_difference"]
    assert gap["memberships"] < 0.17  # pulled towards parity from 0.2
    assert gap["rectified"] == pytest.approx(0.2, abs=0.02)


def test_rectified_bootstrap_draws_each_row_once_for_all_its_groups():
    """Row copies are bootstrapped as rows: every entry of a row takes the row's Poisson(1)
    draw times its weight (checked against that, done by hand). With 80% of the groups
    hidden and weak memberships the rectifier carries most of the spread, and drawing a
    row's entries independently would understate a gap's spread."""
    rng = np.random.default_rng(8)
    n = 3000
    groups = rng.integers(0, 2, n)
    pred = (rng.random(n) < 0.3 + 0.2 * groups).astype(int)
    y = np.zeros(n, dtype=int)
    hidden = groups.copy()
    hidden[: int(0.8 * n)] = -1
    weak = 0.1 * np.eye(2)[groups] + 0.45
    membership = np.where((hidden == -1)[:, None], weak, np.eye(2)[groups])
    held_out = weak
    rows = fairness_rows(hidden, membership, held_out=held_out)
    rates = bootstrap_rates(
        rows.take(y), rows.take(pred), rows.groups, 2000, random_state=0,
        membership=counted(rows.index, rows.weight, rows.plain),
    )  # fmt: skip
    ours = rates["selection"][:, 1] - rates["selection"][:, 0]
    weight = np.zeros((n, 2))
    weight[rows.index, rows.groups] = rows.weight

    def gap(w: np.ndarray) -> float:
        return float(np.diff((w * pred[:, None]).sum(0) / w.sum(0))[0])

    by_hand = [gap(rng.poisson(1.0, (n, 1)) * weight) for _ in range(2000)]
    assert np.mean(ours) == pytest.approx(np.mean(by_hand), abs=0.005)
    assert np.std(ours) == pytest.approx(np.std(by_hand), rel=0.1)
    independent = [gap(rng.poisson(1.0, (n, 2)) * weight) for _ in range(2000)]
    assert np.std(independent) < 0.9 * np.std(by_hand)


def test_membership_weighted_values_are_fairlearns_with_sample_weight():
    rng = np.random.default_rng(2)
    n = 400
    y, pred = rng.integers(0, 2, n), rng.integers(0, 2, n)
    groups = rng.choice([0, 1, -1], size=n)
    p = rng.dirichlet([1, 1], size=n)
    rows = fairness_rows(groups, p)
    cs = parse_constraints(
        ["demographic_parity_difference <= 0.1", "equalized_odds_difference <= 0.1"]
    )
    values = evaluate_constraints(
        cs, rows.take(y), rows.take(pred), rows.groups, membership=rows.weight
    )
    kwargs = dict(sensitive_features=rows.groups, sample_weight=rows.weight)
    expected_dp = demographic_parity_difference(rows.take(y), rows.take(pred), **kwargs)
    expected_eo = equalized_odds_difference(rows.take(y), rows.take(pred), **kwargs)
    assert values["demographic_parity_difference"] == pytest.approx(expected_dp)
    assert values["equalized_odds_difference"] == pytest.approx(expected_eo)


def test_hard_memberships_bootstrap_exactly_as_known_groups():
    rng = np.random.default_rng(3)
    n = 300
    y, pred, groups = rng.integers(0, 2, n), rng.integers(0, 2, n), rng.integers(0, 2, n)
    hidden = groups.copy()
    hidden[:100] = -1
    onehot = np.eye(2)[groups]
    rows = fairness_rows(hidden, onehot)
    hard = bootstrap_rates(y, pred, groups, 50, random_state=0)
    soft = bootstrap_rates(
        rows.take(y), rows.take(pred), rows.groups, 50, random_state=0, membership=rows.weight
    )
    for rate in ("selection", "tpr", "fpr"):
        np.testing.assert_allclose(hard[rate], soft[rate])


def test_membership_bootstrap_is_resampling_rows_and_drawing_their_groups():
    """Poisson(membership) cell counts are, in distribution, each row drawn Poisson(1)
    times with its group drawn from its membership: checked against that, done by hand."""
    rng = np.random.default_rng(4)
    n = 1500
    groups = rng.integers(0, 2, n)
    y = rng.integers(0, 2, n)
    pred = (rng.random(n) < 0.3 + 0.2 * groups).astype(int)
    hidden = groups.copy()
    hidden[: n // 2] = -1
    membership = 0.6 * np.eye(2)[groups] + 0.2
    rows = fairness_rows(hidden, membership)
    rates = bootstrap_rates(
        rows.take(y), rows.take(pred), rows.groups, 2000, random_state=0, membership=rows.weight
    )
    ours = rates["selection"][:, 1] - rates["selection"][:, 0]
    by_hand = []
    for _ in range(2000):
        count = rng.poisson(1.0, n)
        drawn = np.where(hidden >= 0, hidden, (rng.random(n) < membership[:, 1]).astype(int))
        share = [np.sum(count * pred * (drawn == g)) / np.sum(count * (drawn == g)) for g in (0, 1)]
        by_hand.append(share[1] - share[0])
    assert np.mean(ours) == pytest.approx(np.mean(by_hand), abs=0.005)
    assert np.std(ours) == pytest.approx(np.std(by_hand), rel=0.1)


def test_regression_measures_take_memberships():
    rng = np.random.default_rng(5)
    n = 300
    y = rng.normal(size=n)
    pred = y + rng.normal(0, 0.5, n)
    groups = rng.choice([0, 1, -1], size=n)
    rows = fairness_rows(groups, rng.dirichlet([1, 1], size=n))
    cs = parse_constraints(["demographic_parity_ks <= 0.3", "mean_absolute_error_difference <= 1"])
    args = (cs, rows.take(y), rows.take(pred), rows.groups)
    values = evaluate_constraints(*args, membership=rows.weight)
    intervals = evaluate_intervals(*args, membership=rows.weight, random_state=0)
    weighted = evaluate_intervals(
        *args, membership=rows.weight, sample_weight=np.full(len(rows.index), 2.0), random_state=0
    )
    for c in cs:
        low, high = intervals[c.metric]
        assert low <= values[c.metric] + 0.05 and values[c.metric] - 0.05 <= high
        assert weighted[c.metric] == pytest.approx(intervals[c.metric], abs=0.1)


# --- inferring ----------------------------------------------------------------------------


def test_membership_follows_a_revealing_feature_and_says_how_well():
    X, y, s, truth = table(n=800, hidden=0.4)
    data = prepare_fit_data(X, y, s, task=BINARY, missing_groups="infer")
    membership, _, quality = infer_membership(
        data.X, data.y, data.groups, 2, lambda: make_group_classifier(0), 0
    )
    unknown = ~data.known
    codes = np.where(truth == "b", 1, 0)
    assert (membership[unknown].argmax(axis=1) == codes[unknown]).mean() > 0.9
    assert quality["balanced_accuracy"] > 0.9 and quality["unknown_share"] == pytest.approx(
        unknown.mean()
    )
    np.testing.assert_allclose(membership.sum(axis=1), 1.0)


def posteriors(n: int, share_b: float, known_share_b: float, seed: int):
    """Rows of two groups with ``share_b`` of group b, x | group ~ N(0 or 1.5, 1), and
    each row's exact P(group | x) under the share ``known_share_b`` (as learnt on rows
    where b is that common)."""
    rng = np.random.default_rng(seed)
    g = (rng.random(n) < share_b).astype(int)
    x = rng.normal(1.5 * g, 1.0)
    like = np.stack([np.exp(-0.5 * x**2), np.exp(-0.5 * (x - 1.5) ** 2)], axis=1)
    joint = like * np.array([1 - known_share_b, known_share_b])
    return g, joint / joint.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("share_b", [0.3, 0.7])
def test_memberships_move_to_the_shares_of_the_rows_without_a_group(share_b):
    g, proba = posteriors(20_000, share_b, known_share_b=0.3, seed=1)
    adjusted, shares = shifted_to_unknown_shares(proba, np.array([0.7, 0.3]))
    assert shares[1] == pytest.approx(np.mean(g), abs=0.02)
    np.testing.assert_allclose(adjusted.mean(axis=0), shares)
    np.testing.assert_allclose(adjusted.sum(axis=1), 1.0)

    # the shares maximize the unknown rows' likelihood: a grid of shares finds no better
    def loglik(b: float) -> float:
        ratio = np.array([(1 - b) / 0.7, b / 0.3])
        return float(np.log((proba * ratio).sum(axis=1)).sum())

    grid = np.linspace(0.01, 0.99, 197)
    best = grid[np.argmax([loglik(b) for b in grid])]
    assert shares[1] == pytest.approx(best, abs=0.006)
    assert loglik(shares[1]) >= max(loglik(b) for b in grid) - 1e-6


def test_calibration_keeps_the_groups_shares_and_sharpens_over_confidence():
    """Over-confident probabilities of four groups, two of them rare: the temperature
    softens them, the biases keep their mean at the groups' shares (a temperature alone
    would lift the rare groups, and re-weighting to new shares would then run away)."""
    rng = np.random.default_rng(0)
    shares = np.array([0.5, 0.35, 0.1, 0.05])
    g = rng.choice(4, size=20_000, p=shares)
    logit = rng.normal(0, 1, (len(g), 4)) + 1.0 * np.eye(4)[g] + np.log(shares)
    proba = np.exp(log_softmax(3.0 * logit, axis=1))  # over-confident by a factor of 3
    temperature, bias = fitted_calibration(proba, g)
    assert temperature == pytest.approx(3.0, rel=0.15)
    fitted = calibrated(proba, temperature, bias)
    np.testing.assert_allclose(fitted.mean(axis=0), np.bincount(g) / len(g), atol=2e-3)
    assert log_loss(g, fitted) < log_loss(g, proba)
    # missing at random: the shares of the rows without a group stay the known ones
    _, moved = shifted_to_unknown_shares(fitted[:5000], np.bincount(g) / len(g))
    np.testing.assert_allclose(moved, np.bincount(g[:5000]) / 5000, atol=0.03)


def test_a_group_absent_from_the_known_rows_stays_absent():
    proba = np.array([[0.5, 0.5, 0.0], [0.2, 0.8, 0.0], [1.0, 0.0, 0.0]])
    adjusted, shares = shifted_to_unknown_shares(proba, np.array([0.5, 0.5, 0.0]))
    assert shares[2] == 0.0 and np.all(adjusted[:, 2] == 0.0)
    np.testing.assert_allclose(adjusted.sum(axis=1), 1.0)
    empty, known = shifted_to_unknown_shares(np.zeros((0, 3)), np.array([0.5, 0.5, 0.0]))
    assert empty.shape == (0, 3) and known.tolist() == [0.5, 0.5, 0.0]


def test_groups_hidden_more_in_one_group_are_measured_at_their_true_rates():
    """Group b hides its attribute four times as often as a: the known rows are mostly a,
    and memberships with the known rows' shares would pull b's rate towards a's."""
    X, y, s, truth = table(n=8000, hidden=0.0, seed=3)
    rng = np.random.default_rng(4)
    X["proxy"] = (truth == "b") * 1.5 + rng.normal(0, 1.0, len(X))  # a weaker proxy
    s[rng.random(len(s)) < np.where(truth == "b", 0.8, 0.2)] = None
    data = prepare_fit_data(X, y, s, task=BINARY, missing_groups="infer")
    membership, _, quality = infer_membership(
        data.X, data.y, data.groups, 2, lambda: make_group_classifier(0), 0
    )
    unknown = ~data.known
    # the known rows' share of b is 0.14, among the others it is 0.72
    assert quality["unknown_shares"][1] == pytest.approx(np.mean(truth[unknown] == "b"), abs=0.07)
    assert quality["known_shares"][1] == pytest.approx(np.mean(truth[~unknown] == "b"))
    decision = (X["proxy"] > 0.5).to_numpy().astype(float)  # decides without the group
    codes = (truth == "b").astype(int)
    true_gap = decision[codes == 1].mean() - decision[codes == 0].mean()
    rates = (membership * decision[:, None]).sum(axis=0) / membership.sum(axis=0)
    assert rates[1] - rates[0] == pytest.approx(true_gap, abs=0.04)


def test_drawn_groups_keep_the_known_and_follow_the_memberships():
    """Known rows keep their group; each other row falls in a group with its membership
    (over many rows, each group's share is the memberships' mean), the same for a seed."""
    rng = np.random.default_rng(0)
    n = 20000
    groups = np.where(rng.random(n) < 0.4, UNKNOWN_GROUP, rng.integers(0, 3, n))
    membership = rng.dirichlet([1.0, 2.0, 0.5], size=n)
    membership[groups != UNKNOWN_GROUP] = np.eye(3)[groups[groups != UNKNOWN_GROUP]]
    drawn = drawn_groups(groups, membership, 7)
    known = groups != UNKNOWN_GROUP
    assert (drawn[known] == groups[known]).all() and (drawn >= 0).all() and (drawn < 3).all()
    shares = np.bincount(drawn[~known], minlength=3) / np.sum(~known)
    np.testing.assert_allclose(shares, membership[~known].mean(axis=0), atol=0.015)
    # a row's draw follows its own membership, not only the shares: the first group's
    # likely rows land in it more often
    likely = membership[~known, 0] > 0.6
    assert np.mean(drawn[~known][likely] == 0) > 0.6 > np.mean(drawn[~known][~likely] == 0)
    np.testing.assert_array_equal(drawn, drawn_groups(groups, membership, 7))
    certain = np.eye(3)[[2, 1]]  # a membership of one: that group, always
    assert drawn_groups(np.array([UNKNOWN_GROUP] * 2), certain, 1).tolist() == [2, 1]
    assert drawn_groups(np.array([0, 1]), certain, 1).tolist() == [0, 1]  # none unknown


def test_poor_inference_warns_and_measures_on_the_known_rows():
    """Memberships near the groups' shares would pull every group's rate together: the
    claim is measured on the rows whose group is known, as under "exclude"."""
    from fairautoml.estimators.context import search_context
    from fairautoml.report.card import compute_verdict

    X, y, s, _ = table(n=600, hidden=0.5)
    X = X.drop(columns=["proxy"])  # nothing reveals the group
    automl = FairAutoML(**FAST, constraints=LOOSE, missing_groups="infer")
    with pytest.warns(GroupInferenceWarning, match="measured on the rows whose group is known"):
        automl.fit(X, y, sensitive_features=s)
    quality = automl.best_config_["group_inference"]
    assert quality["measured_on"] == "known rows" and quality["skill"] < 0.3
    with pytest.warns(GroupInferenceWarning):
        ctx, _ = search_context(automl.get_params(), X, y, s)
    assert ctx.data.membership is None
    val_groups = ctx.data.groups[ctx.val_idx]
    assert ctx.fairness_rows.index.tolist() == np.flatnonzero(val_groups >= 0).tolist()
    said = [w for w in compute_verdict(automl, (X, y, s)).warnings if "rows had no group" in w]
    assert len(said) == 1 and "could hardly be inferred" in said[0]


def test_well_inferred_groups_measure_on_every_row():
    X, y, s, _ = table(n=800, hidden=0.5)
    automl = FairAutoML(**FAST, constraints=LOOSE, missing_groups="infer")
    with warnings.catch_warnings():
        warnings.simplefilter("error", GroupInferenceWarning)
        automl.fit(X, y, sensitive_features=s)
    assert automl.best_config_["group_inference"]["measured_on"] == "all rows"


# --- the search ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["exclude", "infer"])
def test_search_trains_on_every_row_and_mitigates_on_the_known_ones(mode):
    X, y, s, _ = table(n=800)
    automl = FairAutoML(
        n_trials=4, time_budget=None, learners=["logistic_regression"],
        mitigators=["none", "reweighing", "inferred_thresholds"], cv_folds=None,
        confirm=False, random_state=0, constraints=LOOSE, missing_groups=mode,
        decision_rule="proxy",
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GroupInferenceWarning)
        automl.fit(X, y, sensitive_features=s)
    board = automl.leaderboard_
    assert (board["status"] == "ok").all(), board.loc[board["status"] != "ok", "error"]
    assert set(board["mitigator"]) >= {"reweighing"}
    cfg = automl.best_config_
    assert cfg["missing_groups"] == mode and cfg["n_unknown_group"] == s.isna().sum()
    assert (cfg["group_inference"] is None) == (mode == "exclude")
    assert automl.predict(X).shape == (len(X),)  # decides without the group


def test_exclude_measures_on_the_validation_rows_whose_group_is_known():
    from fairautoml.estimators.context import search_context

    X, y, s, _ = table(n=800)
    automl = FairAutoML(**FAST, constraints=LOOSE, missing_groups="exclude")
    automl.fit(X, y, sensitive_features=s)
    ctx, _ = search_context(automl.get_params(), X, y, s)
    val_groups = ctx.data.groups[ctx.val_idx]
    assert ctx.fairness_rows.index.tolist() == np.flatnonzero(val_groups >= 0).tolist()


def test_regressor_takes_missing_groups():
    X, _, s, _ = table(n=600)
    amount = X["x"] * 2 + np.random.default_rng(0).normal(size=len(X))
    model = FairAutoMLRegressor(
        n_trials=2, time_budget=None, learners=["ridge"], cv_folds=None, confirm=False,
        random_state=0, constraints="demographic_parity_ks <= 0.9", missing_groups="infer",
    )  # fmt: skip
    model.fit(X, amount, sensitive_features=s)
    assert model.best_config_["n_unknown_group"] == s.isna().sum()


@pytest.mark.parametrize("mode", ["exclude", "infer"])
def test_several_classes_take_missing_groups(mode):
    X, _, s, group = table(n=900)
    rng = np.random.default_rng(1)
    latent = X["x"] + 0.8 * (group == "b") + rng.normal(scale=0.7, size=len(X))
    tier = pd.Series(np.array(["low", "mid", "high"])[np.digitize(latent, [-0.3, 0.8])])
    model = FairAutoML(
        n_trials=3, time_budget=None, learners=["logistic_regression"],
        mitigators=["none", "reweighing", "multiclass_lp_blind"], cv_folds=None,
        confirm=False, random_state=0, constraints="demographic_parity_difference <= 0.9",
        missing_groups=mode, decision_rule="proxy",
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GroupInferenceWarning)
        model.fit(X, tier, sensitive_features=s)
    board = model.leaderboard_
    assert (board["status"] == "ok").all(), board.loc[board["status"] != "ok", "error"]
    assert "multiclass_lp_blind" in set(board["post"])
    cfg = model.best_config_
    assert cfg["missing_groups"] == mode and cfg["n_unknown_group"] == s.isna().sum()
    assert (cfg["group_inference"] is None) == (mode == "exclude")
    assert model.predict_proba(X).shape == (len(X), 3)  # decides without the group


def test_cli_missing_groups(tmp_path, capsys):
    X, y, s, _ = table(n=400)
    frame = X.assign(y=y, group=s)
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "run"
    code = main([
        "fit", str(path), "--target", "y", "--sensitive", "group", "--constraint", LOOSE,
        "--n-trials", "1", "--learners", "logistic_regression", "--missing-groups", "exclude",
        "--cv-folds", "none", "--no-confirm", "--seed", "0", "--out", str(out), "--quiet",
    ])  # fmt: skip
    assert code == 0
    config = (out / "best_config.json").read_text()
    assert '"missing_groups": "exclude"' in config
    with pytest.raises(SystemExit):
        main(["fit", str(path), "--target", "y", "--sensitive", "group", "--missing-groups", "x"])
    assert "--missing-groups" in capsys.readouterr().err


def test_messages_name_the_fix():
    assert "missing_groups='exclude'" in SENSITIVE_HAS_NAN
    assert "decision_rule='group_free'" in MISSING_GROUPS_AT_PREDICT


@pytest.mark.parametrize("mode", ["exclude", "infer"])
def test_verdict_and_report_say_what_the_claim_rests_on(mode, tmp_path):
    from fairautoml.report.card import compute_verdict
    from fairautoml.report.page import write_fit_report

    X, y, s, _ = table(n=800)
    automl = FairAutoML(**FAST, constraints=LOOSE, missing_groups=mode)
    automl.fit(X, y, sensitive_features=s)
    card = compute_verdict(automl, (X, y, s))
    said = [w for w in card.warnings if "rows had no group" in w]
    assert len(said) == 1 and f"missing_groups='{mode}'" in said[0]
    page = write_fit_report(automl, tmp_path / "report.html", data=(X, y, s)).read_text()
    assert "group unknown" in page and "have none" in page


def test_a_per_attribute_constraint_keeps_rows_without_a_group_apart():
    from fairautoml.measures.constraints import bind_constraints

    frame = pd.DataFrame({"sex": ["F", "M", None, "F"], "race": ["a", "b", "a", None]})
    encoder = GroupEncoder.fit(frame, allow_missing=True)
    codes = encoder.encode(frame, allow_missing=True)
    (c,) = bind_constraints(parse_constraints("demographic_parity_difference[sex] <= 0.1"), encoder)
    assert codes.tolist()[2:] == [-1, -1]
    assert c.groups_of(codes).tolist() == [0, 1, -1, -1]


# --- post-processors fitted on the soft rows ("infer") -------------------------------------


def test_fitting_rows_spread_the_unknown_rows_for_weighted_post_processors():
    from fairautoml.estimators.context import search_context
    from fairautoml.mitigators import get_mitigator
    from fairautoml.search.post_rows import ScoreOrder, fitting_rows

    X, y, s, _ = table(n=800, hidden=0.7)
    for mode in ("exclude", "infer"):
        params = FairAutoML(**FAST, constraints=LOOSE, missing_groups=mode).get_params()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", GroupInferenceWarning)
            ctx, _ = search_context(params, X, y, s)
        g = ctx.data.groups[ctx.val_idx]
        scores = np.random.default_rng(0).random(len(g))
        every = ScoreOrder.of(scores, ctx).every
        known = every[g[every] != UNKNOWN_GROUP]
        unweighted = get_mitigator("threshold_optimizer")
        rows, groups, weight = fitting_rows(unweighted, ctx, every)  # takes no weights
        assert rows.tolist() == known.tolist() and weight is None
        rows, groups, weight = fitting_rows(get_mitigator("inferred_thresholds"), ctx, every)
        if mode == "exclude":
            assert rows.tolist() == known.tolist() and weight is None
            continue
        n_unknown = int(np.sum(g == UNKNOWN_GROUP))
        assert n_unknown > 2 * len(known)
        assert len(rows) == len(known) + 2 * n_unknown  # two groups, memberships in (0, 1)
        assert np.all(np.diff(scores[rows]) <= 0)  # still by descending score
        membership = ctx.data.membership[ctx.val_idx]
        np.testing.assert_allclose(weight, membership[rows, groups])
        assert np.all(weight[g[rows] != UNKNOWN_GROUP] == 1.0)
        np.testing.assert_array_equal(groups[g[rows] != UNKNOWN_GROUP], g[rows][g[rows] >= 0])
        # survey weights multiply the memberships
        ctx.__dict__["val_weight"] = np.full(len(g), 3.0)
        _, _, weighted = fitting_rows(get_mitigator("inferred_thresholds"), ctx, every)
        np.testing.assert_allclose(weighted, 3.0 * weight)


@pytest.mark.parametrize("mode", ["exclude", "known", "drawn"])
def test_training_mitigation_rows_under_each_mode(mode, monkeypatch):
    """70% of the groups hidden. Under ``infer`` (drawn groups, ``DRAW_UNKNOWN_GROUPS``,
    the default) a training mitigation gets every training row, the hidden ones in a
    group drawn from their membership, and the pick is the search-time model (not
    refitted: settings found on one draw land elsewhere on more rows). Under ``exclude``,
    or ``infer`` with the draws off, it gets the known training rows and the pick is
    refitted on every known row."""
    from fairautoml.estimators import context
    from fairautoml.mitigators.gap_reweighing import GapReweighing

    monkeypatch.setattr(context, "DRAW_UNKNOWN_GROUPS", mode == "drawn")
    seen: list[tuple[int, bool]] = []
    refitted: list[int] = []
    original, original_refit = GapReweighing.fit, GapReweighing.refit

    def spy(self, make_estimator, X, y, groups, *args, **kwargs):
        seen.append((len(X), bool((np.asarray(groups) == UNKNOWN_GROUP).any())))
        return original(self, make_estimator, X, y, groups, *args, **kwargs)

    def refit_spy(self, fitted, make_estimator, X, y, groups, *args, **kwargs):
        assert (np.asarray(groups) != UNKNOWN_GROUP).all()
        refitted.append(len(X))
        return original_refit(self, fitted, make_estimator, X, y, groups, *args, **kwargs)

    monkeypatch.setattr(GapReweighing, "fit", spy)
    monkeypatch.setattr(GapReweighing, "refit", refit_spy)
    X, y, s, _ = table(n=1500, hidden=0.7)
    automl = FairAutoML(
        n_trials=2, time_budget=None, learners=["logistic_regression"],
        mitigators=["gap_reweighing"], cv_folds=None, confirm=False, random_state=0,
        constraints="demographic_parity_difference <= 0.1", n_jobs=1, ensemble=False,
        missing_groups="exclude" if mode == "exclude" else "infer",
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        automl.fit(X, y, sensitive_features=s)
        ctx, _ = context.search_context(automl.get_params(), X, y, s)
    board = automl.leaderboard_
    assert (board["status"] == "ok").all(), board.loc[board["status"] != "ok", "error"]
    assert seen, "the mitigation was not fitted in this process"
    assert not any(unknown for _, unknown in seen)  # a mitigation never sees the unknown code
    assert (ctx.data.training_groups is not None) == (mode == "drawn")
    training_groups = ctx.data.groups[ctx.train_idx]
    n_known = int(np.sum(training_groups != UNKNOWN_GROUP))
    sizes = {n for n, _ in seen}
    if mode == "drawn":
        assert automl.best_config_["group_inference"]["measured_on"] == "all rows"
        assert sizes == {len(training_groups)} and n_known < 0.5 * len(training_groups)
        assert refitted == [] and not automl.best_config_["refitted"]
    else:
        assert sizes == {n_known} and refitted == [int(s.notna().sum())]
        assert automl.best_config_["refitted"]
    assert automl.best_config_["model"] == "logistic_regression + gap_reweighing"


@pytest.mark.parametrize("mode", ["exclude", "infer"])
def test_infer_fits_the_post_processor_on_the_soft_rows(mode, monkeypatch):
    """70% of the groups hidden: under "infer" the blind post-processor's rule is fitted
    on the known validation rows plus every other one spread over the groups (weighted by
    membership), and applied to each validation row once; "exclude" fits it on the known
    rows, unweighted, as before."""
    from fairautoml.estimators.context import search_context
    from fairautoml.mitigators.inferred_thresholds import InferredThresholds

    fitted: list[tuple[int, bool]] = []
    original = InferredThresholds.fit

    def spy(self, scores, y, groups, *args, **kwargs):
        fitted.append((len(scores), "sample_weight" in kwargs))
        assert (np.asarray(groups) != UNKNOWN_GROUP).all()
        return original(self, scores, y, groups, *args, **kwargs)

    monkeypatch.setattr(InferredThresholds, "fit", spy)
    X, y, s, _ = table(n=1500, hidden=0.7)
    automl = FairAutoML(
        n_trials=3, time_budget=None, learners=["logistic_regression"],
        mitigators=["inferred_thresholds"], cv_folds=None, confirm=False, random_state=0,
        constraints="demographic_parity_difference <= 0.1", missing_groups=mode, n_jobs=1,
        decision_rule="proxy",
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        automl.fit(X, y, sensitive_features=s)
        ctx, _ = search_context(automl.get_params(), X, y, s)
    board = automl.leaderboard_
    assert (board["status"] == "ok").all(), board.loc[board["status"] != "ok", "error"]
    posted = board[board["post"] == "inferred_thresholds"]
    assert len(posted) and posted["demographic_parity_difference"].notna().all()
    assert fitted, "the post-processor was not fitted in this process"
    val_groups = ctx.data.groups[ctx.val_idx]
    n_known = int(np.sum(val_groups != UNKNOWN_GROUP))
    biggest = max(n for n, _ in fitted)
    if mode == "infer":
        assert biggest > 2 * n_known and all(weighted for _, weighted in fitted)
        assert biggest == n_known + 2 * int(np.sum(val_groups == UNKNOWN_GROUP))
    else:
        assert biggest == n_known and not any(weighted for _, weighted in fitted)
    assert automl.predict(X).shape == (len(X),)
