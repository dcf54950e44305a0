"""What a cell measures on test rows: the task's metric (accuracy, R²), constraint values,
satisfaction, the noise floor, the hypervolume of a front, and the peak memory of the
process running the cell (with the worker processes it starts: :class:`TreeMemory`).

*Satisfied* on test: every constraint's value within its bound + its slack
(:func:`slack`): :data:`SATISFIED_SLACK` for a bound in (0, 1] (rates, ratios, the KS
distance), :data:`SATISFIED_SLACK` times the bound for one in the target's units (a group
loss's difference or maximum, where a fixed 0.01 would mean nothing on a wage in dollars).
"""

from __future__ import annotations

import math
import os
import resource
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, balanced_accuracy_score

from fairautoml.measures import multiclass as mf
from fairautoml.measures.constraints import Constraint, evaluate_constraints
from fairautoml.measures.decisions import rates_from_counts
from fairautoml.measures.metrics import get_metric
from fairautoml.tasks import Task as TargetTask
from fairautoml.tasks import get_task

SATISFIED_SLACK = 0.01  # satisfied on test: value within bound + 0.01 (ratios: bound - 0.01)
FLOOR_DRAWS = 2000
# the tasks whose metric lies in [0, 1] with 1 best: a front's (1 - metric, disparity) points
# then have a hypervolume up to (1, 1); an R² or a group loss in dollars has no such box
HYPERVOLUME_TASKS = ("binary", "multiclass")
# the Kolmogorov distribution's 95% quantile: two samples of one continuous distribution
# are KS-apart by more than KS_95 * sqrt(1/n1 + 1/n2) in 5% of draws (large samples)
KS_95 = 1.358


def slack(c: Constraint) -> float:
    """How far past its bound a test value still counts as within (module docstring)."""
    return SATISFIED_SLACK * c.bound if c.in_target_units else SATISFIED_SLACK


def score_on_test(
    constraints: Sequence[Constraint],
    y: np.ndarray,
    pred: np.ndarray,
    s: np.ndarray,
    task: TargetTask | str = "binary",
) -> dict[str, object]:
    """The task's metric (``test_score``, named in ``metric``) and diagnostics, every
    constraint's value, the worst violation and satisfaction (each within its
    :func:`slack`). Classification tasks also keep ``test_accuracy`` and
    ``test_balanced_accuracy``."""
    task = get_task(task)
    pred = decisions(task, pred)
    values = evaluate_constraints(constraints, y, pred, s)
    violations = [c.violation(values[c.key]) for c in constraints]
    metric = get_metric(task.default_metric)
    out: dict[str, object] = {
        "metric": metric.name,
        "test_score": float(metric.score(y, pred, pred)),
        "test_diagnostics": task.diagnostics(y, pred),
        "test_values": {k: float(v) for k, v in values.items()},
        "test_violation": float(max(violations)),
        "satisfied": all(v <= slack(c) for v, c in zip(violations, constraints, strict=True)),
    }
    if task.estimator_kind == "classifier":  # the columns every classification report reads
        out["test_accuracy"] = float(accuracy_score(y, pred))
        out["test_balanced_accuracy"] = float(balanced_accuracy_score(y, pred))
    return out


def decisions(task: TargetTask, pred: np.ndarray) -> np.ndarray:
    """What a method returned as the task's decisions: a method returns decisions (0/1
    labels, amounts, class codes), which deciding again leaves as they are; class
    probabilities of shape (n, k) are decided (their argmax)."""
    return task.as_decisions(np.asarray(pred))


def ks_noise(n1: int, n2: int, level_quantile: float = KS_95) -> float:
    """KS distance two samples of sizes ``n1`` and ``n2`` from one distribution exceed
    with the Kolmogorov distribution's tail at ``level_quantile`` (95%: ``KS_95``)."""
    return level_quantile * math.sqrt(1.0 / n1 + 1.0 / n2)


def noise_floor(
    constraints: Sequence[Constraint],
    y: np.ndarray,
    pred: np.ndarray,
    s: np.ndarray,
    draws: int = FLOOR_DRAWS,
    seed: int = 0,
) -> float:
    """Chance that a model as useful as ``pred`` but *perfectly fair in truth* is measured
    satisfied on these test rows: what sampling noise alone allows, whatever the method.
    Classification constraints: :func:`_rates_floor`; regression: :func:`_regression_floor`.
    """
    families = {c.task for c in constraints}
    if families == {"regression"}:
        return _regression_floor(constraints, y, pred, s, draws, seed)
    if families == {"multiclass"}:
        return _multiclass_floor(constraints, y, pred, s, draws, seed)
    if families != {"binary"}:
        return math.nan
    return _rates_floor(constraints, y, pred, s, draws, seed)


