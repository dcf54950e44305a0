"""``fairautoml fit``: every estimator setting a user sets has a flag with help and its
default, and the summary says which label it took as favourable when the user did not."""

from __future__ import annotations

import argparse
import io
import re
from contextlib import redirect_stdout

import numpy as np
import pytest

from fairautoml import FairAutoML, cli, parse_constraints
from fairautoml.data.labels import looks_unfavourable
from fairautoml.report.page import fit_command
from fairautoml.testing import make_biased

USER_SETTINGS = {  # estimator parameter -> its flag
    "constraints": "--constraint", "metric": "--metric", "time_budget": "--time-budget",
    "n_trials": "--n-trials", "controller": "--controller", "learners": "--learners",
    "mitigators": "--mitigators", "sensitive_at_predict": "--sensitive-at-predict",
    "decision_rule": "--decision-rule", "deterministic": "--deterministic",
    "keep_sensitive_as_feature": "--keep-sensitive-as-feature",
    "validation_fraction": "--validation-fraction", "cv_folds": "--cv-folds",
    "min_group_size": "--min-group-size", "pos_label": "--positive-label",
    "max_search_rows": "--max-search-rows", "max_validation_rows": "--max-validation-rows",
    "confidence": "--confidence",
    "refit": "--no-refit", "confirm": "--no-confirm", "ensemble": "--no-ensemble",
    "portfolio": "--no-portfolio",
    "study_name": "--study",
    "storage": "--storage", "trial_time_limit": "--trial-time-limit", "n_jobs": "--n-jobs",
    "random_state": "--seed", "verbose": "--verbose",
    "sensitive_bins": "--sensitive",  # age:25,40,60 or age:q4
    "missing_groups": "--missing-groups",
}  # fmt: skip
EXPERT_ONLY = {"min_rung_rows"}  # set from Python; the report names it when it differs


def _fit_parser() -> argparse.ArgumentParser:
    sub = next(a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices["fit"]  # argparse has no public accessor for a subcommand's parser


def _help_entries(text: str) -> dict[str, str]:
    """Each option of a ``--help`` text and its help, as printed."""
    entries: dict[str, str] = {}
    current = None
    for line in text.split("options:", 1)[1].splitlines():
        stripped = line.strip()
        if line.startswith("  -"):
            names, _, rest = stripped.partition("  ")
            current = re.sub(r"\{[^}]*\}", "", names).split(",")[-1].split()[0]
            entries[current] = rest.strip()
        elif current and stripped:
            entries[current] += " " + stripped
    return entries


def test_every_fit_option_has_help_and_shows_its_default():
    out = io.StringIO()
    with redirect_stdout(out), pytest.raises(SystemExit):
        cli.main(["fit", "--help"])
    entries = _help_entries(out.getvalue())
    assert set(entries) >= {"--confidence", "--cv-folds", "--learners", "--mitigators"}
    empty = [name for name, text in entries.items() if not text]
    assert not empty, f"options without help: {empty}"
    for flag in ("--confidence", "--cv-folds", "--validation-fraction", "--min-group-size",
                 "--n-jobs", "--metric", "--controller", "--seed", "--time-budget"):  # fmt: skip
        assert "(default: " in entries[flag], flag
    assert "default: 'demographic_parity_difference<=0.05'" in entries["--constraint"]
    assert "sorts last" in entries["--positive-label"]


def test_every_user_setting_has_a_flag():
    params = set(FairAutoML().get_params())
    assert params == set(USER_SETTINGS) | EXPERT_ONLY  # a new setting must be placed here
    flags = {s for a in _fit_parser()._actions for s in a.option_strings}
    missing = [flag for flag in USER_SETTINGS.values() if flag not in flags]
    assert not missing


def test_fit_flags_reach_the_estimator(monkeypatch):
    seen = {}

    def capture(self, X, y, sensitive_features=None):
        seen.update(self.get_params())
        raise SystemExit(0)  # stop before the search

    monkeypatch.setattr(FairAutoML, "fit", capture)
    with pytest.raises(SystemExit):
        cli.main([
            "fit", "--dataset", "german", "--confidence", "none", "--cv-folds", "3",
            "--learners", "lightgbm,logistic_regression", "--mitigators", "none,reweighing",
            "--validation-fraction", "0.3", "--min-group-size", "30", "--n-jobs", "2",
            "--sensitive-at-predict", "--max-search-rows", "none", "--trial-time-limit", "5",
            "--no-refit", "-q",
        ])  # fmt: skip
    assert seen["confidence"] is None and seen["cv_folds"] == 3
    assert seen["learners"] == ["lightgbm", "logistic_regression"]
    assert seen["mitigators"] == ["none", "reweighing"]
    assert (seen["validation_fraction"], seen["min_group_size"], seen["n_jobs"]) == (0.3, 30, 2)
    assert seen["sensitive_at_predict"] is True and seen["max_search_rows"] is None
    assert seen["trial_time_limit"] == 5.0 and seen["refit"] is False
    with pytest.raises(SystemExit):
        cli.main(["fit", "--dataset", "german", "-q"])
    assert seen["sensitive_at_predict"] is False  # the default: the model never reads the group
    assert seen["confidence"] == "auto"  # the task's level
    with pytest.raises(SystemExit):
        cli.main(["fit", "--dataset", "german", "--confidence", "0.9", "-q"])
    assert seen["confidence"] == 0.9


def test_fit_command_spells_the_new_flags():
    automl = FairAutoML(
        "demographic_parity_difference <= 0.1", learners=["lightgbm"], confidence=None,
        cv_folds=None, sensitive_at_predict=True, refit=False, random_state=1,
    )  # fmt: skip
    automl.constraints_ = parse_constraints(automl.constraints)  # as fit sets it
    command, other = fit_command(automl, {"dataset": "adult", "sensitive": None}, "out")
    for words in ("--learners lightgbm", "--confidence none", "--cv-folds none",
                  "--sensitive-at-predict", "--no-refit", "--seed 1"):  # fmt: skip
        assert words in command
    assert other == []


@pytest.mark.parametrize(
    "label, target, expected",
    [
        ("denied", "decision", True), ("default", "status", True), ("Rejected", None, True),
        ("yes", "defaulted", True), (1, "loan_default", True), (True, "denied", True),
        ("approved", "decision", False), ("yes", "hired", False), (1, "income", False),
        (">50K", "income", False),
    ],
)  # fmt: skip
def test_labels_that_read_as_an_unfavourable_outcome(label, target, expected):
    assert looks_unfavourable(label, target) is expected


def test_summary_names_the_label_taken_for_a_deny_target(tmp_path, capsys):
    X, y, s = make_biased(n=300, seed=3)
    csv = tmp_path / "loans.csv"
    X.assign(group=s, decision=np.where(y == 1, "approved", "denied")).to_csv(csv, index=False)
    common = ["fit", str(csv), "--target", "decision", "--sensitive", "group", "--n-trials", "1",
              "--learners", "logistic_regression", "--time-budget", "30", "-q"]  # fmt: skip
    assert cli.main([*common, "--constraint", "equal_opportunity_difference<=0.2"]) == 0
    printed = capsys.readouterr().out
    assert "favourable label: 'denied' (the label that sorts last" in printed
    assert "'denied' looks like an unfavourable outcome" in printed
    assert cli.main([*common, "--constraint", "equal_opportunity_difference<=0.2",
                     "--positive-label", "approved"]) == 0  # fmt: skip
    assert "favourable label:" not in capsys.readouterr().out
