"""fairautoml.update: the pick refitted with new labeled rows, audited before and after on
the same kept-back rows."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import fairautoml
from fairautoml import FairAutoML
from fairautoml import exceptions as E
from fairautoml.estimators.update import (
    UPDATE_MISSING_COLUMNS,
    UPDATE_NO_LABELS,
    UPDATE_PROBABILITIES,
    UPDATE_TOO_FEW,
    update,
)
from fairautoml.testing import make_biased

DP = "demographic_parity_difference <= 0.15"


def old_rows(n: int = 2000, seed: int = 1):
    X, y, s = make_biased(n=n, seed=seed)
    X["group"] = s
    return X, y


def new_rows(n: int = 3000, seed: int = 2):
    """Group b's x1 moves up: the old model selects far more of b."""
    X, y, s = make_biased(n=n, seed=seed)
    X.loc[s == "b", "x1"] += 2.0
    X["group"] = s
    return X, y


@pytest.fixture(scope="module")
def automl():
    X, y = old_rows()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return FairAutoML(
            constraints=[DP], n_trials=3, time_budget=None, learners=["logistic_regression"],
            mitigators=["group_thresholds"], sensitive_at_predict=True, confirm=False,
            random_state=0, trial_time_limit=None,
        ).fit(X, y, "group")  # fmt: skip


@pytest.fixture(scope="module")
def updated(automl):
    X_new, y_new = new_rows()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return update(automl, X_new, y_new, random_state=0)


def test_update_holds_where_the_old_claim_broke(updated):
    """The refit's pick sits near the bound (it is the most accurate one meeting it at the
    fit's confidence), so on 900 kept-back rows its interval may straddle it: the after
    verdict is not violated, and the value is within the bound."""
    assert updated.before.verdict == "violated"
    assert updated.after.verdict != "violated"
    (after,) = updated.after.constraints
    (before,) = updated.before.constraints
    assert after["value"] <= 0.15 < before["value"]
    assert updated.before.n_rows == updated.after.n_rows == updated.n_evidence == 900
    assert updated.n_trained == 2100 and updated.n_old == 0
    assert updated.searched == (updated.refit_verdict not in ("FAIR", "LIKELY FAIR"))


def test_update_keeps_the_pick_and_leaves_the_original(automl, updated):
    before = automl.best_config_
    after = updated.model.best_config_
    assert after["model"] == before["model"] == "logistic_regression + group_thresholds"
    assert after["learner"] == before["learner"] and after["post"] == before["post"]
    assert updated.model is not automl
    assert after["constraint_values"] != before["constraint_values"]
    X_new, y_new = new_rows()  # the original still fails there: it was not touched
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert automl.audit(X_new, y_new).verdict == "violated"


def test_update_audit_reference_is_the_new_population(updated):
    """A later audit on fresh rows of the new population finds no input drift."""
    X_fresh, y_fresh = new_rows(n=3000, seed=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        later = updated.model.audit(X_fresh, y_fresh)
    assert later.drift["features_moved"] == []
    assert later.verdict != "violated"


def test_update_searches_again_when_asked(automl):
    X_new, y_new = new_rows(n=1000, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kept = update(automl, X_new, y_new, search_again=False, random_state=0)
        searched = update(automl, X_new, y_new, search_again=True, random_state=0)
    assert not kept.searched and searched.searched
    assert kept.refit_verdict and searched.refit_verdict == kept.refit_verdict
    assert len(searched.model.leaderboard_) > len(kept.model.leaderboard_) == 1
    assert json.loads(json.dumps(searched.to_dict()))["searched"] is True
    with pytest.raises(E.ConfigurationError, match="search_again"):
        update(automl, X_new, y_new, search_again="yes")


def test_update_with_old_rows_trains_on_both(automl):
    X, y = old_rows()
    X_new, y_new = new_rows(n=1000, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = update(automl, X_new, y_new, X=X, y=y, random_state=0)
    assert result.n_old == 2000 and result.n_trained == 2000 + 700


def test_update_result_is_saved(updated, tmp_path):
    out = updated.save(tmp_path / "up")
    record = json.loads((out / "update.json").read_text())
    assert record["before"]["verdict"] == "violated"
    assert record["after"]["verdict"] == updated.after.verdict
    assert record["n_evidence"] == 900
    reloaded = fairautoml.load(out / "model.skops")
    X_new, _ = new_rows(n=50, seed=4)
    assert np.array_equal(reloaded.predict(X_new), updated.model.predict(X_new))


def test_update_refuses_rows_without_labels(automl):
    X_new, _ = new_rows(n=300)
    with pytest.raises(E.InputError, match="none were given"):
        update(automl, X_new, None)
    with pytest.raises(E.InputError, match="every label is missing"):
        update(automl, X_new, np.full(len(X_new), np.nan))
    assert "target_X" in UPDATE_NO_LABELS


def test_update_names_missing_columns(automl):
    X_new, y_new = new_rows(n=300)
    with pytest.raises(E.InputError, match="lack columns the model reads: \\['x2'\\]"):
        update(automl, X_new.drop(columns=["x2"]), y_new)
    assert "{names}" in UPDATE_MISSING_COLUMNS


def test_update_says_how_many_rows_it_needs(automl):
    X_new, y_new = new_rows(n=60)
    with pytest.raises(E.InputError, match="Give at least 134 new rows"):
        update(automl, X_new, y_new)
    assert "{needed}" in UPDATE_TOO_FEW


def test_update_refuses_a_fit_on_group_probabilities(automl):
    import copy

    fitted = copy.copy(automl)
    fitted.best_config_ = {**automl.best_config_, "group_probabilities": {"columns": ["a"]}}
    X_new, y_new = new_rows(n=300)
    with pytest.raises(E.ConfigurationError, match="group_probabilities"):
        update(fitted, X_new, y_new)
    assert "not support" in UPDATE_PROBABILITIES


def test_update_needs_a_fitted_model():
    X_new, y_new = new_rows(n=300)
    with pytest.raises(E.NotFittedError):
        update(FairAutoML(), X_new, y_new)


def test_update_command_on_a_fit_dir(tmp_path, capsys):
    from fairautoml import cli

    X, y = old_rows(n=1500)
    fit_csv, new_csv = tmp_path / "fit.csv", tmp_path / "new.csv"
    X.assign(label=y.to_numpy()).to_csv(fit_csv, index=False)
    X_new, y_new = new_rows(n=2000)
    X_new.assign(label=y_new.to_numpy()).to_csv(new_csv, index=False)
    run = tmp_path / "run"
    fit = [
        "fit", str(fit_csv), "--target", "label", "--sensitive", "group", "--constraint", DP,
        "--n-trials", "3", "--time-budget", "60", "--learners", "logistic_regression",
        "--mitigators", "group_thresholds", "--decision-rule", "group_aware", "--no-confirm",
        "--quiet", "--out", str(run),
    ]  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert cli.main(fit) in (0, 1, 3)
        assert (run / "source.json").is_file()
        status = cli.main(["update", str(run), str(new_csv), "--seed", "0", "--with-fit-rows"])
    out = capsys.readouterr().out
    assert "before (the fit's model): NOT FAIR, on the" in out and "(1500 of the fit's)" in out
    assert "after (the updated model): " in out
    assert status in (0, 1, 3)
    record = json.loads((run / "update" / "update.json").read_text())
    assert record["before"]["verdict"] == "violated" and record["n_old"] == 1500
    assert (run / "update" / "model.skops").is_file()
    assert cli.main(["update", str(run), str(new_csv), "--target", "nope"]) == 2
    assert "The CSV has no column ['nope']" in capsys.readouterr().err
