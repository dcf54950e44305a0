"""The command line's words: every command's flags; ``fit``'s flags for the estimator's
parameters, their defaults and help, come from the parameter table
(:mod:`fairautoml.estimators.parameters`), the others are written here.
"""

from __future__ import annotations

import argparse

from fairautoml import datasets
from fairautoml.bench.cli import add_parser as add_bench_parser
from fairautoml.cli.commands import (
    DEFAULT_STUDY,
    cmd_alternatives,
    cmd_audit,
    cmd_dashboard,
    cmd_datasets,
    cmd_fit,
    cmd_leaderboard,
    cmd_predict,
    cmd_report,
    cmd_update,
    cmd_worker,
)
from fairautoml.cli.inputs import _env_storage
from fairautoml.estimators.parameters import add_flags
from fairautoml.tasks import ALIASES


def _add_trusted(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--trusted",
        "--trust-pickle",
        action="store_true",
        help="open the model file even if it is a pickle (.joblib) or holds types outside "
        "fairautoml's and its dependencies': only for a file whose source you trust, since "
        "opening it may run code it holds",
    )


def _add_group_probabilities(parser: argparse.ArgumentParser, what_is_done: str) -> None:
    """``--group-probabilities``, alike in every command that reads groups; ``what_is_done``
    ends its help: what the command does with them."""
    parser.add_argument(
        "--group-probabilities",
        metavar="COL1,COL2,...",
        help="instead of --sensitive: the CSV's columns holding each row's probability of "
        "each group (BISG; one column per group, rows summing to 1" + what_is_done,
    )


