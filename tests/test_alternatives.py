"""Less discriminatory alternatives (fairautoml.find_alternatives, fairautoml alternatives):
an alternative found on rows the search never saw, none claimed where none can be shown,
the incumbent read the same from a model and from its scores, bad inputs refused with
their fix, and the command line end to end."""

from __future__ import annotations

import json
import time
import warnings

import numpy as np
import pandas as pd
import pytest
from lightgbm import LGBMClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import fairautoml
from fairautoml.alternatives import read_incumbent
from fairautoml.alternatives.feature_sets import ALL_ALLOWED
from fairautoml.alternatives.page import render
from fairautoml.cli import main
from fairautoml.estimators.base import FairSearchEstimator
from fairautoml.estimators.build import build_search
from fairautoml.exceptions import InputError, SearchError

SEARCH = {"n_trials": 6, "time_budget": None, "learners": ["lightgbm"], "ensemble": False}
QUICK = {"time_budget": None, "learners": ["logistic_regression"], "ensemble": False}


@pytest.fixture(scope="module")
def lender():
    """Adult with sex as a feature of the incumbent, a LightGBM fitted by hand on rows of
    its own: (incumbent, X, y) for the rows the search and the evidence share."""
    X, y, s = fairautoml.datasets.load("adult")
    rows = np.random.default_rng(0).choice(len(X), 6000, replace=False)
    X = X.iloc[rows].reset_index(drop=True).assign(sex=s.iloc[rows].to_numpy())
    y = y.iloc[rows].reset_index(drop=True)
    for column in X.select_dtypes(exclude="number"):
        X[column] = X[column].astype("category")
    incumbent = LGBMClassifier(n_estimators=60, num_leaves=15, verbose=-1)
    incumbent.fit(X.iloc[:2000], y.iloc[:2000])
    return incumbent, X.iloc[2000:].reset_index(drop=True), y.iloc[2000:].reset_index(drop=True)


@pytest.fixture(scope="module")
def found(lender):
    incumbent, X, y = lender
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fairautoml.find_alternatives(
            incumbent, X, y, sensitive_features="sex", tolerance=0.03, n_compare=2,
            random_state=0, **SEARCH,
        )  # fmt: skip


def _own_columns(model, X):
    """X with the columns the alternative was given (a feature-set search's fewer)."""
    return X[[str(c) for c in model.feature_names_in_]]


def _first_found(result):
    table = result.alternatives_
    return table[table["verdict"] == "less discriminatory"].iloc[0]


def test_a_disparate_incumbent_has_a_less_discriminatory_alternative(found, lender):
    """The incumbent reads sex; a model that does not, of about its accuracy, is fairer:
    the evidence must say so with confidence, on the right side of both intervals."""
    _, X, _ = lender
    assert found.verdict_ == "less discriminatory"
    assert found.best_ is not None
    best = _first_found(found)
    assert best["delta_demographic_parity_difference_high"] < 0
    assert best["delta_accuracy_low"] >= -0.03
    assert best["demographic_parity_difference"] < found.incumbent_["demographic_parity_difference"]
    assert found.best_.predict(_own_columns(found.best_, X.head(5))).shape == (5,)
    assert found.best_.predict_proba(_own_columns(found.best_, X.head(5))).shape == (5, 2)


def test_the_evidence_rows_were_never_searched(found, lender):
    """The claim rests on rows the search never saw: the two parts are disjoint and cover
    the table, and the search's data hold exactly the search rows."""
    _, X, _ = lender
    evidence, searched = set(found.evidence_rows_), set(found.search_rows_)
    assert not evidence & searched
    assert evidence | searched == set(range(len(X)))
    assert found.search_["search_rows"] == len(found.search_rows_)
    assert found.incumbent_["rows"] == len(found.evidence_rows_)


