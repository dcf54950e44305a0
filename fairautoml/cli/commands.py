"""What each command does: ``fit``, ``report``, ``worker``, ``leaderboard``, ``dashboard``,
``predict``, ``audit``, ``update`` and ``datasets``, each a function of its parsed arguments that
returns the exit status. The only module that prints.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from fairautoml import datasets
from fairautoml.alternatives import (
    EXIT_FOUND,
    EXIT_NONE_FOUND,
    EXIT_NOTHING_TO_REDUCE,
    find_alternatives,
)
from fairautoml.alternatives.messages import SKOPS_USER_MODEL
from fairautoml.cli.inputs import (
    _env_storage,
    _source,
    _storage,
    fit_task,
    parse_sensitive,
    probability_columns,
)
from fairautoml.data.labels import labels_say_positive, looks_unfavourable
from fairautoml.estimators.automl import FairAutoML, estimator_for
from fairautoml.estimators.load import load
from fairautoml.estimators.parameters import BY_NAME, estimator_kwargs
from fairautoml.estimators.update import update
from fairautoml.estimators.worker import (
    load_data,
    load_source,
    read_csv,
    read_target_rows,
    split_weight,
)
from fairautoml.exceptions import FairAutoMLError, UntrustedModelError
from fairautoml.model.files import read_model
from fairautoml.report.card import compute_verdict, shift_words, verdict_lines
from fairautoml.report.page import pick_summary, write_fit_report
from fairautoml.study import storage as persistence
from fairautoml.study.pick import EXIT_STATUS, exit_status
from fairautoml.study.record import worker_id
from fairautoml.values import plain

FIT_EXIT = (
    "exit status {status}: the verdict is {word} (0 only when every constraint holds at the "
    "unfavourable end of its interval; see `fairautoml fit --help`)."
)
POS_LABEL_TAKEN = (
    "favourable label: {positive!r} (the label that sorts last, of {classes}); "
    "{constraints} compare{s} its rate. Give --positive-label if that is not the "
    "favourable outcome."
)
POS_LABEL_LOOKS_UNFAVOURABLE = (
    "{positive!r} looks like an unfavourable outcome (a denial, a default, a failure): "
    "give --positive-label with the favourable one."
)
AUDIT_CSV_COLUMNS = "The CSV has no column {missing}; its columns: {columns}."
NO_RUN_MODEL = (
    "No model.skops (or model.joblib) in {out}: give the --out directory of a `fairautoml "
    "fit` run (it holds model.skops, study.db, leaderboard.csv)."
)

DEFAULT_STUDY = BY_NAME["study_name"].cli_default


MODEL_FILE = "model.skops"  # what fit --out writes: safe to share (loading runs no code)
SOURCE_FILE = "source.json"  # fit --out: where its data came from (update reads it)
SEARCH_AGAIN = {"auto": "auto", "always": True, "never": False}  # update --search-again
UPDATE_NO_TARGET = (
    "Name the new rows' target column with --target: {fit_dir} records no CSV target "
    "(a fit before {source} was written, or of a bundled dataset)."
)
UPDATE_FIT_TARGET_ROWS = (
    "the fit was aimed at the rows of {path}: give --target-rows {path} (or newer rows "
    "from where the model is used) to aim the update there too."
)


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


def _read_table(args: argparse.Namespace) -> tuple[pd.DataFrame, pd.Series, object, object]:
    """``(X, y, sensitive_features, sample_weight)``: the weight column (``--weight``) is
    neither a feature nor the target."""
    source = _source(args)
    if source.get("weight"):
        return load_data(source)
    X, y, s = load_source(source)
    return X, y, s, None


def _fit_extras(args: argparse.Namespace, y: pd.Series, weight: object) -> dict[str, Any]:
    """``fit``'s arguments beyond the table, those given only: the ``--weight`` column's
    values, and the ``--target-rows`` CSV without the target and weight columns (labels
    there are not used: the rows only say where the model will be used), and
    ``--shift-robust``."""
    extras: dict[str, Any] = {} if weight is None else {"sample_weight": weight}
    if getattr(args, "target_rows", None):
        extras["target_X"] = read_target_rows(args.target_rows, y, args.weight)
    if getattr(args, "shift_robust", False):
        extras["shift_robust"] = True
    return extras


def cmd_fit(args: argparse.Namespace) -> int:
    names, sensitive_bins = parse_sensitive(args.sensitive)
    args = argparse.Namespace(**{**vars(args), "sensitive": names or None})  # plain columns
    X, y, s, w = _read_table(args)
    X, probabilities = probability_columns(X, args)
    if probabilities is not None:
        s = None  # no known groups: the report says why it shows no per-group table
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
        **estimator_kwargs(args),  # the parameters that are their flag's value
        sensitive_bins=sensitive_bins,
        pos_label=pos_label(args),
        storage=storage,
        study_name=args.study if storage is not None else None,
        verbose=0 if args.quiet else 1 + args.verbose,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        given = {} if probabilities is None else {"group_probabilities": probabilities}
        automl.fit(X, y, sensitive_features=s, **given, **_fit_extras(args, y, w))
    for warned in caught:
        if "fairautoml" in type(warned.message).__module__:
            print(f"warning: {cli_words(str(warned.message))}", file=sys.stderr)
    cfg, pick = automl.best_config_, automl.fit_summary_
    if pick.sample_weight:  # the record the model keeps names the column (best_config_)
        cfg["sample_weight"]["column"] = args.weight
    for line in verdict_lines(compute_verdict(automl, (X, y, s))):
        print(cli_words(line))
    label = _label_line(automl, args)
    if label:
        print(label)
    lines = pick_summary(automl)
    print(lines[0])
    print(f"  learner params: {json.dumps(pick.candidate.learner_params, default=str)}")
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
        (out / SOURCE_FILE).write_text(json.dumps(_source(args), indent=2) + "\n")
        write_fit_report(automl, out / "report.html", data=(X, y, s), source=_source(args))
        print(
            f"wrote {out}/report.html (what was found, in words), leaderboard.csv, "
            f"pareto_front.csv, {MODEL_FILE}, best_config.json, {SOURCE_FILE}"
        )
    if storage is not None:
        print(
            f"study {args.study!r} in {persistence.masked(storage)}: rerun this command to "
            "resume it, or join it with: fairautoml worker --storage "
            f"{persistence.masked(storage)} --study {args.study}"
        )
    status = exit_status(pick.verdict, pick.tier)
    if status:
        print(FIT_EXIT.format(word=pick.verdict, status=status), file=sys.stderr)
    return status


ALTERNATIVES_EXIT = {
    "less discriminatory": EXIT_FOUND,
    "none found with confidence": EXIT_NONE_FOUND,
    "nothing to reduce": EXIT_NOTHING_TO_REDUCE,
}
ALTERNATIVES_NEEDS = (
    "fairautoml alternatives needs the incumbent: --incumbent MODEL_FILE, or "
    "--incumbent-scores COLUMN with --cutoff C or --approval-rate R."
)
ALTERNATIVES_COLUMNS = "The CSV has no column {missing}; its columns: {columns}."
ALTERNATIVES_GROUPS = (
    "fairautoml alternatives needs the groups: --sensitive COLUMN (known groups), or "
    "--group-probabilities COL1,COL2,... (each row's probability of each group, e.g. BISG)."
)


def _incumbent_model(path: str) -> Any:
    """A model file through the safe gate only: a fairautoml model, or a user's model whose
    every type the gate accepts; never a pickle (the refusal says what to pass instead)."""
    try:
        return read_model(_model_path(path), trusted=False)
    except UntrustedModelError as exc:
        raise FairAutoMLError(SKOPS_USER_MODEL.format(path=path, error=exc)) from None


def cmd_alternatives(args: argparse.Namespace) -> int:
    """Search for a less discriminatory alternative to the incumbent; exit status by the
    verdict (:data:`ALTERNATIVES_EXIT`; 2 bad input)."""
    if args.incumbent is None and args.incumbent_scores is None:
        raise FairAutoMLError(ALTERNATIVES_NEEDS)
    if not args.sensitive and not args.group_probabilities:
        raise FairAutoMLError(ALTERNATIVES_GROUPS)
    frame = read_csv(args.data)
    names, sensitive_bins = parse_sensitive(args.sensitive)
    wanted = [args.target, *names] + ([args.incumbent_scores] if args.incumbent_scores else [])
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise FairAutoMLError(
            ALTERNATIVES_COLUMNS.format(missing=missing, columns=list(frame.columns))
        )
    y = frame.pop(args.target)
    frame, probabilities = probability_columns(frame, args)  # fit's rule: not with --sensitive
    model = _incumbent_model(args.incumbent) if args.incumbent else None
    options = {"sensitive_bins": sensitive_bins} if sensitive_bins else {}
    if probabilities is not None:
        options["group_probabilities"] = probabilities
    if args.positive_label is not None:
        options["pos_label"] = pos_label(args)
    if args.learners:
        options["learners"] = args.learners
    result = find_alternatives(
        model, frame, y, sensitive_features=names or None,
        constraints=args.constraint or "demographic_parity_difference", metric=args.metric,
        tolerance=args.tolerance, time_budget=args.time_budget, n_trials=args.n_trials,
        level=args.level, evidence_share=args.evidence_share, decision_rule=args.decision_rule,
        deterministic=not args.randomized, random_state=args.seed, n_jobs=args.n_jobs,
        incumbent_scores=args.incumbent_scores, cutoff=args.cutoff,
        approval_rate=args.approval_rate, same_approval_rate=args.same_approval_rate,
        required_features=args.require, forbidden_features=args.forbid,
        drop_drivers=args.drop_drivers, **options,
    )  # fmt: skip
    print(f"verdict: {result.verdict_}")
    print(cli_words(result.reason_))
    if result.stopping_ is not None:
        print(result.stopping_.statement)
    if args.out:
        out = result.save(args.out)
        written = "alternatives.html, alternatives.json"
        if result.best_ is not None:
            written += ", alternative.skops"
        print(f"wrote {out}/{written}")
    status = ALTERNATIVES_EXIT[result.verdict_]
    if status:
        print(f"exit status {status}: {result.verdict_}", file=sys.stderr)
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
    ("(target_X=rows)", "(--target-rows CSV)"),
    ("(sample_weight=weights)", "(--weight COLUMN)"),
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
    if getattr(args, "reasons", None) is not None:
        why = model.reasons(X, args.reasons, sensitive_features=s)
        out = pd.concat([out, why.reset_index(drop=True)], axis=1)
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
    if args.group_probabilities:
        return _audit_with_probabilities(automl, frame, y, args)
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


def cmd_update(args: argparse.Namespace) -> int:
    """Refit a ``fit --out`` directory's pick with new labeled rows
    (:func:`fairautoml.update`); print the audits before and after on the kept-back new rows,
    write the updated model and ``update.json``. Exit status by the after-audit's word, as
    ``fit``'s by its verdict (2 bad input)."""
    fit_dir = Path(args.fit_dir)
    automl = load(_model_path(args.fit_dir), trusted=args.trusted)
    recorded = fit_dir / SOURCE_FILE
    source = json.loads(recorded.read_text()) if recorded.is_file() else {}
    old = load_data(source) if args.with_fit_rows and source else None
    target = args.target or source.get("target") or (old[1].name if old else None)
    if not target:
        raise FairAutoMLError(UPDATE_NO_TARGET.format(fit_dir=fit_dir, source=SOURCE_FILE))
    frame = read_csv(args.data)
    if target not in frame.columns:
        raise FairAutoMLError(
            AUDIT_CSV_COLUMNS.format(missing=[target], columns=list(map(str, frame.columns)))
        )
    y_new = frame.pop(target)
    # the fit's weight column weighs the new rows too, when they have it (else update warns)
    weight = args.weight or (source.get("weight") if source.get("weight") in frame else None)
    given: dict[str, Any] = {}
    if weight:
        frame, given["sample_weight"] = split_weight(
            frame, weight, args.data, sensitive=args.sensitive, target=target
        )
    if args.target_rows:
        given["target_X"] = read_target_rows(args.target_rows, y_new, weight)
    elif source.get("target_rows"):
        print(f"note: {UPDATE_FIT_TARGET_ROWS.format(path=source['target_rows'])}", file=sys.stderr)
    if old is not None:
        X_old, y_old, s_old, w_old = old
        s_named = isinstance(s_old, (str, list))
        given.update(X=X_old, y=y_old, sensitive_before=None if s_named else s_old)
        given["sample_weight_before"] = w_old
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = update(
            automl, frame, y_new, args.sensitive or None, evidence_share=args.evidence_share,
            search_again=SEARCH_AGAIN[args.search_again], time_budget=args.time_budget,
            random_state=args.seed, **given,
        )  # fmt: skip
    if result.model.fit_summary_.sample_weight:  # as fit's record names its column
        result.model.best_config_["sample_weight"]["column"] = weight
    for warned in caught:
        if "fairautoml" in type(warned.message).__module__:
            print(f"warning: {cli_words(str(warned.message))}", file=sys.stderr)
    how = f"searched again (the refit's claim: {result.refit_verdict})"
    print(
        f"update: {result.model.best_config_.get('model', '')} "
        f"{how if result.searched else 'refitted'} on {result.n_trained} rows "
        f"({result.n_old} of the fit's); audited on {result.n_evidence} new rows kept back"
    )
    if result.claim_for == "target_X":
        print(f"  its claim{shift_words(result.model.fit_summary_.shift)}")
    for name, audited in (
        ("before (the fit's model)", result.before),
        ("after (the updated model)", result.after),
    ):
        print(f"{name}: {audited.word}, on the {result.n_evidence} new rows kept back")
        for c in audited.constraints:
            value = "n/a" if c["value"] is None else f"{c['value']:.4f}"
            interval = c.get("interval")
            shown = f" [{interval[0]:.4f}, {interval[1]:.4f}]" if interval else ""
            print(f"  {c['constraint']}: {value}{shown} -> {c['verdict']}")
    out = Path(args.out) if args.out else fit_dir / "update"
    result.save(out, MODEL_FILE)
    print(f"wrote {out}/{MODEL_FILE} and update.json")
    from fairautoml.audit.constraint_verdicts import VIOLATED

    status = EXIT_STATUS.get(result.after.word, 1 if result.after.verdict == VIOLATED else 0)
    if status:
        print(f"exit status {status}: after the update the audit says {result.after.word}",
              file=sys.stderr)  # fmt: skip
    return status


def _audit_with_probabilities(automl: Any, frame: pd.DataFrame, y: Any, args: Any) -> int:
    """``fairautoml audit --group-probabilities COL1,COL2``: the columns popped off the CSV
    as the probabilities; the summary printed, ``audit_probabilities.json`` under --out."""
    from fairautoml.audit.constraint_verdicts import VIOLATED

    features, probabilities = probability_columns(frame, args)  # fit's rule: not with --sensitive
    result = automl.audit(features, y, group_probabilities=probabilities, pos_label=pos_label(args))
    print(result.summary())
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "audit_probabilities.json").write_text(json.dumps(result.to_dict(), indent=2))
        print(f"wrote {out / 'audit_probabilities.json'}")
    return 1 if result.verdict == VIOLATED else 0


def cmd_datasets(args: argparse.Namespace) -> int:
    for info in datasets.available():
        outcome = info.task if info.positive is None else f"positive {info.positive!r}"
        print(
            f"{info.name:9s} target={info.target} ({outcome}) "
            f"sensitive={','.join(info.sensitive)}  {info.description}"
        )
    return 0
