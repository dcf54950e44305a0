"""FLAML as the anchors use it, and one FLAML fit per split shared between anchors.

``flaml_threshold``, ``oxonfair`` and ``error_parity`` post-process the same model (for
amounts, ``barycenter``, ``barycenter_oracle`` and ``equipy`` its regressor): FLAML
searched on the train rows with the validation rows as its holdout, for the budget minus
:data:`POST_RESERVE`. That fit does not depend on the constraints, so a sweep fits it
once per split (same rows, seed, budget and threads) and stores it with its fit seconds
in ``OUT/shared/flaml/``; every method that reuses it is charged those seconds on its own
clock, so each still spends the budget it would have spent fitting. A file lock makes a
second cell wait for the first cell's fit (the wait is not charged) instead of fitting
twice.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import pickle
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from fairautoml.bench.methods import CellData

logger = logging.getLogger("fairautoml.bench")

# Budget share left for post-processing after a FLAML search: what it takes, no more (the
# anchor gets the whole budget, its own overhead counted against it, as fairautoml's is).
# The share is what that post-processing took in results/scale (docs/decisions.md).
POST_RESERVE = 0.03
# FLAML's task and metric for each of our target tasks (``CellData.kind``)
FLAML_TASKS = {
    "binary": ("classification", "accuracy"),
    "multiclass": ("classification", "accuracy"),
    "regression": ("regression", "r2"),
}
SHARED_NOTE = (
    "FLAML model shared per split with flaml_threshold, oxonfair and error_parity "
    "(fitted once; its fit seconds charged to each method's clock)"
)
UNCONSTRAINED_SHARED_NOTE = (
    "FLAML model on train + validation shared per split between the constraints' cells "
    "(fitted once; its fit seconds charged to each cell's clock)"
)
REGRESSION_SHARED_NOTE = (
    "FLAML regressor shared per split with barycenter, barycenter_oracle and equipy "
    "(fitted once; its fit seconds charged to each method's clock)"
)


@contextmanager
def file_lock(path: Path) -> Iterator[float]:
    """Hold an exclusive lock on ``path`` (created if needed); yields the seconds waited."""
    started = time.monotonic()
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield time.monotonic() - started
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def flaml_search(
    task: CellData, X: pd.DataFrame, y: np.ndarray, budget: float, **fit_kwargs: Any
) -> Any:
    from flaml import AutoML

    logging.getLogger("flaml").setLevel(logging.WARNING)
    automl = AutoML()
    flaml_task, metric = FLAML_TASKS[task.kind.name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        automl.fit(
            X,
            y,
            task=flaml_task,
            metric=metric,
            time_budget=max(budget, 1.0),
            seed=task.seed,
            n_jobs=task.threads,
            verbose=0,
            **fit_kwargs,
        )
    return automl


def flaml_scores(automl: Any, task: CellData, X: pd.DataFrame) -> np.ndarray:
    """FLAML's scores of raw rows ``X`` as the task reads scores: P(favourable) for yes/no
    decisions, class probabilities (n, k) for several classes, amounts for regression."""
    return task.kind.scores_of(automl, task.features(X))


def flaml_trials(automl: Any) -> int:
    per_learner = getattr(automl, "_iter_per_learner", None)
    return int(sum(per_learner.values())) if per_learner else len(automl.config_history)


class Prefit(ClassifierMixin, BaseEstimator):
    """A fitted FLAML model as a scikit-learn classifier with float64 probabilities."""

    def __init__(self, model: Any = None) -> None:
        self.model = model

    def __sklearn_is_fitted__(self) -> bool:
        return True

    @property
    def classes_(self) -> np.ndarray:
        return np.array([0, 1])

    def fit(self, X: Any, y: Any) -> Prefit:  # never refitted: prefit=True
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        return np.asarray(self.model.predict_proba(X), dtype=np.float64)

    def predict(self, X: Any) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


def _split_key(task: CellData, budget: float) -> str:
    """Identifies the FLAML fit: the rows' contents, seed, budget and threads."""
    digest = hashlib.sha1()
    for frame in (task.X_train, task.X_val):
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
        digest.update(",".join(map(str, frame.columns)).encode())
    for arr in (task.y_train, task.y_val):
        digest.update(np.ascontiguousarray(arr).tobytes())
    digest.update(f"{task.kind.name}|{task.seed}|{budget:.6g}|{task.threads}".encode())
    return digest.hexdigest()[:16]


def _fit(task: CellData, budget: float) -> Any:
    X_tr, X_val = task.features(task.X_train), task.features(task.X_val)
    return flaml_search(task, X_tr, task.y_train, budget, X_val=X_val, y_val=task.y_val)


def _fit_trainval(task: CellData, budget: float) -> Any:
    X, y, _ = task.trainval
    # FLAML's own holdout and refit; "budget" keeps its final refit inside the budget
    return flaml_search(task, task.features(X), y, budget, retrain_full="budget")


def holdout_flaml(task: CellData) -> tuple[Any, dict[str, Any]]:
    """FLAML on train with validation as holdout, shared per split when the sweep allows.

    Returns the fitted AutoML and how it was obtained (``flaml_fit``: ``own``, ``fitted``
    or ``reused``; ``flaml_fit_seconds``).
    """
    budget = task.budget * (1 - POST_RESERVE)
    automl, info = _shared(task, "holdout", budget, lambda: _fit(task, budget))
    return automl, {**info, "flaml_search_budget": budget}


def trainval_flaml(task: CellData) -> tuple[Any, dict[str, Any]]:
    """FLAML on train + validation with its own holdout and final refit (the unconstrained
    anchor's model), shared per split when the sweep allows: it does not depend on the
    constraints, so a sweep's constraint cells of one split fit it once."""
    return _shared(task, "trainval", task.budget, lambda: _fit_trainval(task, task.budget))


def _shared(
    task: CellData, variant: str, budget: float, fit: Callable[[], Any]
) -> tuple[Any, dict[str, Any]]:
    """``fit()``, or the model an earlier cell of the sweep stored for this split and
    ``variant``, charged the seconds that fit took."""
    if task.shared_dir is None:
        start = task.elapsed()
        automl = fit()
        return automl, {"flaml_fit": "own", "flaml_fit_seconds": task.elapsed() - start}
    folder = task.shared_dir / "flaml"
    folder.mkdir(parents=True, exist_ok=True)
    ignore = task.shared_dir / ".gitignore"  # caches, never results to commit
    if not ignore.exists():
        ignore.write_text("*\n")
    path = folder / f"{variant}-{_split_key(task, budget)}.pkl"
    with file_lock(path.with_suffix(".lock")) as waited:
        task.charge(-waited)  # another cell was fitting it: not this method's time
        if path.exists():
            try:
                with path.open("rb") as f:
                    seconds, automl = pickle.load(f)
            except Exception as exc:  # a torn file from a killed run: fit again
                logger.warning("shared FLAML fit %s unreadable (%s); refitting", path, exc)
            else:
                task.charge(seconds)
                return automl, {"flaml_fit": "reused", "flaml_fit_seconds": seconds}
        start = task.elapsed()
        automl = fit()
        seconds = task.elapsed() - start
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        with partial.open("wb") as f:
            pickle.dump((seconds, automl), f, protocol=pickle.HIGHEST_PROTOCOL)
        partial.replace(path)
        task.charge(seconds + start - task.elapsed())  # storing it is the bench's time
    return automl, {"flaml_fit": "fitted", "flaml_fit_seconds": seconds}
