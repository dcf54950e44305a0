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


ACTIONS = {
    f.__name__: f
    for f in (
        error_parity_fit,
        error_parity_predict,
        fairgbm_fit,
        fairgbm_predict,
        equipy_fit,
        equipy_predict,
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
