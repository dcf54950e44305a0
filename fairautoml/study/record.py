"""The trial record: what the Optuna study holds for each trial, written and read here only.

The study is fairautoml's one record (memory, a SQLite file of a killed search, or a
database shared by workers), so everything that reads a trial back (the leaderboard, the
sampler's view of trained models, the final pick, the bench) goes through :func:`decode`,
and the search writes through :func:`encode`.

User attributes of a trial:

* ``candidate``: the :class:`~fairautoml.study.trial.Candidate` as JSON;
* ``status`` (``ok`` or ``failed``), ``fit_time`` (seconds), ``error`` (failed only);
* for ``ok``: ``metric``, ``constraint_values`` and ``constraint_intervals`` (per fairness
  metric), ``interval_level``, ``diagnostics`` (the task's: a binary model's
  ``selection_rate`` and ``balanced_accuracy``, a regressor's ``prediction_spread`` and
  ``r2``);
* ``worker`` (host:pid) and ``machine`` (a hash) of the process that runs it
  (:func:`owner_attrs`), ``derived_from`` (a post-processed point: the trial that trained
  its model), ``replaces`` (a record standing in for a trial marked lost);
* ``rule_noise`` (post-processed points): each constraint's standard error from fitting
  the rule (:func:`~fairautoml.measures.claims.rule_noise`); already in the intervals when
  the search counted it;
* ``confirmed``: the point was measured again after the search (:mod:`fairautoml.search.confirm`:
  on every row by cross-validation, or its model trained on every training row).

Constraint values are also set as Optuna constraints (``<= 0``: holds), so Optuna's own
samplers and viewers see feasibility. A trial that failed without ``status`` lost its
process mid-trial: its status reads ``lost``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import optuna

from fairautoml.measures.claims import assurance, robust_violation, worst_violation
from fairautoml.measures.constraints import Constraint
from fairautoml.study.trial import Candidate, TrialResult

CANDIDATE = "candidate"
STATUS = "status"
WORKER = "worker"
MACHINE = "machine"
DERIVED_FROM = "derived_from"
REPLACES = "replaces"
CONFIRMED = "confirmed"
RULE_NOISE = "rule_noise"
DEFAULT_INTERVAL_LEVEL = 0.8  # records written before the level was stored
DIRECTIONS = ["maximize", "minimize"]  # the study's: (validation metric, worst violation)
ERROR_CHARS = 2000


def encode(
    result: TrialResult, constraints: Sequence[Constraint], interval_level: float
) -> tuple[dict[str, Any], dict[str, float]]:
    """A result as (user attributes, Optuna constraint values <= 0 when a constraint holds)."""
    attrs: dict[str, Any] = {
        CANDIDATE: result.candidate.to_json(),
        STATUS: result.status,
        "fit_time": result.fit_time,
    }
    if result.error is not None:
        attrs["error"] = result.error[:ERROR_CHARS]
        return attrs, {}
    attrs.update(
        metric=result.metric,
        constraint_values=result.constraint_values,
        constraint_intervals=result.constraint_intervals,
        interval_level=interval_level,
        diagnostics=result.diagnostics,
    )
    if result.rule_noise:
        attrs[RULE_NOISE] = result.rule_noise
    if result.confirmed:
        attrs[CONFIRMED] = True
    values = result.constraint_values
    return attrs, {c.key: c.violation(values[c.key]) for c in constraints}


def lost(t: optuna.trial.FrozenTrial) -> bool:
    """Whether the trial's process died before it was told finished: failed by the
    study's lost-trial check (:mod:`fairautoml.study.tracked`) with no failure of its own
    recorded, perhaps after part of an ``ok`` record was written (a kill between the
    record's writes and the study's tell)."""
    return t.state == optuna.trial.TrialState.FAIL and t.user_attrs.get(STATUS, "ok") == "ok"


def recorded(t: optuna.trial.FrozenTrial) -> bool:
    """Whether the trial holds its result (ok or failed): not lost, whatever part of its
    record was written."""
    return STATUS in t.user_attrs and not lost(t)


def status(t: optuna.trial.FrozenTrial) -> str:
    """``ok``, ``failed``, ``lost`` (its process died mid-trial: :func:`lost`) or Optuna's
    state."""
    if lost(t):
        return "lost"
    if STATUS in t.user_attrs:
        return t.user_attrs[STATUS]
    return t.state.name.lower()


def candidate(t: optuna.trial.FrozenTrial) -> Candidate:
    """The trial's candidate; for a trial lost before it was recorded, what its
    parameters name (learner, mitigator, post)."""
    if CANDIDATE in t.user_attrs:
        return Candidate.from_json(t.user_attrs[CANDIDATE])
    learner, mitigator, post = (t.params.get(k) for k in ("learner", "mitigator", "post"))
    return Candidate(learner or "", {}, mitigator or "none", {}, post or "none", {})


def replaced_trials(trials: Sequence[optuna.trial.FrozenTrial]) -> set[int]:
    """Numbers of trials whose result was recorded anew (they were marked lost while
    they ran, perhaps after part of their record was written): shown and counted once."""
    return {t.user_attrs[REPLACES] for t in trials if REPLACES in t.user_attrs}


def trained_models(trials: Sequence[optuna.trial.FrozenTrial]) -> list[optuna.trial.FrozenTrial]:
    """The recorded trials that trained a model: post-processed points (``derived_from``),
    trials without a record and records replaced by another are left out."""
    replaced = replaced_trials(trials)
    return [
        t
        for t in trials
        if recorded(t) and DERIVED_FROM not in t.user_attrs and t.number not in replaced
    ]


def decode(t: optuna.trial.FrozenTrial, constraints: Sequence[Constraint]) -> TrialResult:
    """A recorded trial back as the :class:`~fairautoml.study.trial.TrialResult` it measured
    (status not ``ok`` unless the trial completed with an ``ok`` record)."""
    attrs = t.user_attrs
    state = status(t)
    fit_time = float(attrs.get("fit_time", float("nan")))
    if state != "ok" or t.state != optuna.trial.TrialState.COMPLETE:
        state = "failed" if state == "ok" else state
        return TrialResult(candidate(t), state, fit_time=fit_time, error=attrs.get("error"))
    values = attrs.get("constraint_values", {})
    intervals = {k: tuple(v) for k, v in attrs.get("constraint_intervals", {}).items()}
    level = attrs.get("interval_level", DEFAULT_INTERVAL_LEVEL)
    return TrialResult(
        candidate(t),
        "ok",
        metric=attrs["metric"],
        constraint_values=values,
        violation=worst_violation(constraints, values),
        fit_time=fit_time,
        constraint_intervals=intervals,
        robust_violation=robust_violation(constraints, intervals),
        diagnostics=dict(attrs.get("diagnostics", {})),
        assurance=assurance(constraints, values, intervals, level),
        confirmed=bool(attrs.get(CONFIRMED, False)),
        rule_noise=dict(attrs.get(RULE_NOISE, {})),
    )


def derived_from(t: optuna.trial.FrozenTrial) -> int:
    """The trial that trained the model behind this point (itself for a trained model)."""
    return int(t.user_attrs.get(DERIVED_FROM, t.number))


def confirmed(t: optuna.trial.FrozenTrial) -> bool:
    """Whether the point was measured again after the search (search/confirm.py)."""
    return bool(t.user_attrs.get(CONFIRMED, False))


def is_derived(t: optuna.trial.FrozenTrial) -> bool:
    """Whether the trial is a point derived from another trial's model (post-processed or
    confirmed), not a trained model of its own."""
    return DERIVED_FROM in t.user_attrs


# --- which process runs a trial ---------------------------------------------------------------


def worker_id() -> str:
    """``host:pid`` of this process (computed each time: a fork changes the pid)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def worker(t: optuna.trial.FrozenTrial) -> str | None:
    """``host:pid`` of the process that ran the trial (None: not recorded)."""
    return t.user_attrs.get(WORKER)


def machine(t: optuna.trial.FrozenTrial) -> str | None:
    """The :func:`machine_id` of the machine that ran the trial (None: not recorded)."""
    return t.user_attrs.get(MACHINE)


def owner_attrs() -> dict[str, str]:
    """The user attributes that tag a trial with the process running it."""
    return {WORKER: worker_id(), MACHINE: machine_id()}


def machine_id() -> str:
    """A hash telling machines apart (the raw machine id is not written anywhere)."""
    raw = f"{socket.gethostname()}-{__import__('uuid').getnode()}"
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        with contextlib.suppress(OSError):
            raw = Path(path).read_text().strip()
            break
    return hashlib.sha256(raw.encode()).hexdigest()[:16]