def _regression_floor(
    constraints: Sequence[Constraint],
    y: np.ndarray,
    pred: np.ndarray,
    s: np.ndarray,
    draws: int,
    seed: int,
) -> float:
    """The regression noise floor, by the exact null distributions.

    A model fair in truth for ``demographic_parity_ks`` gives every group the same
    prediction distribution; its measured KS depends only on the group sizes (KS is
    distribution-free), and is drawn here from uniform samples of the test groups' sizes
    (about :func:`ks_noise` at the 95% level for two groups). A model fair in truth for a
    group loss gives every group the same error distribution: ``pred``'s absolute (or
    squared) errors dealt to the groups at random, each group keeping its size. The floor
    is the share of draws where every constraint is within bound + :func:`slack`.
    """
    from fairautoml.measures import regression as rf

    rng = np.random.default_rng(seed)
    y, pred, s = np.asarray(y, float), np.asarray(pred, float), np.asarray(s)
    draws = min(draws, FLOOR_DRAWS // 4)  # each draw sorts the whole test set
    ok = np.ones(draws, dtype=bool)
    for c in constraints:
        for d in range(draws):
            if c.metric == "demographic_parity_ks":
                value = rf.ks_distance(rng.random(len(s)), s)
            else:
                value = c.value(y, y + rng.permutation(pred - y), s)
            ok[d] &= c.violation(value) <= slack(c)
    return float(ok.mean())


def _rates_floor(
    constraints: Sequence[Constraint],
    y: np.ndarray,
    pred: np.ndarray,
    s: np.ndarray,
    draws: int,
    seed: int,
) -> float:
    """The classification noise floor.

    The fair model keeps ``pred``'s overall true and false positive rates and gives every
    group the same rates the constraints compare (the same TPR and FPR for equalized-odds
    kinds; for demographic-parity kinds the same selection rate, each group's TPR and FPR
    scaled to reach it); its predictions on each group's positives and negatives are drawn
    as binomials on this test set's counts. Below 0.9, no method with a model this useful can
    be within bound in 9 runs of 10. NaN when the constraints compare both kinds of rates
    (no single model is fair by both) or a class is missing.
    """
    kinds = {"selection" if r == "selection" else "label" for c in constraints for r in c.rates}
    y, pred = np.asarray(y).astype(bool), np.asarray(pred).astype(bool)
    if len(kinds) != 1 or y.all() or not y.any():
        return math.nan
    groups = np.unique(s)
    onehot = np.asarray(s)[:, None] == groups[None, :]
    pos, neg = (onehot & y[:, None]).sum(axis=0), (onehot & ~y[:, None]).sum(axis=0)
    tpr, fpr = float(pred[y].mean()), float(pred[~y].mean())
    if kinds == {"selection"}:  # every group selects the overall share
        scale = pred.mean() * (pos + neg) / np.maximum(tpr * pos + fpr * neg, 1e-12)
        tprs, fprs = np.minimum(tpr * scale, 1.0), np.minimum(fpr * scale, 1.0)
    else:
        tprs, fprs = np.full(len(groups), tpr), np.full(len(groups), fpr)
    rng = np.random.default_rng(seed)
    tp = rng.binomial(pos, tprs, size=(draws, len(groups))).astype(float)
    fp = rng.binomial(neg, fprs, size=(draws, len(groups))).astype(float)
    rates = rates_from_counts(tp, pos - tp, fp, neg - fp)
    violation = np.maximum.reduce([c.violation_array(c.from_rates(rates)) for c in constraints])
    return float(np.mean(violation <= SATISFIED_SLACK))


def _multiclass_floor(
    constraints: Sequence[Constraint],
    y: np.ndarray,
    pred: np.ndarray,
    s: np.ndarray,
    draws: int,
    seed: int,
) -> float:
    """The multiclass noise floor: :func:`_rates_floor` with ``k`` classes.

    The fair model keeps ``pred``'s overall behaviour and gives every group the same rates
    the constraints compare: for demographic-parity kinds every group's predictions are
    drawn with the overall predicted-class shares; for the kinds that compare one-vs-rest
    TPR or FPR, each group's rows of true class ``c`` are predicted with the overall
    ``P(pred | y = c)``. Multinomial draws on this test set's counts. NaN when the
    constraints compare both kinds of rates.
    """
    kinds = {"selection" if r == "selection" else "label" for c in constraints for r in c.rates}
    if len(kinds) != 1:
        return math.nan
    y, pred = np.asarray(y, dtype=np.int64), np.asarray(pred, dtype=np.int64)
    families = [c.family for c in constraints if c.family is not None and c.family.n_classes]
    k = families[0].n_classes if families else int(max(y.max(), pred.max())) + 1
    _, codes = np.unique(np.asarray(s), return_inverse=True)
    codes = codes.reshape(-1)
    n_groups = int(codes.max()) + 1
    rng = np.random.default_rng(seed)
    if kinds == {"selection"}:
        shares = np.bincount(pred, minlength=k) / len(pred)
        sizes = np.bincount(codes, minlength=n_groups)
        counts = rng.multinomial(np.broadcast_to(sizes, (draws, n_groups)), shares)
        rates = {"selection": counts / np.maximum(sizes, 1)[None, :, None]}
    else:
        confusion = np.zeros((k, k))
        np.add.at(confusion, (y, pred), 1.0)
        given_class = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1.0)
        given_class[confusion.sum(axis=1) == 0] = np.eye(k)[confusion.sum(axis=1) == 0]
        per_cell = np.zeros((n_groups, k), dtype=np.int64)
        np.add.at(per_cell, (codes, y), 1)
        cells = rng.multinomial(np.broadcast_to(per_cell, (draws, n_groups, k)), given_class)
        rates = mf.rates_from_cells(cells)
    violation = np.maximum.reduce(
        [
            c.violation_array(
                mf.MULTICLASS_MEASURES[c.metric].from_rates(
                    rates, None if c.family is None else c.family.favourable
                )
            )
            for c in constraints
        ]
    )
    return float(np.mean(violation <= SATISFIED_SLACK))


