"""benchmarks/scripts/pick_replay.py: the recorded columns and the useful points are the task's pick
policy's (multiclass: adjusted balanced accuracy, the top class's share), binary unchanged."""

from __future__ import annotations

import gzip
import json
from statistics import NormalDist

import pandas as pd
import pytest

from benchmarks.scripts import pick_replay as replay
from fairautoml.study.pick import PickPolicy

Z90 = NormalDist().inv_cdf(0.9)


def _multiclass(**changes) -> pd.DataFrame:
    """A tiny recorded multiclass search: what ``run`` writes, one row per point."""
    rows = [  # trial, accuracy, assurance, adjusted bacc, top class share, ensemble
        (0, 0.70, Z90 + 0.1, 0.30, 0.50, True),  # robust at 90%, not at 95%: an ensemble
        (1, 0.68, 2.5, 0.28, 0.55, False),  # robust at 97.5% too
        (2, 0.72, 0.2, 0.31, 0.52, False),  # feasible, below every margin
        (3, 0.80, 3.0, 0.40, 1.00, False),  # constant: meets parity trivially
        (4, 0.75, 3.0, 0.05, 0.90, False),  # weak: below the raised usefulness floor
        (5, 0.90, -1.0, 0.60, 0.40, False),  # infeasible
    ]
    records = []
    for t, acc, a, abacc, share, ens in rows:
        records.append({
            "cell": "slid_bands/dp10", "seed": 1, "task": "multiclass", "trial": t,
            "ensemble": ens, "chosen": t == 0, "confirmed": False, "trained": t,
            "status": "ok", "violation": 0.0 if a >= 0 else 0.02,
            "robust_violation": -0.01 if a >= Z90 else 0.01, "assurance": a,
            "top_class_share": share, "adjusted_balanced_accuracy": abacc,
            "accuracy": acc, "test_accuracy": acc - 0.01, "test_balanced_accuracy": 0.5,
            "test_violation": 0.0, "satisfied": t != 2, "test_noise_floor": 0.95,
        })  # fmt: skip
    frame = pd.DataFrame(records)
    return frame.assign(**changes)


def test_the_recorded_columns_are_the_task_policys():
    multi = replay.columns(replay.task_policy("multiclass"), "accuracy")
    assert {"top_class_share", "adjusted_balanced_accuracy", "accuracy"} <= set(multi)
    assert not {"balanced_accuracy", "selection_rate"} & set(multi)
    binary = replay.columns(replay.task_policy("binary"), "accuracy")
    assert set(binary) == {"status", "violation", "robust_violation", "assurance",
                           "balanced_accuracy", "selection_rate", "accuracy"}  # fmt: skip
    assert replay.task_policy("binary") == PickPolicy()  # what the binary replay used


def test_multiclass_useful_points_read_the_task_policys_diagnostics():
    points = _multiclass()
    assert "selection_rate" not in points  # a hard-coded binary name would fail here
    # constant (top class share 1), weak (adjusted bacc below half the best's) and
    # infeasible points are left out
    assert sorted(replay._useful(points)["trial"]) == [0, 1, 2]
    assert replay.RULES["point (most accurate feasible)"](points)["trial"] == 2


def test_multiclass_policy_rules_margin_and_ensembles():
    points = _multiclass()
    rules = replay.MULTICLASS_RULES
    assert rules["policy"](points)["trial"] == 0  # as the search chose
    assert rules["policy, 95%"](points)["trial"] == 1  # trial 0 no longer robust
    assert rules["policy, 97.5%"](points)["trial"] == 1
    assert rules["policy, no ensembles"](points)["trial"] == 1
    # nothing robust at 97.5% without trial 1: the feasible ladder's highest step
    assert rules["policy, 97.5%"](points[points["trial"] != 1])["trial"] == 0
    # a multiclass search that confirmed nothing is replayed (not left out)
    assert not points["confirmed"].any()


def test_multiclass_report(tmp_path):
    points = pd.concat([_multiclass(seed=1), _multiclass(seed=2)])
    path = tmp_path / "points-slid_bands-dp10.jsonl.gz"
    with gzip.open(path, "wt") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in points.to_dict("records"))
    replay.report(tmp_path)
    text = (tmp_path / "report.md").read_text()
    assert "floor ≥ 0.9) | mean test acc | Δ acc vs policy" in text
    rows = {line.split(" | ")[0][2:]: line.split(" | ") for line in text.splitlines()[6:]}
    assert rows["policy"][1:4] == ["2/2", "0.6900", "+0.0000 ± 0.0000"]
    assert rows["policy, 95%"][1:5] == ["2/2", "0.6700", "-0.0200 ± 0.0000", "2"]
    assert rows["most accurate feasible"][1] == "0/2"  # trial 2: out of bound on test
    assert rows["policy, 95%"][5] == "+0 −0"
    assert rows["policy, no ensembles"][6] == "0/2"


def _binary() -> pd.DataFrame:
    """A recorded binary search from before the task and ensemble columns."""
    frame = _multiclass().drop(columns=["task", "ensemble"])
    frame = frame.rename(
        columns={"top_class_share": "selection_rate", "adjusted_balanced_accuracy": "x"}
    )
    frame["balanced_accuracy"] = 0.5 + frame.pop("x")
    frame.loc[frame["trial"] == 3, "selection_rate"] = 0.0  # constant: no one selected
    return frame.assign(cell="adult/eo05")


