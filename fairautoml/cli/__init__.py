"""Command line: ``fairautoml fit | report | worker | leaderboard | predict | audit | datasets |
bench``.

The only module that prints.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from fairautoml import datasets
from fairautoml import exceptions as E
from fairautoml.bench.cli import add_parser as add_bench_parser
from fairautoml.data.groups import MISSING_GROUPS, QUANTILES, check_bins_spec
from fairautoml.data.labels import labels_say_positive, looks_unfavourable
from fairautoml.estimators.automl import FairAutoML, estimator_for
from fairautoml.estimators.load import load
from fairautoml.estimators.worker import load_data, load_source, read_csv
from fairautoml.exceptions import (
    AUDIT_CSV_COLUMNS,
    BINS_CLI,
    DATASET_TASK_UNSUPPORTED,
    NO_RUN_MODEL,
    POS_LABEL_LOOKS_UNFAVOURABLE,
    POS_LABEL_TAKEN,
    FairAutoMLError,
)
from fairautoml.learners import available_learners
from fairautoml.measures.metrics import METRICS
from fairautoml.mitigators import DECISION_RULES, available_mitigators
from fairautoml.report.card import compute_verdict, verdict_lines
from fairautoml.report.page import pick_summary, write_fit_report
from fairautoml.search import available_controllers
from fairautoml.study import storage as persistence
from fairautoml.study.pick import exit_status
from fairautoml.study.record import worker_id
from fairautoml.tasks import ALIASES, TASKS, Task, get_task, infer_task
from fairautoml.values import plain

DEFAULT_STUDY = "fairautoml"
MODEL_FILE = "model.skops"  # what fit --out writes: safe to share (loading runs no code)
OLD_MODEL_FILE = "model.joblib"  # a pickle in a run directory: opened only with --trusted


def _run_model(out: Path) -> Path | None:
    """The model file of a ``fit --out`` directory (None when there is none)."""
    return next((p for p in (out / MODEL_FILE, out / OLD_MODEL_FILE) if p.is_file()), None)


def _model_path(given: str) -> Path:
    """A model file, or the model file of a ``fit --out`` directory."""
    path = Path(given)
    if path.is_dir():
        found = _run_model(path)
        if found is None:
            raise FairAutoMLError(NO_RUN_MODEL.format(out=path))
        return found
    return path


def _source(args: argparse.Namespace) -> dict[str, object]:
    """Where the data come from, recorded in the study so that workers can load them."""
    if args.dataset:
        sensitive = args.sensitive[0] if args.sensitive else None
        # the table's own labels (a record without the key, from before, means 0/1 codes)
        source = {"dataset": args.dataset, "sensitive": sensitive, "labels": "original"}
        return _weighted(source, args)
    source: dict[str, object] = {
        "csv": str(Path(args.data).resolve()) if args.data else None,
        "target": args.target,
        "sensitive": list(args.sensitive or []),
    }
    return _weighted(source, args)


def _weighted(source: dict[str, object], args: argparse.Namespace) -> dict[str, object]:
    """The source record with the ``--weight`` column, when one is given."""
    weight = getattr(args, "weight", None)
    return {**source, "weight": weight} if weight else source


def parse_sensitive(given: list[str] | None) -> tuple[list[str], dict[str, Any] | None]:
    """``--sensitive`` values as column names and ``sensitive_bins``: ``age:25,40,60`` cuts
    age at 25, 40 and 60, ``age:q4`` at its quartiles; a plain name is not binned."""
    names: list[str] = []
    bins: dict[str, Any] = {}
    for value in given or []:
        name, _, spec = value.rpartition(":")
        if not name or not _looks_like_bins(spec):
            names.append(value)  # a column name (which may itself hold a colon)
            continue
        names.append(name)
        try:
            bins[name] = _bins_spec(spec)
            check_bins_spec({name: bins[name]})  # the estimator's rule, in the CLI's words
        except (ValueError, FairAutoMLError):
            raise FairAutoMLError(BINS_CLI.format(given=value)) from None
    return names, bins or None


def _bins_spec(spec: str) -> str | list[float]:
    """``q4`` as "quantiles:4", ``25,40,60`` as cut points."""
    if spec[:1].lower() == "q":
        return f"{QUANTILES}{int(spec[1:])}"
    edges = [float(e) for e in spec.split(",")]
    return [int(e) if e.is_integer() else e for e in edges]


def _looks_like_bins(spec: str) -> bool:
    """What follows the last colon starts like cut points, or is q with a count."""
    return spec[:1] in set("0123456789+-.") or (
        spec[:1].lower() == "q" and (spec[1:].isdigit() or len(spec) == 1)
    )


def _read_table(args: argparse.Namespace) -> tuple[pd.DataFrame, pd.Series, object, object]:
    """``(X, y, sensitive_features, sample_weight)``: the weight column (``--weight``) is
    neither a feature nor the target."""
    source = _source(args)
    if source.get("weight"):
        return load_data(source)
    X, y, s = load_source(source)
    return X, y, s, None


def _env_storage() -> str | None:
    """The storage URL in ``$FAIRAUTOML_STORAGE`` (keeps a password off the command line)."""
    return os.environ.get(persistence.STORAGE_ENV) or None


def _storage(args: argparse.Namespace) -> str | None:
    """``--storage`` or ``$FAIRAUTOML_STORAGE``, else a SQLite file in ``--out`` (None: in
    memory)."""
    storage = args.storage or _env_storage()
    if storage:
        return storage
    return persistence.sqlite_url(args.out) if args.out else None


def fit_task(args: argparse.Namespace, y: Any) -> tuple[Task, str | None]:
    """The task of a fit (``--task``, the bundled dataset's, or read off the target) and,
    when it was read off the target, the line that says so."""
    if args.task:
        return get_task(args.task), None
    if args.dataset:
        kind = datasets.DATASETS[args.dataset].task
        if kind not in TASKS:
            raise FairAutoMLError(DATASET_TASK_UNSUPPORTED.format(name=args.dataset, task=kind))
        return get_task(kind), None
    task = infer_task(y)
    word = {
        "regression": "amounts: regression",
        "multiclass": "several classes: multiclass",
    }.get(task.name, "classes: classification")
    return task, f"task: {word} (read off the target; --task to override)"


def cmd_fit(args: argparse.Namespace) -> int:
    names, sensitive_bins = parse_sensitive(args.sensitive)
    args = argparse.Namespace(**{**vars(args), "sensitive": names or None})  # plain columns
    X, y, s, w = _read_table(args)
    task, said = fit_task(args, y)
    if said:
        print(said)
    storage = _storage(args)
    if storage is not None:
        study = persistence.open_study(storage, args.study)
        study.set_user_attr(persistence.SOURCE_ATTR, _source(args))
        if study.trials:
            print(
                f"resuming study {args.study!r} in {persistence.masked(storage)}: "
                f"{len(study.trials)} trials"
            )
    automl = estimator_for(task.name)(
        constraints=args.constraint,
        metric=args.metric,
        time_budget=args.time_budget,
        n_trials=args.n_trials,
        controller=args.controller,
        learners=args.learners,
        mitigators=args.mitigators,
        random_state=args.seed,
        n_jobs=args.n_jobs,
        sensitive_at_predict=args.sensitive_at_predict,
        decision_rule=args.decision_rule,
        deterministic=args.deterministic,
        keep_sensitive_as_feature=args.keep_sensitive_as_feature,
        confidence=args.confidence,
        cv_folds=args.cv_folds,
        validation_fraction=args.validation_fraction,
        min_group_size=args.min_group_size,
        sensitive_bins=sensitive_bins,
        missing_groups=args.missing_groups,
        max_search_rows=args.max_search_rows,
        trial_time_limit=args.trial_time_limit,
        refit=not args.no_refit,
        confirm=not args.no_confirm,
        ensemble=not args.no_ensemble,
        portfolio=not args.no_portfolio,
        pos_label=pos_label(args),
        storage=storage,
        study_name=args.study if storage is not None else None,
        verbose=0 if args.quiet else 1 + args.verbose,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        automl.fit(X, y, sensitive_features=s, **({} if w is None else {"sample_weight": w}))
    for warned in caught:
        if "fairautoml" in type(warned.message).__module__:
            print(f"warning: {cli_words(str(warned.message))}", file=sys.stderr)
    cfg = automl.best_config_
    if cfg.get("sample_weight"):
        cfg["sample_weight"]["column"] = args.weight
    for line in verdict_lines(compute_verdict(automl, (X, y, s))):
        print(cli_words(line))
    label = _label_line(automl, args)
    if label:
        print(label)
    lines = pick_summary(automl)
    print(lines[0])
    print(f"  learner params: {json.dumps(cfg['learner_params'], default=str)}")
    for line in lines[1:]:
        print(f"  {line}")
    print(f"  fit time: {automl.fit_time_:.1f} s")
    print(f"  hypervolume of the Pareto front: {automl.hypervolume_:.4f}")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        automl.leaderboard_.to_csv(out / "leaderboard.csv", index=False)
        automl.pareto_front_.to_csv(out / "pareto_front.csv", index=False)
        automl.save(out / MODEL_FILE)
        (out / "best_config.json").write_text(json.dumps(cfg, indent=2, default=str))
        write_fit_report(automl, out / "report.html", data=(X, y, s), source=_source(args))
        print(
            f"wrote {out}/report.html (what was found, in words), leaderboard.csv, "
            f"pareto_front.csv, {MODEL_FILE}, best_config.json"
        )
    if storage is not None:
        print(
            f"study {args.study!r} in {persistence.masked(storage)}: rerun this command to "
            "resume it, or join it with: fairautoml worker --storage "
            f"{persistence.masked(storage)} --study {args.study}"
        )
    status = exit_status(cfg["verdict"], cfg["tier"])
    if status:
        print(E.FIT_EXIT.format(word=cfg["verdict"], status=status), file=sys.stderr)
    return status


# The estimator's words for its settings, and the CLI's flags for them: a warning or a card
# line printed by the CLI advises what its user can type.
PYTHON_TO_CLI = (
    ("raise time_budget (or n_trials)", "raise --time-budget (or --n-trials)"),
    ("search every mitigator (mitigators=None)", "search every mitigator (leave out --mitigators)"),
    ("(deterministic=False)", "(leave out --deterministic)"),
    ("(decision_rule='proxy' or 'group_aware')", "(--decision-rule proxy or group_aware)"),
    ("(decision_rule='group_aware')", "(--decision-rule group_aware)"),
    ("(cv_folds=5)", "(--cv-folds 5)"),
    ("(automl.audit(X_new, y_new, s_new))", "(fairautoml audit RUN_DIR NEW.csv)"),
    ("best_config_['feasible'] == False", "feasible: false in best_config.json"),
    ("sensitive_at_predict=True", "--decision-rule group_aware"),
    ("decision_rule='group_free'", "--decision-rule group_free"),
    ("decision_rule='proxy'", "--decision-rule proxy"),
    ("decision_rule='group_aware'", "--decision-rule group_aware"),
)


def cli_words(text: str) -> str:
    """``text`` with the estimator's setting names replaced by the CLI's flags."""
    for python, flags in PYTHON_TO_CLI:
        text = text.replace(python, flags)
    return text


def pos_label(args: argparse.Namespace) -> Any:
    """``--positive-label``: one label, several (the favourable classes of a multiclass
    target), or None."""
    given = args.positive_label
    if given is None and getattr(args, "dataset", None):  # a bundled table: its favourable label
        return datasets.positive_label(args.dataset)
    if given is None or isinstance(given, str):
        return given
    return given[0] if len(given) == 1 else list(given)


def _label_line(automl: FairAutoML, args: argparse.Namespace) -> str | None:
    """Which label was taken as favourable, when the user did not say and a constraint
    depends on it; more insistent when the taken label reads as an unfavourable outcome."""
    depends = [str(c) for c in automl.constraints_ if c.needs_positive_label]
    if args.positive_label is not None or not depends:
        return None
    classes, positive = automl.classes_, automl.classes_[1]
    suspicious = looks_unfavourable(positive, args.target)
    if labels_say_positive(classes) and not suspicious:
        return None
    line = POS_LABEL_TAKEN.format(
        positive=plain(positive),
        classes=[plain(c) for c in classes],
        constraints=", ".join(depends),
        s="s" if len(depends) == 1 else "",
    )
    if suspicious:
        line += " " + POS_LABEL_LOOKS_UNFAVOURABLE.format(positive=plain(positive))
    return line


def cmd_report(args: argparse.Namespace) -> int:
    """Rewrite DIR/report.html from the files a ``fit --out DIR`` run left there."""
    out = Path(args.dir)
    model, db = _run_model(out), out / "study.db"
    if model is None:
        raise FairAutoMLError(NO_RUN_MODEL.format(out=out))
    automl = load(model, trusted=args.trusted)
    storage = args.storage or (persistence.sqlite_url(out) if db.is_file() else None)
    source = None
    if storage is not None:
        study = persistence.open_study(storage, args.study, create=False)
        source = study.user_attrs.get(persistence.SOURCE_ATTR)
    data = None
    if source:
        try:
            data = load_source(source)
        except FairAutoMLError as exc:
            print(f"warning: no per-group rates or data summary: {exc}", file=sys.stderr)
    else:
        print("warning: the run recorded no data source (study.db)", file=sys.stderr)
    path = write_fit_report(automl, out / "report.html", data=data, source=source)
    print(f"wrote {path}")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from fairautoml.estimators.worker import run_worker

    n = run_worker(
        args.storage, args.study, data=args.data, wait=args.wait,
        verbose=0 if args.quiet else 1 + args.verbose,
    )  # fmt: skip
    print(f"worker {worker_id()}: {n} trials on study {args.study!r}")
    return 0


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from fairautoml.report.study_table import format_table, read_study

    if args.storage:
        storage = args.storage
    elif args.dir and (Path(args.dir) / "study.db").exists():
        storage = persistence.sqlite_url(args.dir)
    elif not args.dir and _env_storage():
        storage = _env_storage()
    else:
        raise FairAutoMLError(
            f"No study.db in {args.dir}: give the --out directory of a `fairautoml fit` run, "
            "or --storage URL --study NAME."
        )
    view = read_study(storage, args.study)
    print(format_table(view, top=args.top))
    for path in args.plot or []:
        from fairautoml.report.plots import plot_pareto

        written = plot_pareto(view.board, view.constraints, view.metric, path, title=view.title)
        print(f"wrote {written}")
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    from fairautoml.study.dashboard import serve, storage_of

    if args.target is None:
        raise FairAutoMLError("Give the --out directory of a fit or a storage URL.")
    storage_of(args.target)  # a clear error before the server starts
    print(f"optuna-dashboard on http://{args.host}:{args.port}/ (Ctrl-C stops it)", flush=True)
    serve(args.target, host=args.host, port=args.port)
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    automl = load(_model_path(args.model), trusted=args.trusted)
    frame = read_csv(args.data)
    model = automl.best_estimator_
    sensitive = list(args.sensitive or [])
    known = set(map(str, automl.feature_names_in_)) | set(model.sensitive_columns) | set(sensitive)
    extra = [c for c in frame.columns if str(c) not in known]
    if extra:
        print(f"ignoring columns not seen in fit: {', '.join(map(str, extra))}", file=sys.stderr)
    if model.needs_group and not sensitive and not model.sensitive_columns:
        raise FairAutoMLError(
            f"The model ({model.description}) uses the sensitive attribute at predict time: "
            "name its column with --sensitive COLUMN."
        )
    X = frame.drop(columns=extra)
    s = frame[sensitive] if sensitive else None
    if s is not None and not model.sensitive_columns:
        X = X.drop(columns=[c for c in sensitive if c not in automl.feature_names_in_])
    if hasattr(automl, "predict_proba"):  # decisions: the class and its probability
        proba = automl.predict_proba(X, sensitive_features=s)
        out = pd.DataFrame({
            "prediction": automl.classes_[model.task.decide(proba[:, 1])],
            f"proba_{automl.classes_[1]}": proba[:, 1],
        })  # fmt: skip
    else:  # amounts
        out = pd.DataFrame({"prediction": automl.predict(X, sensitive_features=s)})
    out.to_csv(args.out, index=False)
    print(f"wrote {len(out)} predictions to {args.out}")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    """Audit a saved model on a CSV; exit status 1 when a constraint is violated with
    confidence, so a scheduled job can act on it."""
    from fairautoml.audit.constraint_verdicts import VIOLATED
    from fairautoml.audit.page import write_audit

    automl = load(_model_path(args.model), trusted=args.trusted)
    frame = read_csv(args.data)
    missing = [c for c in [args.target, *(args.sensitive or [])] if c and c not in frame.columns]
    if missing:
        raise FairAutoMLError(
            AUDIT_CSV_COLUMNS.format(missing=missing, columns=list(map(str, frame.columns)))
        )
    y = frame.pop(args.target) if args.target else None
    result = automl.audit(frame, y, args.sensitive or None, pos_label=pos_label(args))
    print(f"verdict: {result.verdict}, {result.word} ({result.n_rows} rows)")
    for c in result.constraints:
        value = "n/a" if c["value"] is None else f"{c['value']:.4f}"
        print(f"  {c['constraint']}: {value} -> {c['verdict']}")
        if c.get("reason"):
            print(f"    ({c['reason']})")
    if result.drift.get("fairness_changed") is not None:
        print(f"  fairness changed since the fit: {result.drift['fairness_changed']}")
    if "alpha" in result.drift:  # the drift tests ran
        print(f"  features moved: {', '.join(result.drift['features_moved']) or 'none'}")
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.out:
        page, data = write_audit(result, args.out)
        print(f"wrote {page} and {data}")
    return 1 if result.verdict == VIOLATED else 0


def cmd_datasets(args: argparse.Namespace) -> int:
    for info in datasets.available():
        outcome = info.task if info.positive is None else f"positive {info.positive!r}"
        print(
            f"{info.name:9s} target={info.target} ({outcome}) "
            f"sensitive={','.join(info.sensitive)}  {info.description}"
        )
    return 0


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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if getattr(args, "verbose", 0) else logging.WARNING,
        format="%(message)s",
    )
    try:
        return int(args.func(args))
    except FairAutoMLError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
