"""The headline word: one vocabulary, read off the pick's evidence, the same on the card,
in ``best_config_`` and in the CLI's exit status."""

from __future__ import annotations

import warnings

import pytest

from fairautoml import FairAutoML
from fairautoml.measures.constraints import parse_constraints
from fairautoml.report.card import compute_verdict, verdict_lines
from fairautoml.study.pick import (
    CANNOT_TELL,
    FAIR,
    LIKELY_FAIR,
    NO_RULE,
    NOT_FAIR,
    exit_status,
    verdict_word,
)
from fairautoml.testing import make_biased

DP = parse_constraints("demographic_parity_difference <= 0.1")
RATIO = parse_constraints("demographic_parity_ratio >= 0.8")


def cfg(value, low, high, constraints=DP):
    c = constraints[0]
    return {
        "robust": c.violation(value) <= 0 and max(c.violation(low), c.violation(high)) <= 0,
        "feasible": c.violation(value) <= 0,
        "constraint_values": {c.key: value},
        "constraint_intervals": {c.key: [low, high]},
    }


@pytest.mark.parametrize(
    ("value", "low", "high", "word"),
    [
        (0.05, 0.02, 0.08, FAIR),  # within the bound at the interval's unfavourable end
        (0.064, 0.01, 0.145, LIKELY_FAIR),  # the bankwages case: met, not at the end
        (0.12, 0.07, 0.18, CANNOT_TELL),  # missed as measured, the interval reaches in
        (0.15, 0.11, 0.2, NOT_FAIR),  # missed at both ends
    ],
)
def test_the_word_follows_the_interval(value, low, high, word):
    assert verdict_word(DP, cfg(value, low, high)) == word


def test_a_ratio_reads_its_favourable_end_at_the_top():
    assert verdict_word(RATIO, cfg(0.75, 0.7, 0.82, RATIO)) == CANNOT_TELL
    assert verdict_word(RATIO, cfg(0.7, 0.6, 0.78, RATIO)) == NOT_FAIR
    assert verdict_word(RATIO, cfg(0.9, 0.85, 0.95, RATIO)) == FAIR


def test_a_missing_interval_cannot_tell_and_no_rule_says_so():
    missing = cfg(0.2, 0.1, 0.3) | {"constraint_intervals": {}}
    assert verdict_word(DP, missing) == CANNOT_TELL
    assert verdict_word([], cfg(0.2, 0.1, 0.3)) == NO_RULE


def test_exit_status_of_each_word():
    assert [exit_status(w, "robust") for w in (FAIR, LIKELY_FAIR, CANNOT_TELL, NOT_FAIR)] == [
        0,
        3,
        1,
        1,
    ]
    assert exit_status(FAIR, "weak") == exit_status(LIKELY_FAIR, "constant") == 4
    assert exit_status(NOT_FAIR, "infeasible") == 1


@pytest.mark.parametrize("bound", [0.001, 0.3])
def test_the_card_says_the_word_of_best_config(bound):
    X, y, s = make_biased(n=600, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        automl = FairAutoML(
            constraints=f"demographic_parity_difference <= {bound}", n_trials=3,
            time_budget=None, random_state=0,
        ).fit(X, y, s)  # fmt: skip
    word = automl.best_config_["verdict"]
    assert word == verdict_word(automl.constraints_, automl.best_config_)
    first = verdict_lines(compute_verdict(automl, (X, y, s)))[0]
    assert first.startswith(f"Fairness: {word} ") or first.startswith(f"Fairness: {word}(")
    status = exit_status(word, automl.best_config_["tier"])
    if bound == 0.001:  # no useful model meets it with confidence: never a plain yes
        assert word != FAIR and status != 0
    else:
        assert word == FAIR and status == 0
    assert isinstance(automl.best_config_["randomized"], bool)


def test_the_audit_speaks_the_fits_words():
    from fairautoml.audit.constraint_verdicts import HOLDS, VIOLATED, audit_word

    def record(value, low, high, said):
        return {"value": value, "interval": [low, high], "verdict": said}

    assert audit_word(DP, [record(0.05, 0.02, 0.08, HOLDS)]) == FAIR
    assert audit_word(DP, [record(0.07, 0.01, 0.14, "cannot tell")]) == LIKELY_FAIR
    assert audit_word(DP, [record(0.12, 0.07, 0.18, "cannot tell")]) == CANNOT_TELL
    assert audit_word(DP, [record(0.15, 0.11, 0.2, VIOLATED)]) == NOT_FAIR
    no_labels = {"value": None, "interval": None, "verdict": "cannot tell"}
    assert audit_word(DP, [no_labels]) == CANNOT_TELL
