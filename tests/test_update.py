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
    UPDATE_OLD_WEIGHTS,
    UPDATE_PROBABILITIES,
    UPDATE_TARGET_DROPPED,
    UPDATE_TOO_FEW,
    UPDATE_WEIGHTS_DROPPED,
    _kept_back,
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


def test_update_weights_reach_the_refit(automl):
    """Positives of the new rows weigh 5: the refit's claim counts the training rows by
    them (its record's total is theirs, by hand) and differs from the unweighted refit's
    on the same rows."""
    X_new, y_new = new_rows(n=1000, seed=5)
    weight = np.where(y_new.to_numpy() == 1, 5.0, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = update(automl, X_new, y_new, search_again=False, random_state=0)
        weighted = update(
            automl, X_new, y_new, sample_weight=weight, search_again=False, random_state=0
        )
    _, train = _kept_back(X_new, y_new.to_numpy(), X_new[["group"]], 0.3, 0)
    record = weighted.model.best_config_["sample_weight"]
    assert record["rows"] == weighted.n_trained == len(train) == 700
    assert record["total"] == pytest.approx(weight[train].sum())
    assert plain.model.best_config_["sample_weight"] is None
    values = weighted.model.best_config_["constraint_values"]
    assert values != plain.model.best_config_["constraint_values"]
    assert weighted.notes == [] and weighted.to_dict()["claim_after"]["sample_weight"] == record


def test_update_old_and_new_weights_join(automl):
    """The old rows keep their weights and new rows without any count once."""
    X, y = old_rows(n=600, seed=8)
    X_new, y_new = new_rows(n=400, seed=9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = update(
            automl, X_new, y_new, X=X, y=y, sample_weight_before=np.full(600, 3.0),
            search_again=False, random_state=0,
        )  # fmt: skip
    record = result.model.best_config_["sample_weight"]
    assert record["rows"] == 600 + 280 and record["total"] == pytest.approx(3 * 600 + 280)


def test_update_refuses_weights_of_the_wrong_length(automl):
    X_new, y_new = new_rows(n=300)
    fits_message = E.LENGTH_MISMATCH.format(n_x=300, name="sample_weight", n_other=299)
    with pytest.raises(E.InputError) as raised:
        update(automl, X_new, y_new, sample_weight=np.ones(299))
    assert str(raised.value) == fits_message
    with pytest.raises(E.InputError, match="sample_weight_before weighs the old rows"):
        update(automl, X_new, y_new, sample_weight_before=np.ones(300))
    assert "X= and y=" in UPDATE_OLD_WEIGHTS


def _as_if(automl, **record):
    """``automl`` as if its fit had recorded ``record`` too (a target, weights)."""
    import copy

    fitted = copy.copy(automl)
    fitted.best_config_ = {**automl.best_config_, **record}
    return fitted


def test_update_without_the_fits_target_says_whose_claim_it_is(automl):
    aimed = _as_if(automl, shift={"target_rows": 500, "rows": 2000, "effective_rows": 900.0})
    X_new, y_new = new_rows(n=300, seed=6)
    with pytest.warns(E.UpdateWarning, match="not the fit's target") as caught:
        result = update(aimed, X_new, y_new, search_again=False, random_state=0)
    assert len(caught) == 1 and "500 rows" in str(caught[0].message)
    assert result.claim_for == "update rows"
    assert result.notes == [UPDATE_TARGET_DROPPED.format(rows=500)]
    assert result.to_dict()["notes"] == result.notes
    assert result.model.best_config_["shift"] is None  # nothing aims it at the target now


def test_update_with_target_rows_aims_the_claim_there(automl):
    aimed = _as_if(automl, shift={"target_rows": 500, "rows": 2000, "effective_rows": 900.0})
    X_new, y_new = new_rows(n=300, seed=6)
    target, _ = new_rows(n=400, seed=10)
    target = target[target["x1"] > 0].drop(columns=["group"])  # where it will be used
    with warnings.catch_warnings():
        warnings.simplefilter("error", E.UpdateWarning)
        result = update(aimed, X_new, y_new, target_X=target, search_again=False, random_state=0)
    assert result.claim_for == "target_X" and result.notes == []
    shift = result.model.best_config_["shift"]
    assert shift["target_rows"] == len(target) and shift["rows"] == result.n_trained
    assert shift["effective_rows"] < result.n_trained  # the training rows were reweighted
    assert result.to_dict()["claim_after"]["shift"] == shift


def test_update_of_a_weighted_fit_without_weights_warns(automl):
    weighted = _as_if(automl, sample_weight={"column": None, "total": 10.0, "rows": 5})
    X_new, y_new = new_rows(n=300, seed=6)
    with pytest.warns(E.UpdateWarning, match="each new row counts once"):
        result = update(weighted, X_new, y_new, search_again=False, random_state=0)
    assert result.notes == [UPDATE_WEIGHTS_DROPPED]


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


def test_update_command_carries_the_fits_weights_and_target(tmp_path, capsys):
    """A fit with --weight and --target-rows: update weighs the new rows by the fit's
    column (the CSV has it), and without --target-rows says whose claim it makes."""
    from fairautoml import cli

    X, y = old_rows(n=800)
    X_new, y_new = new_rows(n=500, seed=11)
    target, _ = new_rows(n=600, seed=12)
    fit_csv, new_csv, target_csv = (tmp_path / f"{n}.csv" for n in ("fit", "new", "target"))
    X.assign(label=y.to_numpy(), w=np.where(y == 1, 2.0, 1.0)).to_csv(fit_csv, index=False)
    weight = np.where(y_new == 1, 4.0, 1.0)
    X_new.assign(label=y_new.to_numpy(), w=weight).to_csv(new_csv, index=False)
    target[target["x1"] > 0].to_csv(target_csv, index=False)
    run = tmp_path / "run"
    fit = [
        "fit", str(fit_csv), "--target", "label", "--sensitive", "group", "--constraint", DP,
        "--n-trials", "2", "--learners", "logistic_regression", "--mitigators",
        "group_thresholds", "--decision-rule", "group_aware", "--no-confirm", "--quiet",
        "--weight", "w", "--target-rows", str(target_csv), "--out", str(run),
    ]  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert cli.main(fit) in (0, 1, 3)
        capsys.readouterr()
        update_cmd = ["update", str(run), str(new_csv), "--seed", "0", "--search-again", "never"]
        assert cli.main([*update_cmd, "--out", str(tmp_path / "own")]) in (0, 1, 3)
        err = capsys.readouterr().err
        assert f"give --target-rows {target_csv}" in err
        assert "not the fit's target" in err and "(--target-rows CSV)" in err
        own = json.loads((tmp_path / "own" / "update.json").read_text())
        assert own["claim_for"] == "update rows" and own["claim_after"]["shift"] is None
        assert own["claim_after"]["sample_weight"]["column"] == "w"
        aimed = [*update_cmd, "--target-rows", str(target_csv), "--out", str(tmp_path / "aimed")]
        assert cli.main(aimed) in (0, 1, 3)
    out, err = capsys.readouterr()
    assert "its claim, reweighted to stand for the" in out and "warning" not in err
    record = json.loads((tmp_path / "aimed" / "update.json").read_text())
    assert record["claim_for"] == "target_X" and record["notes"] == []
    assert record["claim_after"]["shift"]["target_rows"] == int((target["x1"] > 0).sum())
    assert record["claim_after"]["sample_weight"]["rows"] == record["n_trained"] == 350
