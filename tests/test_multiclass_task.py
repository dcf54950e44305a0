"""The multiclass task: target, groups, decisions, diagnostics, the group table, its
metrics and its constraints (bound to the multiclass family)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score, log_loss

from fairautoml.exceptions import ConfigurationError, ConstraintError, InputError
from fairautoml.measures.constraints import parse_constraints
from fairautoml.measures.metrics import get_metric
from fairautoml.study.pick import policy_for
from fairautoml.tasks import TASKS, classification_task, get_task, infer_task
from fairautoml.tasks.multiclass import MulticlassTask

TASK = MulticlassTask()


def test_registered_and_inferred():
    assert TASKS["multiclass"] == TASK and get_task("multiclass") == TASK
    assert infer_task(["a", "b", "c", "a"]).name == "multiclass"
    assert infer_task([0, 1, 2, 1, 0]).name == "multiclass"
    assert infer_task([0, 1, 1, 0]).name == "binary"
    assert classification_task(list(range(25))).name == "binary"  # too many: binary's error
    assert infer_task(np.linspace(0, 1, 30)).name == "regression"


def test_prepare_target_codes_in_sorted_order():
    y = pd.Series(["b", "c", "a", "c", "b", "a"])
    codes, classes = TASK.prepare_target(y, 6)
    assert list(classes) == ["a", "b", "c"]
    np.testing.assert_array_equal(codes, [1, 2, 0, 2, 1, 0])
    codes, classes = TASK.prepare_target(np.array([3, 10, 7, 3]), 4)
    assert classes.dtype.kind == "i" and list(classes) == [3, 7, 10]
    np.testing.assert_array_equal(codes, [0, 2, 1, 0])
    assert TASK.favourable_codes(classes, [10, 7]) == [1, 2]
    assert TASK.favourable_codes(classes, "7") == [1]  # typed on the command line
    TASK.prepare_target(np.array([3, 10, 7, 3]), 4, pos_label=7)


@pytest.mark.parametrize(
    ("y", "words"),
    [
        (["a", "b", "a"], "binary classification"),
        (["a", "a", "a"], "single class"),
        ([f"c{i}" for i in range(25)], "Group rare classes"),
        (list(np.linspace(0.0, 1.0, 30)), "continuous"),
        (["a", "b", None], "missing"),
    ],
)
def test_prepare_target_errors_name_the_fix(y, words):
    with pytest.raises(InputError, match=words):
        TASK.prepare_target(y, len(y))


def test_unknown_pos_label_names_the_classes():
    with pytest.raises(InputError, match="'a', 'b', 'c'"):
        TASK.prepare_target(["a", "b", "c"], 3, pos_label="d")


def test_check_groups():
    y = np.array([0, 1, 2] * 4)
    groups = np.array([0] * 6 + [1] * 6)
    TASK.check_groups(groups, y, ["x", "y"], min_size=5)
    y_short = y.copy()
    y_short[groups == 1] = [0, 1, 0, 1, 0, 2]  # group y has one row of class 2
    with pytest.raises(InputError, match="'y' has 6 row\\(s\\), with 1 of class 2"):
        TASK.check_groups(groups, y_short, ["x", "y"], min_size=5)
    with pytest.raises(InputError, match="min_group_size"):
        TASK.check_groups(groups, y, ["x", "y"], min_size=10)
    with pytest.raises(InputError, match=r"with 1 of class 'high'.*demographic parity only"):
        TASK.check_groups(groups, y_short, ["x", "y"], 5, classes=np.array(["a", "b", "high"]))
    y_short[groups == 1] = 0  # no row of classes 1 and 2: selection rates are still defined
    TASK.check_groups(groups, y_short, ["x", "y"], min_size=5, by_class=False)
    with pytest.raises(InputError, match=r"'x' has 6 row\(s\); at least 10.*selection rates"):
        TASK.check_groups(groups, y_short, ["x", "y"], min_size=10, by_class=False)


@pytest.mark.parametrize(
    ("constraints", "needed"),
    [
        (["demographic_parity_difference <= 0.1"], False),
        (["demographic_parity_ratio >= 0.8"], False),
        (["equalized_odds_difference <= 0.1"], True),
        (["demographic_parity_difference <= 0.1", "true_positive_rate_difference <= 0.1"], True),
        ([], False),
    ],
)
def test_only_rates_given_the_class_need_every_class_in_every_group(constraints, needed):
    parsed = parse_constraints(constraints) if constraints else []
    assert TASK.needs_class_rows(parsed) is needed
    assert get_task("binary").needs_class_rows(parsed) is True  # both classes, as before
    assert get_task("regression").needs_class_rows(parsed) is False


def test_decide_and_diagnostics():
    scores = np.array([[0.2, 0.5, 0.3], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8]])
    np.testing.assert_array_equal(TASK.decide(scores), [1, 0, 2])
    with pytest.raises(InputError, match="n_classes"):
        TASK.decide(np.array([0.2, 0.7]))
    y = np.array([0, 1, 2, 0, 1, 2])
    constant = TASK.diagnostics(y, np.zeros(6, dtype=int))
    assert constant == {"top_class_share": 1.0, "adjusted_balanced_accuracy": 0.0}
    perfect = TASK.diagnostics(y, y)
    assert perfect == {"top_class_share": pytest.approx(1 / 3), "adjusted_balanced_accuracy": 1.0}
    policy = policy_for(TASK, None)
    assert policy.spread == "top_class_share" and policy.constant_at == (1.0,)
    line = TASK.diagnostics_line(perfect)
    assert "adjusted for chance 1.000" in line


def test_group_table():
    y = np.array([0, 1, 2, 2, 0, 1, 1, 2])
    pred = np.array([0, 1, 1, 2, 1, 1, 0, 2])
    groups = np.array(["a"] * 4 + ["b"] * 4)
    table = TASK.group_table(y, pred, groups, level=0.8)
    assert table.loc[("a", 2), "true_positive_rate"] == pytest.approx(0.5)
    assert table.loc[("b", 1), "false_positive_rate"] == pytest.approx(0.5)
    assert table.loc[("a", 1), "class_rows"] == 1 and table.loc[("a", 1), "rows"] == 4
    assert table.loc[("largest gap", 0), "true_positive_rate"] == pytest.approx(1.0)
    for column in TASK.report_columns:
        low, value, high = (table.loc[("a", 2), f"{column}{s}"] for s in ("_low", "", "_high"))
        assert low <= value <= high


def test_metrics_and_constraints():
    y = np.array([0, 1, 2, 2, 1, 0])
    proba = np.array(
        [
            [0.7, 0.2, 0.1],
            [0.1, 0.6, 0.3],
            [0.2, 0.2, 0.6],
            [0.5, 0.1, 0.4],
            [0.3, 0.4, 0.3],
            [0.4, 0.4, 0.2],
        ]
    )
    pred = TASK.decide(proba)
    m = {name: get_metric(name) for name in TASK.metrics()}
    assert m["accuracy"].score(y, pred, proba) == pytest.approx(5 / 6)  # row 3 missed
    assert m["f1_macro"].score(y, pred, proba) == pytest.approx(f1_score(y, pred, average="macro"))
    assert m["log_loss"].score(y, pred, proba) == pytest.approx(-log_loss(y, proba))
    assert m["balanced_accuracy"].score(y, pred, proba) == pytest.approx(np.mean([1, 1, 0.5]))
    assert TASK.metrics() == ["accuracy", "balanced_accuracy", "f1_macro", "log_loss"]
    TASK.check_metric("f1_macro")
    with pytest.raises(ConfigurationError, match="multiclass"):
        TASK.check_metric("roc_auc")
    bound = TASK.check_constraints(parse_constraints(TASK.default_constraint))
    assert [c.task for c in bound] == ["multiclass"]
    TASK.check_constraints(parse_constraints(list(TASK.side_effects)))
    classes = np.array(["a", "b", "c"])
    (c,) = TASK.bind_target(bound, classes, ["c", "a"])
    assert c.family.favourable == (0, 2) and c.family.n_classes == 3
    assert c == bound[0] and str(c) == str(bound[0])  # the family is not the identity
    with pytest.raises(ConstraintError, match="classification family"):
        TASK.check_constraints(parse_constraints("demographic_parity_ks <= 0.1"))


@pytest.mark.parametrize("task, auto", [("binary", 0.8), ("regression", 0.8), ("multiclass", 0.98)])
def test_the_claims_level_is_the_tasks_unless_the_user_sets_one(task, auto):
    kind = get_task(task)
    assert kind.confidence("auto") == kind.interval_level("auto") == auto
    assert kind.confidence(0.9) == kind.interval_level(0.9) == 0.9
    assert kind.confidence(None) is None and not policy_for(kind, None).robust
    assert kind.interval_level(None) == auto  # intervals still reported, at the task's level
    assert policy_for(kind, "auto").robust
