"""Command line: ``fairautoml fit | datasets | bench``. The only module that prints."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import warnings
from pathlib import Path

import joblib
import pandas as pd

from fairautoml import datasets
from fairautoml.automl import FairAutoML
from fairautoml.bench.cli import add_parser as add_bench_parser
from fairautoml.exceptions import FairAutoMLError
from fairautoml.search import available_controllers


def _read_table(args: argparse.Namespace) -> tuple[pd.DataFrame, pd.Series, object]:
    if args.dataset:
        X, y, s = datasets.load(args.dataset, args.sensitive[0] if args.sensitive else None)
        return X, y, s
    if not (args.data and args.target and args.sensitive):
        raise FairAutoMLError(
            "Give a bundled dataset (--dataset adult) or a CSV with --target and --sensitive, "
            "e.g. fairautoml fit data.csv --target income --sensitive sex."
        )
    frame = pd.read_csv(args.data)
    if args.target not in frame.columns:
        raise FairAutoMLError(
            f"--target {args.target!r} is not a column of {args.data}. Columns: "
            f"{', '.join(map(str, frame.columns))}."
        )
    return frame.drop(columns=[args.target]), frame[args.target], list(args.sensitive)


def cmd_fit(args: argparse.Namespace) -> int:
    X, y, s = _read_table(args)
    automl = FairAutoML(
        constraints=args.constraint or ["demographic_parity_difference <= 0.05"],
        metric=args.metric,
        time_budget=args.time_budget,
        n_trials=args.n_trials,
        controller=args.controller,
        random_state=args.seed,
        sensitive_at_predict=not args.no_sensitive_at_predict,
        verbose=args.verbose,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        automl.fit(X, y, sensitive_features=s)
    for w in caught:
        if "fairautoml" in type(w.message).__module__:
            print(f"warning: {w.message}", file=sys.stderr)
    cfg = automl.best_config_
    print(f"chosen model: {cfg['model']} (trial {cfg['trial']} of {len(automl.leaderboard_)})")
    print(f"  learner params: {json.dumps(cfg['learner_params'], default=str)}")
    print(f"  validation {args.metric}: {cfg[args.metric]:.4f}")
    for c in automl.constraints_:
        value = cfg["constraint_values"][c.metric]
        status = "ok" if c.violation(value) <= 0 else "VIOLATED"
        print(f"  validation {c.metric}: {value:.4f} (bound {c.op} {c.bound:g}: {status})")
    print(f"  needs the sensitive attribute at predict time: {cfg['needs_group_at_predict']}")
    print(f"  fit time: {automl.fit_time_:.1f} s")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        automl.leaderboard_.to_csv(out / "leaderboard.csv", index=False)
        automl.pareto_front_.to_csv(out / "pareto_front.csv", index=False)
        joblib.dump(automl, out / "model.joblib")
        (out / "best_config.json").write_text(json.dumps(cfg, indent=2, default=str))
        print(f"wrote {out}/leaderboard.csv, pareto_front.csv, model.joblib, best_config.json")
    return 0


def cmd_datasets(args: argparse.Namespace) -> int:
    for info in datasets.available():
        print(
            f"{info.name:8s} target={info.target} (positive {info.positive!r}) "
            f"sensitive={','.join(info.sensitive)}  {info.description}"
        )
    return 0


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
    fit.add_argument("--metric", default="accuracy")
    fit.add_argument("--time-budget", type=float, default=60.0, help="seconds (default 60)")
    fit.add_argument("--n-trials", type=int, default=None)
    fit.add_argument("--controller", default="optuna", choices=available_controllers())
    fit.add_argument("--seed", type=int, default=0)
    fit.add_argument(
        "--no-sensitive-at-predict",
        action="store_true",
        help="only models that do not need the group at predict time",
    )
    fit.add_argument("--out", help="directory for leaderboard.csv and model.joblib")
    fit.add_argument("-v", "--verbose", action="count", default=0)
    fit.set_defaults(func=cmd_fit)

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
