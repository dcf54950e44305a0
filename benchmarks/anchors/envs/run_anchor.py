"""Runs inside an anchor's own environment: ``python run_anchor.py WORKDIR ACTION``.

Reads ``WORKDIR/ACTION.json`` (parameters) and ``WORKDIR/ACTION.npz`` (arrays), writes
``WORKDIR/ACTION.out.json`` and ``WORKDIR/ACTION.out.npz``; fitted objects are pickled in
``WORKDIR``. Only the standard library, numpy and the environment's own packages are
used: fairautoml is not installed there. A failure exits non-zero with the traceback on
stderr, which the calling cell records.
"""

from __future__ import annotations

import json
import pickle
import sys
import time
from pathlib import Path

import numpy as np

STARTED = time.monotonic()


def error_parity_fit(work: Path, p: dict, a: dict) -> tuple[dict, dict]:
    """RelaxedThresholdOptimizer on validation scores (the score is the only feature)."""
    import cloudpickle  # its randomized classifiers hold lambdas, which pickle cannot save
    import error_parity
    from error_parity import RelaxedThresholdOptimizer

    scores = a["scores"].astype(float)
    rule = RelaxedThresholdOptimizer(
        predictor=np.ravel,  # identity on the one-column score matrix (picklable)
        constraint=p["constraint"],
        tolerance=p["tolerance"],
        seed=p["seed"],
    )
    rule.fit(scores[:, None], a["y"].astype(int), group=a["group"], y_scores=scores)
    with (work / "error_parity.pkl").open("wb") as f:
        cloudpickle.dump(rule, f)
    pred = rule.predict(scores[:, None], group=a["group"])
    info = {
        "version": error_parity.__version__,
        "lp_violation": float(rule.constraint_violation()),
        "lp_accuracy": 1.0 - float(rule.cost(1.0, 1.0)),
    }
    return info, {"pred": np.asarray(pred).astype(np.int8)}


def error_parity_predict(work: Path, p: dict, a: dict) -> tuple[dict, dict]:
    import cloudpickle  # noqa: F401  (loads what cloudpickle saved)

    with (work / "error_parity.pkl").open("rb") as f:
        rule = pickle.load(f)
    scores = a["scores"].astype(float)
    pred = rule.predict(scores[:, None], group=a["group"])
    return {}, {"pred": np.asarray(pred).astype(np.int8)}


def fairgbm_fit(work: Path, p: dict, a: dict) -> tuple[dict, dict]:
    """One FairGBMClassifier per config, in order, while the deadline allows the next."""
    import warnings

    import fairgbm
    from fairgbm import FairGBMClassifier

    warnings.filterwarnings("ignore", message="Using categorical_feature in Dataset")
    preds, fitted, seconds, done_at = [], [], [], []
    for i, config in enumerate(p["configs"]):
        slowest = max(seconds, default=0.0)
        if i and time.monotonic() - STARTED + 1.2 * slowest > p["deadline"]:
            break
        started = time.monotonic()
        model = FairGBMClassifier(
            **p["fixed"], **config, random_state=p["seed"], n_jobs=p["threads"], verbose=-1
        )
        model.fit(
            a["X_train"],
            a["y_train"],
            constraint_group=a["group_train"],
            categorical_feature=list(p["categorical"]) or "auto",
        )
        with (work / f"fairgbm_{i}.pkl").open("wb") as f:
            pickle.dump(model, f)
        preds.append(np.asarray(model.predict(a["X_val"])).astype(np.int8))
        fitted.append(i)
        seconds.append(time.monotonic() - started)
        done_at.append(time.monotonic() - STARTED)
    info = {"version": fairgbm.__version__, "fitted": fitted, "seconds": seconds}
    info["done_at"] = done_at  # seconds since this process started
    return info, {"val_pred": np.stack(preds)}


def fairgbm_predict(work: Path, p: dict, a: dict) -> tuple[dict, dict]:
    with (work / f"fairgbm_{p['model']}.pkl").open("rb") as f:
        model = pickle.load(f)
    return {}, {"pred": np.asarray(model.predict(a["X"])).astype(np.int8)}


def equipy_fit(work: Path, p: dict, a: dict) -> tuple[dict, dict]:
    """EquiPy's FairWasserstein fitted on the validation scores and groups; returns those
    rows' fully fair scores (epsilon 0: the barycenter), the caller mixes in the fraction."""
    import equipy
    from equipy.fairness import FairWasserstein

    fair = FairWasserstein(sigma=p["sigma"], seed=p["seed"])
    fair.fit(a["scores"].astype(float), a["group"])
    with (work / "equipy.pkl").open("wb") as f:
        pickle.dump(fair, f)
    out = fair.transform(a["scores"].astype(float), a["group"], epsilon=0.0)
    return {"version": equipy.__version__}, {"fair": np.asarray(out, dtype=float)}


def equipy_predict(work: Path, p: dict, a: dict) -> tuple[dict, dict]:
    with (work / "equipy.pkl").open("rb") as f:
        fair = pickle.load(f)
    out = fair.transform(a["scores"].astype(float), a["group"], epsilon=0.0)
    return {}, {"fair": np.asarray(out, dtype=float)}


# --- AutoGluon and OxonFair -------------------------------------------------------------------
# Tables cross as one float matrix (numbers; categoricals as their codes, NaN when missing)
# and ``columns`` in the parameters ([name, categories or None] per column): AutoGluon's
# pandas cannot read the caller's pickled frames.
AUTOGLUON_LABEL = "__fairautoml_target__"
AUTOGLUON_LEFT_OUT = ["NN_TORCH", "FASTAI"]  # PyTorch models: torch is not installed


