"""Disparity attribution with membership probabilities instead of groups: each group's
mean contribution is the regression's, so probabilities of 0 or 1 give the attribution by
known groups, and soft ones give the least-squares group means by hand, the terms adding
up to the gap."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from fairautoml.exceptions import InputError
from fairautoml.explain import attribute_disparity
from fairautoml.explain import messages as M
from fairautoml.explain.contributions import contributions


@pytest.fixture(scope="module")
def lender():
    """A logistic regression whose score reads a feature tied to the group, and calibrated
    probabilities of the group drawn from a signal no feature carries."""
    rng = np.random.default_rng(4)
    n = 1500
    is_b = rng.random(n) < 0.4
    X = pd.DataFrame({"income": rng.normal(size=n), "proxy": is_b + rng.normal(0, 0.4, n)})
    y = (X["income"] - 0.8 * is_b + rng.normal(0, 0.5, n) > 0).astype(int)
    model = LogisticRegression().fit(X, y)
    p_b = 1 / (1 + np.exp(-3 * rng.normal(loc=np.where(is_b, 1.5, -1.5))))
    P = pd.DataFrame({"a": 1 - p_b, "b": p_b})
    return model, X, np.where(is_b, "b", "a"), P


def test_zero_one_probabilities_give_the_attribution_by_known_groups(lender):
    model, X, groups, _ = lender
    one_hot = pd.DataFrame({"a": groups == "a", "b": groups == "b"}).astype(float)
    known = attribute_disparity(model, X, groups, n_boot=50)
    by_p = attribute_disparity(model, X, group_probabilities=one_hot, n_boot=50)
    assert by_p.groups == known.groups
    assert by_p.gap == pytest.approx(known.gap, abs=1e-9)
    merged = known.table.merge(by_p.table, on="feature")
    assert np.allclose(merged["gap_x"], merged["gap_y"], atol=1e-9)
    assert by_p.selection_rates == pytest.approx(known.selection_rates)
    assert by_p.n_rows == known.n_rows


def test_soft_probabilities_give_the_least_squares_group_means(lender):
    model, X, _, P = lender
    found = attribute_disparity(model, X, group_probabilities=P, n_boot=50)
    margin = contributions(model, X).margin
    means, *_ = np.linalg.lstsq(P.to_numpy(), margin, rcond=None)
    assert found.groups == ("a", "b")
    assert found.gap == pytest.approx(means[0] - means[1], abs=1e-9)
    assert abs(found.residual) < 1e-9  # the terms add up to the gap
    assert found.table.iloc[0]["feature"] == "proxy"
    low, high = found.gap_interval
    assert low < found.gap < high


def test_groups_and_probabilities_together_are_refused(lender):
    model, X, groups, P = lender
    with pytest.raises(InputError, match=re.escape(M.GROUPS_AND_PROBABILITIES)):
        attribute_disparity(model, X, groups, group_probabilities=P, n_boot=20)
