"""Less discriminatory alternatives (fairautoml.find_alternatives, fairautoml alternatives):
an alternative found on rows the search never saw, none claimed where none can be shown,
the incumbent read the same from a model and from its scores, bad inputs refused with
their fix, and the command line end to end."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from lightgbm import LGBMClassifier

import fairautoml
from fairautoml.alternatives import read_incumbent
from fairautoml.cli import main
from fairautoml.exceptions import InputError

SEARCH = {"n_trials": 6, "time_budget": None, "learners": ["lightgbm"], "ensemble": False}


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


def test_a_disparate_incumbent_has_a_less_discriminatory_alternative(found, lender):
    """The incumbent reads sex; a model that does not, of about its accuracy, is fairer:
    the evidence must say so with confidence, on the right side of both intervals."""
    _, X, _ = lender
    assert found.verdict_ == "less discriminatory"
    assert found.best_ is not None
    best = found.alternatives_.iloc[0]
    assert best["verdict"] == "less discriminatory"
    assert best["delta_demographic_parity_difference_high"] < 0
    assert best["delta_accuracy_low"] >= -0.03
    assert best["demographic_parity_difference"] < found.incumbent_["demographic_parity_difference"]
    assert found.best_.predict(X.head(5)).shape == (5,)
    assert found.best_.predict_proba(X.head(5)).shape == (5, 2)


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
    rows = found.evidence_rows_
    decisions = found.best_.predict(X.iloc[rows]) == 1
    assert decisions.mean() == pytest.approx(found.alternatives_.iloc[0]["approval_rate"])
    path = found.best_.save(tmp_path / "alt.skops")
    again = fairautoml.load(path)
    assert (again.predict(X.iloc[rows]) == found.best_.predict(X.iloc[rows])).all()


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
