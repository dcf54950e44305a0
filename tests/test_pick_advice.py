"""A pick's warning advises only what the user has not tried yet, in the user's own
interface: parameters from Python, flags from the CLI."""

from __future__ import annotations

from fairautoml import cli
from fairautoml.study.pick import Advice


def test_advice_leaves_out_what_was_done():
    tried = Advice(mitigators_restricted=False, holdout=False, policy="group_aware")
    words = tried.words(unconfirmed=True)
    assert "mitigators" not in words and "cv_folds" not in words
    assert "decision_rule" not in words  # group_aware already deploys every kind of rule
    fresh = Advice(mitigators_restricted=True, holdout=True, policy="group_free")
    words = fresh.words(unconfirmed=True)
    assert "mitigators=None" in words and "cv_folds=5" in words
    assert "decision_rule='proxy' or 'group_aware'" in words and "only where lawful" in words
    assert "deterministic" not in words
    assert "deterministic=False" in Advice(deterministic=True).words()


def test_the_cli_says_flags_not_parameters():
    words = Advice(mitigators_restricted=True, deterministic=True).words(unconfirmed=True)
    said = cli.cli_words(words)
    for flag in ("--time-budget", "--mitigators", "--deterministic", "--decision-rule proxy",
                 "--cv-folds 5"):  # fmt: skip
        assert flag in said, flag
    for name in ("time_budget", "mitigators=None", "cv_folds=", "decision_rule="):
        assert name not in said, name
