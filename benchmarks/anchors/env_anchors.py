"""Anchors whose libraries pin versions fairautoml cannot install: each runs its library in
its own environment (``envs/NAME.txt``, built on first use) through ``envs/run_anchor.py``,
talking JSON and ``.npz`` files in a work directory that lives as long as the model.

- ``error_parity``: Cruz & Hardt's ``RelaxedThresholdOptimizer`` (error-parity) on
  FLAML's model, as its users apply it: the FLAML fit that ``flaml_threshold`` and
  ``oxonfair`` use (shared, ``flaml_fit.py``) scores the validation rows, and the
  optimizer is fitted on those (score, label, group) rows with ``tolerance`` = the bound
  (the score is its one feature, ``np.ravel`` the predictor; ``l_p_norm`` left at its
  default, the l-infinity norm, which makes its equalized odds fairlearn's
  ``equalized_odds_difference``). Its predictions are randomized within groups (seeded),
  as the LP solution requires, so on validation the realized violation scatters around
  the LP's (which sits at the bound when the bound binds). One constraint. (Version
  0.3.12 has no ``predict_method``: it takes a score callable.)
- ``fairgbm``: ``FairGBMClassifier`` fitted on the train rows (categoricals as integer
  codes, ``constraint_group`` = the group codes) with ``constraint_type`` ``FPR``, ``FNR``
  or ``FPR,FNR`` (equalized odds) and its tolerances set from the bounds. Tuned a little:
  :data:`FAIRGBM_CONFIGS` in order while the budget allows the next one, and the shipped
  model is the most accurate on validation among those meeting the constraints on
  validation (else the least violating), as trained on train (not refitted). FairGBM has
  no demographic-parity or ratio mode: those cells are *not applicable*.
- ``equipy``: EquiPy's ``FairWasserstein`` (Chzhen et al.'s barycenter, its own estimator
  with random jitter ``sigma``) on the shared FLAML regressor's validation predictions;
  the fraction of the way to the barycenter (EquiPy's ``1 - epsilon``) chosen as the
  ``barycenter`` anchor chooses it
  (:func:`fairautoml.bench.transport_anchors.best_fair_fraction`). Amounts only.
- ``autogluon_oxonfair``: AutoGluon's ``TabularPredictor`` (binary, eval metric accuracy,
  preset ``medium_quality`` or the method's ``presets`` option, e.g. ``best_quality``;
  no PyTorch models) fitted on the training rows, then OxonFair's ``FairPredictor`` on
  it, its per-group thresholds fitted on the validation rows to maximize accuracy with
  the constraints at their bounds (OxonFair's metrics are ``fit_oxonfair``'s, passed by
  name: ``OXONFAIR_METRICS``), as OxonFair's own examples use it; decides with the group.
  Of the budget, AutoGluon's ``time_limit`` gets what is left after :data:`POST_RESERVE`
  (3%) and :data:`AUTOGLUON_LOAD` seconds (counted from its process's start, so its
  imports are charged), kept for OxonFair's process (imports, loading the predictor,
  the thresholds). ``autogluon``: AutoGluon alone, the same fit: the two share one fit
  per split and preset (``OUT/shared/autogluon/``, locked and charged like the FLAML fit,
  the predictor pruned to its best model). Tables cross as one float matrix (categoricals
  as codes) and their columns' names and categories as JSON, rebuilt as a DataFrame
  inside the environment, whose pandas 2 cannot read pandas 3 pickles. Yes/no decisions
  only.

The bench runs each anchor's ``prepare_*`` (registered with its fit by
``benchmarks/__init__.py``) before a cell's clock starts, so building an
environment, or reading its packages from a cold disk, never counts against a budget; a
missing or unbuildable environment fails the cell with the reason and the fix
(:class:`~benchmarks.anchors.envs.EnvBuildError`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.anchors.envs import RUNNER, ensure_env, warm
from fairautoml.bench.flaml_fit import (
    POST_RESERVE,
    REGRESSION_SHARED_NOTE,
    SHARED_NOTE,
    Prefit,
    _split_key,
    file_lock,
    flaml_trials,
    holdout_flaml,
)
from fairautoml.bench.methods import CellData, Fitted, NotApplicableError
from fairautoml.bench.oxonfair_anchor import oxonfair_direction, oxonfair_metric_name
from fairautoml.bench.transport_anchors import best_fair_fraction
from fairautoml.exceptions import ConfigurationError
from fairautoml.measures.constraints import Constraint

PREDICT_TIMEOUT = 600.0


class _EnvModel:
    """A model fitted in an anchor's environment; its work directory goes with it."""

    def __init__(self, env: str, threads: int) -> None:
        self.env, self.threads = env, threads
        self.work = Path(tempfile.mkdtemp(prefix=f"fairautoml-{env}-"))
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.work, True)

    def call(
        self, action: str, params: dict[str, Any], arrays: dict[str, np.ndarray], timeout: float
    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        python = ensure_env(self.env)
        (self.work / f"{action}.json").write_text(json.dumps(params))
        np.savez(self.work / f"{action}.npz", **arrays)
        threads = str(self.threads)
        env = {**os.environ, "OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads}
        try:
            done = subprocess.run(
                [str(python), str(RUNNER), str(self.work), action],
                capture_output=True,
                text=True,
                timeout=timeout,
                env=env,
            )
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"{self.env}: {action} ran over {timeout:.0f} s") from None
        if done.returncode != 0:
            tail = " | ".join(done.stderr.strip().splitlines()[-5:])
            raise RuntimeError(
                f"{self.env} environment: {action} failed (exit {done.returncode}): {tail}"
            )
        info = json.loads((self.work / f"{action}.out.json").read_text())
        with np.load(self.work / f"{action}.out.npz") as data:
            return info, {k: data[k] for k in data.files}


def _group_codes(known: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Groups as 0..k-1 (sorted names seen in fit); an unseen group gets the largest's code."""
    names, counts = np.unique(np.asarray(known).astype(str), return_counts=True)
    lookup = {name: i for i, name in enumerate(names)}
    fallback = int(np.argmax(counts))
    return lambda s: np.array([lookup.get(v, fallback) for v in np.asarray(s).astype(str)])


def _fit_timeout(task: CellData) -> float:
    return 3 * max(task.remaining(), 0.0) + 120.0


# --- error-parity ----------------------------------------------------------------------------

_ERROR_PARITY = {
    "demographic_parity_difference": "demographic_parity",
    "equalized_odds_difference": "equalized_odds",
    "equal_opportunity_difference": "true_positive_rate_parity",
    "true_positive_rate_difference": "true_positive_rate_parity",
    "false_negative_rate_difference": "false_negative_rate_parity",
    "false_positive_rate_difference": "false_positive_rate_parity",
}


def _error_parity_constraint(task: CellData) -> tuple[Constraint, str]:
    task.needs_group("error_parity")
    if len(task.constraints) != 1 or task.constraints[0].metric not in _ERROR_PARITY:
        raise NotApplicableError(
            f"error-parity fits one constraint among {', '.join(_ERROR_PARITY)}; "
            f"got {', '.join(map(str, task.constraints))}."
        )
    c = task.constraints[0]
    return c, _ERROR_PARITY[c.metric]


def prepare_error_parity(task: CellData) -> None:
    _error_parity_constraint(task)
    warm("error_parity", ("numpy", "cloudpickle", "error_parity"))


def fit_error_parity(task: CellData) -> Fitted:
    c, name = _error_parity_constraint(task)
    automl, shared = holdout_flaml(task)
    scorer, codes = Prefit(automl), _group_codes(task.s_val)

    def scores(X: pd.DataFrame) -> np.ndarray:
        return scorer.predict_proba(task.features(X))[:, 1]

    model = _EnvModel("error_parity", task.threads)
    params = {"constraint": name, "tolerance": c.bound, "seed": task.seed}
    arrays = {"scores": scores(task.X_val), "y": task.y_val, "group": codes(task.s_val)}
    info, out = model.call("error_parity_fit", params, arrays, _fit_timeout(task))
    val_violation = task.signed_violation(task.y_val, out["pred"], task.s_val)

    def predict(X_: pd.DataFrame, s_: np.ndarray) -> np.ndarray:
        arrays = {"scores": scores(X_), "group": codes(s_)}
        return model.call("error_parity_predict", {}, arrays, PREDICT_TIMEOUT)[1]["pred"]

    return Fitted(
        predict=lambda X_, s_: np.asarray(predict(X_, s_)).astype(int),
        trials=flaml_trials(automl) + 1,
        selection_feasible=bool(val_violation <= 0),
        info={
            "model": f"{automl.best_estimator} + RelaxedThresholdOptimizer({name})",
            "validation_violation": float(val_violation),
            **info,
            **shared,
        },
        notes=[
            "error-parity's optimizer fitted and checked on the same validation rows; "
            "randomized predictions (seeded)",
            SHARED_NOTE,
        ],
    )


# --- FairGBM -------------------------------------------------------------------------------

_FAIRGBM_RATES = {
    "equalized_odds_difference": ("FPR", "FNR"),
    "false_positive_rate_difference": ("FPR",),
    "equal_opportunity_difference": ("FNR",),
    "true_positive_rate_difference": ("FNR",),  # a TPR gap is the FNR gap
    "false_negative_rate_difference": ("FNR",),
}
# FairGBM's defaults first (LightGBM's 100 trees, 31 leaves, learning rate 0.1; multiplier
# learning rate 0.1), then tighter tolerances (the constraint holds on train, not beyond),
# stronger multiplier steps and more trees. tolerance_scale multiplies the tolerances.
FAIRGBM_CONFIGS: tuple[dict[str, Any], ...] = (
    {},
    {"tolerance_scale": 0.5},
    {"multiplier_learning_rate": 1.0},
    {"tolerance_scale": 0.25, "multiplier_learning_rate": 1.0},
    {"num_leaves": 15, "min_child_samples": 50, "tolerance_scale": 0.5},
    {"n_estimators": 300, "learning_rate": 0.05},
    {"n_estimators": 300, "learning_rate": 0.05, "multiplier_learning_rate": 1.0},
    {"n_estimators": 300, "learning_rate": 0.05, "tolerance_scale": 0.5},
    {"n_estimators": 300, "learning_rate": 0.05, "tolerance_scale": 0.25,
     "multiplier_learning_rate": 1.0},
    {"n_estimators": 200, "num_leaves": 63, "learning_rate": 0.05, "multiplier_learning_rate": 0.5},
    {"num_leaves": 15, "min_child_samples": 50, "tolerance_scale": 0.25,
     "multiplier_learning_rate": 1.0},
    {"tolerance_scale": 0.25},
)  # fmt: skip


def _fairgbm_tolerances(task: CellData) -> dict[str, float]:
    """``{"FPR": bound, "FNR": bound}`` for the rates the constraints equalize."""
    tolerances: dict[str, float] = {}
    for c in task.constraints:
        if c.metric not in _FAIRGBM_RATES:
            raise NotApplicableError(
                f"FairGBM has no mode for {c.metric}: its constraint_type equalizes FPR, "
                f"FNR or both (equalized odds); supported: {', '.join(_FAIRGBM_RATES)}."
            )
        for rate in _FAIRGBM_RATES[c.metric]:
            tolerances[rate] = min(tolerances.get(rate, c.bound), c.bound)
    return tolerances


def prepare_fairgbm(task: CellData) -> None:
    _fairgbm_tolerances(task)
    warm("fairgbm", ("numpy", "fairgbm"))


def _matrix(task: CellData, X: pd.DataFrame) -> np.ndarray:
    """Numbers as float64, categoricals as their integer codes (missing: NaN)."""
    frame = task.features(X)
    columns = []
    for name in frame.columns:
        col = frame[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            codes = col.cat.codes.to_numpy().astype(np.float64)
            columns.append(np.where(codes < 0, np.nan, codes))
        else:
            columns.append(col.to_numpy(dtype=np.float64, na_value=np.nan))
    return np.column_stack(columns)


def fit_fairgbm(task: CellData) -> Fitted:
    tolerances = _fairgbm_tolerances(task)
    kind = ",".join(r for r in ("FPR", "FNR") if r in tolerances)
    configs = []
    for config in FAIRGBM_CONFIGS:
        config = dict(config)
        scale = config.pop("tolerance_scale", 1.0)
        for rate, bound in tolerances.items():
            config[f"constraint_{rate.lower()}_tolerance"] = bound * scale
        configs.append(config)
    frame = task.features(task.X_train)
    categorical = [i for i, c in enumerate(frame.columns) if c in task.schema.categories]
    codes = _group_codes(np.concatenate([task.s_train, task.s_val]))
    model = _EnvModel("fairgbm", task.threads)
    started = task.elapsed()
    params = {
        "fixed": {"constraint_type": kind},
        "configs": configs,
        "categorical": categorical,
        "deadline": max(task.remaining() - 0.5, 0.0),
        "seed": task.seed,
        "threads": task.threads,
    }
    arrays = {
        "X_train": _matrix(task, task.X_train),
        "y_train": task.y_train,
        "group_train": codes(task.s_train),
        "X_val": _matrix(task, task.X_val),
    }
    info, out = model.call("fairgbm_fit", params, arrays, _fit_timeout(task))
    results, log = [], []
    for number, done_at, pred in zip(info["fitted"], info["done_at"], out["val_pred"], strict=True):
        signed = task.signed_violation(task.y_val, pred, task.s_val)
        results.append((number, float(np.mean(pred == task.y_val)), signed))
        log.append((started + done_at, bool(signed <= 0)))  # from the subprocess's start
    feasible = [r for r in results if r[2] <= 0]
    best = max(feasible, key=lambda r: r[1]) if feasible else min(results, key=lambda r: r[2])

    def predict(X_: pd.DataFrame, s_: np.ndarray) -> np.ndarray:
        arrays = {"X": _matrix(task, X_)}
        out = model.call("fairgbm_predict", {"model": best[0]}, arrays, PREDICT_TIMEOUT)[1]
        return np.asarray(out["pred"]).astype(int)

    return Fitted(
        predict=predict,
        trials=len(results),
        trial_log=log,
        selection_feasible=bool(feasible),
        info={
            "model": f"FairGBM({kind})",
            "config": configs[best[0]],
            "validation_accuracy": best[1],
            "validation_violation": float(best[2]),
            "version": info["version"],
        },
        notes=[
            f"FairGBM: up to {len(FAIRGBM_CONFIGS)} configs fitted on train while the budget "
            "allows; the most accurate meeting the constraints on validation is shipped"
        ],
    )


# --- EquiPy ----------------------------------------------------------------------------------

EQUIPY_SIGMA = 0.0001  # EquiPy's default jitter, which breaks ties between equal scores


def prepare_equipy(task: CellData) -> None:
    task.needs_group("equipy")
    warm("equipy", ("numpy", "equipy"))


def fit_equipy(task: CellData) -> Fitted:
    task.needs_group("equipy")
    automl, shared = holdout_flaml(task)
    codes = _group_codes(task.s_val)

    def scores(X: pd.DataFrame) -> np.ndarray:
        return np.asarray(automl.predict(task.features(X)), dtype=np.float64)

    model = _EnvModel("equipy", task.threads)
    val = scores(task.X_val)
    params = {"sigma": EQUIPY_SIGMA, "seed": task.seed}
    info, out = model.call(
        "equipy_fit", params, {"scores": val, "group": codes(task.s_val)}, _fit_timeout(task)
    )
    fair_val = out["fair"]
    fraction, feasible = best_fair_fraction(
        task, lambda f: f * fair_val + (1 - f) * val, task.y_val, task.s_val
    )

    def predict(X_: pd.DataFrame, s_: np.ndarray) -> np.ndarray:
        raw = scores(X_)
        arrays = {"scores": raw, "group": codes(s_)}
        fair = model.call("equipy_predict", {}, arrays, PREDICT_TIMEOUT)[1]["fair"]
        return fraction * fair + (1 - fraction) * raw

    return Fitted(
        predict=predict,
        trials=flaml_trials(automl) + 1,
        selection_feasible=feasible,
        info={"model": f"{automl.best_estimator} + EquiPy FairWasserstein",
              "fraction": fraction, **info, **shared},
        notes=["EquiPy fitted and its fraction checked on the same validation rows",
               REGRESSION_SHARED_NOTE],
    )  # fmt: skip


# --- AutoGluon, alone and with OxonFair --------------------------------------------------------

AUTOGLUON_PRESETS = ("medium_quality", "good_quality", "high_quality", "best_quality")
AUTOGLUON_DEFAULT_PRESETS = "medium_quality"
AUTOGLUON_OPTIONS = ("presets",)
# seconds kept after AutoGluon's fit for a new process to import AutoGluon and OxonFair and
# load the predictor (about 3 s on an idle machine), on top of POST_RESERVE of the budget
AUTOGLUON_LOAD = 5.0
AUTOGLUON_MIN_TIME_LIMIT = 5.0  # AutoGluon's time limit when the budget leaves less
AUTOGLUON_MODULES = ("autogluon.tabular", "oxonfair")
AUTOGLUON_NOTE = (
    "AutoGluon fitted on the training rows (its own holdout or bagging inside them), shared "
    "per split and preset between autogluon and autogluon_oxonfair (fitted once; its fit "
    "seconds charged to each method's clock)"
)


def autogluon_presets(task: CellData) -> str:
    """The method's ``presets`` option (AutoGluon's ``medium_quality`` when not given)."""
    unknown = sorted(set(task.options) - set(AUTOGLUON_OPTIONS))
    if unknown:
        raise ConfigurationError(
            f"autogluon: unknown option(s) {unknown}; options: {', '.join(AUTOGLUON_OPTIONS)}."
        )
    presets = task.options.get("presets", AUTOGLUON_DEFAULT_PRESETS)
    if presets not in AUTOGLUON_PRESETS:
        raise ConfigurationError(
            f"autogluon: presets must be one of {', '.join(AUTOGLUON_PRESETS)} (the ones that "
            f"need no PyTorch nor GPU); got {presets!r}."
        )
    return str(presets)


def autogluon_columns(task: CellData) -> list[list[Any]]:
    """``[name, categories or None]`` per column of :func:`_matrix`, as JSON carries them."""
    categories = task.schema.categories
    return [
        [str(name), [str(c) for c in categories[name]] if name in categories else None]
        for name in task.schema.columns
    ]


def oxonfair_constraints(task: CellData) -> list[list[Any]]:
    """``[OxonFair metric name, bound, direction]`` per constraint (``fit_oxonfair``'s rule)."""
    try:
        return [[oxonfair_metric_name(c), c.bound, oxonfair_direction(c)] for c in task.constraints]
    except ConfigurationError as exc:
        raise NotApplicableError(str(exc)) from None


def prepare_autogluon(task: CellData) -> None:
    autogluon_presets(task)
    warm("autogluon", AUTOGLUON_MODULES)


def prepare_autogluon_oxonfair(task: CellData) -> None:
    task.needs_group("autogluon_oxonfair")
    oxonfair_constraints(task)
    prepare_autogluon(task)


def _autogluon_fit(task: CellData, model: _EnvModel) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    """AutoGluon on the training rows, shared per split and preset when the sweep allows.

    Returns where the predictor is, what its fit recorded and how it was obtained
    (``autogluon_fit``: ``own``, ``fitted`` or ``reused``; ``autogluon_fit_seconds``).
    """
    presets = autogluon_presets(task)
    params = {
        "presets": presets,
        "deadline": task.budget * (1 - POST_RESERVE) - AUTOGLUON_LOAD - task.elapsed(),
        "min_time_limit": AUTOGLUON_MIN_TIME_LIMIT,
        "seed": task.seed,
        "threads": task.threads,
        "columns": autogluon_columns(task),
    }
    arrays = {"X": _matrix(task, task.X_train), "y": task.y_train}

    def fit(path: Path) -> tuple[dict[str, Any], float]:
        start = task.elapsed()
        info, _ = model.call("autogluon_fit", {**params, "path": str(path)}, arrays,
                             _fit_timeout(task))  # fmt: skip
        return info, task.elapsed() - start

    if task.shared_dir is None:
        path = model.work / "predictor"
        info, seconds = fit(path)
        return path, info, {"autogluon_fit": "own", "autogluon_fit_seconds": seconds}
    folder = task.shared_dir / "autogluon"
    folder.mkdir(parents=True, exist_ok=True)
    ignore = task.shared_dir / ".gitignore"  # caches, never results to commit
    if not ignore.exists():
        ignore.write_text("*\n")
    key = f"{_split_key(task, task.budget)}-{presets}"
    path, done = folder / key, folder / f"{key}.json"
    with file_lock(folder / f"{key}.lock") as waited:
        task.charge(-waited)  # another cell was fitting it: not this method's time
        if done.exists():
            record = json.loads(done.read_text())
            seconds = record["seconds"]
            task.charge(seconds)
            return (
                path,
                record["info"],
                {"autogluon_fit": "reused", "autogluon_fit_seconds": seconds},
            )
        shutil.rmtree(path, ignore_errors=True)  # a half-written one from a killed run
        info, seconds = fit(path)
        partial = done.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps({"seconds": seconds, "info": info}))
        partial.replace(done)  # written whole or not at all
    return path, info, {"autogluon_fit": "fitted", "autogluon_fit_seconds": seconds}


def fit_autogluon(task: CellData) -> Fitted:
    """AutoGluon's TabularPredictor alone (binary, accuracy), the fit autogluon_oxonfair uses."""
    model = _EnvModel("autogluon", task.threads)
    path, info, shared = _autogluon_fit(task, model)
    params = {"path": str(path), "columns": autogluon_columns(task)}

    def predict(X_: pd.DataFrame, s_: np.ndarray | None) -> np.ndarray:
        out = model.call("autogluon_predict", params, {"X": _matrix(task, X_)}, PREDICT_TIMEOUT)
        return np.asarray(out[1]["pred"]).astype(int)

    return Fitted(
        predict=predict,
        trials=info["models_trained"],
        info={"model": f"AutoGluon {info['best_model']}", **info, **shared},
        notes=["AutoGluon does not measure fairness: no time to first feasible",
               AUTOGLUON_NOTE],
    )  # fmt: skip


def fit_autogluon_oxonfair(task: CellData) -> Fitted:
    """OxonFair's FairPredictor on AutoGluon's predictor, as OxonFair's own examples use it:
    thresholds per group fitted on the validation rows, accuracy maximized subject to the
    constraints at their bounds; decides with the group."""
    task.needs_group("autogluon_oxonfair")
    constraints = oxonfair_constraints(task)
    model = _EnvModel("autogluon", task.threads)
    path, info, shared = _autogluon_fit(task, model)
    codes = _group_codes(task.s_val)
    params = {"path": str(path), "columns": autogluon_columns(task)}
    arrays = {"X": _matrix(task, task.X_val), "y": task.y_val, "group": codes(task.s_val)}
    fair_info, out = model.call(
        "oxonfair_fit", {**params, "constraints": constraints}, arrays, _fit_timeout(task)
    )
    val_violation = task.signed_violation(task.y_val, out["pred"], task.s_val)

    def predict(X_: pd.DataFrame, s_: np.ndarray) -> np.ndarray:
        arrays = {"X": _matrix(task, X_), "group": codes(s_)}
        out = model.call("oxonfair_predict", params, arrays, PREDICT_TIMEOUT)
        return np.asarray(out[1]["pred"]).astype(int)

    return Fitted(
        predict=predict,
        trials=info["models_trained"] + 1,
        selection_feasible=bool(val_violation <= 0),
        info={
            "model": f"AutoGluon {info['best_model']} + OxonFair",
            "validation_violation": float(val_violation),
            **info,
            **fair_info,
            **shared,
        },
        notes=["thresholds fitted and checked on the same validation rows", AUTOGLUON_NOTE],
    )
