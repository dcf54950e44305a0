"""Every number on the card and the report's per-group table rests on the same predictions:
those the pick's claim was measured on (out of fold, post-processing cross-fitted), never
the saved model on rows it was trained on. For each task: the constraint values the card
states equal those computed from the table's predictions, number for number."""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pytest

from fairautoml import FairAutoML
from fairautoml.audit.page import write_audit
from fairautoml.estimators.automl import estimator_for
from fairautoml.measures.group_tables import wilson_interval
from fairautoml.report.card import compute_verdict, verdict_lines
from fairautoml.report.evidence import context, groups_section, report_predictions
from fairautoml.report.page import write_fit_report
from fairautoml.testing import model_zoo

CASES = [
    ("binary", {"cv_folds": None}),  # holdout: the validation rows
    ("binary", {"cv_folds": 3}),  # cross-validation: every row, out of fold
    ("multiclass", {"cv_folds": None}),
    ("regression", {"cv_folds": 3}),
]


def zoo_fit(task: str, **settings):
    """A short fixed-trial search of ``task`` on the model zoo's table: (automl, X, y, s)."""
    X, y, s = model_zoo.zoo_data(task, n=700)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        automl = estimator_for(task)(
            constraints=model_zoo.CONSTRAINTS[task][0], time_budget=None, random_state=0,
            **settings,
        ).fit(X, y, sensitive_features=s)  # fmt: skip
    return automl, X, y, s


@pytest.mark.parametrize(("task", "settings"), CASES, ids=lambda v: str(v))
def test_card_and_table_agree_number_for_number(task, settings):
    automl, X, y, s = zoo_fit(task, n_trials=4, decision_rule="proxy", **settings)
    cfg = automl.best_config_
    ctx, _ = context(automl, (X, y, s))
    y_true, pred, groups = report_predictions(automl, ctx, (X, y, s))
    assert len(pred) == len(automl.evidence_["rows"])
    for c in automl.constraints_:
        assert float(c.value(y_true, pred, groups)) == pytest.approx(
            cfg["constraint_values"][c.key], abs=1e-12
        )
        stated = f"{cfg['constraint_values'][c.key]:.3f}"
        assert stated in verdict_lines(compute_verdict(automl, (X, y, s), ctx=ctx))[0]
    page = groups_section(automl, ctx, (X, y, s), "")
    assert "the rows the fairness claim rests on" in page
    assert "trained on them" not in page


def test_the_evidence_is_not_the_saved_model_on_its_training_rows():
    """Under cross-validation the refitted model saw every row: its own predictions there
    would read fairer than the claim; the table reads the out-of-fold ones."""
    X, y, s = model_zoo.zoo_data("binary", n=700)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        automl = FairAutoML(
            constraints="demographic_parity_difference <= 0.3", n_trials=3, time_budget=None,
            random_state=0, cv_folds=3,
        ).fit(X, y, sensitive_features=s)  # fmt: skip
    ctx, _ = context(automl, (X, y, s))
    _, pred, _ = report_predictions(automl, ctx, (X, y, s))
    rows = automl.evidence_["rows"]
    saved = automl.predict(X.iloc[rows], s.iloc[rows])
    assert automl.best_config_["refitted"]
    assert not np.array_equal(np.asarray(saved), pred)  # the refit differs from the evidence


@pytest.mark.parametrize(
    ("task", "settings"), [c for c in CASES if c[0] != "regression"], ids=lambda v: str(v)
)
def test_the_audit_reference_counts_the_evidence(task, settings):
    """The per-group counts a later audit compares new rows with are those of the
    predictions the claim rests on, not the saved model's again (which under
    cross-validation saw the rows, and on a big table costs seconds past the budget)."""
    automl, X, y, s = zoo_fit(task, n_trials=4, decision_rule="proxy", **settings)
    ctx, _ = context(automl, (X, y, s))
    evidence = automl.evidence_
    rows = np.asarray(evidence["rows"])
    expected = ctx.task.drift_counts(
        ctx.data.y[rows], np.asarray(evidence["predictions"]), ctx.data.groups[rows],
        ctx.data.group_encoder.labels, ctx.data.classes,
    )  # fmt: skip
    assert automl.audit_reference_["validation_counts"] == expected


def test_the_fit_rows_feature_bins_are_counted_before_the_search(monkeypatch):
    """They read the rows, not the pick: computed before the trials, their seconds come
    out of the search's instead of running past the time budget after the pick."""
    from fairautoml.estimators.running import Search

    seen = []
    run = Search.run
    monkeypatch.setattr(Search, "run", lambda self, *a, **k: seen.append(self.fit_features)
                        or run(self, *a, **k))  # fmt: skip
    automl, *_ = zoo_fit("binary", n_trials=2, decision_rule="proxy")
    assert len(seen) == 1 and seen[0]  # set when the trials start
    assert automl.audit_reference_["features"] is seen[0]  # the reference keeps them


LEVEL_WORDS = re.compile(r"(\d+(?:\.\d+)?)\s*%\s*(?:Wilson |bootstrap |central )?interval")


def stated_levels(text: str) -> set[str]:
    """Every "N% interval" a text states (HTML's escaped % included)."""
    return set(LEVEL_WORDS.findall(text.replace("&#37;", "%").replace("&nbsp;", " ")))


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_one_confidence_level_in_every_output(task, tmp_path):
    """``confidence`` is set once and every interval the user reads is at it: the card,
    the report page, the audit's page and JSON, and the per-group report."""
    automl, X, y, s = zoo_fit(task, n_trials=3, confidence=0.9, cv_folds=None)
    assert automl.best_config_["interval_level"] == 0.9
    card = "\n".join(verdict_lines(compute_verdict(automl, (X, y, s))))
    page = write_fit_report(automl, tmp_path / "report.html", data=(X, y, s)).read_text()
    result = automl.audit(X, y, s)
    audit_page, audit_json = write_audit(result, tmp_path / "audit")
    assert result.level == 0.9
    assert json.loads(audit_json.read_text())["interval_level"] == 0.9
    for text in (card, page, audit_page.read_text()):
        assert stated_levels(text) == {"90"}, text[:2000]
    if task == "multiclass":
        table = automl.fairness_report(X, y, s)
        low, high = table["selection_rate_low"].iloc[0], table["selection_rate_high"].iloc[0]
        rows = table["rows"].iloc[0]
        rate = table["selection_rate"].iloc[0]
        assert (low, high) == pytest.approx(wilson_interval(round(rate * rows), rows, 0.9))
