"""The command line's words: every command's flags, with their defaults read off the
estimator's parameters, and the help that names the Python parameter behind each flag.
"""

from __future__ import annotations

import argparse
from typing import Any

from fairautoml import datasets
from fairautoml.bench.cli import add_parser as add_bench_parser
from fairautoml.cli.commands import (
    DEFAULT_STUDY,
    cmd_audit,
    cmd_dashboard,
    cmd_datasets,
    cmd_fit,
    cmd_leaderboard,
    cmd_predict,
    cmd_report,
    cmd_worker,
)
from fairautoml.cli.inputs import _env_storage
from fairautoml.data.groups import MISSING_GROUPS
from fairautoml.estimators.automl import FairAutoML
from fairautoml.learners import available_learners
from fairautoml.measures.metrics import METRICS
from fairautoml.mitigators import DECISION_RULES, available_mitigators
from fairautoml.search import available_controllers
from fairautoml.tasks import ALIASES, TASKS


def _add_trusted(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--trusted",
        "--trust-pickle",
        action="store_true",
        help="open the model file even if it is a pickle (.joblib) or holds types outside "
        "fairautoml's and its dependencies': only for a file whose source you trust, since "
        "opening it may run code it holds",
    )


class _FitHelp(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, except where there is none to show (None, a flag)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False or action.nargs == 0:
            return action.help
        return super()._get_help_string(action)


def _or_none(kind: type, *words: str) -> Any:
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
            raise argparse.ArgumentTypeError(f"expected {shown}; got {text!r}") from None

    return parse


def _names(text: str) -> list[str]:
    """A comma-separated list of registered names (checked by the estimator's fit)."""
    return [name.strip() for name in text.split(",") if name.strip()]


def add_fit_options(fit: argparse.ArgumentParser) -> None:
    """The ``fit`` subcommand's arguments: one flag per estimator setting a user sets."""
    defaults = FairAutoML().get_params()
    fit.add_argument("data", nargs="?", help="CSV file (or use --dataset)")
    fit.add_argument(
        "--dataset",
        choices=[d.name for d in datasets.available()],
        help="a bundled dataset instead of a CSV (list them: fairautoml datasets)",
    )
    fit.add_argument("--target", help="target column of the CSV")
    fit.add_argument(
        "--sensitive",
        action="append",
        help="sensitive column (repeat for intersections); a numeric one with many values is "
        "binned: age:25,40,60 (cut points) or age:q4 (quartiles)",
    )
    fit.add_argument(
        "--weight",
        metavar="COLUMN",
        help="column of row weights (survey or frequency weights, numbers >= 0): training, "
        "the metric, the constraint values and their intervals count each row by its weight; "
        "the column is not a feature (default: every row counts once)",
    )
    fit.add_argument(
        "--constraint",
        action="append",
        help="a fairness constraint the model must meet, e.g. "
        "'equalized_odds_difference<=0.05' (repeat for several; default: "
        f"'{TASKS['binary'].default_constraint.replace(' ', '')}' for classification, "
        f"'{TASKS['regression'].default_constraint.replace(' ', '')}' for regression)",
    )
    fit.add_argument(
        "--positive-label",
        nargs="+",
        help="the target's favourable outcome, e.g. '>50K' or 'approved': the class whose "
        "rate demographic parity and equal opportunity compare. Without it the label that "
        "sorts last is taken (1 of 0/1), and the summary says which: give it for targets "
        "such as deny/default, where that label is the unfavourable one. For several "
        "classes: one or more favourable classes whose rates the constraints compare "
        "(default: every class)",
    )
    fit.add_argument(
        "--task",
        choices=sorted(ALIASES),
        help="classification (yes/no decisions; 3 to 20 classes: multiclass) or regression "
        "(amounts); default: read off the target (numeric with many distinct values, not all "
        "whole numbers: regression; 3 to 20 labels: multiclass), and said",
    )
    fit.add_argument(
        "--metric",
        choices=METRICS.names(),
        help="what 'most accurate' means: the score the search maximises on validation "
        f"(default: {TASKS['binary'].default_metric} for classification, "
        f"{TASKS['regression'].default_metric} for regression; losses are maximised negated)",
    )
    fit.add_argument(
        "--time-budget",
        type=float,
        default=float(defaults["time_budget"]),
        help="seconds of search",
    )
    fit.add_argument(
        "--n-trials",
        type=int,
        default=None,
        help="at most this many trained models (default: until the time budget ends)",
    )
    fit.add_argument(
        "--controller",
        default=defaults["controller"],
        choices=available_controllers(),
        help="search strategy: optuna (multi-objective study), admm (dual variables for the "
        "constraints) or flaml (cost-frugal search)",
    )
    fit.add_argument(
        "--learners",
        type=_names,
        help="comma-separated learners to search (default: all: "
        f"{', '.join(available_learners())})",
    )
    fit.add_argument(
        "--mitigators",
        type=_names,
        help="comma-separated mitigators to search (default: every one that supports the "
        f"constraints and the --decision-rule policy: {', '.join(available_mitigators())})",
    )
    fit.add_argument(
        "--decision-rule",
        choices=DECISION_RULES,
        default=defaults["decision_rule"],
        help="which decision rules the model may use: group_free (no group and no estimate "
        "of it enters a decision; the default), proxy (also a cut-off per group estimated "
        "from the features), group_aware (also rules on the true group, read at predict "
        "time: only where deciding with the group is lawful). The report shows the best "
        "model of each policy the search measured",
    )
    fit.add_argument(
        "--deterministic",
        action="store_true",
        help="leave randomized rules out (no decision drawn at random near the cut-off)",
    )
    fit.add_argument(
        "--sensitive-at-predict",
        action=argparse.BooleanOptionalAction,
        default=defaults["sensitive_at_predict"],
        help="the older spelling of --decision-rule group_aware",
    )
    fit.add_argument(
        "--keep-sensitive-as-feature",
        action="store_true",
        help="when --sensitive names columns of the data, keep them as features too",
    )
    fit.add_argument(
        "--confidence",
        type=_or_none(float, "auto"),
        default=defaults["confidence"],
        help="the pick must meet each constraint at the unfavourable end of an interval of "
        "this level on validation, when any model does ('none': the point value suffices; "
        "'auto', the default: 0.8 for yes/no decisions and amounts, 0.98 for several "
        "classes)",
    )
    fit.add_argument(
        "--cv-folds",
        type=_or_none(int, "auto"),
        default=defaults["cv_folds"],
        help="score models by cross-validation with this many folds ('auto': 5 folds up to "
        "10,000 rows, a holdout above; 'none': a holdout)",
    )
    fit.add_argument(
        "--validation-fraction",
        type=float,
        default=defaults["validation_fraction"],
        help="share of rows held out to score models and fit post-processing (holdout only)",
    )
    fit.add_argument(
        "--min-group-size",
        type=int,
        default=defaults["min_group_size"],
        help="smallest group (rows) accepted: smaller groups give unreliable rates",
    )
    fit.add_argument(
        "--missing-groups",
        choices=MISSING_GROUPS,
        default=defaults["missing_groups"],
        help="rows whose sensitive attribute is missing: 'error' refuses them, 'exclude' "
        "measures fairness on the rows whose group is known, 'infer' also counts the others "
        "with their group inferred from the features",
    )
    fit.add_argument(
        "--max-search-rows",
        type=_or_none(int),
        default=defaults["max_search_rows"],
        help="training rows a model sees at most during the search (a stratified sample; "
        "the pick is refitted on every row); 'none': all rows",
    )
    fit.add_argument(
        "--trial-time-limit",
        type=_or_none(float, "auto"),
        default=defaults["trial_time_limit"],
        help="seconds one model may train before it is stopped ('auto': a third of the "
        "time budget from 10 s up, once a model has trained; 'none': no limit)",
    )
    fit.add_argument(
        "--no-refit",
        action="store_true",
        help="keep the model the search validated instead of retraining it on every row",
    )
    fit.add_argument("--seed", type=int, default=0, help="seed of the split, samplers and learners")
    fit.add_argument(
        "--n-jobs", type=int, default=defaults["n_jobs"], help="models trained at once"
    )
    fit.add_argument(
        "--no-confirm",
        action="store_true",
        help="keep the search's validation numbers: do not confirm the leading post-processed "
        "models after the search (on every row by cross-validation; above 200,000 rows, "
        "trained on every training row, at most a million)",
    )
    fit.add_argument(
        "--no-ensemble",
        action="store_true",
        help="offer single models only (default: ensembles of the search's best models are "
        "candidates too, chosen by greedy selection for the pick's best fair point)",
    )
    fit.add_argument(
        "--no-portfolio",
        action="store_true",
        help="start the search as before the portfolio: after the low-cost starts, the "
        "defaults of the learners whose low-cost start did best (default: the portfolio's "
        "configurations, learned offline across the bundled tables, in order)",
    )
    fit.add_argument(
        "--out",
        help="directory for report.html, study.db (resumable), leaderboard.csv and model.skops",
    )
    fit.add_argument(
        "--storage",
        help="Optuna storage URL (default: $FAIRAUTOML_STORAGE, else sqlite:///OUT/study.db "
        "with --out)",
    )
    fit.add_argument("--study", default=DEFAULT_STUDY, help="study name")
    fit.add_argument("-v", "--verbose", action="count", default=0, help="also log every trial")
    fit.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    fit.set_defaults(func=cmd_fit)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fairautoml", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    fit = sub.add_parser(
        "fit",
        help="search for the most accurate fair model",
        description="Search learners, hyperparameters and mitigations for the most accurate "
        "model that meets the fairness constraints; print the verdict and, with --out, write "
        "the report page, the leaderboard and the model. Exit status: 0 FAIR (every "
        "constraint holds at the unfavourable end of its interval), 3 LIKELY FAIR (holds as "
        "measured, not confirmed), 1 CANNOT TELL or NOT FAIR, 4 only a near-constant model "
        "meets the rule, 2 bad input.",
        formatter_class=_FitHelp,
    )
    add_fit_options(fit)

    rep = sub.add_parser("report", help="rewrite DIR/report.html for an existing fit --out DIR")
    rep.add_argument("dir", help="the --out directory of a fit (with model.skops, study.db)")
    _add_trusted(rep)
    rep.add_argument(
        "--storage", help="the study's storage URL if not DIR/study.db (where its data source is)"
    )
    rep.add_argument("--study", default=DEFAULT_STUDY, help="study name (default fairautoml)")
    rep.set_defaults(func=cmd_report)

    work = sub.add_parser("worker", help="join a running study and run trials on it")
    work.add_argument(
        "--storage",
        default=_env_storage(),
        required=_env_storage() is None,
        help="the study's storage URL (default: $FAIRAUTOML_STORAGE)",
    )
    work.add_argument("--study", default=DEFAULT_STUDY, help="study name (default fairautoml)")
    work.add_argument("--data", help="path of the study's CSV file on this machine")
    work.add_argument(
        "--wait", type=float, default=0.0, help="seconds to wait for the study to start"
    )
    work.add_argument("-v", "--verbose", action="count", default=0)
    work.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    work.set_defaults(func=cmd_worker)

    board = sub.add_parser("leaderboard", help="top trials and Pareto front of a study")
    board.add_argument("dir", nargs="?", help="the --out directory of a fit")
    board.add_argument(
        "--storage", help="storage URL instead of DIR/study.db (default: $FAIRAUTOML_STORAGE)"
    )
    board.add_argument("--study", default=DEFAULT_STUDY, help="study name (default fairautoml)")
    board.add_argument("--top", type=int, default=10, help="rows of the leaderboard shown")
    board.add_argument(
        "--plot", action="append", help="write the front: pareto.png (matplotlib) or .html"
    )
    board.set_defaults(func=cmd_leaderboard)

    dash = sub.add_parser("dashboard", help="open optuna-dashboard on the studies of a run")
    dash.add_argument(
        "target",
        nargs="?",
        default=_env_storage(),
        help="the --out directory of a fit, or a storage URL (default: $FAIRAUTOML_STORAGE)",
    )
    dash.add_argument("--port", type=int, default=8080, help="default 8080")
    dash.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (this machine)")
    dash.set_defaults(func=cmd_dashboard)

    pred = sub.add_parser("predict", help="predict a CSV with a saved model")
    pred.add_argument(
        "model", help="model.skops written by fit --out or automl.save (or the --out directory)"
    )
    _add_trusted(pred)
    pred.add_argument("data", help="CSV with the training columns (others are ignored)")
    pred.add_argument("--out", required=True, help="CSV of predictions to write")
    pred.add_argument(
        "--sensitive", action="append", help="column(s) holding the sensitive attribute"
    )
    pred.set_defaults(func=cmd_predict)

    aud = sub.add_parser(
        "audit", help="check a saved model's fairness on new rows (exit 1 when violated)"
    )
    aud.add_argument("model", help="model.skops, or the --out directory of a fit")
    aud.add_argument("data", help="CSV of new rows with the training columns")
    aud.add_argument("--target", help="column of true outcomes (without it: what needs no labels)")
    aud.add_argument(
        "--sensitive", action="append", help="sensitive column (default: the fit's; repeatable)"
    )
    aud.add_argument(
        "--positive-label",
        nargs="+",
        help="the target's favourable outcome, or several classes (default: the fit's)",
    )
    aud.add_argument("--out", help="directory for audit.html and audit.json")
    _add_trusted(aud)
    aud.set_defaults(func=cmd_audit)

    ds = sub.add_parser("datasets", help="list the bundled datasets")
    ds.set_defaults(func=cmd_datasets)
    add_bench_parser(sub)
    return parser