def _frame(columns: list, matrix: np.ndarray):
    import pandas as pd

    data = {}
    for i, (name, categories) in enumerate(columns):
        values = matrix[:, i]
        if categories is None:
            data[name] = values.astype(float)
        else:
            codes = np.where(np.isnan(values), -1, values).astype(int)
            data[name] = pd.Categorical.from_codes(codes, categories=categories)
    return pd.DataFrame(data)


def _load_predictor(path: str):
    from autogluon.tabular import TabularPredictor

    return TabularPredictor.load(path, verbosity=0)


def autogluon_fit(work: Path, p: dict, a: dict) -> tuple[dict, dict]:
    """TabularPredictor on the training rows, saved at ``path``; its time limit is what is
    left of ``deadline`` (seconds since this process started) once the imports are done."""
    import logging

    import autogluon.tabular
    from autogluon.tabular import TabularPredictor

    logging.getLogger("autogluon").setLevel(logging.ERROR)
    train = _frame(p["columns"], a["X"])
    train[AUTOGLUON_LABEL] = a["y"].astype(int)
    time_limit = max(p["deadline"] - (time.monotonic() - STARTED), p["min_time_limit"])
    started = time.monotonic()
    predictor = TabularPredictor(
        label=AUTOGLUON_LABEL,
        problem_type="binary",
        eval_metric="accuracy",
        path=p["path"],
        verbosity=0,
        learner_kwargs={"random_state": p["seed"]},
    )
    predictor.fit(
        train,
        time_limit=time_limit,
        presets=p["presets"],
        num_cpus=p["threads"],
        num_gpus=0,
        excluded_model_types=AUTOGLUON_LEFT_OUT,
    )
    seconds = time.monotonic() - started
    board = predictor.leaderboard(silent=True)  # (predictor.info() takes seconds when bagged)
    best = predictor.model_best
    info = {
        "autogluon_version": autogluon.tabular.__version__,
        "presets": p["presets"],
        "time_limit": time_limit,
        "autogluon_seconds": seconds,  # AutoGluon's fit, as it stopped (often early)
        "models_trained": len(board),
        "best_model": best,
        "best_model_validation_accuracy": float(board.set_index("model").loc[best, "score_val"]),
    }
    # the cache keeps what predicts: the best model and the models it stacks
    predictor.delete_models(models_to_keep="best", dry_run=False)
    return info, {}


def autogluon_predict(work: Path, p: dict, a: dict) -> tuple[dict, dict]:
    predictor = _load_predictor(p["path"])
    data = _frame(p["columns"], a["X"])
    proba = np.asarray(predictor.predict_proba(data))[:, 1]
    pred = np.asarray(predictor.predict(data)).astype(np.int8)
    return {}, {"pred": pred, "proba": proba}


def oxonfair_fit(work: Path, p: dict, a: dict) -> tuple[dict, dict]:
    """OxonFair's FairPredictor on the AutoGluon predictor at ``path``, its thresholds fitted
    on the validation rows: accuracy maximized subject to the constraints, each given as its
    group metric's name in ``oxonfair.utils.group_metrics``, its bound and its direction."""
    import warnings
    from importlib.metadata import version

    import cloudpickle
    from oxonfair import DataDict, FairPredictor
    from oxonfair.utils import group_metrics as gm

    def metric(name: str):
        found = gm
        for part in name.split("."):
            found = getattr(found, part)
        return found

    predictor = _load_predictor(p["path"])
    data = _frame(p["columns"], a["X"])
    fair = FairPredictor(predictor, DataDict(a["y"].astype(int), data, a["group"]))
    (name, bound, _), rest = p["constraints"][0], p["constraints"][1:]
    extra = tuple((metric(n), b, direction) for n, b, direction in rest)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fair.fit(gm.accuracy, metric(name), bound, additional_constraints=extra)
    pred = np.asarray(fair.predict({"data": data, "groups": a["group"]})).astype(np.int8)
    fair.predictor, fair.validation_data = None, None  # reloaded from path to predict
    with (work / "oxonfair.pkl").open("wb") as f:
        cloudpickle.dump(fair, f)  # its fitted objectives hold lambdas
    return {"oxonfair_version": version("oxonfair")}, {"pred": pred}


def oxonfair_predict(work: Path, p: dict, a: dict) -> tuple[dict, dict]:
    import cloudpickle  # noqa: F401  (loads what cloudpickle saved)

    with (work / "oxonfair.pkl").open("rb") as f:
        fair = pickle.load(f)
    fair.predictor = _load_predictor(p["path"])
    data = _frame(p["columns"], a["X"])
    pred = fair.predict({"data": data, "groups": a["group"]})
    return {}, {"pred": np.asarray(pred).astype(np.int8)}


ACTIONS = {
    f.__name__: f
    for f in (
        error_parity_fit,
        error_parity_predict,
        fairgbm_fit,
        fairgbm_predict,
        equipy_fit,
        equipy_predict,
        autogluon_fit,
        autogluon_predict,
        oxonfair_fit,
        oxonfair_predict,
    )
}


def main(work_dir: str, action: str) -> None:
    work = Path(work_dir)
    params = json.loads((work / f"{action}.json").read_text())
    with np.load(work / f"{action}.npz", allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    info, out = ACTIONS[action](work, params, arrays)
    np.savez(work / f"{action}.out.npz", **out)
    (work / f"{action}.out.json").write_text(json.dumps(info))


if __name__ == "__main__":
    main(*sys.argv[1:3])
