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

import pandas as pd

from fairautoml import datasets, persistence
from fairautoml.automl import FairAutoML
from fairautoml.bench.cli import add_parser as add_bench_parser
from fairautoml.exceptions import AUDIT_CSV_COLUMNS, NO_RUN_MODEL, FairAutoMLError
from fairautoml.fit_report import pick_summary, write_fit_report
from fairautoml.model_file import load
from fairautoml.record import worker_id
from fairautoml.search import available_controllers
from fairautoml.worker import load_source

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
        return {"dataset": args.dataset, "sensitive": args.sensitive[0] if args.sensitive else None}
    return {
        "csv": str(Path(args.data).resolve()) if args.data else None,
        "target": args.target,
        "sensitive": list(args.sensitive or []),
    }


def _read_table(args: argparse.Namespace) -> tuple[pd.DataFrame, pd.Series, object]:
    return load_source(_source(args))


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


def cmd_fit(args: argparse.Namespace) -> int:
    X, y, s = _read_table(args)
    storage = _storage(args)
    if storage is not None:
        study = persistence.open_study(storage, args.study)
        study.set_user_attr(persistence.SOURCE_ATTR, _source(args))
        if study.trials:
            print(
                f"resuming study {args.study!r} in {persistence.masked(storage)}: "
                f"{len(study.trials)} trials"
            )
    automl = FairAutoML(
        constraints=args.constraint or ["demographic_parity_difference <= 0.05"],
        metric=args.metric,
        time_budget=args.time_budget,
        n_trials=args.n_trials,
        controller=args.controller,
        random_state=args.seed,
        n_jobs=args.n_jobs,
        sensitive_at_predict=not args.no_sensitive_at_predict,
        confirm=not args.no_confirm,
        pos_label=args.positive_label,
        storage=storage,
        study_name=args.study if storage is not None else None,
        verbose=0 if args.quiet else 1 + args.verbose,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        automl.fit(X, y, sensitive_features=s)
    for w in caught:
        if "fairautoml" in type(w.message).__module__:
            print(f"warning: {w.message}", file=sys.stderr)
    cfg = automl.best_config_
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
    return 0


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
    from fairautoml.worker import run_worker

    n = run_worker(
        args.storage, args.study, data=args.data, wait=args.wait,
        verbose=0 if args.quiet else 1 + args.verbose,
    )  # fmt: skip
    print(f"worker {worker_id()}: {n} trials on study {args.study!r}")
    return 0


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from fairautoml.view import format_table, read_study

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
        from fairautoml.plots import plot_pareto

        written = plot_pareto(view.board, view.constraints, view.metric, path, title=view.title)
        print(f"wrote {written}")
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    from fairautoml.dashboard import serve, storage_of

    if args.target is None:
        raise FairAutoMLError("Give the --out directory of a fit or a storage URL.")
    storage_of(args.target)  # a clear error before the server starts
    print(f"optuna-dashboard on http://{args.host}:{args.port}/ (Ctrl-C stops it)", flush=True)
    serve(args.target, host=args.host, port=args.port)
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    automl = load(_model_path(args.model), trusted=args.trusted)
    frame = pd.read_csv(args.data)
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
    proba = automl.predict_proba(X, sensitive_features=s)
    out = pd.DataFrame({
        "prediction": automl.classes_[(proba[:, 1] >= 0.5).astype(int)],
        f"proba_{automl.classes_[1]}": proba[:, 1],
    })  # fmt: skip
    out.to_csv(args.out, index=False)
    print(f"wrote {len(out)} predictions to {args.out}")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    """Audit a saved model on a CSV; exit status 1 when a constraint is violated with
    confidence, so a scheduled job can act on it."""
    from fairautoml.audit import VIOLATED
    from fairautoml.audit_page import write_audit

    automl = load(_model_path(args.model), trusted=args.trusted)
    frame = pd.read_csv(args.data)
    missing = [c for c in [args.target, *(args.sensitive or [])] if c and c not in frame.columns]
    if missing:
        raise FairAutoMLError(
            AUDIT_CSV_COLUMNS.format(missing=missing, columns=list(map(str, frame.columns)))
        )
    y = frame.pop(args.target) if args.target else None
    result = automl.audit(frame, y, args.sensitive or None, pos_label=args.positive_label)
    print(f"verdict: {result.verdict} ({result.n_rows} rows)")
    for c in result.constraints:
        value = "n/a" if c["value"] is None else f"{c['value']:.4f}"
        print(f"  {c['constraint']}: {value} -> {c['verdict']}")
    if result.drift.get("fairness_changed") is not None:
        print(f"  fairness changed since the fit: {result.drift['fairness_changed']}")
        print(f"  features moved: {', '.join(result.drift['features_moved']) or 'none'}")
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.out:
        page, data = write_audit(result, args.out)
        print(f"wrote {page} and {data}")
    return 1 if result.verdict == VIOLATED else 0


def cmd_datasets(args: argparse.Namespace) -> int:
    for info in datasets.available():
        outcome = f"positive {info.positive!r}" if info.task == "binary" else info.task
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fairautoml", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    fit = sub.add_parser("fit", help="search for the most accurate fair model")
    fit.add_argument("data", nargs="?", help="CSV file (or use --dataset)")
    fit.add_argument("--dataset", choices=[d.name for d in datasets.available()])
    fit.add_argument("--target", help="target column of the CSV")
    fit.add_argument(
        "--sensitive", action="append", help="sensitive column (repeat for intersections)"
    )
    fit.add_argument(
        "--constraint", action="append", help="e.g. 'demographic_parity_difference<=0.05'"
    )
    fit.add_argument(
        "--positive-label",
        help="the target's favourable outcome, e.g. '>50K' (default: the label that sorts last)",
    )
    fit.add_argument("--metric", default="accuracy")
    fit.add_argument("--time-budget", type=float, default=60.0, help="seconds (default 60)")
    fit.add_argument("--n-trials", type=int, default=None)
    fit.add_argument("--controller", default="optuna", choices=available_controllers())
    fit.add_argument("--seed", type=int, default=0)
    fit.add_argument(
        "--n-jobs", type=int, default=1, help="models trained at once in this process (default 1)"
    )
    fit.add_argument(
        "--no-sensitive-at-predict",
        action="store_true",
        help="only models that do not need the group at predict time",
    )
    fit.add_argument(
        "--no-confirm",
        action="store_true",
        help="keep the search's validation numbers: do not confirm the leading post-processed "
        "models after the search (on every row by cross-validation; above 200,000 rows, "
        "trained on every training row, at most a million)",
    )
    fit.add_argument(
        "--out", help="directory for study.db (resumable), leaderboard.csv and model.skops"
    )
    fit.add_argument(
        "--storage",
        help="Optuna storage URL (default: $FAIRAUTOML_STORAGE, else sqlite:///OUT/study.db "
        "with --out)",
    )
    fit.add_argument("--study", default=DEFAULT_STUDY, help="study name (default fairautoml)")
    fit.add_argument("-v", "--verbose", action="count", default=0, help="also log every trial")
    fit.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    fit.set_defaults(func=cmd_fit)

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
        "--positive-label", help="the target's favourable outcome (default: the fit's)"
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


if __name__ == "__main__":
    sys.exit(main())