def test_the_best_alternative_is_the_model_compared_and_saves(found, lender, tmp_path):
    """best_ is the model measured on the evidence rows (not a refit), and reads back from
    its file with the same decisions."""
    _, X, _ = lender
    rows = _own_columns(found.best_, X.iloc[found.evidence_rows_])
    decisions = found.best_.predict(rows) == 1
    assert decisions.mean() == pytest.approx(_first_found(found)["approval_rate"])
    path = found.best_.save(tmp_path / "alt.skops")
    again = fairautoml.load(path)
    assert (again.predict(rows) == found.best_.predict(rows)).all()


def test_the_result_says_what_was_searched_and_when_to_stop(found):
    """The record of a reasonable search: learners, trials, seconds, and a stopping
    statement with its assumption."""
    assert found.search_["learners"] == ["lightgbm"]
    assert found.search_["points"] >= 6 and found.search_["seconds"] > 0
    assert found.stopping_.trials == found.search_["points"]
    assert "Assuming" in found.stopping_.statement or "no history" in found.stopping_.statement
    assert found.attribution_["incumbent"]["features"]
    assert found.attribution_["alternative"]["features"]


def test_the_report_is_written(found, tmp_path):
    """alternatives.json holds the verdict and paired intervals; the page is self-contained
    with the plot, the table and the stopping statement."""
    found.save(tmp_path)
    record = json.loads((tmp_path / "alternatives.json").read_text())
    assert record["verdict"] == "less discriminatory"
    assert record["alternatives"][0]["delta_accuracy_low"] is not None
    page = (tmp_path / "alternatives.html").read_text()
    assert "<svg" in page and "Stopping statement" in page and "does not prove" in page
    assert "<script" not in page and "http" not in page.replace("http://www.w3.org", "")


def test_no_tolerance_against_a_strong_incumbent_finds_none(lender):
    """With no accuracy to give, the intervals cannot show an alternative at least as
    accurate: nothing is claimed."""
    incumbent, X, y = lender
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = fairautoml.find_alternatives(
            incumbent, X, y, sensitive_features="sex", tolerance=0.0, random_state=0,
            **{**SEARCH, "n_trials": 2},
        )  # fmt: skip
    assert result.best_ is None
    assert result.verdict_ == "none found with confidence"


def test_an_incumbent_within_every_bound_has_nothing_to_reduce(lender):
    """A bound the incumbent already meets: said plainly, no search run."""
    incumbent, X, y = lender
    result = fairautoml.find_alternatives(
        incumbent, X, y, sensitive_features="sex",
        constraints="demographic_parity_difference <= 0.5", **SEARCH,
    )  # fmt: skip
    assert result.verdict_ == "nothing to reduce" and result.best_ is None
    assert "Nothing to reduce" in result.reason_ and result.stopping_ is None


def test_scores_with_a_cutoff_or_an_approval_rate_decide_as_the_model(lender):
    """A lender with only the scores gets the incumbent's own decisions."""
    incumbent, X, _ = lender
    model = read_incumbent(incumbent, X, 1)
    scores = incumbent.predict_proba(X)[:, 1]
    by_cutoff = read_incumbent(None, X, 1, incumbent_scores=scores, cutoff=0.5)
    by_rate = read_incumbent(None, X, 1, incumbent_scores=scores, approval_rate=model.approval_rate)
    assert 0 < model.decisions.sum() < len(X)
    assert (by_cutoff.decisions == model.decisions).all()
    assert (by_rate.decisions == model.decisions).all()


class _NoProba:
    def predict(self, X):
        return np.zeros(len(X))


