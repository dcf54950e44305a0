"""Every kind of model the search can return, fitted small, for the model-file tests.

The model file's allow-list (:mod:`fairautoml.model.allowlist`) names exactly the types
these models are made of: a test fits them all, writes each to a ``.skops`` file, and
checks that every type in every file is allow-listed and that each file opens without
``trusted``. ``python -m fairautoml.testing.model_zoo`` prints the types found, to update
the allow-list after a new learner, mitigator or dependency version.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairautoml.learners import available_learners, get_learner
from fairautoml.mitigators import available_mitigators, get_mitigator
from fairautoml.search.ensemble import ensemble_candidate
from fairautoml.search.evaluate import evaluate_candidate
from fairautoml.study.trial import Candidate
from fairautoml.testing.conformance import make_unfair, make_unfair_amounts

# the constraints each task's mitigators are fitted under (each mitigator under the first
# it supports): together they reach every mitigator of the task
CONSTRAINTS = {
    "binary": [
        "demographic_parity_difference <= 0.05",
        "equalized_odds_difference <= 0.05",
        "true_positive_rate_difference <= 0.05",
    ],
    "multiclass": [
        "demographic_parity_difference <= 0.1",
        "equal_opportunity_difference <= 0.1",
    ],
    "regression": [
        "demographic_parity_ks <= 0.1",
        "mean_squared_error_group_max <= 1.0",
        "mean_absolute_error_ratio >= 0.9",
    ],
}

# the constraint a mitigator for a numeric attribute only (trend_removal) is fitted under,
# on the task's table with a numeric attribute "age" as the sensitive feature
NUMERIC = {"binary": "generalized_disparate_impact[age] <= 0.05"}

# a post-processor of each task that reads the true group (its pick is not refitted)
GROUP_RULE = {
    "binary": "group_thresholds",
    "multiclass": "multiclass_lp",
    "regression": "barycenter_transport",
}


@lru_cache(maxsize=6)
def zoo_data(
    task: str, n: int = 1500, numeric: bool = False
) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """A table with missing values and a category column, for ``task``: large enough that
    the boosting learners hold back rows for early stopping (their fitted state differs).
    ``numeric``: the sensitive feature is a numeric "age" that rises with the group."""
    X, y, s = ZOO_TABLES[task](n)
    if numeric:
        rng = np.random.default_rng(1)
        age = 25 + 20 * (s.to_numpy() == s.iloc[0]) + rng.integers(0, 30, size=len(s))
        s = pd.Series(age, name="age")
    return X, y, s


def table_of(label: str) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """The table a zoo model of ``label`` (:func:`candidates`) was fitted on."""
    return zoo_data(label.split("/")[0], numeric=label.endswith(" [age]"))


def _data(task: str, constraint: str) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """:func:`zoo_data` for a constraint: with the numeric attribute for :data:`NUMERIC`'s."""
    return zoo_data(task, numeric=constraint == NUMERIC.get(task))


def _amounts(n: int) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    X, y, s = make_unfair_amounts(n)
    return X, pd.Series(y, name="amount"), s


def _yes_no(n: int) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    return make_unfair(n)


def _three_classes(n: int) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    X, _, s = make_unfair(n)
    x1 = X["x1"].fillna(0).to_numpy()
    return X, pd.Series(np.digitize(x1, np.quantile(x1, [1 / 3, 2 / 3])), name="label"), s


ZOO_TABLES = {"binary": _yes_no, "multiclass": _three_classes, "regression": _amounts}


def candidates(task: str, full: bool = False) -> Iterator[tuple[str, Candidate, str]]:
    """(label, candidate, constraint): each learner unmitigated, each mitigator of ``task``
    (on the first learner it works with, or with ``full`` on every such learner), and an
    ensemble of two learners."""
    learners = available_learners(task)
    first = CONSTRAINTS[task][0]
    for learner in learners:
        yield f"{task}/{learner}", Candidate(learner, _low(learner, task)), first
        if full:  # the space's defaults too: other settings, other types (a bigger model)
            defaults = get_learner(learner).for_task(task).space.defaults()
            yield f"{task}/{learner} (defaults)", Candidate(learner, defaults), first
    for name in available_mitigators():
        mitigator = get_mitigator(name)
        if name == "none" or task not in mitigator.tasks:
            continue
        specs = [*CONSTRAINTS[task], *([NUMERIC[task]] if task in NUMERIC else [])]
        spec = next((c for c in specs if mitigator.supports(context(task, c).constraints)), None)
        if spec is None:
            raise AssertionError(f"{name}: no constraint of CONSTRAINTS[{task!r}] it supports")
        usable = [lrn for lrn in learners if mitigator.works_with(lrn)]
        for learner in usable if full else usable[:1]:
            params = mitigator.space.low_cost()
            if mitigator.stage == "post":
                c = Candidate(learner, _low(learner, task), "none", {}, name, params)
            else:
                c = Candidate(learner, _low(learner, task), name, params)
            numeric = " [age]" if spec == NUMERIC.get(task) else ""
            yield f"{task}/{learner}+{name}{numeric}", c, spec
    members = [Candidate(lrn, _low(lrn, task)) for lrn in learners[:2]]
    yield f"{task}/ensemble", ensemble_candidate(members, [1, 1]), first