class _FitHelp(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, except where there is none to show (None, a flag)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False or action.nargs == 0:
            return action.help
        return super()._get_help_string(action)


def add_fit_options(fit: argparse.ArgumentParser) -> None:
    """The ``fit`` subcommand's arguments: one flag per estimator setting a user sets."""
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
    _add_group_probabilities(
        fit,
        "; not features): every fairness value is estimated from them by regression, and only "
        "group-free decision rules are searched",
    )
    fit.add_argument(
        "--weight",
        metavar="COLUMN",
        help="column of row weights (survey or frequency weights, numbers >= 0): training, "
        "the metric, the constraint values and their intervals count each row by its weight; "
        "the column is not a feature (default: every row counts once)",
    )
    fit.add_argument(
        "--target-rows",
        metavar="CSV",
        help="unlabeled rows from where the model will be used, with the feature columns: "
        "the claim and the pick are made for that population, each row weighted by its "
        "importance weight (a target or weight column in the file is ignored)",
    )
    fit.add_argument(
        "--shift-robust",
        action="store_true",
        help="with --target-rows: the fairness claim and the pick hold for the worst case "
        "over reweightings from the fit's own population to the target and half again "
        "beyond (the importance weights' density ratio raised to 0, 0.5, 1 and 1.5)",
    )
    fit.add_argument(
        "--task",
        choices=sorted(ALIASES),
        help="classification (yes/no decisions; 3 to 20 classes: multiclass) or regression "
        "(amounts); default: read off the target (numeric with many distinct values, not all "
        "whole numbers: regression; 3 to 20 labels: multiclass), and said",
    )
    add_flags(fit)  # one flag per estimator parameter the command line sets (the table's)
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


def _column_list(text: str) -> list[str]:
    """``a,b``: column names, split on commas."""
    return [name.strip() for name in text.split(",") if name.strip()]


def add_alternatives_parser(sub: argparse._SubParsersAction) -> None:
    """``fairautoml alternatives``: a less discriminatory alternative to an incumbent."""
    alt = sub.add_parser(
        "alternatives",
        help="search for a less discriminatory alternative to a model you already have",
        description="Keep back a share of the rows, search the rest for models at least as "
        "fair as the incumbent, and compare the best few with it on the rows kept back, with "
        "paired intervals (docs/alternatives.md). Exit status: 0 a less discriminatory "
        "alternative found with confidence, 1 none found with confidence, 3 nothing to "
        "reduce (the incumbent meets every bound given), 2 bad input.",
        formatter_class=_FitHelp,
    )
    alt.add_argument("data", help="CSV file with the target, the sensitive column(s) and features")
    alt.add_argument("--target", required=True, help="target column")
    alt.add_argument(
        "--sensitive",
        action="append",
        help="sensitive column (repeat for intersections); or --group-probabilities",
    )
    _add_group_probabilities(
        alt,
        "; not features): every disparity is estimated from them by regression, beside the "
        "plain weighted value, and only group-free decision rules are searched",
    )
    alt.add_argument(
        "--incumbent",
        metavar="MODEL_FILE",
        help="the incumbent: a fairautoml model file, or a .skops file of a "
        "scikit-learn model whose types the safe gate accepts (never a pickle)",
    )
    alt.add_argument(
        "--incumbent-scores",
        metavar="COLUMN",
        help="the incumbent's scores, a column of the CSV (not a feature)",
    )
    rule = alt.add_mutually_exclusive_group()
    rule.add_argument("--cutoff", type=float, help="approve a score at least this")
    rule.add_argument(
        "--approval-rate", type=float, help="approve this share of rows, highest scores first"
    )
    alt.add_argument(
        "--constraint",
        action="append",
        help="fairness measure to reduce, bare or with a bound (repeatable; "
        "default demographic_parity_difference)",
    )
    alt.add_argument("--metric", default="accuracy", help="the business need's metric")
    alt.add_argument(
        "--tolerance",
        type=float,
        default=0.005,
        help="metric an alternative may lose against the incumbent",
    )
    alt.add_argument("--time-budget", type=float, default=60.0, help="seconds of search")
    alt.add_argument("--n-trials", type=int, help="at most this many trained models")
    alt.add_argument("--level", type=float, default=0.95, help="confidence of the intervals")
    alt.add_argument(
        "--evidence-share",
        type=float,
        default=0.3,
        help="share of rows kept back for the comparison",
    )
    alt.add_argument(
        "--decision-rule",
        default="group_free",
        choices=["group_free", "proxy", "group_aware"],
        help="rules allowed",
    )
    alt.add_argument(
        "--randomized",
        action="store_true",
        help="also allow randomized decision rules (default: deterministic only)",
    )
    alt.add_argument(
        "--same-approval-rate",
        action="store_true",
        help="cut each alternative to approve the incumbent's share of the search's rows",
    )
    alt.add_argument(
        "--learners",
        type=lambda t: [n.strip() for n in t.split(",") if n.strip()],
        help="comma-separated learners to search (default: all)",
    )
    alt.add_argument(
        "--require",
        metavar="COL,COL",
        type=_column_list,
        help="features every alternative must keep",
    )
    alt.add_argument(
        "--forbid",
        metavar="COL,COL",
        type=_column_list,
        help="features no alternative may use (e.g. a proxy ruled out)",
    )
    alt.add_argument(
        "--drop-drivers",
        type=int,
        default=2,
        metavar="K",
        help="also search without the 1 .. K features driving the incumbent's disparity "
        "(0: only the search on every allowed feature)",
    )
    alt.add_argument("--positive-label", nargs="+", help="the target's favourable outcome")
    alt.add_argument("--seed", type=int, default=0, help="seed of the split and search")
    alt.add_argument("--n-jobs", type=int, default=1, help="cores to use")
    alt.add_argument("--out", help="directory for alternatives.html and alternatives.json")
    alt.set_defaults(func=cmd_alternatives)


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
    pred.add_argument(
        "--reasons",
        type=int,
        metavar="K",
        help="add columns reason_1..reason_K: the features that most lowered each row's score "
        "(relative to the training rows for boosted trees, to the CSV's rows otherwise)",
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
    _add_group_probabilities(
        aud,
        "); the disparities are estimated from them by regression, beside the plain weighted value",
    )
    aud.add_argument("--out", help="directory for audit.html and audit.json")
    _add_trusted(aud)
    aud.set_defaults(func=cmd_audit)

    upd = sub.add_parser(
        "update",
        help="refit a fit's pick with new labeled rows; audit it before and after on new "
        "rows kept back (exit status as fit's, by the after-audit)",
    )
    upd.add_argument("fit_dir", help="the --out directory of a fit (model.skops, source.json)")
    upd.add_argument("data", help="CSV of new labeled rows with the training columns")
    upd.add_argument("--target", help="the target column (default: the fit's, from source.json)")
    upd.add_argument(
        "--sensitive", action="append", help="sensitive column (default: the fit's; repeatable)"
    )
    upd.add_argument(
        "--weight",
        metavar="COLUMN",
        help="column of the new rows' weights (survey or frequency weights, numbers >= 0), "
        "as fit's --weight: the refit and its claim count each row by its weight; with "
        "--with-fit-rows the fit's rows keep the fit's weights (default: the fit's --weight "
        "column when the CSV has it, else every new row counts once)",
    )
    upd.add_argument(
        "--target-rows",
        metavar="CSV",
        help="unlabeled rows from where the model will be used, as fit's --target-rows: the "
        "updated claim is made for that population (default: none, the claim is for the new "
        "rows' own population; a fit made with --target-rows then warns)",
    )
    upd.add_argument(
        "--with-fit-rows",
        action="store_true",
        help="also train on the fit's rows (read from source.json); default: the new rows only",
    )
    upd.add_argument(
        "--evidence-share",
        type=float,
        default=0.3,
        help="share of the new rows kept back for the audits (default 0.3)",
    )
    upd.add_argument(
        "--search-again",
        choices=["auto", "always", "never"],
        default="auto",
        help="run the fit's search on the update's rows: when the refitted pick's claim is "
        "not FAIR or LIKELY FAIR there (auto), always, or never (default auto)",
    )
    upd.add_argument(
        "--time-budget", type=float, help="seconds for the refit and search (default: the fit's)"
    )
    upd.add_argument("--seed", type=int, help="random state of the split and the refit")
    upd.add_argument("--out", help="directory for the updated model (default FIT_DIR/update)")
    _add_trusted(upd)
    upd.set_defaults(func=cmd_update)

    add_alternatives_parser(sub)

    ds = sub.add_parser("datasets", help="list the bundled datasets")
    ds.set_defaults(func=cmd_datasets)
    add_bench_parser(sub)
    return parser