@pytest.mark.parametrize(
    "change, fix",
    [
        ({"incumbent": _NoProba()}, "has no predict_proba"),
        ({"incumbent": None, "incumbent_scores": np.ones(10), "cutoff": 0.5}, "one score per row"),
        ({"incumbent": None, "incumbent_scores": "nan", "cutoff": 0.5}, "missing or non-numeric"),
        ({"incumbent": None, "incumbent_scores": "ok"}, "cutoff= (approve"),
        ({"drop": "age"}, "columns the table lacks: ['age']"),
        ({"tolerance": -0.1}, "tolerance must be a number in [0, 1]"),
        ({"tolerance": 1.5}, "tolerance must be a number in [0, 1]"),
        ({"evidence_share": 0.0}, "evidence_share must be a number in (0, 0.8]"),
        ({"evidence_share": 0.9}, "evidence_share must be a number in (0, 0.8]"),
    ],
)
def test_bad_inputs_say_their_fix(lender, change, fix):
    incumbent, X, y = lender
    change = dict(change)
    if change.pop("drop", None):
        X = X.drop(columns=["age"])
    scores = incumbent.predict_proba(X)[:, 1] if "age" in X else np.ones(len(X))
    given = change.get("incumbent_scores")
    if isinstance(given, str) and given == "nan":
        change["incumbent_scores"] = np.where(np.arange(len(X)) == 3, np.nan, scores)
    elif isinstance(given, str) and given == "ok":
        change["incumbent_scores"] = scores
    kwargs = {"incumbent": incumbent, **change}
    with pytest.raises(InputError, match=pytest.importorskip("re").escape(fix)):
        fairautoml.find_alternatives(
            kwargs.pop("incumbent"), X, y, sensitive_features="sex", **kwargs, **SEARCH
        )


def test_the_command_line_writes_the_report_and_says_by_its_exit_status(lender, tmp_path):
    """Scores in a CSV column with an approval rate: both files written, and the exit
    status the verdict's (0 found, 1 none found with confidence, 3 nothing to reduce)."""
    incumbent, X, y = lender
    table = X.assign(approved=y.to_numpy(), score=incumbent.predict_proba(X)[:, 1])
    table.to_csv(tmp_path / "data.csv", index=False)
    common = ["alternatives", str(tmp_path / "data.csv"), "--target", "approved",
              "--sensitive", "sex", "--incumbent-scores", "score", "--approval-rate", "0.2",
              "--n-trials", "3", "--learners", "lightgbm"]  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        status = main([*common, "--tolerance", "0.03", "--out", str(tmp_path / "out")])
    record = json.loads((tmp_path / "out" / "alternatives.json").read_text())
    assert (tmp_path / "out" / "alternatives.html").is_file()
    expected = {"less discriminatory": 0, "none found with confidence": 1}[record["verdict"]]
    assert status == expected
    bounded = main([*common, "--constraint", "demographic_parity_difference<=0.6"])
    assert bounded == 3
    assert main([*common[:4], "--sensitive", "sex"]) == 2  # no incumbent given


# --- the business need's levers, the feature sets, the approval rate, the public hook ---


