"""Continuous sensitive attributes: ``sensitive_bins`` cuts them into groups at fit, keeps
the cut points in the model and applies them to new rows; without bins a many-valued
numeric attribute is an error that shows how to give them."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from fairautoml import FairAutoML, FairAutoMLRegressor, datasets
from fairautoml.cli.inputs import BINS_CLI, parse_sensitive
from fairautoml.data.groups import MAX_UNBINNED_VALUES, GroupEncoder
from fairautoml.data.messages import BINS_NOT_NUMERIC, BINS_UNKNOWN_ATTRIBUTE, SENSITIVE_CONTINUOUS
from fairautoml.data.prepare import prepare_fit_data
from fairautoml.exceptions import ConfigurationError, FairAutoMLError, InputError
from fairautoml.report.page import write_fit_report
from fairautoml.tasks import get_task

BINARY = get_task("binary")
LOOSE = "demographic_parity_difference <= 0.9"  # met by any model: no pick warning
FAST = dict(n_trials=1, time_budget=None, learners=["logistic_regression"], cv_folds=None,
            confirm=False, random_state=0)  # fmt: skip


def ages(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """A table with a continuous ``age`` (18..79), a sex column and a target."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, size=n)
    x = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(x + (age - 45) / 20)))).astype(int)
    sex = rng.choice(["F", "M"], size=n)
    return pd.DataFrame({"age": age, "sex": sex, "x": x}), pd.Series(y, name="y")


# --- the groups ------------------------------------------------------------------------------


def test_fixed_edges_give_left_closed_bins_in_order():
    frame = pd.DataFrame({"age": [18, 24.9, 25, 39, 40, 59, 60, 90]})
    encoder = GroupEncoder.fit(frame, {"age": [25, 40, 60]})
    assert encoder.labels == ["<25", "[25, 40)", "[40, 60)", ">=60"]
    assert encoder.encode(frame).tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert encoder.bins == {"age": [25.0, 40.0, 60.0]}


def test_quantiles_are_computed_once_and_give_equal_groups():
    frame = pd.DataFrame({"income": np.arange(1, 101)})
    encoder = GroupEncoder.fit(frame, {"income": "quantiles:4"})
    assert encoder.bins["income"] == pytest.approx(
        np.quantile(np.arange(1, 101), [0.25, 0.5, 0.75])
    )
    assert np.bincount(encoder.encode(frame)).tolist() == [25, 25, 25, 25]


def test_new_rows_are_cut_at_the_fitted_edges_out_of_range_to_the_end_bins():
    encoder = GroupEncoder.fit(
        pd.DataFrame({"income": np.arange(1, 101)}), {"income": "quantiles:4"}
    )
    new = pd.DataFrame({"income": [-1e6, 1, 50, 99, 1e6]})  # other rows: the fitted edges hold
    assert encoder.encode(new).tolist() == [0, 0, 1, 3, 3]


def test_binned_attribute_intersects_with_another():
    frame = pd.DataFrame({"age": [20, 30, 20, 30], "sex": ["F", "F", "M", "M"]})
    encoder = GroupEncoder.fit(frame, {"age": [25]})
    assert encoder.labels == ["<25 & F", "<25 & M", ">=25 & F", ">=25 & M"]
    assert encoder.encode(frame).tolist() == [0, 2, 1, 3]


@pytest.mark.parametrize("codes", [[0, 1], [1, 2, 3, 4, 5], list(range(MAX_UNBINNED_VALUES))])
def test_small_integer_codes_stay_groups_without_bins(codes):
    frame = pd.DataFrame({"code": np.tile(codes, 3)})
    encoder = GroupEncoder.fit(frame)
    assert encoder.labels == sorted(map(str, codes)) and encoder.bins == {}


def test_many_valued_numeric_attribute_without_bins_says_how_to_bin_it():
    X, y = ages()
    with pytest.raises(InputError) as info:
        prepare_fit_data(X, y, "age", task=BINARY)
    n = X["age"].nunique()
    assert str(info.value) == SENSITIVE_CONTINUOUS.format(
        name="age", n=n, limit=MAX_UNBINNED_VALUES
    )
    for hint in ('sensitive_bins={"age": [25, 40, 60]}', '"quantiles:4"', "--sensitive age:q4"):
        assert hint in str(info.value)


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bins",
    [{"age": [40, 25]}, {"age": [25, 25]}, {"age": ["a", "b"]}, {"age": []},
     {"age": [25, float("nan")]}, {"age": "quantiles:1"}, {"age": "quantiles:x"},
     {"age": "deciles"}, {"age": True}],
)  # fmt: skip
def test_bad_edges_are_refused_before_the_search(bins):
    X, y = ages()
    with pytest.raises(ConfigurationError, match="must be a list of increasing numbers"):
        FairAutoML(sensitive_bins=bins, **FAST).fit(X, y, sensitive_features="age")


def test_bins_that_are_not_a_dict_are_refused():
    X, y = ages()
    with pytest.raises(ConfigurationError, match=r"sensitive_bins must be a dict"):
        FairAutoML(sensitive_bins=[25, 40], **FAST).fit(X, y, sensitive_features="age")


def test_bins_on_a_non_numeric_attribute_are_refused():
    X, y = ages()
    with pytest.raises(InputError) as info:
        prepare_fit_data(X, y, ["age", "sex"], sensitive_bins={"sex": [1]}, task=BINARY)
    assert str(info.value) == BINS_NOT_NUMERIC.format(name="sex", example=X["sex"].iloc[0])


