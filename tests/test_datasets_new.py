"""The bundled regression, fair-lending, arrests and multiclass tables: what ``load`` returns."""

from __future__ import annotations

import warnings
from importlib import resources

import numpy as np
import pytest

import fairautoml
from fairautoml import cli
from fairautoml.datasets import DATASETS, TARGET_ROWS_DROPPED, load, read_raw

NEW = (
    "cps1988", "slid", "hmda", "arrests", "bankwages", "compas_tiers", "cps1988_bands",
    "slid_bands",
)  # fmt: skip


@pytest.mark.parametrize("name", NEW)
def test_files_are_package_data_and_listed(name):
    info = DATASETS[name]
    assert (resources.files("fairautoml.datasets") / "data" / info.file).is_file()
    assert info in fairautoml.datasets.available()
    assert info.task in fairautoml.datasets.TASKS
    assert (info.positive is None) == (info.task != "binary")


def test_cps1988_is_a_wage_regression():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no row is dropped: no warning
        X, y, s = load("cps1988")
    assert DATASETS["cps1988"].task == "regression"
    assert X.shape == (28_155, 5) and len(y) == len(s) == 28_155
    assert y.name == "wage" and y.dtype == np.float64 and (y > 0).all()
    assert s.name == "ethnicity" and s.value_counts().to_dict() == {"cauc": 25_923, "afam": 2_232}
    assert "wage" not in X.columns and "ethnicity" not in X.columns


def test_slid_drops_rows_without_wages_and_says_how_many():
    expected = TARGET_ROWS_DROPPED.format(
        name="slid", target="wages", n=3_278, total=7_425, kept=4_147
    )
    with pytest.warns(UserWarning) as caught:
        X, y, s = load("slid")
    assert [str(w.message) for w in caught] == [expected]
    assert "3,278" in expected
    assert X.shape == (4_147, 3) and len(y) == len(s) == 4_147
    assert y.name == "wages" and y.dtype == np.float64 and not y.isna().any()
    assert set(s) == {"Female", "Male"}
    assert X["education"].isna().any()  # missing features are kept for imputation
    assert list(X.index) == list(range(4_147))
    raw = read_raw("slid")
    assert len(raw) == 7_425
    np.testing.assert_array_equal(y.to_numpy(), raw["wages"].dropna().to_numpy())
    with pytest.warns(UserWarning, match="3,278"):
        X, _, s = load("slid", "language")
    assert s.name == "language" and "sex" in X.columns and "language" not in X.columns
    assert set(s.dropna()) == {"English", "French", "Other"}


def test_hmda_target_is_the_mortgage_granted():
    X, y, s = load("hmda")
    raw = read_raw("hmda")
    assert X.shape == (2_380, 12) and y.dtype == np.int64
    assert (y == (raw["deny"] == "no")).all() and 0 < y.sum() < len(y)
    assert s.name == "afam" and s.value_counts().to_dict() == {"no": 2_041, "yes": 339}


def test_arrests_target_is_release_with_a_summons():
    X, y, s = load("arrests")
    assert X.shape == (5_226, 6) and y.dtype == np.int64
    assert int(y.sum()) == 4_334  # released == "Yes"
    assert s.name == "colour" and s.value_counts().to_dict() == {"White": 3_938, "Black": 1_288}
    _, _, sex = load("arrests", "sex")
    assert sex.name == "sex" and len(sex) == 5_226


def test_bankwages_is_multiclass_with_its_labels():
    X, y, s = load("bankwages")
    assert DATASETS["bankwages"].task == "multiclass"
    assert X.shape == (474, 2) and list(X.columns) == ["education", "minority"]
    assert y.value_counts().to_dict() == {"admin": 363, "manage": 84, "custodial": 27}
    assert s.value_counts().to_dict() == {"male": 258, "female": 216}
    assert not (y[s == "female"] == "custodial").any()  # a class empty for one group
    _, _, minority = load("bankwages", "minority")
    assert minority.value_counts().to_dict() == {"no": 370, "yes": 104}


def test_compas_tiers_is_the_tools_tier_from_its_inputs():
    X, y, s = load("compas_tiers")
    X2, _, s2 = load("compas")
    assert DATASETS["compas_tiers"].task == "multiclass"
    assert y.value_counts().to_dict() == {"Low": 3897, "Medium": 1914, "High": 1403}
    assert list(X.columns) == list(X2.columns)  # the screening's inputs, not its scores
    assert not {"decile_score", "score_text", "two_year_recid"} & set(X.columns)
    assert s.equals(s2) and s.name == "race"
    assert load("compas_tiers", "sex")[2].value_counts().to_dict() == {"Male": 5819, "Female": 1395}


def test_pay_bands_cut_the_published_wage_at_their_edges():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        X, y, s = load("cps1988_bands")
    X0, wage, s0 = load("cps1988")
    assert DATASETS["cps1988_bands"].task == "multiclass"
    assert X.equals(X0) and s.equals(s0) and y.name == "wage"
    assert y.value_counts().to_dict() == {"low": 9_952, "high": 9_292, "middle": 8_911}
    assert (y[wage < 400] == "low").all() and (y[wage >= 700] == "high").all()
    assert (y[(wage >= 400) & (wage < 700)] == "middle").all()
    with pytest.warns(UserWarning, match="3,278"):  # the rows without a wage, as for slid
        _, slid_band, sex = load("slid_bands")
    with pytest.warns(UserWarning):
        _, slid_wage, _ = load("slid")
    assert len(slid_band) == 4_147 and set(sex) == {"Female", "Male"}
    assert (slid_band[slid_wage < 10] == "low").all() and (
        slid_band[slid_wage >= 18] == "high"
    ).all()


def test_cli_lists_the_task_of_non_binary_datasets(capsys):
    assert cli.main(["datasets"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert "(regression)" in lines["cps1988"] and "(regression)" in lines["slid"]
    assert "(multiclass)" in lines["bankwages"]
    assert "(positive 'no')" in lines["hmda"] and "(positive 'Yes')" in lines["arrests"]