def _proxy_table(n, seed):
    """A table whose outcome does not depend on the group, and an incumbent that learnt
    a historical penalty on group b through ``proxy`` (nearly the group): the disparity is
    the proxy's. (incumbent, X with the group column, y)."""
    rng = np.random.default_rng(seed)
    is_b = rng.random(n) < 0.5
    X = pd.DataFrame({
        "income": rng.normal(size=n), "proxy": is_b + rng.normal(scale=0.3, size=n),
        "tenure": rng.normal(size=n), "region": rng.normal(size=n),
    })  # fmt: skip
    merit = X["income"] + 0.5 * X["tenure"] + rng.normal(scale=0.7, size=n)
    y = pd.Series((merit > 0).astype(int), name="approved")
    history = (merit - 1.2 * is_b > 0).astype(int)  # the labels the incumbent learnt from
    incumbent = make_pipeline(StandardScaler(), LogisticRegression())
    incumbent.fit(X.iloc[: n // 3], history[: n // 3])
    X = X.assign(group=np.where(is_b, "b", "a"))
    return (
        incumbent,
        X.iloc[n // 3 :].reset_index(drop=True),
        y.iloc[n // 3 :].reset_index(drop=True),
    )


@pytest.fixture(scope="module")
def proxy_lender():
    return _proxy_table(4500, 1)


@pytest.fixture(scope="module")
def proxied(proxy_lender):
    incumbent, X, y = proxy_lender
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fairautoml.find_alternatives(
            incumbent, X, y, sensitive_features="group", tolerance=0.02, n_trials=4,
            n_compare=2, random_state=0, required_features=["income"],
            forbidden_features="region", **QUICK,
        )  # fmt: skip


def test_forbidden_features_reach_no_alternative_and_required_ones_every_set(proxied):
    """Counsel's ruling holds in the models themselves: no compared model's columns hold
    the forbidden feature, every one's hold the required one, as does every feature set."""
    assert proxied.models_ and len(proxied.models_) == len(proxied.alternatives_)
    for model in proxied.models_:
        assert "region" not in model.schema.columns
        assert "income" in model.schema.columns
    if proxied.best_ is not None:
        assert "region" not in proxied.best_.feature_names_in_
    for feature_set in proxied.search_["feature_sets"]:
        assert "income" in feature_set["features"] and "region" not in feature_set["features"]
        assert "income" not in feature_set["dropped"]
    assert proxied.search_["forbidden_features"] == ["region"]


def test_the_search_without_the_proxy_is_listed_and_less_disparate(proxied):
    """The proxy carries the incumbent's gap, so the attribution names it first; the
    search without it is compared like the others, named in the table and on the page,
    and is less disparate than the incumbent on the evidence rows."""
    assert proxied.search_["drivers"][0]["feature"] == "proxy"
    names = [s["name"] for s in proxied.search_["feature_sets"]]
    assert names[0] == ALL_ALLOWED and "without proxy" in names
    without = proxied.alternatives_[proxied.alternatives_["feature_set"] == "without proxy"]
    assert len(without) >= 1
    key = "demographic_parity_difference"
    assert (without[key] < proxied.incumbent_[key]).all()
    per_level = 1 - (1 - 0.95) / len(proxied.alternatives_)  # Bonferroni counts every set
    assert proxied.alternatives_["interval_level"].to_numpy() == pytest.approx(per_level)
    page = render(proxied)
    assert "Feature sets searched" in page and "without proxy" in page


@pytest.mark.parametrize(
    "levers, fix",
    [
        ({"required_features": ["income"], "forbidden_features": ["income"]},
         "['income'] are both required and forbidden"),
        ({"forbidden_features": ["zip"]}, "forbidden_features= names columns the table lacks"),
        ({"required_features": "zip"}, "required_features= names columns the table lacks"),
        ({"required_features": ["group"]}, "names the sensitive column(s) ['group']"),
        ({"drop_drivers": -1}, "drop_drivers must be an integer >= 0"),
    ],
)  # fmt: skip
def test_bad_levers_say_their_fix(proxy_lender, levers, fix):
    """A lever that cannot hold is refused before any search, saying what to change."""
    incumbent, X, y = proxy_lender
    with pytest.raises(InputError, match=pytest.importorskip("re").escape(fix)):
        fairautoml.find_alternatives(
            incumbent, X, y, sensitive_features="group", n_trials=1, **levers, **QUICK
        )


def _no_trial_without(column, monkeypatch):
    """Searches not given ``column`` end with no trial done (a share of the budget too
    short on a busy machine): their leaderboard raises as the search's does."""
    import fairautoml.alternatives.search as search_module

    real = search_module.build_search

    def build(params, X, *args, **kwargs):
        search = real(params, X, *args, **kwargs)
        if column not in X.columns:

            def no_trial():
                raise SearchError("No trial succeeded (1 failed). First errors: [TimeoutError]")

            search.leaderboard = no_trial
        return search

    monkeypatch.setattr(search_module, "build_search", build)


def test_a_feature_set_search_with_no_trial_done_is_left_out(proxy_lender, monkeypatch):
    """The search without the proxy has nothing to compare: it is listed as left out and
    why, and the search on every allowed feature still gives its alternatives."""
    incumbent, X, y = proxy_lender
    _no_trial_without("proxy", monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = fairautoml.find_alternatives(
            incumbent, X, y, sensitive_features="group", tolerance=0.02, n_trials=4,
            n_compare=2, random_state=0, drop_drivers=1, **QUICK,
        )  # fmt: skip
    left = [s for s in result.search_["feature_sets"] if s.get("note")]
    assert [s["name"] for s in left] == ["without proxy"]
    assert left[0]["points"] == 0 and "Left out" in left[0]["note"]
    assert len(result.alternatives_) >= 1
    assert set(result.alternatives_["feature_set"]) == {ALL_ALLOWED}
    assert "no trial of this search was done" in render(result)


def test_no_search_with_a_trial_done_is_an_error(proxy_lender, monkeypatch):
    """With no search done there is nothing to compare: the search's own error."""
    incumbent, X, y = proxy_lender
    _no_trial_without("no such column", monkeypatch)
    with pytest.raises(SearchError, match="No trial succeeded"):
        fairautoml.find_alternatives(
            incumbent, X, y, sensitive_features="group", tolerance=0.02, n_trials=2,
            n_compare=1, random_state=0, drop_drivers=1, **QUICK,
        )  # fmt: skip


@pytest.fixture(scope="module")
def same_volume(proxy_lender):
    """An incumbent approving a fifth of applicants, against alternatives that at their
    own cut-off approve about half: with same_approval_rate=True each is cut to approve
    the incumbent's share of the search's rows."""
    incumbent, X, y = proxy_lender
    scores = incumbent.predict_proba(X.drop(columns="group"))[:, 1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fairautoml.find_alternatives(
            None, X, y, sensitive_features="group", incumbent_scores=scores,
            approval_rate=0.2, same_approval_rate=True, tolerance=0.04, n_trials=2,
            n_compare=2, random_state=0, **QUICK,
        )  # fmt: skip


def test_same_approval_rate_cuts_each_alternative_to_the_incumbents_share(same_volume):
    """Every alternative compared carries a cut-off, and on the evidence rows (which did
    not choose it) approves the incumbent's share within sampling noise: the cut-off's
    own noise (chosen on at most the search's rows) and the evidence rows'."""
    table, incumbent = same_volume.alternatives_, same_volume.incumbent_
    assert len(table) >= 1 and table["cutoff"].notna().all()
    p = incumbent["approval_rate"]
    assert p == pytest.approx(0.2, abs=0.03)
    n_evidence, n_search = incumbent["rows"], len(same_volume.search_rows_)
    noise = np.sqrt(p * (1 - p) * (1 / n_evidence + 1 / (0.2 * n_search)))
    assert (np.abs(table["approval_rate"] - p) < 3 * noise).all()
    assert not table["reason"].str.contains("Left out").any()


def test_a_cross_validated_search_cuts_on_out_of_fold_probabilities(proxy_lender):
    """Under cross-validation every search row trained the model: the cut-off is read
    from the probabilities the search kept out of fold, and the forests (whose in-sample
    scores sit near 0 and 1) still approve the incumbent's share of the evidence rows."""
    incumbent, X, y = proxy_lender
    scores = incumbent.predict_proba(X.drop(columns="group"))[:, 1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = fairautoml.find_alternatives(
            None, X, y, sensitive_features="group", incumbent_scores=scores,
            approval_rate=0.2, same_approval_rate=True, tolerance=0.04, n_trials=2,
            n_compare=2, random_state=0, time_budget=None, learners=["random_forest"],
            ensemble=False, cv_folds=5,
        )  # fmt: skip
    table, p = result.alternatives_, result.incumbent_["approval_rate"]
    assert len(table) >= 1 and table["cutoff"].notna().all()
    noise = np.sqrt(p * (1 - p) * (1 / result.incumbent_["rows"] + 1 / len(result.search_rows_)))
    assert (np.abs(table["approval_rate"] - p) < 3 * noise).all()


def test_the_best_cut_to_the_incumbents_share_predicts_with_its_cutoff(
    same_volume, proxy_lender, tmp_path
):
    """The adopted alternative decides at the cut-off it was compared at, and its model
    file keeps it."""
    _, X, _ = proxy_lender
    assert same_volume.best_ is not None
    best = _first_found(same_volume)
    rows = _own_columns(same_volume.best_, X.iloc[same_volume.evidence_rows_])
    decisions = same_volume.best_.predict(rows) == 1
    assert decisions.mean() == pytest.approx(best["approval_rate"])
    assert same_volume.to_dict()["best"]["cutoff"] == pytest.approx(best["cutoff"])
    again = fairautoml.load(same_volume.best_.save(tmp_path / "alt.skops"))
    assert (again.predict(rows) == same_volume.best_.predict(rows)).all()
    assert np.allclose(again.predict_proba(rows), same_volume.best_.predict_proba(rows))


def test_the_command_line_reads_a_skops_incumbent_and_the_levers(proxy_lender, tmp_path):
    """--incumbent MODEL_FILE: a scikit-learn pipeline written with skops passes the safe
    gate and is the incumbent measured; --require and --forbid reach the search."""
    skops_io = pytest.importorskip("skops.io")
    incumbent, X, y = proxy_lender
    skops_io.dump(incumbent, tmp_path / "incumbent.skops")
    X.assign(approved=y.to_numpy()).to_csv(tmp_path / "data.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        status = main([
            "alternatives", str(tmp_path / "data.csv"), "--target", "approved",
            "--sensitive", "group", "--incumbent", str(tmp_path / "incumbent.skops"),
            "--tolerance", "0.02", "--n-trials", "2", "--learners", "logistic_regression",
            "--require", "income", "--forbid", "region,tenure", "--drop-drivers", "0",
            "--out", str(tmp_path / "out"),
        ])  # fmt: skip
    record = json.loads((tmp_path / "out" / "alternatives.json").read_text())
    assert status in (0, 1)
    assert record["incumbent"]["given_as"] == "model"
    assert record["incumbent"]["description"] == "Pipeline"
    assert record["search"]["forbidden_features"] == ["region", "tenure"]
    assert [s["features"] for s in record["search"]["feature_sets"]] == [["income", "proxy"]]


def test_fit_ends_with_the_public_hook_and_the_hook_gives_fits_pick(proxy_lender, monkeypatch):
    """One rule in one place: fit adopts its own pick through adopt, and adopting that trial
    of the same search, built and run again, gives the same best_config_."""
    _, X, y = proxy_lender
    X, y = X.head(1200), y.head(1200)
    calls = []
    original = FairSearchEstimator.adopt

    def spy(self, search, trial, **options):
        calls.append(trial)
        return original(self, search, trial, **options)

    monkeypatch.setattr(FairSearchEstimator, "adopt", spy)
    settings = {
        **QUICK,
        "n_trials": 2,
        "random_state": 0,
        "constraints": "demographic_parity_difference <= 0.1",
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = fairautoml.FairAutoML(**settings).fit(X, y, sensitive_features="group")
    assert calls == [fitted.best_config_["trial"]]
    adopter = fairautoml.FairAutoML(**settings)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search = build_search(adopter.search_params(), X, y, "group", started=time.monotonic())
        search.run()
        search.confirm()
        adopter.adopt(search, fitted.best_config_["trial"], compare_policies=True)
    assert repr(adopter.best_config_) == repr(fitted.best_config_)
    assert (adopter.predict(X) == fitted.predict(X)).all()
    with pytest.raises(InputError, match="not on the search's leaderboard"):
        adopter.adopt(search, 10_000)


def test_a_near_constant_point_is_no_alternative():
    """Approving nearly everyone has almost no disparity and, where most are approved,
    nearly the accuracy: a point of the pick's ``weak`` tier is never compared."""
    from fairautoml.alternatives.search import _eligible

    board = pd.DataFrame(
        {
            "status": ["ok", "ok", "ok", "failed"],
            "tier": ["feasible", "weak", "infeasible", "failed"],
            "accuracy": [0.88, 0.88, 0.87, float("nan")],
        }
    )
    assert _eligible(board, "accuracy", 0.86).tolist() == [True, False, True, False]
