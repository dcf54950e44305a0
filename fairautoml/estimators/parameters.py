"""The estimator's parameters in one table: for each, its default, what a value must be
(and the check that says whether it is), and the command-line flag that sets it with that
flag's help. The estimator's validation (:func:`~fairautoml.estimators.params.check_params`),
``fairautoml fit``'s flags and their reading, and the report's command that reproduces a
fit all read it. The estimator keeps its explicit keyword signature (scikit-learn's
``get_params`` reads it); a test holds it, and its docstring, to this table.
"""

from __future__ import annotations

import argparse
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fairautoml.data.groups import MISSING_GROUPS
from fairautoml.learners import available_learners
from fairautoml.measures.metrics import METRICS
from fairautoml.mitigators import DECISION_RULES, available_mitigators
from fairautoml.search import available_controllers
from fairautoml.tasks import TASKS

FLAG_VALUE = "expected {kinds}; got {text!r}"


def _real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def or_none(kind: type, *words: str) -> Callable[[str], Any]:
    """An argparse type: ``kind``, or one of ``words`` (e.g. "auto") kept as text, or
    "none" for None."""

    def parse(text: str) -> Any:
        if text.lower() == "none":
            return None
        if text.lower() in words:
            return text.lower()
        try:
            return kind(text)
        except ValueError:
            shown = ", ".join([kind.__name__, *words, "none"])
            raise argparse.ArgumentTypeError(FLAG_VALUE.format(kinds=shown, text=text)) from None

    return parse


def names_list(text: str) -> list[str]:
    """A comma-separated list of registered names (checked by the estimator's fit)."""
    return [name.strip() for name in text.split(",") if name.strip()]


_SAME = object()  # a flag's default: the parameter's


@dataclass(frozen=True)
class Flag:
    """How ``fairautoml fit`` sets a parameter.

    ``help`` may name the registries' current contents (``{learners}``, ``{mitigators}``)
    and the tasks' defaults (``{binary_constraint}``, ``{regression_constraint}``,
    ``{binary_metric}``, ``{regression_metric}``), filled in when the parser is built.
    ``negate``: the flag turns the parameter off (``--no-refit``). ``declared``: the table
    makes the flag (else the command line writes it by hand); ``read``: the parameter is
    the flag's value (else the command reads it with more than the flag: a bundled
    table's favourable label, the storage's environment variable). ``shown``: the command
    that reproduces a fit spells it even at its default (the time budget and the seed,
    which decide what a rerun finds).
    """

    name: str
    help: str = ""
    type: Callable[[str], Any] | None = None
    choices: Callable[[], Sequence[str]] | None = None
    action: Any = None
    nargs: str | None = None
    default: Any = _SAME
    negate: bool = False
    declared: bool = True
    read: bool = True
    shown: bool = False

    @property
    def dest(self) -> str:
        """The attribute argparse gives the flag's value."""
        return self.name.lstrip("-").replace("-", "_")

    @property
    def switch(self) -> bool:
        """A flag with no value: given or not."""
        return self.action in ("store_true", argparse.BooleanOptionalAction)

    def add_to(self, parser: argparse.ArgumentParser, default: Any) -> None:
        """Add the flag to ``parser``; ``default`` is the parameter's."""
        options: dict[str, Any] = {"dest": self.dest, "help": self.help.format(**_help_values())}
        for key in ("type", "action", "nargs"):
            if getattr(self, key) is not None:
                options[key] = getattr(self, key)
        if self.choices is not None:
            options["choices"] = list(self.choices())
        if self.action != "store_true" and self.action != "append":
            options["default"] = default if self.default is _SAME else self.default
        parser.add_argument(self.name, **options)

    def value(self, args: argparse.Namespace) -> Any:
        """The parameter's value from the parsed ``args``."""
        given = getattr(args, self.dest)
        return not given if self.negate else given


def _help_values() -> dict[str, str]:
    return {
        "learners": ", ".join(available_learners()),
        "mitigators": ", ".join(available_mitigators()),
        "binary_constraint": TASKS["binary"].default_constraint.replace(" ", ""),
        "regression_constraint": TASKS["regression"].default_constraint.replace(" ", ""),
        "binary_metric": TASKS["binary"].default_metric,
        "regression_metric": TASKS["regression"].default_metric,
    }


@dataclass(frozen=True)
class Parameter:
    """One parameter of the estimator: its name and default, what a value must be
    (``expected``, the message's words, with the ``check`` that says whether it is; None
    where another check reads it: a registry's names, the constraints' parser), and the
    command-line flag that sets it (None: set from Python only)."""

    name: str
    default: Any
    expected: str | None = None
    check: Callable[[Any], bool] | None = None
    flag: Flag | None = None

    @property
    def cli_default(self) -> Any:
        """What the command line passes when its flag is not given."""
        if self.flag is None or self.flag.default is _SAME:
            return self.default
        return self.flag.default