def disparities(constraints: Sequence[Constraint], values: dict[str, float]) -> list[float]:
    """Each constraint's value oriented so lower is fairer and 0 is perfect parity."""
    return [1.0 - values[c.key] if c.is_ratio else values[c.key] for c in constraints]


def hypervolume(points: Sequence[Sequence[float]]) -> float:
    """Volume dominated by ``points`` (error, disparity, ...) up to the reference (1, 1, ...).

    All coordinates are minimised and lie in [0, 1], so the volume is in [0, 1]; a single
    model with accuracy a and disparity d has ``a * (1 - d)``.
    """
    arr = np.asarray(points, dtype=float)
    if arr.size == 0:
        return math.nan
    arr = arr[np.all(arr < 1.0, axis=1) & np.all(np.isfinite(arr), axis=1)]
    if len(arr) == 0:
        return 0.0
    if arr.shape[1] == 2:
        arr = arr[np.lexsort((arr[:, 1], arr[:, 0]))]
        volume, best = 0.0, 1.0
        for x, y in arr:
            if y < best:
                volume += (1.0 - x) * (best - y)
                best = y
        return float(volume)
    from optuna._hypervolume import compute_hypervolume  # n-dimensional (WFG)

    return float(compute_hypervolume(arr, np.ones(arr.shape[1])))


# --- memory --------------------------------------------------------------------------------


def reset_peak_memory() -> bool:
    """Reset the process's peak resident size (Linux); False when it cannot be reset."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_memory_mb() -> float:
    """Peak resident memory of this process in MiB since the last reset (or its start)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / (1024 if sys.platform == "darwin" else 1)


def _status_kib(pid: int | str, field: str) -> int:
    """A ``/proc/<pid>/status`` field in KiB (0 when the process or the field is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _descendants(root: int) -> list[int]:
    """Processes below ``root`` (Linux ``/proc``; empty elsewhere)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            # the parent pid is the 2nd field after the ")" closing the command name
            ppid = int(entry.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry.parent.name))
    out, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), ()):
            out.append(child)
            todo.append(child)
    return out


class TreeMemory:
    """Peak resident memory of this process and the processes it starts (a search's
    trial workers hold their own copy of the data), sampled every ``interval`` seconds
    while the ``with`` block runs: this process's exact peak (:func:`peak_memory_mb`)
    plus its workers' resident size at the sample where the sum was largest."""

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self.children_kib = 0  # the workers' share at the largest sampled sum
        self._largest = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            children = sum(_status_kib(pid, "VmRSS") for pid in _descendants(me))
            total = _status_kib(me, "VmRSS") + children
            if total > self._largest:
                self._largest, self.children_kib = total, children
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeMemory:
        if sys.platform.startswith("linux"):
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def peak_mb(self) -> float:
        """This process's peak plus its workers' share, in MiB."""
        return peak_memory_mb() + self.children_kib / 1024