def test_bins_for_an_attribute_that_is_not_sensitive_list_the_known_ones():
    X, y = ages()
    with pytest.raises(InputError) as info:
        prepare_fit_data(X, y, "age", sensitive_bins={"agee": [30]}, task=BINARY)
    assert str(info.value) == BINS_UNKNOWN_ATTRIBUTE.format(name="agee", known="'age'")


def test_a_bin_under_min_group_size_is_named_with_its_label():
    X, y = ages()
    with pytest.raises(InputError) as info:
        prepare_fit_data(X, y, "age", sensitive_bins={"age": [25, 40, 78]}, task=BINARY)
    message = str(info.value)
    assert message.startswith("Group '>=78' has") and "age is binned" in message


# --- the estimator, the report and the command line ----------------------------------------


def test_german_credit_with_age_binned_end_to_end(tmp_path):
    X, y, _ = datasets.load("german", sensitive="sex")  # keeps the raw age among the features
    assert X["age"].nunique() > MAX_UNBINNED_VALUES
    bins = {"age": [25, 40, 60]}
    given = (X.copy(), copy.deepcopy(bins))
    automl = FairAutoML(
        constraints="demographic_parity_difference <= 0.2", n_trials=2, time_budget=None,
        sensitive_bins=bins, random_state=0,
    ).fit(X, y, sensitive_features="age")  # fmt: skip
    pd.testing.assert_frame_equal(X, given[0])
    assert bins == given[1]  # nothing the user passed is changed
    labels = ["<25", "[25, 40)", "[40, 60)", ">=60"]
    assert automl.best_config_["sensitive_bins"] == {"age": [25.0, 40.0, 60.0]}
    assert automl.best_estimator_.group_encoder.labels == labels
    assert automl.best_config_["constraint_values"]["demographic_parity_difference"] <= 0.2
    by_group = automl.fairness_report(X, y, "age").by_group
    assert sorted(by_group.index) == sorted(labels)
    assert by_group["count"].sum() == len(X)
    new = X.head(2).assign(age=[5, 120])  # beyond the edges: the end bins
    encoder = automl.best_estimator_.group_encoder
    assert encoder.encode(new[["age"]]).tolist() == [0, 3]
    assert len(automl.predict(new)) == 2
    page = write_fit_report(automl, tmp_path / "report.html", data=(X, y, "age")).read_text()
    assert "age binned at [25, 40, 60]" in page and "[25, 40)" in page


def test_quantile_edges_are_recorded_as_resolved():
    X, y = ages()
    options = dict(FAST, learners=["ridge"], constraints="demographic_parity_ks <= 0.9")
    automl = FairAutoMLRegressor(sensitive_bins={"age": "quantiles:3"}, **options).fit(
        X.drop(columns="sex"), X["x"] + y, sensitive_features="age"
    )
    edges = automl.best_config_["sensitive_bins"]["age"]
    assert edges == pytest.approx(np.quantile(X["age"], [1 / 3, 2 / 3]))
    assert len(automl.best_estimator_.group_encoder.labels) == 3


def test_a_resumed_study_with_other_bins_is_refused(tmp_path):
    X, y = ages()
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    kw = dict(FAST, storage=storage, study_name="bins", constraints=LOOSE)
    FairAutoML(sensitive_bins={"age": [40]}, **kw).fit(X, y, sensitive_features="age")
    with pytest.raises(ConfigurationError, match="sensitive_bins"):
        FairAutoML(sensitive_bins={"age": [50]}, **kw).fit(X, y, sensitive_features="age")


@pytest.mark.parametrize(
    ("given", "names", "bins"),
    [
        (["age:25,40,60"], ["age"], {"age": [25, 40, 60]}),
        (["age:q4", "sex"], ["age", "sex"], {"age": "quantiles:4"}),
        (["income:-1.5,2500"], ["income"], {"income": [-1.5, 2500]}),
        (["sex"], ["sex"], None),
        (["time:of:day"], ["time:of:day"], None),  # a colon in a column name
    ],
)
def test_cli_sensitive_parses_columns_and_bins(given, names, bins):
    assert parse_sensitive(given) == (names, bins)


@pytest.mark.parametrize("given", ["age:q1", "age:40,25", "age:25,x", "age:q"])
def test_cli_bad_bins_say_how_to_write_them(given):
    with pytest.raises(FairAutoMLError) as info:
        parse_sensitive([given])
    assert str(info.value) == BINS_CLI.format(given=given)


def test_cli_fit_passes_the_bins_and_records_plain_columns(monkeypatch):
    from fairautoml import cli
    from fairautoml.cli import commands as cli_commands

    X, y = ages()
    seen: dict = {}

    def read(source):
        seen["source"] = source
        return X, y, source["sensitive"]

    def capture(self, X, y, sensitive_features=None):
        seen.update(self.get_params(), s=sensitive_features)
        raise SystemExit(0)  # stop before the search

    monkeypatch.setattr(cli_commands, "load_source", read)
    monkeypatch.setattr(FairAutoML, "fit", capture)
    with pytest.raises(SystemExit):
        cli.main(["fit", "t.csv", "--target", "y", "--sensitive", "age:25,40,60",
                  "--sensitive", "sex", "--task", "binary", "-q"])  # fmt: skip
    assert seen["source"]["sensitive"] == ["age", "sex"]  # what a worker loads
    assert seen["s"] == ["age", "sex"]
    assert seen["sensitive_bins"] == {"age": [25, 40, 60]}
