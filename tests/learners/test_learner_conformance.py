from __future__ import annotations

import pytest

import fairautoml
from fairautoml.testing.conformance import check_learner


@pytest.mark.parametrize("name", fairautoml.available_learners())
def test_learner_conformance(name):
    check_learner(name)


def test_the_issue_learners_are_registered():
    expected = {
        "lightgbm",
        "xgboost",
        "random_forest",
        "extra_trees",
        "hist_gradient_boosting",
        "logistic_regression",
    }
    assert expected <= set(fairautoml.available_learners())
