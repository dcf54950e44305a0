"""Run a sweep: every cell (dataset x constraints x budget x seed x method) in parallel
with joblib, one JSON line per finished cell, appended as soon as it finishes.

A failing cell is recorded with its error and the sweep goes on; a method with no mode for
the cell's constraints records it as ``not_applicable`` (n/a in the report, not a failure).
Re-running a sweep skips the cells already in ``cells.jsonl``: an interrupted sweep
resumes where it stopped. Methods share fits through ``OUT/shared/`` (a cache, never
committed): see ``flaml_fit.py``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import os
import time
import traceback
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from fairautoml.bench.anchors import ANCHOR_FITS, ANCHOR_TASKS
from fairautoml.bench.cells_file import (
    DONE_STATUSES,
    NOT_APPLICABLE,
    RESULTS_FILE,
    STARTED_FILE,
    append_record,
    end_torn_line,
    latest,
    read_records,
)
from fairautoml.bench.config import parse_config
from fairautoml.bench.environment import source_commit, sweep_environment
from fairautoml.bench.measure import (
    HYPERVOLUME_TASKS,
    TreeMemory,
    disparities,
    hypervolume,
    noise_floor,
    peak_memory_mb,
    reset_peak_memory,
    score_on_test,
)
from fairautoml.bench.methods import (
    MAX_FRONT,
    CellData,
    Fitted,
    NotApplicableError,
    fit_fairautoml,
    spread,
    time_to_first_feasible,
)
from fairautoml.bench.plugins import METHODS, FitMethod, prepare_of, tasks_of
from fairautoml.bench.rows import (
    Split,
    dataset_task,
    hidden_group_rows,
    load_dataset,
    split_rows,
    subsample_fit_rows,
)
from fairautoml.bench.specs import (
    BENCH_OPTIONS,
    DROP_UNKNOWN_GROUPS,
    MAX_FIT_ROWS,
    DatasetSpec,
    MethodSpec,
    SweepConfig,
)
from fairautoml.measures.constraints import Constraint
from fairautoml.tasks import TASKS

logger = logging.getLogger("fairautoml.bench")

SHARED_DIR = "shared"  # fits shared between methods of a sweep (a cache)


@dataclass(frozen=True)
class Cell:
    sweep: str
    dataset: DatasetSpec
    constraints: tuple[Constraint, ...]
    budget: float
    seed: int
    method: MethodSpec
    threads: int = 1
    front_points: int = MAX_FRONT

    @property
    def constraint_label(self) -> str:
        return " & ".join(map(str, self.constraints))

    @property
    def key(self) -> str:
        """Identifies the cell across runs (its options are hashed into it)."""
        m = self.method
        spec = json.dumps([m.family, m.controller, m.options], sort_keys=True, default=str)
        digest = hashlib.sha1(spec.encode()).hexdigest()[:8]
        parts = [self.dataset.name, self.constraint_label, f"{self.budget:g}", str(self.seed)]
        return "|".join([*parts, f"{m.label}#{digest}"])


def make_cells(config: SweepConfig) -> list[Cell]:
    """Every block's cells (once each), limited to the config's datasets, constraint sets,
    budgets and seeds (which the CLI's filters narrow)."""
    datasets = {d.name: d for d in config.datasets}
    cells: dict[str, Cell] = {}
    for block in config.products():
        for name in block.datasets:
            for cs in block.constraint_sets:
                for b in block.budgets:
                    for seed in block.seeds:
                        if (
                            name not in datasets
                            or cs not in config.constraint_sets
                            or b not in config.budgets
                            or seed not in config.seeds
                        ):
                            continue
                        for m in filter(block.runs, config.methods):
                            cell = Cell(
                                config.name, datasets[name], cs, b, seed, m,
                                config.threads, config.front_points,
                            )  # fmt: skip
                            cells.setdefault(cell.key, cell)
    return list(cells.values())


def cell_task(
    dataset: str | dict[str, Any],
    constraint: str,
    seed: int,
    budget: float = 30.0,
    base: Path | None = None,
) -> tuple[CellData, tuple[Any, np.ndarray, np.ndarray]]:
    """The task and the test rows of one dataset x constraint x seed, exactly as a sweep's
    ``fairautoml`` cell gets them: for experiments that study one cell. ``dataset``: a
    bundled name or a sweep file's dataset entry (``base``: where its relative CSV path
    is resolved)."""
    config = parse_config(
        {"name": "one_cell", "datasets": [dataset], "constraints": [constraint],
         "budgets": [budget], "seeds": [seed], "methods": ["fairautoml"], "threads": 1},
        base=base,
    )  # fmt: skip
    (cell,) = make_cells(config)
    return _task(cell)


def _task(
    cell: Cell, shared_dir: Path | None = None
) -> tuple[CellData, tuple[Any, np.ndarray, np.ndarray]]:
    X, y_raw, s_raw = load_dataset(cell.dataset)
    kind = dataset_task(cell.dataset, y_raw)
    y, classes = kind.prepare_target(y_raw, len(X))
    # measured as the target's task means them (a multiclass table: over its classes)
    constraints = tuple(kind.bind_target(kind.check_constraints(cell.constraints), classes, None))
    s = np.asarray(s_raw).astype(str)
    split = split_rows(y, s, cell.seed, kind)
    options = {k: v for k, v in cell.method.options.items() if k not in BENCH_OPTIONS}
    max_fit_rows = cell.method.options.get(MAX_FIT_ROWS)
    if max_fit_rows is not None:
        split = subsample_fit_rows(split, y, s, int(max_fit_rows), cell.seed, kind)
    if cell.dataset.hide_groups is not None:  # the test rows keep the true groups
        hidden = hidden_group_rows(
            s, np.concatenate([split.train, split.val]), cell.dataset.hide_groups, cell.seed
        )
        if cell.method.options.get(DROP_UNKNOWN_GROUPS):
            split = Split(
                np.setdiff1d(split.train, hidden), np.setdiff1d(split.val, hidden), split.test
            )
        s = s.astype(object)
        s[hidden] = None
    # one copy of the fit rows (training, then validation); both parts are views of it
    X_fit = X.iloc[np.concatenate([split.train, split.val])].reset_index(drop=True)
    n_train = len(split.train)
    task = CellData(
        X_fit.iloc[:n_train],
        y[split.train],
        s[split.train],
        X_fit.iloc[n_train:].reset_index(drop=True),
        y[split.val],
        s[split.val],
        constraints,
        cell.budget,
        cell.seed,
        cell.threads,
        options,
        shared_dir,
        blind=cell.method.blind,
        X_fit=X_fit,
        kind=kind,
    )
    test = (X.iloc[split.test].reset_index(drop=True), y[split.test], s[split.test])
    return task, test


def resolve_method(method: MethodSpec) -> FitMethod:
    """The function that runs a method (resolved in the parent, pickled by reference: a
    plug-in's module is imported, and so registered, in the worker that unpickles it)."""
    if method.family == "fairautoml":
        return functools.partial(fit_fairautoml, controller=method.controller)
    if method.family in ANCHOR_FITS:
        return ANCHOR_FITS[method.family]
    return METHODS[method.family].fit


def method_tasks(family: str) -> tuple[str, ...]:
    """The targets' tasks a method family has a mode for: fairautoml searches every task;
    an anchor (``ANCHOR_TASKS``) or a plug-in declares its own."""
    if family == "fairautoml":
        return tuple(TASKS)
    return ANCHOR_TASKS.get(family) or tasks_of(family) or ("binary",)


def _front_hypervolume(
    cell: Cell, task: CellData, fitted: Fitted, test: tuple
) -> tuple[float, int, str | None]:
    if not fitted.front or not cell.front_points or task.kind.name not in HYPERVOLUME_TASKS:
        return math.nan, 0, None
    X, y, s = test
    points, errors = [], []
    for build in spread(fitted.front, cell.front_points):
        try:
            groups = None if cell.method.blind else s
            scores = score_on_test(task.constraints, y, build()(X, groups), s, task.kind)
        except Exception as exc:  # one bad front point does not lose the others
            errors.append(f"{type(exc).__name__}: {exc}")
            continue
        values = scores["test_values"]
        points.append([1.0 - scores["test_score"], *disparities(task.constraints, values)])
    return hypervolume(points), len(points), (errors[0] if errors else None)


def base_record(cell: Cell) -> dict[str, Any]:
    return {
        "key": cell.key,
        "sweep": cell.sweep,
        "dataset": cell.dataset.name,
        "constraints": [str(c) for c in cell.constraints],
        "constraint_label": cell.constraint_label,
        "budget": cell.budget,
        "seed": cell.seed,
        "method": cell.method.label,
        "family": cell.method.family,
        "controller": cell.method.controller,
        "options": cell.method.options,
    }


def run_cell(
    cell: Cell,
    fit: FitMethod | None = None,
    started_log: Path | None = None,
    shared_dir: Path | None = None,
) -> dict[str, Any]:
    """Run one cell; never raises: a failure is recorded with its error.

    ``started_log`` gets the cell's key first, so a worker that dies (killed for memory)
    can be told apart from cells that never started. A method's preparation (building its
    environment) runs before its clock starts. ``shared_dir``: where methods share fits.
    """
    if started_log is not None:
        append_record(started_log, {"key": cell.key, "pid": os.getpid()})
    fit = fit or resolve_method(cell.method)
    record = base_record(cell)
    record["peak_reset"] = reset_peak_memory()
    tree: TreeMemory | None = None
    caught: list[warnings.WarningMessage] = []
    try:
        task, test = _task(cell, shared_dir)
        record.update(n_train=len(task.y_train), n_val=len(task.y_val), n_test=len(test[1]))
        record["task"] = task.kind.name
        task.needs_kind(cell.method.family, *method_tasks(cell.method.family))
        prepare = prepare_of(cell.method.family)
        if prepare is not None:
            prepare(task)
        with warnings.catch_warnings(record=True) as caught, TreeMemory() as tree:
            warnings.simplefilter("always")
            task.start_clock()
            fitted = fit(task)
            record["wall_time"] = task.elapsed()
            started_eval = time.monotonic()
            X_test, y_test, s_test = test
            groups = None if task.blind else s_test
            if fitted.sees_test_targets:
                pred = fitted.predict(X_test, groups, y_test)  # type: ignore[call-arg]
            else:
                pred = fitted.predict(X_test, groups)
            record.update(score_on_test(task.constraints, y_test, pred, s_test, task.kind))
            record["test_noise_floor"] = noise_floor(task.constraints, y_test, pred, s_test)
            hv, size, front_error = _front_hypervolume(cell, task, fitted, test)
            record["eval_time"] = time.monotonic() - started_eval
        ttff, how = time_to_first_feasible(fitted, record["wall_time"])
        record.update(
            status="ok",
            trials=fitted.trials,
            time_to_first_feasible=ttff,
            ttff_note=how,
            selection_feasible=fitted.selection_feasible,
            hypervolume=hv,
            front_size=size,
            info=fitted.info,
            notes=fitted.notes + ([front_error] if front_error else []),
        )
    except NotApplicableError as exc:
        record.update(status=NOT_APPLICABLE, error=str(exc))
    except ImportError as exc:
        record.update(status="skipped", error=f"{type(exc).__name__}: {exc}")
    except Exception as exc:
        record.update(
            status="failed",
            error=f"{type(exc).__name__}: {exc}",
            traceback=traceback.format_exc(limit=6)[-3000:],
        )
    messages = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    record["warnings"] = [m[:300] for m in messages[:5]]
    record["peak_memory_mb"] = peak_memory_mb()
    if tree is not None:  # with the worker processes the method started
        record["peak_tree_memory_mb"] = tree.peak_mb()
    record["pid"] = os.getpid()
    record["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    record["commit"] = source_commit()
    return record


# --- the sweep -----------------------------------------------------------------------------


OnRecord = Callable[[int, int, dict[str, Any]], None]


def run_sweep(
    config: SweepConfig,
    out: str | Path,
    *,
    n_jobs: int | None = None,
    retry_failed: bool = False,
    on_record: OnRecord | None = None,
) -> list[dict[str, Any]]:
    """Run the cells not yet in ``out/cells.jsonl``; return the latest record of every cell."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / RESULTS_FILE
    end_torn_line(path)
    done = latest(read_records(path))
    if retry_failed:
        done = {k: r for k, r in done.items() if r.get("status") in DONE_STATUSES}
    cells = make_cells(config)
    todo = [c for c in cells if c.key not in done]
    logger.info(
        "%d cells, %d already done, %d to run", len(cells), len(cells) - len(todo), len(todo)
    )
    n_jobs = min(n_jobs or config.n_jobs, os.cpu_count() or 1)
    (out / "environment.json").write_text(json.dumps(sweep_environment(config, n_jobs), indent=2))
    started = out / STARTED_FILE
    shared = out / SHARED_DIR
    count = 0

    def record(r: dict[str, Any]) -> None:
        nonlocal count
        count += 1
        append_record(path, r)
        if on_record is not None:
            on_record(count, len(todo), r)

    remaining = todo
    while remaining:
        finished: set[str] = set()
        try:
            for r in _results(remaining, n_jobs, started, shared):
                finished.add(r["key"])
                record(r)
            break
        except _worker_died_errors() as exc:
            # cells that started and did not finish: their worker died, or was stopped with it
            began = {r["key"] for r in read_records(started)}
            lost = [c for c in remaining if c.key in began and c.key not in finished]
            if not lost:
                raise
            for c in lost:
                record(
                    {
                        **base_record(c),
                        "status": "failed",
                        "error": f"worker process died ({type(exc).__name__}): out of memory? "
                        "Cells running beside it are stopped too; --retry-failed re-runs them.",
                    }
                )
            done_now = finished | {c.key for c in lost}
            remaining = [c for c in remaining if c.key not in done_now]
    started.unlink(missing_ok=True)  # only needed while cells are running
    keys = {c.key for c in cells}
    return [r for k, r in latest(read_records(path)).items() if k in keys]


def _results(
    cells: list[Cell], n_jobs: int, started: Path, shared: Path
) -> Iterable[dict[str, Any]]:
    if n_jobs == 1 or len(cells) <= 1:
        return (run_cell(c, None, started, shared) for c in cells)
    from joblib import Parallel, delayed

    return Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
        delayed(run_cell)(c, resolve_method(c.method), started, shared) for c in cells
    )


def _worker_died_errors() -> tuple[type[BaseException], ...]:
    from concurrent.futures.process import BrokenProcessPool

    from joblib.externals.loky.process_executor import TerminatedWorkerError

    return (TerminatedWorkerError, BrokenProcessPool)