def _low(learner: str, task: str) -> dict[str, Any]:
    return get_learner(learner).for_task(task).space.low_cost()


def search(task: str, constraint: str, **settings: Any) -> Any:
    """A short search of ``task`` on :func:`zoo_data` (a few trials, no time budget)."""
    from fairautoml.estimators.automl import estimator_for

    X, y, s = _data(task, constraint)
    cls = estimator_for(task)
    settings = {
        "constraints": constraint, "n_trials": 2, "time_budget": None, "random_state": 0,
        "confirm": False, "cv_folds": None, "trial_time_limit": None, **settings,
    }  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cls(**settings).fit(X, y, sensitive_features=s)


@lru_cache(maxsize=16)
def context(task: str, constraint: str) -> Any:
    """The search context of a short search of ``task`` under ``constraint``: the split,
    the constraints bound to the groups and classes, as a search fits its trials."""
    from fairautoml.estimators.context import search_context

    est = search(task, constraint, n_trials=1, sensitive_at_predict=True)
    return search_context(est.search_params(), *_data(task, constraint))[0]


def models(
    full: bool = False, tasks: Iterable[str] = tuple(CONSTRAINTS)
) -> Iterator[tuple[str, Any]]:
    """(label, fitted model) for every candidate of every task (:func:`candidates`), each
    fitted as the search fits it, on the context of a short search of its task."""
    for task in tasks:
        for label, candidate, spec in candidates(task, full):
            ctx = context(task, spec)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                evaluation = evaluate_candidate(candidate, ctx)
            if evaluation.model is None:
                raise AssertionError(f"{label} did not fit: {evaluation.result.error}")
            yield label, evaluation.model


def estimators(tasks: Iterable[str] = tuple(CONSTRAINTS)) -> Iterator[tuple[str, Any]]:
    """(label, fitted estimator): the file's envelope (the leaderboard, the front, the
    summary) of each task, with confirmation and cross-validation, and blind."""
    for task in tasks:
        first = CONSTRAINTS[task][0]
        yield f"{task}/search", search(task, first, sensitive_at_predict=True)
        yield f"{task}/confirmed search", search(task, first, confirm=True, cv_folds=3)
        # a post-processed pick under cross-validation keeps its fold models (no refit)
        post = GROUP_RULE[task]
        yield (
            f"{task}/cross-validated {post}",
            search(task, first, cv_folds=3, decision_rule="group_aware", mitigators=[post]),
        )
        if task == "binary":  # re-decided without refitting: a cut-off after the scores
            kept = search(
                task, first, mitigators=["multicalibration"], decision_rule="group_aware",
                sensitive_at_predict=True, refit=False,
            )  # fmt: skip
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                yield f"{task}/decided", kept.decide(cost=2.0)
        if task in NUMERIC:  # a numeric attribute's levels in the file's group encoder
            yield (
                f"{task}/numeric attribute [age]",
                search(task, NUMERIC[task], decision_rule="group_aware", sensitive_at_predict=True),
            )


def main() -> None:
    """Print every (node kind, type) found in the zoo's files, for the allow-list."""
    from fairautoml.model.allowlist import ALLOWED, INERT, types_in_file
    from fairautoml.model.files import write_model

    found: dict[tuple[str, str], str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, model in [*models(full=True), *estimators()]:
            path = write_model(model, Path(tmp) / "m.skops")
            for key in types_in_file(path):
                found.setdefault(key, label)
    for (kind, name), label in sorted(found.items()):
        if kind in INERT:
            continue
        mark = " " if (kind, name) in ALLOWED else "+"
        print(f"{mark} {kind:28s} {name}    # first in {label}")


if __name__ == "__main__":
    main()
