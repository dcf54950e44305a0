"""ADMM's augmented Lagrangian and dual update."""

from __future__ import annotations

import math

import pytest

from fairautoml.measures.constraints import parse_constraints
from fairautoml.search import SearchDomain
from fairautoml.search.admm import ADMMController
from fairautoml.search.allocator import Outcome
from fairautoml.study.trial import Candidate, TrialResult


def point(metric, dp, eo):
    values = {"demographic_parity_difference": dp, "equalized_odds_difference": eo}
    return TrialResult(Candidate("lightgbm"), "ok", metric=metric, constraint_values=values)


@pytest.fixture
def admm():
    ctl = ADMMController(SearchDomain(("lightgbm",)), random_state=0)
    ctl.constraints = parse_constraints(
        ["demographic_parity_difference <= 0.05", "equalized_odds_difference <= 0.1"]
    )
    ctl.lam = {"demographic_parity_difference": 0.0, "equalized_odds_difference": 0.0}
    ctl.lam_history = []
    return ctl


def test_lagrangian_is_the_phr_form(admm):
    rho = admm.rho
    r = point(0.8, dp=0.15, eo=0.05)  # s = (+0.10, -0.05)
    assert admm.lagrangian(r) == pytest.approx(-0.8 + rho * 0.10**2 / 2)
    admm.lam = {"demographic_parity_difference": 1.0, "equalized_odds_difference": 2.0}
    dp_term = ((1.0 + rho * 0.10) ** 2 - 1.0) / (2 * rho)
    eo_term = (max(0.0, 2.0 - rho * 0.05) ** 2 - 4.0) / (2 * rho)
    assert admm.lagrangian(r) == pytest.approx(-0.8 + dp_term + eo_term)
    assert admm.lagrangian(TrialResult(Candidate("lightgbm"), "failed")) == math.inf


def test_dual_update_at_the_least_lagrangian_point(admm):
    good = point(0.70, dp=0.02, eo=0.05)  # feasible
    bad = point(0.90, dp=0.30, eo=0.30)  # L = -0.9 + 10 (0.25^2 + 0.2^2) / 2 = -0.3875
    admm.dual_update([Outcome(Candidate("lightgbm"), [bad, good])])
    assert admm.lam == {"demographic_parity_difference": 0.0, "equalized_odds_difference": 0.0}
    close = point(0.80, dp=0.07, eo=0.05)  # L = -0.8 + 10 * 0.02^2 / 2 = -0.798: the iterate
    admm.dual_update([Outcome(Candidate("lightgbm"), [good, close])])
    assert admm.lam["demographic_parity_difference"] == pytest.approx(admm.rho * 0.02)
    assert admm.lam["equalized_odds_difference"] == 0.0  # slack keeps it at zero
    admm.dual_update([Outcome(Candidate("lightgbm"), [point(0.8, dp=0.0, eo=0.0)])])
    assert admm.lam["demographic_parity_difference"] == 0.0  # max(0, 0.2 - 10 * 0.05)
    assert len(admm.lam_history) == 3