# In the command line's order (``fairautoml fit --help``), then those it has no flag for.
# fmt: off
PARAMETERS: tuple[Parameter, ...] = (
    Parameter("constraints", None, flag=Flag(
        "--constraint", action="append",
        help="a fairness constraint the model must meet, e.g. "
        "'equalized_odds_difference<=0.05' (repeat for several; default: "
        "'{binary_constraint}' for classification, '{regression_constraint}' for regression)",
    )),
    Parameter("pos_label", None, flag=Flag(
        "--positive-label", nargs="+", read=False,
        help="the target's favourable outcome, e.g. '>50K' or 'approved': the class whose "
        "rate demographic parity and equal opportunity compare. Without it the label that "
        "sorts last is taken (1 of 0/1), and the summary says which: give it for targets "
        "such as deny/default, where that label is the unfavourable one. For several "
        "classes: one or more favourable classes whose rates the constraints compare "
        "(default: every class)",
    )),
    Parameter("metric", None, flag=Flag(
        "--metric", choices=METRICS.names,
        help="what 'most accurate' means: the score the search maximises on validation "
        "(default: {binary_metric} for classification, {regression_metric} for regression; "
        "losses are maximised negated)",
    )),
    Parameter(
        "time_budget", 60, "> 0 seconds or None", lambda v: v is None or (_real(v) and v > 0),
        Flag("--time-budget", type=float, default=60.0, shown=True, help="seconds of search"),
    ),
    Parameter(
        "n_trials", None, "an integer >= 1 or None", lambda v: v is None or (_int(v) and v >= 1),
        Flag(
            "--n-trials", type=int,
            help="at most this many trained models (default: until the time budget ends)",
        ),
    ),
    Parameter("controller", "optuna", flag=Flag(
        "--controller", choices=available_controllers,
        help="search strategy: optuna (multi-objective study), admm (dual variables for the "
        "constraints) or flaml (cost-frugal search)",
    )),
    Parameter("learners", None, flag=Flag(
        "--learners", type=names_list,
        help="comma-separated learners to search (default: all: {learners})",
    )),
    Parameter("mitigators", None, flag=Flag(
        "--mitigators", type=names_list,
        help="comma-separated mitigators to search (default: every one that supports the "
        "constraints and the --decision-rule policy: {mitigators})",
    )),
    Parameter("decision_rule", None, flag=Flag(
        "--decision-rule", choices=lambda: DECISION_RULES,
        help="which decision rules the model may use: group_free (no group and no estimate "
        "of it enters a decision; the default), proxy (also a cut-off per group estimated "
        "from the features), group_aware (also rules on the true group, read at predict "
        "time: only where deciding with the group is lawful). The report shows the best "
        "model of each policy the search measured",
    )),
    Parameter("deterministic", False, flag=Flag(
        "--deterministic", action="store_true",
        help="leave randomized rules out (no decision drawn at random near the cut-off)",
    )),
    Parameter("sensitive_at_predict", False, flag=Flag(
        "--sensitive-at-predict", action=argparse.BooleanOptionalAction,
        help="the older spelling of --decision-rule group_aware",
    )),
    Parameter("keep_sensitive_as_feature", False, flag=Flag(
        "--keep-sensitive-as-feature", action="store_true",
        help="when --sensitive names columns of the data, keep them as features too",
    )),
    Parameter(
        "confidence", "auto", "a number in (0, 1), 'auto' or None",
        lambda v: v is None or v == "auto" or (_real(v) and 0 < v < 1),
        Flag(
            "--confidence", type=or_none(float, "auto"),
            help="the pick must meet each constraint at the unfavourable end of an interval "
            "of this level on validation, when any model does ('none': the point value "
            "suffices; 'auto', the default: 0.8 for yes/no decisions and amounts, 0.98 for "
            "several classes)",
        ),
    ),
    Parameter(
        "cv_folds", "auto", "an integer in [2, 20], 'auto' or None",
        lambda v: v is None or v == "auto" or (_int(v) and 2 <= v <= 20),
        Flag(
            "--cv-folds", type=or_none(int, "auto"),
            help="score models by cross-validation with this many folds ('auto': 5 folds up "
            "to 10,000 rows, a holdout above; 'none': a holdout)",
        ),
    ),
    Parameter(
        "validation_fraction", 0.25, "a number in [0.05, 0.5]",
        lambda v: _real(v) and 0.05 <= v <= 0.5,
        Flag(
            "--validation-fraction", type=float,
            help="share of rows held out to score models and fit post-processing (holdout "
            "only)",
        ),
    ),
    Parameter(
        "min_group_size", 20, "an integer >= 1", lambda v: _int(v) and v >= 1,
        Flag(
            "--min-group-size", type=int,
            help="smallest group (rows) accepted: smaller groups give unreliable rates",
        ),
    ),
    Parameter("missing_groups", "error", flag=Flag(
        "--missing-groups", choices=lambda: MISSING_GROUPS,
        help="rows whose sensitive attribute is missing: 'error' refuses them, 'exclude' "
        "measures fairness on the rows whose group is known, 'infer' also counts the others "
        "with their group inferred from the features",
    )),
    Parameter(
        "max_search_rows", 100_000, "an integer >= 100 or None",
        lambda v: v is None or (_int(v) and v >= 100),
        Flag(
            "--max-search-rows", type=or_none(int),
            help="training rows a model sees at most during the search (a stratified sample; "
            "the pick is refitted on every row); 'none': all rows",
        ),
    ),
    Parameter(
        "max_validation_rows", 100_000, "an integer >= 1000 or None",
        lambda v: v is None or (_int(v) and v >= 1000),
        Flag(
            "--max-validation-rows", type=or_none(int),
            help="validation rows at most (a stratified sample; the other held-out rows "
            "become training rows); 'none': every row validation_fraction holds out",
        ),
    ),
    Parameter(
        "trial_time_limit", "auto", "> 0 seconds, 'auto' or None",
        lambda v: v is None or v == "auto" or (_real(v) and v > 0),
        Flag(
            "--trial-time-limit", type=or_none(float, "auto"),
            help="seconds one model may train before it is stopped ('auto': a third of the "
            "time budget from 10 s up, once a model has trained; 'none': no limit)",
        ),
    ),
    Parameter("refit", True, flag=Flag(
        "--no-refit", action="store_true", negate=True,
        help="keep the model the search validated instead of retraining it on every row",
    )),
    Parameter(
        "random_state", None, "an integer in [0, 2**32) or None",
        lambda v: v is None or (_int(v) and 0 <= v < 2**32),
        Flag(
            "--seed", type=int, default=0, shown=True,
            help="seed of the split, samplers and learners",
        ),
    ),
    Parameter(
        "n_jobs", 1, "a non-zero integer (-1: all cores)", lambda v: _int(v) and v != 0,
        Flag("--n-jobs", type=int, help="cores to use (-1: all)"),
    ),
    Parameter("confirm", True, flag=Flag(
        "--no-confirm", action="store_true", negate=True,
        help="keep the search's validation numbers: do not confirm the leading "
        "post-processed models after the search (on every row by cross-validation; above "
        "200,000 rows, trained on every training row, at most a million)",
    )),
    Parameter("ensemble", True, flag=Flag(
        "--no-ensemble", action="store_true", negate=True,
        help="offer single models only (default: ensembles of the search's best models are "
        "candidates too, chosen by greedy selection for the pick's best fair point)",
    )),
    Parameter("portfolio", True, flag=Flag(
        "--no-portfolio", action="store_true", negate=True,
        help="start the search as before the portfolio: after the low-cost starts, the "
        "defaults of the learners whose low-cost start did best (default: the portfolio's "
        "configurations, learned offline across the bundled tables, in order)",
    )),
    # the command line writes and reads these flags itself: their values need more than
    # the flag (--out's study.db, $FAIRAUTOML_STORAGE, -q)
    Parameter("storage", None, flag=Flag("--storage", declared=False, read=False)),
    Parameter(
        "study_name", None, flag=Flag("--study", default="fairautoml", declared=False, read=False)
    ),
    Parameter("verbose", 0, flag=Flag("--verbose", declared=False, read=False)),
    # set from Python only (the bins of --sensitive age:25,40 are its column's word)
    Parameter("sensitive_bins", None),
    Parameter(
        "min_rung_rows", "auto", "an integer >= 100, 'auto' or None",
        lambda v: v is None or v == "auto" or (_int(v) and v >= 100),
    ),
)
# fmt: on

BY_NAME: dict[str, Parameter] = {p.name: p for p in PARAMETERS}
FLAGGED: tuple[Parameter, ...] = tuple(p for p in PARAMETERS if p.flag is not None)


def add_flags(parser: argparse.ArgumentParser) -> None:
    """The flags the table declares, in its order."""
    for p in FLAGGED:
        if p.flag is not None and p.flag.declared:
            p.flag.add_to(parser, p.default)


def estimator_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The parameters that are their flag's value, from ``fairautoml fit``'s ``args``."""
    return {p.name: p.flag.value(args) for p in FLAGGED if p.flag is not None and p.flag.read}


__all__ = [
    "BY_NAME", "FLAGGED", "PARAMETERS", "Flag", "Parameter", "add_flags", "estimator_kwargs",
    "names_list", "or_none",
]  # fmt: skip
