"""The typed summary of a fit (FitSummary) behind ``best_config_``, its dict form."""

from __future__ import annotations

import copy
import dataclasses
import math
import warnings

import pytest

import fairautoml
from fairautoml import FairAutoML
from fairautoml.estimators.summary import FitSummary
from fairautoml.report.card import compute_verdict
from fairautoml.report.page import pick_summary, pipeline_table
from fairautoml.testing import make_biased


@pytest.fixture(scope="module")
def fitted():
    X, y, s = make_biased(n=600, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return FairAutoML(
            "demographic_parity_difference <= 0.1", n_trials=3, time_budget=None, random_state=0
        ).fit(X, y, sensitive_features=s)


def test_best_config_keeps_its_keys_in_their_order(fitted):
    diagnostics = ["selection_rate", "balanced_accuracy"]  # binary classification's
    assert list(fitted.best_config_) == [
        "trial", "model", "learner", "learner_params", "mitigator", "mitigator_params",
        "post", "post_params", "train_rows", "accuracy", "constraint_values", "feasible",
        "robust", "tier", "constraint_intervals", "interval_level", "assurance", *diagnostics,
        "refitted", "confirmed", "confirmation", "positive_label", "needs_group_at_predict",
        "task", "sensitive_bins", "sample_weight", "shift", "missing_groups",
        "group_probabilities", "n_unknown_group", "group_inference", "verdict", "randomized",
        "cv_folds",
    ]  # fmt: skip


def test_the_summary_is_the_dict_typed(fitted):
    pick, cfg = fitted.fit_summary_, fitted.best_config_
    assert dataclasses.is_dataclass(pick) and isinstance(pick, FitSummary)
    assert list(pick.as_dict().items()) == list(cfg.items())  # same keys, order and values
    assert pick.metric == fitted.metric_ == "accuracy" and pick.score == cfg["accuracy"]
    assert pick.diagnostic("selection_rate") == cfg["selection_rate"]
    assert pick.diagnostics == {k: cfg[k] for k in ("selection_rate", "balanced_accuracy")}
    assert pick.extra == {}
    assert isinstance(pick.trial, int) and isinstance(pick.interval_level, float)
    assert pick.verdict == cfg["verdict"] and pick.tier == cfg["tier"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        pick.tier = "x"  # type: ignore[misc]


def test_a_summary_whose_metric_is_a_diagnostic_reads_it_once():
    pick = FitSummary(metric="balanced_accuracy", score=0.7, diagnostics={"selection_rate": 0.4})
    assert pick.diagnostic("balanced_accuracy") == 0.7
    back = FitSummary.from_dict(pick.as_dict(), "balanced_accuracy")
    assert back == pick


def test_a_model_file_keeps_the_dict_and_reads_the_summary_back(fitted, tmp_path):
    loaded = fairautoml.load(fitted.save(tmp_path / "m.skops"))
    assert "fit_summary_" not in vars(loaded)  # nothing new in the file
    assert loaded.fit_summary_ == fitted.fit_summary_


def test_a_summary_written_before_its_newer_keys_still_reports(fitted):
    old = copy.deepcopy(fitted)
    for key in ("verdict", "cv_folds", "sample_weight", "missing_groups", "n_unknown_group",
                "group_inference", "randomized", "confirmation", "task", "train_rows",
                "group_probabilities"):  # fmt: skip
        del old.best_config_[key]
    old.best_config_["an_old_key"] = "kept"
    pick = old.fit_summary_
    assert pick.verdict == "" and pick.cv_folds == 0 and pick.task == "binary"
    assert pick.extra == {"an_old_key": "kept"}
    assert pick_summary(old)[0] == pick_summary(fitted)[0]
    assert compute_verdict(old).word == compute_verdict(fitted).word
    assert "learner" in pipeline_table(old.best_config_)
    assert math.isnan(FitSummary.from_dict({}).score)


def test_an_unfitted_estimator_has_no_summary():
    assert not hasattr(FairAutoML(), "fit_summary_")