def test_binary_records_replay_as_before():
    points = _binary()
    assert replay._task_of(points) == "binary"
    assert sorted(replay._useful(points)["trial"]) == [0, 1, 2]
    # a binary search that confirmed nothing: left out of the policy rules, as before
    assert replay.RULES["policy, confirmed first in its tier"](points) is None
    confirmed = points.assign(confirmed=points["trial"] == 1)
    assert replay.RULES["policy, confirmed first in its tier"](confirmed)["trial"] == 1
    assert replay.RULES["ladder 90% (replayed)"](points)["trial"] == 0


@pytest.mark.parametrize("cell", list(replay.MULTICLASS_CELLS))
def test_multiclass_cells_are_the_sweeps(cell):
    """Each multiclass cell is a fairautoml cell of experiments/multiclass.yaml."""
    import yaml

    sweep = yaml.safe_load((replay.ROOT / "experiments" / "multiclass.yaml").read_text())
    dataset, constraint = replay.MULTICLASS_CELLS[cell]
    assert any(
        dataset in block["datasets"]
        and constraint in block["constraints"]
        and "fairautoml" in block["methods"]
        for block in sweep["blocks"]
    )


def test_the_rule_noise_widens_each_points_interval_before_the_policy_picks():
    """Trial 0 holds by 0.1 se above the 90% margin; its rule's fitting noise takes the
    margin away, so the policy that counts the noise takes trial 1 (no rule: no noise)."""
    key = "demographic_parity_difference"  # the cell's bound: 0.1
    points = _multiclass()
    value = 0.1 - points["assurance"].clip(lower=0) * 0.01  # one se = 0.01 below the bound
    points[key] = value
    points[f"{key}_low"], points[f"{key}_high"] = value - Z90 * 0.01, value + Z90 * 0.01
    points[f"{key}_rule_se"] = [0.01, float("nan"), 0.01, 0.0, 0.0, 0.01]
    widened = replay.with_rule_noise(points)
    sure = widened.set_index("trial")["assurance"]
    assert sure[0] == pytest.approx((Z90 + 0.1) / 2**0.5)
    assert sure[1] == pytest.approx(2.5)  # no rule fitted: as recorded
    rules = replay.MULTICLASS_RULES
    assert rules["policy"](points)["trial"] == 0
    assert rules["policy, with the rule's fitting noise"](points)["trial"] == 1
    # searches recorded before the noise: the rule has nothing to replay
    assert rules["policy, with the rule's fitting noise"](_multiclass()) is None


def test_regression_points_replay_with_their_r2():
    """Amounts rank by R² (the metric and the usefulness) and score by test R²; a constant
    (no spread) is never taken, however well it reads."""
    points = _multiclass(cell="cps1988/ks10", task="regression")
    spread = 1.0 - points.pop("top_class_share")  # trial 3: spread 0, a constant
    points = points.drop(columns=["adjusted_balanced_accuracy", "accuracy"]).assign(
        prediction_spread=spread, r2=points["accuracy"], test_score=points["accuracy"] - 0.02
    )
    pick = replay.MULTICLASS_RULES["policy"](points)
    assert pick["trial"] == 4  # the best robust, useful R² (trial 3 is a constant)
    assert replay._test_score(pick) == pytest.approx(0.73)


def _feasible_search(seed: int = 1, accurate_step_assurance: float = 0.3) -> pd.DataFrame:
    """No point robust: an accurate point a low ladder step reaches, and a point 8 points
    less accurate that reaches the top step (it arrives late in the search)."""
    rows = [
        (0, 0.700, accurate_step_assurance, 0.70, True),
        (1, 0.695, 0.1, 0.69, True),
        (2, 0.620, 1.0, 0.61, False),
    ]
    return pd.DataFrame([
        {"cell": "compas/eo05", "seed": seed, "trial": t, "status": "ok", "violation": -0.01,
         "robust_violation": 0.01, "assurance": a, "balanced_accuracy": acc - 0.02,
         "selection_rate": 0.4, "accuracy": acc, "test_accuracy": test, "satisfied": ok,
         "test_balanced_accuracy": test, "ensemble": False}
        for t, acc, a, test, ok in rows
    ])  # fmt: skip


def test_the_capped_ladder_takes_no_step_only_a_much_less_accurate_point_reaches(monkeypatch):
    monkeypatch.setattr(replay, "_scored_rows", lambda cell: 5_000)  # se of a share 0.007
    points = _feasible_search()
    assert replay.capped_rule(None)(points)["trial"] == 2  # the shipped ladder: the top step
    assert replay.capped_rule(1.0)(points)["trial"] == 0  # within 1 se only trial 0, 1
    wide = replay.capped_rule(20.0)(points)  # 20 se = 0.14: trial 2 is "near" too
    assert wide["trial"] == 2


def test_the_anytime_report_pairs_early_and_full_picks(monkeypatch):
    monkeypatch.setattr(replay, "_scored_rows", lambda cell: 5_000)
    points = pd.concat([_feasible_search(seed) for seed in (1, 2)])
    lines = replay.anytime_report(points)
    rows = {line.split(" | ")[0].lstrip("| "): line.split(" | ") for line in lines[6:]}
    # the first quarter sees trial 0 only; all trials let the shipped ladder jump to trial 2
    assert rows["policy (confirmation ignored)"][1] == "-9.00 ± 0.00"
    assert rows["ladder capped at 1 se"][1] == "+0.00 ± 0.00"  # trial 0 both times
    assert rows["ladder capped at 1 se"][6].startswith("+9.00")
